"""AdaHessian and Sophia-H step by step against pytorch-optimizer's ``AdaHessian`` and
``SophiaH`` with the same probe vectors: both draw from one NumPy generator seed (torch's
``randint_like``/``randn_like`` are replaced by draws from a twin generator, in the same
parameter order). A float64 tanh MLP with MSE, two param groups; rtol 1e-10 after every step.
Adding a configuration adds a row."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab import nn
from gdlab.optim import AdaHessian, SophiaH

torch = pytest.importorskip("torch")
pytorch_optimizer = pytest.importorskip("pytorch_optimizer")

STEPS = 12
SEED = 7

ROWS = [
    (AdaHessian, "AdaHessian", dict(lr=0.05)),
    (AdaHessian, "AdaHessian", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.01)),
    (AdaHessian, "AdaHessian", dict(lr=0.05, weight_decay=0.01, weight_decouple=False,
                                    hessian_power=0.5, update_period=3)),
    (AdaHessian, "AdaHessian", dict(lr=0.02, hessian_distribution="gaussian", num_samples=2)),
    (SophiaH, "SophiaH", dict(lr=0.05, update_period=1)),
    (SophiaH, "SophiaH", dict(lr=0.05)),
    (SophiaH, "SophiaH", dict(lr=0.1, p=0.5, update_period=2, weight_decay=0.1,
                              hessian_distribution="rademacher")),
    (SophiaH, "SophiaH", dict(lr=0.1, p=0.05, update_period=1, weight_decay=0.01,
                              weight_decouple=False, fixed_decay=True, maximize=False)),
]  # fmt: skip


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4))
    y = np.tanh(x @ rng.standard_normal((4, 2)))
    w1, b1 = rng.standard_normal((5, 4)) * 0.5, rng.standard_normal(5) * 0.1
    w2, b2 = rng.standard_normal((2, 5)) * 0.5, rng.standard_normal(2) * 0.1
    return x, y, [w1, b1, w2, b2]


def _gdlab_path(cls, kwargs):
    x, y, weights = _data()
    params = [nn.Parameter(w.copy()) for w in weights]
    opt = cls([{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] / 2}],
              generator=SEED, **kwargs)  # fmt: skip
    xt, yt = gdlab.tensor(x), gdlab.tensor(y)

    def closure():
        opt.zero_grad()
        h = gdlab.tanh(xt @ params[0].T + params[1])
        loss = ((h @ params[2].T + params[3] - yt) ** 2).mean()
        loss.backward(create_graph=True)
        return loss

    path = []
    for _ in range(STEPS):
        opt.step(closure)
        path.append([p.data.copy() for p in params])
    return path


def _torch_path(name, kwargs, monkeypatch):
    x, y, weights = _data()
    rng = np.random.default_rng(SEED)  # the twin of gdlab's probe generator
    monkeypatch.setattr(torch, "randint_like", lambda p, lo, hi: torch.from_numpy(
        rng.integers(lo, hi, size=tuple(p.shape)).astype(np.float64)))  # fmt: skip
    monkeypatch.setattr(torch, "randn_like", lambda p: torch.from_numpy(
        rng.standard_normal(tuple(p.shape))))  # fmt: skip
    params = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in weights]
    cls = getattr(pytorch_optimizer, name)
    opt = cls([{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] / 2}],
              foreach=False, **kwargs)  # fmt: skip
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def closure():
        opt.zero_grad()
        h = torch.tanh(xt @ params[0].T + params[1])
        loss = ((h @ params[2].T + params[3] - yt) ** 2).mean()
        loss.backward(create_graph=True)
        return loss

    path = []
    for _ in range(STEPS):
        opt.step(closure)
        path.append([p.detach().numpy().copy() for p in params])
    return path


@pytest.mark.parametrize(("cls", "name", "kwargs"), ROWS,
                         ids=[f"{r[1]}-{i}" for i, r in enumerate(ROWS)])  # fmt: skip
def test_step_by_step_vs_pytorch_optimizer(cls, name, kwargs, monkeypatch):
    ours = _gdlab_path(cls, kwargs)
    theirs = _torch_path(name, kwargs, monkeypatch)
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        for pa, pb in zip(a, b, strict=True):
            np.testing.assert_allclose(pa, pb, rtol=1e-10, atol=1e-13, err_msg=f"step {step}")
    moved = max(np.abs(p - w).max() for p, w in zip(ours[-1], _data()[2], strict=True))
    assert moved > 1e-3  # the comparison is not vacuous


def test_external_hessian_is_used():
    """``step(closure, hessian=[...])`` replaces the estimate (as pytorch-optimizer's)."""
    p = nn.Parameter(np.array([1.0, -2.0]))
    opt = SophiaH([p], lr=1.0, p=10.0, update_period=1)
    p.grad = np.array([0.5, 0.5])
    opt.step(hessian=[np.array([2.0, 4.0])])
    # m = 0.04·g, h = 0.01·D: θ − lr·clip(m/h) = θ − (0.02/0.02, 0.02/0.04)
    np.testing.assert_allclose(p.data, [0.0, -2.5])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: AdaHessian([p], hessian_power=0.0), "Invalid hessian_power value: 0.0"),
        (lambda p: AdaHessian([p], lr=-1.0), "Invalid learning rate: -1.0"),
        (lambda p: SophiaH([p], p=-1.0), "Invalid p value: -1.0"),
        (lambda p: SophiaH([p], update_period=0), "Invalid update_period value: 0"),
        (lambda p: SophiaH([p], num_samples=0), "Invalid num_samples value: 0"),
        (lambda p: SophiaH([p], hessian_distribution="uniform"), "hessian_distribution"),
        (lambda p: AdaHessian([p], betas=(1.0, 0.9)), "beta parameter at index 0"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make(nn.Parameter(np.ones(2)))


@pytest.mark.parametrize("cls", [AdaHessian, SophiaH])
def test_closure_without_create_graph_is_named(cls):
    p = nn.Parameter(np.ones(2))
    opt = cls([p])

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="create_graph=True"):
        opt.step(closure)


@pytest.mark.parametrize(
    ("name", "hparams", "factor"), [("adahessian", {}, 1e-2), ("sophiah", {"p": 1.0}, 0.2)]
)
def test_registered_and_run_on_a_surface(name, hparams, factor):
    """(Sophia-H's default clip p = 0.01 moves a coordinate by at most lr·p per step; its
    β1 = 0.96 momentum circles the bowl's minimum.)"""
    from gdlab.lab import run_trajectory

    traj = run_trajectory("bowl", name, (1.5, -1.0), 60, lr=0.1, **hparams)
    assert not traj.diverged and traj.values[-1] < factor * traj.values[0]
