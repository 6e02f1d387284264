"""Each rule against a plain NumPy transcription of its paper/torch formula, 9 steps, no torch.

The references are written the naive way (new arrays every step, formulas as in the
docstrings), so they check the in-place, buffer-reusing rules independently of torch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdlab import optim
from gdlab.nn import Parameter

G = [np.array([0.5, -2.0, 3.0]), np.array([-1.0, -0.5, 2.0]), np.array([0.2, 1.5, -3.0])] * 3
X0 = np.array([1.0, -1.0, 0.5])


def ref_sgd(x, lr=0.1, momentum=0.9, dampening=0.1, wd=0.01, nesterov=False):
    b = None
    for g in G:
        g = g + wd * x
        b = g.copy() if b is None else momentum * b + (1 - dampening) * g
        x = x - lr * (g + momentum * b if nesterov else b)
    return x


def ref_adam(x, lr=0.1, b1=0.9, b2=0.99, eps=1e-3, wd=0.0, decoupled=False, amsgrad=False):
    m = v = vmax = 0
    for t, g in enumerate(G, 1):
        if decoupled:
            x = x * (1 - lr * wd)
        else:
            g = g + wd * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vhat = (vmax if amsgrad else v) / (1 - b2**t)
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(vhat) + eps)
    return x


def ref_adagrad(x, lr=0.5, lr_decay=0.1, init=0.2, eps=1e-3):
    s = init
    for t, g in enumerate(G, 1):
        s = s + g * g
        x = x - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return x


def ref_rmsprop(x, lr=0.01, alpha=0.9, eps=1e-3, momentum=0.5, centered=True):
    v = gbar = b = 0
    for g in G:
        v = alpha * v + (1 - alpha) * g * g
        gbar = alpha * gbar + (1 - alpha) * g
        denom = np.sqrt(v - gbar**2 if centered else v) + eps
        b = momentum * b + g / denom
        x = x - lr * b
    return x


def ref_adadelta(x, lr=1.0, rho=0.8, eps=1e-2):
    v = u = 0
    for g in G:
        v = rho * v + (1 - rho) * g * g
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta**2
        x = x - lr * delta
    return x


def ref_adamax(x, lr=0.1, b1=0.9, b2=0.99, eps=1e-3):
    m = u = 0
    for t, g in enumerate(G, 1):
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        x = x - lr / (1 - b1**t) * m / u
    return x


def ref_nadam(x, lr=0.1, b1=0.9, b2=0.99, eps=1e-3, psi=0.004):
    m = v = 0
    prod = 1.0
    for t, g in enumerate(G, 1):
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod *= mu
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2**t)) + eps
        x = x - lr * (1 - mu) / (1 - prod) * g / denom
        x = x - lr * mu_next / (1 - prod * mu_next) * m / denom
    return x


def ref_radam(x, lr=0.1, b1=0.9, b2=0.9, eps=1e-3):
    m = v = 0
    rho_inf = 2 / (1 - b2) - 1
    for t, g in enumerate(G, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1**t)
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho > 5:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            x = x - lr * mhat * r * math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
        else:
            x = x - lr * mhat
    return x


def ref_asgd(x, lr=0.1, lambd=0.05, alpha=0.75, t0=1):
    eta, mu, ax = lr, 1.0, 0
    for t, g in enumerate(G, 1):
        x = x * (1 - lambd * eta) - eta * g
        ax = x.copy() if mu == 1 else ax + mu * (x - ax)
        eta = lr / (1 + lambd * lr * t) ** alpha
        mu = 1 / max(1, t - t0)
    return x


def ref_rprop(x, lr=0.1, etas=(0.5, 1.2), sizes=(1e-6, 50)):
    prev, step = np.zeros(3), np.full(3, lr)
    for g in G:
        s = np.sign(g * prev)
        step = np.clip(step * np.where(s > 0, etas[1], np.where(s < 0, etas[0], 1.0)), *sizes)
        g = np.where(s < 0, 0.0, g)
        x = x - np.sign(g) * step
        prev = g
    return x


CASES = [
    ("sgd", "SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01), ref_sgd, {}),
    ("nesterov", "SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), ref_sgd,
     dict(dampening=0.0, nesterov=True)),
    ("adam", "Adam", dict(lr=0.1, betas=(0.9, 0.99), eps=1e-3), ref_adam, {}),
    ("adam_l2_amsgrad", "Adam", dict(lr=0.1, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1,
     amsgrad=True), ref_adam, dict(wd=0.1, amsgrad=True)),
    ("adamw", "AdamW", dict(lr=0.1, betas=(0.9, 0.99), eps=1e-3, weight_decay=0.1), ref_adam,
     dict(wd=0.1, decoupled=True)),
    ("adagrad", "Adagrad", dict(lr=0.5, lr_decay=0.1, initial_accumulator_value=0.2, eps=1e-3),
     ref_adagrad, {}),
    ("rmsprop", "RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3, momentum=0.5, centered=True),
     ref_rmsprop, {}),
    ("adadelta", "Adadelta", dict(lr=1.0, rho=0.8, eps=1e-2), ref_adadelta, {}),
    ("adamax", "Adamax", dict(lr=0.1, betas=(0.9, 0.99), eps=1e-3), ref_adamax, {}),
    ("nadam", "NAdam", dict(lr=0.1, betas=(0.9, 0.99), eps=1e-3), ref_nadam, {}),
    # RAdam rectifies from t = 6 on with β2 = 0.9
    ("radam", "RAdam", dict(lr=0.1, betas=(0.9, 0.9), eps=1e-3), ref_radam, {}),
    ("asgd", "ASGD", dict(lr=0.1, lambd=0.05, t0=1), ref_asgd, {}),
    ("rprop", "Rprop", dict(lr=0.1), ref_rprop, {}),
]  # fmt: skip


@pytest.mark.parametrize("name, cls, kwargs, ref, ref_kwargs", CASES, ids=[c[0] for c in CASES])
def test_nine_steps_equal_the_reference_formula(name, cls, kwargs, ref, ref_kwargs):
    p = Parameter(X0.copy())
    opt = getattr(optim, cls)([p], **kwargs)
    for g in G:
        p.grad = g.copy()
        opt.step()
    np.testing.assert_allclose(p.data, ref(X0.copy(), **ref_kwargs), rtol=1e-12, atol=1e-14)
