"""The vectorised erf (gdlab.ops.erf) against 40-digit mpmath, scipy.special.erf and torch.erf
over a wide range, and exact GELU's two paths (NumPy, compiled float32 kernels) against each
other and torch."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab.nn import functional as F
from gdlab.ops import gelu_fast
from gdlab.ops.erf import erf

mpmath = pytest.importorskip("mpmath")
torch = pytest.importorskip("torch")
special = pytest.importorskip("scipy.special")


def _points(dtype) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate([
        rng.uniform(-7, 7, 3000),
        rng.uniform(-1.1, 1.1, 2000),  # around the switch between the two forms
        10.0 ** rng.uniform(-300 if dtype == np.float64 else -37, 0.9, 1000)
        * rng.choice([-1, 1], 1000),
        [0.5, 1.0, 2.0, 3.5, 4.0, 6.0, 5.9, -1.0, -2.0, 1 - 1e-7, 1 + 1e-7],
    ]).astype(dtype)  # fmt: skip


def _exact(x: np.ndarray) -> np.ndarray:
    mpmath.mp.dps = 40
    return np.array([float(mpmath.erf(mpmath.mpf(float(v)))) for v in x])


def _ulps(got: np.ndarray, exact: np.ndarray, dtype) -> np.ndarray:
    rounded = exact.astype(dtype)
    return np.abs(got.astype(np.float64) - exact) / np.spacing(np.abs(rounded)).astype(np.float64)


@pytest.mark.parametrize("dtype, max_ulp", [(np.float64, 1.5), (np.float32, 1.5)])
def test_erf_is_within_rounding_of_the_exact_value(dtype, max_ulp):
    x = _points(dtype)
    got = erf(x)
    assert got.dtype == dtype
    assert _ulps(got, _exact(x), dtype).max() <= max_ulp


def test_erf_matches_scipy_and_torch():
    x = _points(np.float64)
    np.testing.assert_allclose(erf(x), special.erf(x), rtol=4e-16, atol=0)
    x32 = _points(np.float32)
    exact = _exact(x32)
    torch_ulps = _ulps(torch.erf(torch.from_numpy(x32)).numpy(), exact, np.float32)
    assert _ulps(erf(x32), exact, np.float32).max() <= max(torch_ulps.max(), 1.5)


def test_erf_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e300, -1e300])
    got = erf(x)
    np.testing.assert_array_equal(got[:4], [0.0, -0.0, 1.0, -1.0])
    assert np.signbit(got[1]) and np.isnan(got[4])
    np.testing.assert_array_equal(got[5:], [1.0, -1.0])
    assert erf(np.array(0.5)).shape == ()
    assert erf(np.array([0.5], np.float16)).dtype == np.float16
    np.testing.assert_allclose(erf(np.array([1, 2])), special.erf([1.0, 2.0]), rtol=1e-15)


@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "kernels"])
def test_exact_gelu_float32_matches_torch(compiled):
    """float32 forward and gradient within ~2 float32 ulp of torch's float64 result."""
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((64, 300)) * 3).astype(np.float32)  # above gelu_fast.MIN_SIZE
    g = rng.standard_normal(x.shape).astype(np.float32)
    gelu_fast.reset(gelu_fast._UNSET if compiled else None)
    try:
        if compiled:
            assert gelu_fast.kernels(x.size) is not None
        gx = gdlab.tensor(x, requires_grad=True)
        out = F.gelu(gx)
        out.backward(g)
    finally:
        gelu_fast.reset()
    tx = torch.tensor(x.astype(np.float64), requires_grad=True)
    tout = torch.nn.functional.gelu(tx)
    tout.backward(torch.tensor(g.astype(np.float64)))
    assert out.dtype == np.float32 and gx.grad.dtype == np.float32
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=2.4e-7, atol=2.4e-7)
    np.testing.assert_allclose(gx.grad.data, tx.grad.numpy(), rtol=2.4e-7, atol=4.8e-7)


def test_compiled_exp_is_within_an_ulp_over_the_backward_range():
    """The backward kernel's e^y (2^n from its exponent bits) on [−87, 0], its whole domain:
    the bottom end has 2^n = 2^−126, the smallest normal power."""
    kernels = pytest.importorskip("gdlab.ops._gelu_kernels")
    y = np.concatenate([np.linspace(-87, 0, 2001), [-87.0, -86.99, -1e-30, -0.0, 0.0]])
    y = y.astype(np.float32)
    got = np.array([kernels._exp_neg(v, kernels._EXP_REDUCED) for v in y], np.float32)
    exact = np.exp(y.astype(np.float64))
    ulps = np.abs(got - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert ulps.max() <= 1.0
    assert got[-1] == got[-2] == 1.0
