"""ReLU's compiled input gradient (ops/_relu_kernels.py, through ops/elementwise.py) is the
NumPy path's ``g * (out > 0)`` bit for bit, float32 and float64, with zeros of both signs,
NaN and infinities in the input and in the gradient."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.ops import elementwise

pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def _kernels():
    elementwise._RELU_KERNELS.reset()
    if elementwise._RELU_KERNELS.get() is None:
        pytest.skip("numba cannot run the kernels here (its JIT disabled?)")


def _both(g, out, monkeypatch):
    """The VJP on the NumPy path, then on the compiled one (for any size)."""
    kernels = elementwise._RELU_KERNELS
    kernels.reset(None)
    try:
        numpy_result = elementwise._relu_vjp(g, out, None)
        monkeypatch.setattr(elementwise, "RELU_MIN_SIZE", 0)
        kernels.reset()
        assert kernels.get() is not None
        return numpy_result, elementwise._relu_vjp(g, out, None)
    finally:
        kernels.reset()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_vjp_equals_the_numpy_path_bit_for_bit(dtype, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 7)).astype(dtype)
    x.flat[:4] = [0.0, -0.0, np.nan, np.inf]
    g = rng.standard_normal(x.shape).astype(dtype)
    g.flat[4:10] = [-0.0, 0.0, np.inf, -np.inf, np.nan, -1.0]
    out = elementwise.RELU.forward(x)
    expected, got = _both(g, out, monkeypatch)
    assert got.dtype == dtype and got.shape == x.shape
    np.testing.assert_array_equal(got, expected)
    assert np.array_equal(np.signbit(got), np.signbit(expected))
