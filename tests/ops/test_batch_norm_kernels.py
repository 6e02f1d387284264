"""The compiled BatchNorm kernels (ops/_batch_norm_kernels.py, through ops/batch_norm.py)
agree with the NumPy path within a few ulps (their channel sums are float64 and in another
order), in training and eval mode, float32 and float64, with and without γ and β; their
statistics stay exact when the mean is far larger than the spread (the shifted sums)."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.ops import batch_norm as bn

pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def _kernels():
    bn.reset()
    if bn._KERNELS.get() is None:
        pytest.skip("numba cannot run the kernels here (its JIT disabled?)")


# (id, input shape, with γ, with β, eval mode)
CASES = [
    ("train_affine", (4, 5, 6, 7), True, True, False),
    ("train_plain", (3, 4, 9), False, False, False),
    ("train_scale_only", (2, 3, 16, 16), True, False, False),
    ("eval_affine", (4, 5, 6, 7), True, True, True),
]
# ulps of each result's largest magnitude: float32 results come from float64 sums on the
# compiled path (within 2 ulps seen); in float64 both paths round sums of ~10³ terms of
# either sign, in different orders (within 16 ulps seen)
ULPS = {np.float32: 4, np.float64: 32}


def _run(x, weight, bias, g, stats, compiled, monkeypatch):
    """(output, ∂x, ∂γ, ∂β, μ, σ²) of one forward and backward step on one path."""
    monkeypatch.setattr(bn, "MIN_SIZE", 0)
    bn.reset(bn._UNSET if compiled else None)
    try:
        assert (bn._compiled(x) is not None) == compiled
        saved = bn.BatchNormSaved()
        kw = dict(weight=weight, bias=bias, mean=stats[0], var=stats[1], saved=saved)
        out = bn._batch_norm(x, **kw)
        grads = [vjp(g, out, x, **kw) for vjp in (bn._vjp_x, bn._vjp_weight, bn._vjp_bias)]
        return out, *grads, saved.mean, saved.var
    finally:
        bn.reset()


def _assert_close_in_ulps(a, b, ulps):
    scale = np.spacing(np.max(np.abs(b)).astype(b.dtype))
    worst = np.max(np.abs(a.astype(np.float64) - b), initial=0.0)
    assert worst <= ulps * scale, f"{worst / scale} ulps"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_kernels_agree_with_the_numpy_path(case, dtype, monkeypatch):
    _, shape, affine, with_bias, eval_mode = case
    rng = np.random.default_rng(0)
    c = shape[1]
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    weight = rng.uniform(0.5, 1.5, c).astype(dtype) if affine else None
    bias = rng.uniform(-0.5, 0.5, c).astype(dtype) if with_bias else None
    stats = (rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype))
    stats = stats if eval_mode else (None, None)
    numpy_path = _run(x, weight, bias, g, stats, False, monkeypatch)
    compiled = _run(x, weight, bias, g, stats, True, monkeypatch)
    for name, a, b in zip(
        ("out", "gx", "gw", "gb", "mean", "var"), compiled, numpy_path, strict=True
    ):
        assert a.dtype == dtype, name
        assert a.shape == b.shape, name
        _assert_close_in_ulps(a, b, ULPS[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_statistics_stay_exact_far_from_zero(dtype, monkeypatch):
    """μ = 1000, σ = 0.01: Σx² − (Σx)²/m would lose every digit of σ² in float32."""
    rng = np.random.default_rng(1)
    x = (1000 + 0.01 * rng.standard_normal((8, 3, 32, 32))).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    _, _, _, _, mean, var = _run(x, None, None, g, (None, None), True, monkeypatch)
    x64 = x.astype(np.float64)
    exact_mean = x64.mean(axis=(0, 2, 3))
    exact_var = x64.var(axis=(0, 2, 3))
    _assert_close_in_ulps(mean, exact_mean.astype(dtype), 1)
    np.testing.assert_allclose(var, exact_var, rtol=4 * np.finfo(dtype).eps)


def test_numpy_backward_after_a_compiled_forward(monkeypatch):
    """Kernels turned off between forward and backward: x − μ, which the compiled forward
    does not save, is recomputed and the NumPy VJPs run."""
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((2, 3, 4, 4))
    expected = _run(x, None, None, g, (None, None), False, monkeypatch)
    monkeypatch.setattr(bn, "MIN_SIZE", 0)
    saved = bn.BatchNormSaved()
    out = bn._batch_norm(x, saved=saved)
    assert saved.centred is None
    bn.reset(None)
    try:
        grads = [vjp(g, out, x, saved=saved) for vjp in (bn._vjp_x, bn._vjp_weight, bn._vjp_bias)]
    finally:
        bn.reset()
    for a, b in zip(grads, expected[1:4], strict=True):
        _assert_close_in_ulps(a, b, ULPS[np.float64])


def test_short_rows_stay_on_numpy(monkeypatch):
    """BatchNorm1d's (N, C): a channel's values lie one per row, and the kernels would read
    the whole input once per channel."""
    monkeypatch.setattr(bn, "MIN_SIZE", 0)
    saved = bn.BatchNormSaved()
    bn._batch_norm(np.ones((64, 8, bn.MIN_ROW - 1)), saved=saved)
    assert saved.centred is not None  # the NumPy path's x − μ
