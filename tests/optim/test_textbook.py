"""Published numbers (REFERENCES.md §1) reproduced with gdlab tensors, autograd and optimizers.

d2l.ai's chapter 12 (``train_2d`` from (−5, −2), 20 steps; 1-D ``gd`` from 10, 10 steps) and
Deep Learning from Scratch's ch06 ``optimizer_compare_naive.py`` (f = x²/20 + y² from (−7, 2),
30 updates). They need the articles' forms: d2l's ε inside the square root
(``eps_in_sqrt=True``), the book's ``Momentum`` and Adam's ε̂ form (``eps_hat=True``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdlab
from gdlab import optim
from gdlab.nn import Parameter

PRINTED = 1e-6  # the sources print 6 decimals


def ravine(p):
    return (p * p * gdlab.tensor(np.array([0.1, 2.0]))).sum()


def bowl(p):
    return (p * p * gdlab.tensor(np.array([1.0, 2.0]))).sum()


def dlfs(p):
    return (p * p * gdlab.tensor(np.array([1.0 / 20.0, 1.0]))).sum()


def square(p):
    return (p * p).sum()


def x_cos(p):
    return (p * gdlab.cos(p * (0.15 * math.pi))).sum()


CASES = [  # name, f, start, steps, optimizer factory, published end point
    ("gd_1d_eta0.2", square, [10.0], 10, lambda ps: optim.SGD(ps, lr=0.2), [0.060466]),
    ("gd_1d_eta0.05", square, [10.0], 10, lambda ps: optim.SGD(ps, lr=0.05), [3.486784]),
    ("gd_1d_eta1.1", square, [10.0], 10, lambda ps: optim.SGD(ps, lr=1.1), [61.917364]),
    ("gd_local_min", x_cos, [10.0], 10, lambda ps: optim.SGD(ps, lr=2.0), [-1.528166]),
    ("gd_2d", bowl, [-5.0, -2.0], 20, lambda ps: optim.SGD(ps, lr=0.1), [-0.057646, -0.000073]),
    ("gd_ravine_0.4", ravine, [-5.0, -2.0], 20, lambda ps: optim.SGD(ps, lr=0.4),
     [-0.943467, -0.000073]),
    ("gd_ravine_0.6", ravine, [-5.0, -2.0], 20, lambda ps: optim.SGD(ps, lr=0.6),
     [-0.387814, -1673.365109]),
    # d2l momentum v ← βv + g; x ← x − ηv is torch's SGD momentum
    ("d2l_momentum_0.5", ravine, [-5.0, -2.0], 20,
     lambda ps: optim.SGD(ps, lr=0.6, momentum=0.5), [0.007188, 0.002553]),
    ("d2l_momentum_0.25", ravine, [-5.0, -2.0], 20,
     lambda ps: optim.SGD(ps, lr=0.6, momentum=0.25), [-0.126340, -0.186632]),
    ("d2l_adagrad_0.4", ravine, [-5.0, -2.0], 20,
     lambda ps: optim.Adagrad(ps, lr=0.4, eps=1e-6, eps_in_sqrt=True), [-2.382563, -0.158591]),
    ("d2l_adagrad_2", ravine, [-5.0, -2.0], 20,
     lambda ps: optim.Adagrad(ps, lr=2.0, eps=1e-6, eps_in_sqrt=True), [-0.002295, -0.000000]),
    ("d2l_rmsprop", ravine, [-5.0, -2.0], 20,
     lambda ps: optim.RMSprop(ps, lr=0.4, alpha=0.9, eps=1e-6, eps_in_sqrt=True),
     [-0.010599, 0.000000]),
    ("dlfs_sgd", dlfs, [-7.0, 2.0], 30, lambda ps: optim.SGD(ps, lr=0.95), [-0.350393, 0.084782]),
    ("dlfs_momentum", dlfs, [-7.0, 2.0], 30, lambda ps: optim.Momentum(ps, lr=0.1, momentum=0.9),
     [0.896414, 0.088086]),
    ("dlfs_adagrad", dlfs, [-7.0, 2.0], 30, lambda ps: optim.Adagrad(ps, lr=1.5, eps=1e-7),
     [-0.120162, 0.000000]),
    ("dlfs_adam", dlfs, [-7.0, 2.0], 30, lambda ps: optim.Adam(ps, lr=0.3, eps=1e-7, eps_hat=True),
     [0.136007, 0.318245]),
]  # fmt: skip


@pytest.mark.parametrize("name, f, start, steps, make, expected", CASES, ids=[c[0] for c in CASES])
def test_published_end_point(name, f, start, steps, make, expected):
    p = Parameter(np.array(start, dtype=np.float64))
    opt = make([p])
    for _ in range(steps):
        opt.zero_grad()
        f(p).backward()
        opt.step()
    np.testing.assert_allclose(p.data, expected, atol=PRINTED, rtol=1e-9, err_msg=name)


FORM_CASES = [
    (optim.Adagrad, dict(lr=0.4, eps=1e-6), [-2.382563, -0.158591]),
    (optim.RMSprop, dict(lr=0.4, alpha=0.9, eps=1e-6), [-0.010599, 0.000000]),
]


@pytest.mark.parametrize("cls, kwargs, published", FORM_CASES)
def test_only_the_article_form_prints_the_published_digits(cls, kwargs, published):
    """Why ``eps_in_sqrt`` exists: torch's ε outside √ changes the printed digits."""
    printed = {}
    for eps_in_sqrt in (True, False):
        p = Parameter(np.array([-5.0, -2.0]))
        opt = cls([p], eps_in_sqrt=eps_in_sqrt, **kwargs)
        for _ in range(20):
            opt.zero_grad()
            ravine(p).backward()
            opt.step()
        printed[eps_in_sqrt] = np.round(p.data, 6) + 0.0  # + 0.0 turns −0.0 into 0.0
    assert printed[True].tolist() == published
    assert printed[False].tolist() != published
