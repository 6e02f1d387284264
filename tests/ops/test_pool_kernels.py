"""The compiled max-pool kernels (ops/_pool_kernels.py, through ops/pool_fast.py) give the
NumPy path's numbers bit for bit: forward and input gradient, float32 and float64, over a
table of geometries (tiled 2x2, 2x2 leaving a last row and column, padded, ceil mode, strided
gaps, dilated, overlapping windows, whose scatter stays on NumPy), with ties (ReLU's zeros),
-0.0 and NaN.
(A window's maximum of 0.0 and -0.0 may carry either sign; the gradient is equal bit for
bit.)"""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.ops import pool, pool_fast

# (id, input shape, kernel, stride, padding (t, b, l, r), dilation, out_hw)
GEOMETRIES = [
    ("tiled_2x2", (2, 3, 8, 6), (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), (4, 3)),
    ("floor_2x2", (1, 2, 7, 5), (2, 2), (2, 2), (0, 0, 0, 0), (1, 1), (3, 2)),
    ("padded_ceil", (1, 2, 7, 5), (2, 2), (2, 2), (1, 2, 0, 1), (1, 1), (5, 3)),
    ("gaps", (2, 2, 9, 9), (2, 3), (3, 4), (0, 0, 0, 0), (1, 1), (3, 2)),
    ("dilated_disjoint", (1, 2, 8, 8), (2, 2), (4, 4), (0, 0, 0, 0), (2, 2), (2, 2)),
    ("overlapping", (2, 2, 7, 7), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), (4, 4)),
]


def _both(fn, monkeypatch):
    """fn() with the NumPy path, then with the compiled kernels (for any size)."""
    pool_fast.reset(None)
    try:
        numpy_result = fn()
        monkeypatch.setattr(pool_fast, "MIN_SIZE", 0)
        pool_fast.reset()
        assert pool_fast.kernels(np.zeros(1)) is not None
        return numpy_result, fn()
    finally:
        pool_fast.reset()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("geo", GEOMETRIES, ids=[g[0] for g in GEOMETRIES])
def test_kernels_equal_the_numpy_path_bit_for_bit(geo, dtype, monkeypatch):
    _, shape, kernel, stride, padding, dilation, out_hw = geo
    rng = np.random.default_rng(0)
    x = np.maximum(rng.standard_normal(shape), 0).astype(dtype)  # ties at 0 in many windows
    x.flat[::7] = -0.0
    x.flat[5] = np.nan
    kw = dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation, out_hw=out_hw)
    out_np, out_fast = _both(lambda: pool._max_pool2d(x, **kw), monkeypatch)
    assert out_np.shape == (*shape[:2], *out_hw)
    # equal values; a window holding 0.0 and -0.0 may give either zero (NumPy's SIMD
    # maximum does not specify which), which compares equal in the scatter below
    np.testing.assert_array_equal(out_fast, out_np)
    g = rng.standard_normal(out_np.shape).astype(dtype)
    gx_np, gx_fast = _both(lambda: pool._max_pool2d_scatter(g, x, out_np, **kw), monkeypatch)
    np.testing.assert_array_equal(gx_fast, gx_np)
    assert np.array_equal(np.signbit(gx_fast), np.signbit(gx_np))
    assert gx_fast.dtype == dtype
