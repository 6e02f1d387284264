"""BatchNorm1d/2d (one op row, ops/batch_norm.py) against torch.nn step by step, in float32
and float64: outputs, input and parameter gradients and the running statistics over three
training steps and then an eval step, for each configuration of the table; and the fused
first-order VJPs equal to their Tensor form (the create_graph path) in float64. Both run
on the NumPy path and on the compiled kernels (ops/_batch_norm_kernels.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gdlab
import gdlab.nn as gnn
from gdlab.autograd import grad
from gdlab.ops import batch_norm

# (id, class name, kwargs, input shape)
CASES = [
    ("bn2d", "BatchNorm2d", {}, (4, 3, 5, 2)),
    ("bn2d_momentum_none", "BatchNorm2d", {"momentum": None}, (3, 3, 2, 2)),
    ("bn2d_no_affine", "BatchNorm2d", {"affine": False, "eps": 1e-3}, (4, 3, 2, 3)),
    ("bn2d_no_bias", "BatchNorm2d", {"bias": False}, (2, 3, 3, 3)),
    ("bn2d_untracked", "BatchNorm2d", {"track_running_stats": False}, (4, 3, 2, 2)),
    ("bn1d", "BatchNorm1d", {"momentum": 0.3}, (6, 4)),
    ("bn1d_3d", "BatchNorm1d", {}, (3, 4, 5)),
]
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


@pytest.fixture(params=["numpy", "compiled"])
def path(request, monkeypatch):
    """The NumPy path, or the compiled kernels for inputs of any size."""
    if request.param == "compiled":
        pytest.importorskip("numba")
        monkeypatch.setattr(batch_norm, "MIN_SIZE", 0)
    batch_norm.reset(None if request.param == "numpy" else batch_norm._UNSET)
    yield request.param
    batch_norm.reset()


def _twins(name, kwargs, dtype, c, rng):
    tm = getattr(torch.nn, name)(c, **kwargs).to(torch.float64 if dtype == np.float64 else None)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, c)))
            if tm.bias is not None:
                tm.bias.copy_(torch.tensor(rng.uniform(-0.5, 0.5, c)))
    gm = getattr(gnn, name)(c, dtype=dtype, **kwargs)
    gm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    return gm, tm


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_batch_norm_matches_torch_over_steps(case, dtype, path):
    _, name, kwargs, shape = case
    rng = np.random.default_rng(0)
    gm, tm = _twins(name, kwargs, dtype, shape[1], rng)
    for step in range(4):
        training = step < 3
        gm.train(training)
        tm.train(training)
        x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
        w = rng.standard_normal(shape).astype(dtype)
        gx, tx = gdlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        gy, ty = gm(gx), tm(tx)
        np.testing.assert_allclose(gy.data, ty.detach().numpy(), **TOL[dtype])
        assert gy.dtype == dtype
        (gy * gdlab.tensor(w)).sum().backward()
        (ty * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(gx.grad.data, tx.grad.numpy(), **TOL[dtype])
        for (_, gp), (_, tp) in zip(gm.named_parameters(), tm.named_parameters(), strict=True):
            np.testing.assert_allclose(gp.grad.data, tp.grad.numpy(), **TOL[dtype])
            gp.grad, tp.grad = None, None
        for (gn, gb), (tn, tb) in zip(gm.named_buffers(), tm.named_buffers(), strict=True):
            assert gn == tn
            np.testing.assert_allclose(gb.data, tb.numpy(), **TOL[dtype])


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", [(4, 3, 2, 3), (5, 3)])
def test_fused_vjps_equal_their_tensor_form(shape, training, path):
    """The first-order NumPy VJPs and the Tensor form create_graph runs: one formula."""
    rng = np.random.default_rng(1)
    x = gdlab.tensor(rng.standard_normal(shape), requires_grad=True)
    wb = [gdlab.tensor(rng.uniform(0.5, 1.5, 3), requires_grad=True) for _ in range(2)]
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    stats = (None, None) if training else (gdlab.tensor(rm), gdlab.tensor(rv))
    v = rng.standard_normal(shape)

    def out():
        return gnn.functional.batch_norm(x, *stats, *wb, training=training)

    fast = grad(out(), [x, *wb], grad_outputs=v)
    graph = grad(out(), [x, *wb], grad_outputs=v, create_graph=True)
    for a, b in zip(fast, graph, strict=True):
        np.testing.assert_allclose(a, b.data, rtol=1e-12, atol=1e-13)
