"""Every row of the op table differentiated twice (``create_graph=True``): second derivatives
against central differences of the gradient (``gradgradcheck``, float64) and against torch's
double backward. Rules that cannot run on Tensors yet are listed and must say so clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from op_samples import SAMPLING

import gdlab
from gdlab.autograd import grad, gradgradcheck
from gdlab.ops import OPS, apply

# Rules that write into arrays in place or call functions with no gdlab counterpart: a
# backward with create_graph=True through them raises a RuntimeError naming the op.
# (gelu, layer_norm, scaled_softmax and attention run their closed forms out of place on
# Tensors when differentiated: tests/ops/test_transformer_second_order.py.)
NOT_TWICE_DIFFERENTIABLE = {
    "avg_pool2d", "conv2d", "cross_entropy", "cross_entropy_index", "embedding", "gather",
    "gru_scan", "lstm_scan", "max_pool2d", "mode_pad",
    "rnn_scan", "soft_cross_entropy",
}  # fmt: skip
TWICE = sorted(n for n in OPS if n not in NOT_TWICE_DIFFERENTIABLE)


def cases(name: str, seed: int) -> tuple[list, np.random.Generator]:
    rng = np.random.default_rng(seed)
    row = SAMPLING[name]
    if row.cases is not None:
        shape = ((2, 3), (3,), (2, 1, 3))[seed % 3]
        return row.cases(rng, shape), rng
    shapes = ([(2, 3)] * len(OPS[name].vjps), [(2, 3), (3,), (1, 3)][: len(OPS[name].vjps)])
    return [(list(shapes[seed % 2]), dict(row.kwargs or {}))], rng


def inputs(name: str, shapes, rng) -> list[gdlab.Tensor]:
    lo, hi = SAMPLING[name].domain
    return [gdlab.tensor(rng.uniform(lo, hi, s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("name", TWICE)
@pytest.mark.parametrize("seed", [0, 1])
def test_second_derivatives_match_finite_differences(name, seed):
    op = OPS[name]
    all_cases, rng = cases(name, seed)
    for shapes, kwargs in all_cases:
        xs = inputs(name, shapes, rng)
        assert gradgradcheck(lambda *a, kw=kwargs: apply(op, *a, **kw), xs, generator=seed)


@pytest.mark.parametrize("name", sorted(NOT_TWICE_DIFFERENTIABLE))
def test_ops_without_second_derivatives_say_so(name):
    (shapes, kwargs), *_ = cases(name, 0)[0]
    xs = inputs(name, shapes, np.random.default_rng(0))
    out = apply(OPS[name], *xs, **kwargs)
    with pytest.raises(RuntimeError, match=f"'{name}'.*not supported"):
        grad(out, xs, grad_outputs=np.ones(out.shape), create_graph=True, allow_unused=True)


def test_every_op_is_in_one_of_the_two_lists():
    assert set(TWICE) | NOT_TWICE_DIFFERENTIABLE == set(OPS)


# (id, gdlab function, torch function, input shapes, domain): second derivatives vs torch
TF = torch.nn.functional
TORCH_ROWS = [
    ("exp", gdlab.exp, torch.exp, [(3, 4)], (-2, 2)),
    ("log", gdlab.log, torch.log, [(3, 4)], (0.5, 3)),
    ("sqrt", gdlab.sqrt, torch.sqrt, [(3, 4)], (0.5, 3)),
    ("tanh", gdlab.tanh, torch.tanh, [(3, 4)], (-2, 2)),
    ("sigmoid", gdlab.sigmoid, torch.sigmoid, [(3, 4)], (-3, 3)),
    ("sin", gdlab.sin, torch.sin, [(3, 4)], (-2, 2)),
    ("softplus", gdlab.softplus, TF.softplus, [(3, 4)], (-3, 3)),
    ("elu", gdlab.nn.functional.elu, TF.elu, [(3, 4)], (-2, 2)),
    ("pow_broadcast", gdlab.pow, torch.pow, [(3, 4), (4,)], (0.5, 2)),
    ("div_broadcast", gdlab.div, torch.div, [(3, 1), (4,)], (0.5, 2)),
    ("mul_broadcast", gdlab.mul, torch.mul, [(2, 3, 4), (3, 1)], (-2, 2)),
    ("matmul", gdlab.matmul, torch.matmul, [(2, 3, 4), (4, 5)], (-1, 1)),
    ("logsumexp", lambda x: gdlab.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1), [(3, 4)],
     (-2, 2)),
    ("softmax", lambda x: gdlab.softmax(x, 0), lambda x: torch.softmax(x, 0), [(3, 4)], (-2, 2)),
    ("log_softmax", lambda x: gdlab.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1),
     [(3, 4)], (-2, 2)),
    ("var", lambda x: x.var(0), lambda x: x.var(0), [(3, 4)], (-2, 2)),
    ("mse", lambda a, b: gdlab.nn.functional.mse_loss(a, b), TF.mse_loss, [(3, 4), (3, 4)],
     (-2, 2)),
]  # fmt: skip


@pytest.mark.parametrize("row", TORCH_ROWS, ids=[r[0] for r in TORCH_ROWS])
def test_double_backward_matches_torch(row):
    _, fn, tfn, shapes, (lo, hi) = row
    rng = np.random.default_rng(3)
    arrays = [rng.uniform(lo, hi, s) for s in shapes]
    xs = [gdlab.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(*xs), tfn(*ts)
    v = rng.standard_normal(out.shape)
    gs = grad(out, xs, grad_outputs=v, create_graph=True)
    tgs = torch.autograd.grad(tout, ts, grad_outputs=torch.tensor(v), create_graph=True)
    w = [rng.standard_normal(x.shape) for x in xs]
    s = sum((g * wk).sum() for g, wk in zip(gs, w, strict=True))
    ts_ = sum((g * torch.tensor(wk)).sum() for g, wk in zip(tgs, w, strict=True))
    for a, b in zip(gs, tgs, strict=True):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(grad(s, xs), torch.autograd.grad(ts_, ts), strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-9, atol=1e-12)
