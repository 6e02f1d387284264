"""LayerNorm's compiled kernels (ops/_norm_kernels.py, through ops/norm_ops.py) against its
NumPy path: forward and the three gradients, float32 and float64, with and without the
affine parameters, over one and two normalised dimensions and a non-contiguous input.

Both paths round differently (the kernels sum rows and columns in float64), so in float32
each is held to the NumPy path's formulas evaluated in float64: the kernels within 2.5 ulps
of the largest magnitude (measured 1.7), the NumPy path within 16 (its float32 column sums;
measured 6.2). In float64 the kernels are held to the NumPy path within 16 (measured 12).
"""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab.nn import functional as F
from gdlab.ops import norm_ops

pytest.importorskip("numba")

# (id, input shape, normalised dims, affine)
CASES = [
    ("rows_affine", (16, 64, 128), 1, True),
    ("rows_plain", (300, 96), 1, False),
    ("two_dims", (40, 20, 30), 2, True),
]


def _run(x, weight, bias, ndim, g, compiled, monkeypatch):
    """(out, ∂x, ∂γ, ∂β) of F.layer_norm on one path."""
    monkeypatch.setattr(norm_ops, "MIN_SIZE", 0 if compiled else 1 << 62)
    tensors = [gdlab.tensor(a, requires_grad=True) if a is not None else None
               for a in (x, weight, bias)]  # fmt: skip
    out = F.layer_norm(tensors[0], x.shape[x.ndim - ndim :], tensors[1], tensors[2], 1e-5)
    if compiled and norm_ops._KERNELS.get() is None:
        pytest.skip("numba cannot run the kernels here (NUMBA_DISABLE_JIT?)")
    out.backward(g)
    return [out.data] + [None if t is None else t.grad.data for t in tensors]


def _exact(x, weight, bias, ndim, g):
    """The NumPy path's formulas in float64 on the same inputs."""
    up = [None if a is None else a.astype(np.float64) for a in (g, x, weight, bias)]
    g64, x64, w64, b64 = up
    saved = norm_ops.LayerNormSaved()
    out = norm_ops._layer_norm(x64, w64, b64, ndim, 1e-5, saved)
    args = (g64, out, x64, w64, b64, ndim, 1e-5, saved)
    return [
        out,
        norm_ops._layer_norm_vjp_x(*args),
        None if weight is None else norm_ops._layer_norm_vjp_weight(*args),
        None if bias is None else norm_ops._layer_norm_vjp_bias(*args),
    ]


def _ulps_of_scale(got, exact, dtype):
    return np.abs(got - exact).max() / np.spacing(dtype(np.abs(exact).max()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_kernels_agree_with_the_numpy_path(case, dtype, monkeypatch):
    _, shape, ndim, affine = case
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    features = shape[len(shape) - ndim :]
    weight = (1 + 0.3 * rng.standard_normal(features)).astype(dtype) if affine else None
    bias = (0.2 * rng.standard_normal(features)).astype(dtype) if affine else None
    fast = _run(x, weight, bias, ndim, g, True, monkeypatch)
    slow = _run(x, weight, bias, ndim, g, False, monkeypatch)
    exact = _exact(x, weight, bias, ndim, g) if dtype == np.float32 else slow
    for name, f, s, e in zip(("out", "dx", "dweight", "dbias"), fast, slow, exact, strict=True):
        if e is None:
            assert f is None and s is None
            continue
        assert f.dtype == dtype and f.shape == s.shape
        limit = 2.5 if dtype == np.float32 else 16.0  # float64: against the NumPy path
        assert _ulps_of_scale(f, e, dtype) <= limit, name
        assert _ulps_of_scale(s, e, dtype) <= 16.0, name


def test_a_non_contiguous_input_and_a_second_backward(monkeypatch):
    monkeypatch.setattr(norm_ops, "MIN_SIZE", 0)
    rng = np.random.default_rng(1)
    base = rng.standard_normal((64, 2, 96)).astype(np.float32)
    x = gdlab.tensor(base[:, 1, :], requires_grad=True)  # rows 192 elements apart
    w = gdlab.tensor(rng.standard_normal(96).astype(np.float32), requires_grad=True)
    b = gdlab.tensor(np.zeros(96, np.float32), requires_grad=True)
    out = F.layer_norm(x, (96,), w, b)
    ref = F.layer_norm(gdlab.tensor(np.ascontiguousarray(base[:, 1, :])), (96,), w, b)
    np.testing.assert_array_equal(out.data, ref.data)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(g, retain_graph=True)
    first = [t.grad.data.copy() for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    out.backward(g)  # every gradient again: none is left over from the first pass
    for t, f in zip((x, w, b), first, strict=True):
        np.testing.assert_array_equal(t.grad.data, f)


def test_only_the_parameters_require_grad(monkeypatch):
    """The first rule the engine calls is γ's (x needs no gradient): it still runs the
    compiled backward, and β's rule takes its share."""
    monkeypatch.setattr(norm_ops, "MIN_SIZE", 0)
    rng = np.random.default_rng(2)
    x = gdlab.tensor(rng.standard_normal((50, 40)).astype(np.float32))
    ln = gdlab.nn.LayerNorm(40)
    ln(x).sum().backward()
    monkeypatch.setattr(norm_ops, "MIN_SIZE", 1 << 62)
    ref = gdlab.nn.LayerNorm(40)
    ref(x).sum().backward()
    for p, q in zip(ln.parameters(), ref.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.data, q.grad.data, rtol=1e-5, atol=1e-5)
