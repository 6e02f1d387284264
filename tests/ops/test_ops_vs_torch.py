"""Each op through its public function, against torch.autograd on the same inputs (float64):
forward values and the gradients of a randomly weighted sum of the outputs.

A row is (covered op, case id, call, input shapes, domain); ``call(m, *xs)`` runs with
``m = gdlab`` and with ``m = torch`` (plus the few names torch keeps in ``nn.functional``).
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import gdlab
from gdlab.ops import OPS, elementwise, linalg, reduce, shape

torch = pytest.importorskip("torch")
F = torch.nn.functional
TORCH = types.SimpleNamespace(**{k: getattr(torch, k) for k in dir(torch) if not k.startswith("_")})
TORCH.pad = F.pad
TORCH.softplus = F.softplus
GDLAB = types.SimpleNamespace(**{k: getattr(gdlab, k) for k in dir(gdlab) if not k.startswith("_")})
GDLAB.pad = gdlab.pad
GDLAB.softplus = gdlab.softplus

POS = (0.5, 2.0)
ANY = (-2.0, 2.0)
M, B = (3, 4), (2, 3, 4)

ROWS = [
    ("add", "broadcast", lambda m, a, b: a + b, [B, (4,)], ANY),
    ("add", "alpha", lambda m, a, b: m.add(a, b, alpha=2.5), [M, (3, 1)], ANY),
    ("add", "scalar", lambda m, a: 1.5 + a, [M], ANY),
    ("sub", "rsub", lambda m, a, b: a - b - (2.0 - a), [M, (1, 4)], ANY),
    ("mul", "broadcast", lambda m, a, b: a * b * 3.0, [(2, 1, 4), (3, 1)], ANY),
    ("div", "broadcast", lambda m, a, b: a / b + 1.0 / b, [M, (4,)], POS),
    ("neg", "neg", lambda m, a: -a, [M], ANY),
    ("pow", "tensor exponent", lambda m, a, b: a**b, [M, (4,)], POS),
    ("pow", "scalar exponent", lambda m, a: a**3 + a**0.5 + m.pow(a, -1.5), [M], POS),
    ("pow", "scalar base", lambda m, a: 2.0**a, [M], ANY),
    ("exp", "exp", lambda m, a: m.exp(a), [M], ANY),
    ("log", "log", lambda m, a: a.log(), [M], POS),
    ("sqrt", "sqrt", lambda m, a: m.sqrt(a), [M], POS),
    ("abs", "abs", lambda m, a: abs(a) + m.abs(a), [M], ANY),
    ("sin", "sin", lambda m, a: a.sin(), [M], ANY),
    ("cos", "cos", lambda m, a: m.cos(a), [M], ANY),
    ("tanh", "tanh", lambda m, a: a.tanh(), [M], ANY),
    ("sinh", "sinh", lambda m, a: m.sinh(a) + a.sinh(), [M], ANY),
    ("cosh", "cosh", lambda m, a: m.cosh(a) + a.cosh(), [M], ANY),
    ("square", "square", lambda m, a: m.square(a) + a.square(), [M], ANY),
    ("sign", "sign", lambda m, a: m.sign(a) * a + a.sign(), [M], ANY),
    ("sigmoid", "sigmoid", lambda m, a: m.sigmoid(a * 4), [M], ANY),
    ("relu", "relu", lambda m, a: m.relu(a), [M], ANY),
    ("softplus", "default", lambda m, a: m.softplus(a * 10), [M], ANY),
    ("softplus", "beta", lambda m, a: m.softplus(a, beta=2, threshold=3), [M], ANY),
    ("clamp", "min max", lambda m, a: m.clamp(a, -1.0, 1.0), [M], ANY),
    ("clamp", "min only", lambda m, a: a.clamp(min=0.5), [M], ANY),
    ("clamp", "max only", lambda m, a: a.clamp(max=-0.5), [M], ANY),
    ("maximum", "broadcast", lambda m, a, b: m.maximum(a, b), [M, (4,)], ANY),
    ("minimum", "broadcast", lambda m, a, b: m.minimum(a, b), [(3, 1), (4,)], ANY),
    ("where", "broadcast", lambda m, a, b: m.where(a > 0, a, b), [M, (4,)], ANY),
    ("where", "method", lambda m, a, b: a.where(b > 0, b), [M, M], ANY),
    ("matmul", "dot", lambda m, a, b: m.dot(a, b) + a.dot(b), [(4,), (4,)], ANY),
    ("matmul", "mv", lambda m, a, b: m.mv(a, b) + a.mv(b), [M, (4,)], ANY),
    ("matmul", "mm", lambda m, a, b: m.mm(a, b) + a.mm(b), [M, (4, 2)], ANY),
    ("matmul", "bmm", lambda m, a, b: m.bmm(a, b) + a.bmm(b), [B, (2, 4, 5)], ANY),
    ("expand", "meshgrid ij", lambda m, a, b: m.meshgrid(a, b, indexing="ij"), [(3,), (4,)], ANY),
    (
        "expand",
        "meshgrid xy",
        lambda m, a, b, c: m.meshgrid([a, b, c], indexing="xy"),
        [(3,), (4,), (2,)],
        ANY,
    ),
    ("to", "float64 -> float32 -> float64", lambda m, a: a.float().double() * 2, [M], ANY),
    ("sum", "all", lambda m, a: a.sum(), [B], ANY),
    ("sum", "dim", lambda m, a: m.sum(a, 1), [B], ANY),
    ("sum", "dims keepdim", lambda m, a: a.sum((0, 2), keepdim=True), [B], ANY),
    ("mean", "all", lambda m, a: a.mean(), [B], ANY),
    ("mean", "negative dim", lambda m, a: m.mean(a, dim=-1, keepdim=True), [B], ANY),
    ("amax", "dim", lambda m, a: a.amax(1), [B], ANY),
    ("amax", "dims", lambda m, a: m.amax(a, (0, 2)), [B], ANY),
    ("amin", "dim", lambda m, a: a.amin(-1, keepdim=True), [B], ANY),
    ("amax", "max all", lambda m, a: a.max() + a.min(), [B], ANY),
    ("gather", "max dim", lambda m, a: a.max(1)[0] + a.max(dim=2).values.sum(), [B], ANY),
    ("gather", "min dim keepdim", lambda m, a: a.min(1, keepdim=True).values, [B], ANY),
    ("var", "default", lambda m, a: a.var(), [B], ANY),
    ("var", "unbiased False", lambda m, a: a.var(1, unbiased=False), [B], ANY),
    ("var", "correction 0", lambda m, a: m.var(a, dim=(0, 2), correction=0), [B], ANY),
    ("var", "correction 2", lambda m, a: a.var(dim=2, correction=2, keepdim=True), [B], ANY),
    ("std", "std", lambda m, a: a.std(1).sum() + m.std(a, dim=0, keepdim=True), [B], ANY),
    ("norm", "2 all", lambda m, a: a.norm() + m.norm(a, "fro"), [B], ANY),
    ("norm", "1 inf dim", lambda m, a: m.norm(a, 1, 1) * a.norm(float("inf"), 1), [B], ANY),
    ("norm", "p dims", lambda m, a: a.norm(0.5, (0, 2), True) + m.norm(a, 3, -1, True), [B], ANY),
    ("logsumexp", "dim", lambda m, a: m.logsumexp(a * 3, 1), [B], ANY),
    ("logsumexp", "dims keepdim", lambda m, a: a.logsumexp((0, 2), keepdim=True), [B], ANY),
    ("softmax", "dim", lambda m, a: m.softmax(a, dim=0), [B], ANY),
    ("softmax", "method", lambda m, a: a.softmax(-1), [M], ANY),
    ("log_softmax", "dim", lambda m, a: m.log_softmax(a * 5, dim=1), [B], ANY),
    ("reshape", "reshape", lambda m, a: a.reshape(4, -1) * a.view(12, 2).reshape(24)[:6], [B], ANY),
    ("reshape", "view tuple", lambda m, a: m.reshape(a, (2, 12)), [B], ANY),
    ("reshape", "unsqueeze", lambda m, a: a.unsqueeze(1) + m.unsqueeze(a, -1), [M], ANY),
    ("reshape", "squeeze", lambda m, a: a.squeeze() + a.squeeze(0).squeeze(-1), [(1, 3, 1)], ANY),
    ("reshape", "flatten", lambda m, a: a.flatten(1) + m.flatten(a, 0, 1).reshape(2, 12), [B], ANY),
    ("permute", "permute", lambda m, a: a.permute(2, 0, 1) + m.permute(a, (2, 0, 1)), [B], ANY),
    ("permute", "transpose", lambda m, a: a.transpose(0, 2) + m.transpose(a, -1, 0), [B], ANY),
    ("permute", "T", lambda m, a: a.T * 2, [M], ANY),
    ("permute", "mT", lambda m, a: a.mT * 2, [B], ANY),
    ("expand", "expand", lambda m, a: a.expand(2, 3, 4) + a.expand(5, 2, -1, -1)[1], [(3, 1)], ANY),
    ("getitem", "int", lambda m, a: a[1] + a[-1, 2], [B], ANY),
    ("getitem", "slices", lambda m, a: a[:, 1:, ::2], [B], ANY),
    ("getitem", "None Ellipsis", lambda m, a: a[None, ..., 1], [B], ANY),
    ("getitem", "int list dupes", lambda m, a: a[[0, 0, 2, 1]], [M], ANY),
    (
        "getitem",
        "index tensors",
        lambda m, a: a[m.tensor([0, 2, 0]), m.tensor([1, 1, 3])],
        [M],
        ANY,
    ),
    ("getitem", "index and slice", lambda m, a: a[:, m.tensor([3, 3, 0])], [M], ANY),
    ("getitem", "bool mask", lambda m, a: a[a > 0.1], [B], ANY),
    ("getitem", "bool rows", lambda m, a: a[m.tensor([True, False, True])], [M], ANY),
    ("gather", "dim 1", lambda m, a: m.gather(a, 1, m.tensor([[0, 0, 3], [1, 0, 0]])), [M], ANY),
    ("gather", "method dim 0", lambda m, a: a.gather(0, m.tensor([[2, 0, 2, 2]])), [M], ANY),
    ("cat", "dim 0", lambda m, a, b, c: m.cat([a, b, c]), [(1, 4), M, (2, 4)], ANY),
    ("cat", "dim -1", lambda m, a, b: m.cat((a, b), dim=-1), [(3, 2), M], ANY),
    ("stack", "dim 1", lambda m, a, b: m.stack([a, b], dim=1), [M, M], ANY),
    ("stack", "dim -1", lambda m, a, b: m.stack([a, b * 2], -1), [M, M], ANY),
    (
        "getitem",
        "split",
        lambda m, a: m.cat([p * i for i, p in enumerate(a.split(2, 1))], 1),
        [(3, 5)],
        ANY,
    ),
    ("getitem", "split sizes", lambda m, a: m.split(a, [1, 2], dim=0)[1] * 3, [M], ANY),
    (
        "getitem",
        "chunk",
        lambda m, a: a.chunk(3, dim=1)[-1] * 2 + m.chunk(a, 2)[0][:1, :1],
        [(4, 6)],
        ANY,
    ),
    ("pad", "last dim", lambda m, a: m.pad(a, (1, 2)), [M], ANY),
    ("pad", "two dims value", lambda m, a: m.pad(a, (0, 1, 2, 0), value=0.5), [B], ANY),
    ("clone", "clone", lambda m, a: a.clone() * 2, [M], ANY),
    ("matmul", "1-D 1-D", lambda m, a, b: a @ b, [(4,), (4,)], ANY),
    ("matmul", "2-D 1-D", lambda m, a, b: m.matmul(a, b), [M, (4,)], ANY),
    ("matmul", "1-D 2-D", lambda m, a, b: a @ b, [(3,), M], ANY),
    ("matmul", "2-D 2-D", lambda m, a, b: a @ b, [M, (4, 2)], ANY),
    ("matmul", "batch broadcast", lambda m, a, b: a @ b, [(2, 1, 3, 4), (5, 4, 2)], ANY),
    ("matmul", "1-D batch", lambda m, a, b: a @ b, [(4,), (2, 4, 3)], ANY),
    ("matmul", "batch 1-D", lambda m, a, b: a.matmul(b), [B, (4,)], ANY),
    ("matmul", "batch 2-D", lambda m, a, b: a @ b, [B, (4, 5)], ANY),
]


def _as_list(out):
    return list(out) if isinstance(out, tuple | list) else [out]


@pytest.mark.parametrize(
    "call, shapes, domain", [r[2:] for r in ROWS], ids=[f"{r[0]}-{r[1]}" for r in ROWS]
)
def test_matches_torch(call, shapes, domain, rng):
    arrays = [rng.uniform(*domain, size=s) for s in shapes]
    xs = [gdlab.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, touts = _as_list(call(GDLAB, *xs)), _as_list(call(TORCH, *ts))
    assert len(outs) == len(touts)
    loss, tloss = 0, 0
    for o, to in zip(outs, touts, strict=True):
        assert o.shape == tuple(to.shape)
        assert o.dtype == np.float64
        np.testing.assert_allclose(o.data, to.detach().numpy(), rtol=1e-12, atol=1e-12)
        w = rng.standard_normal(o.shape)
        loss = loss + (o * w).sum()
        tloss = tloss + (to * torch.tensor(w)).sum()
    loss.backward()
    tloss.backward()
    for x, t in zip(xs, ts, strict=True):
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


# Ops with no public function of their own, checked through the op whose gradient they are.
GRADIENT_OPS = {"index_scatter"}  # getitem's gradient: tests/ops/test_double_backward.py


def test_every_core_op_has_a_torch_row():
    core = {
        name
        for name, op in OPS.items()
        if any(op is v for mod in (elementwise, reduce, shape, linalg) for v in vars(mod).values())
    }
    assert core - GRADIENT_OPS - {r[0] for r in ROWS} == set()
