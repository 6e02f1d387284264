"""Exact GELU for float32 as two compiled loops (numba; ``pip install gdlab[fast]``).

Imported lazily by :mod:`gdlab.ops.gelu_fast` only. Each kernel walks flat arrays once, so
it agrees with the NumPy path (``gdlab.ops.erf``, the same float32 erf tables) within an ulp
or two of float32. The loop bodies are branch-free (selects) and call no library function, so
LLVM vectorises them without a vector math library. The forward computes in float64 (rounded
to float32 once, at the store), with e^y a polynomial raised to the 16th power by squaring
(tables from ``gdlab.ops._erf_fit``); the backward computes in float32 with e^y = 2^n·p(r),
r = y − n·ln 2 (ln 2 in two parts, Cody & Waite) and 2^n a product of exact powers of two
chosen by the bits of −n (squaring would magnify float32 rounding 128-fold there).
Compiled with ``fastmath=False`` and ``cache=True`` (as the optimizer kernels in
``gdlab.optim._fused``).

    forward:  Φ(x) = ½(1 + erf(x/√2)),  out = x·Φ(x)
    backward: g·(Φ(x) + x·φ(x)),  φ(x) = e^(−x²/2)/√(2π)
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from gdlab.ops.erf import _FLOAT32_SMALL, _FLOAT32_TAIL

__all__ = ["gelu_backward", "gelu_forward"]

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)

# e^y on [−1, 0] and on [−0.6875, 0], highest power first (gdlab.ops._erf_fit.fit_exp)
_EXP_16 = (
    1.6809574666893228e-06, 2.2712018553190002e-05, 0.0001960607573055264,
    0.001387259323546384, 0.00833262793507081, 0.041666479747328955, 0.1666666381146535,
    0.4999999977794092, 0.9999999999328697, 0.9999999999996645,
)  # fmt: skip
_f = np.float32
# e^r on [−ln2/2, ln2/2], highest power first (gdlab.ops._erf_fit.fit_exp)
_EXP_REDUCED = tuple(
    _f(c)
    for c in (
        0.0013941108433972674, 0.008375126398153335, 0.04166635289677516,
        0.16666415514653277, 0.5000000047117757, 1.000000037716214, 1.0,
    )
)  # fmt: skip
_POW2 = tuple(_f(2.0 ** -(2**k)) for k in range(7))  # 2^−(2^k): one per bit of −n
_LN2_HI = _f(0.693115234375)  # ln 2 with its low bits cleared: n·_LN2_HI is exact
_LN2_LO = _f(3.1946184945309415e-05)
_LOG2E = _f(1.0 / math.log(2.0))
_HALF32, _ONE32 = _f(0.5), _f(1.0)
_EXP_MIN = _f(-87.0)  # e^−87 is still a normal float32
_INV_SQRT_2PI32 = _f(1.0 / math.sqrt(2.0 * math.pi))
_SMALL = tuple(float(c) for c in _FLOAT32_SMALL)
_NEAR = tuple(float(c) for c in _FLOAT32_TAIL[0].coeffs)  # h on [1, 2)
# h on [2, 4), padded in front to the length of _NEAR so one loop evaluates either
_FAR = (0.0,) * (len(_NEAR) - len(_FLOAT32_TAIL[1].coeffs)) + tuple(
    float(c) for c in _FLOAT32_TAIL[1].coeffs
)
_NEAR_CENTRE = (_FLOAT32_TAIL[0].lo + _FLOAT32_TAIL[0].hi) / 2
_FAR_CENTRE = (_FLOAT32_TAIL[1].lo + _FLOAT32_TAIL[1].hi) / 2
_SPLIT = _FLOAT32_TAIL[1].lo
_END = _FLOAT32_TAIL[-1].hi
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


@njit(**_JIT)
def _cdf(x, small, near, far):
    """Φ(x) for one element (float64), as ``gdlab.ops.erf`` with the float32 tables."""
    z = x * _INV_SQRT2
    a = abs(z)
    t = z * z
    s = t * small[0] + small[1]
    for k in range(2, len(small)):
        s = s * t + small[k]
    inner = s * z + z
    # the tail, 1 − e^(−a²)·h(a), evaluated everywhere on a clipped to [1, END]
    b = min(max(a, 1.0), _END)
    lo = b < _SPLIT
    u = b - (_NEAR_CENTRE if lo else _FAR_CENTRE)
    h = u * (near[0] if lo else far[0]) + (near[1] if lo else far[1])
    for k in range(2, len(near)):
        h = h * u + (near[k] if lo else far[k])
    y = b * b * -0.0625
    e = y * _EXP_16[0] + _EXP_16[1]
    for k in range(2, len(_EXP_16)):
        e = e * y + _EXP_16[k]
    e = e * e
    e = e * e
    e = e * e
    e = e * e
    tail = 1.0 - e * h
    tail = 1.0 if a >= _END else tail
    tail = tail if z >= 0 else -tail
    r = inner if a < 1.0 else tail
    r = z if z != z else r  # NaN stays NaN
    return 0.5 * (1.0 + r)


@njit(**_JIT)
def _gelu_forward(x, out, cdf, small, near, far):
    for i in range(x.size):
        v = np.float64(x[i])
        c = _cdf(v, small, near, far)
        cdf[i] = c
        out[i] = v * c


@njit(inline="always", **_JIT)
def _exp_neg(y, coeffs, pow2):
    """e^y for y in [−87, 0] in float32 (tables as arguments: a global tuple indexed by a
    loop variable would cost a call per element)."""
    n = np.float32(np.int32(y * _LOG2E - _HALF32))  # round(y / ln 2) for y <= 0
    r = y - n * _LN2_HI
    r = r - n * _LN2_LO
    e = r * coeffs[0] + coeffs[1]
    for k in range(2, len(coeffs)):
        e = e * r + coeffs[k]
    bits = np.int32(-n)
    for k in range(len(pow2)):
        e = e * (pow2[k] if (bits >> k) & 1 else _ONE32)
    return e


@njit(**_JIT)
def _gelu_backward(x, g, cdf, d, coeffs, pow2):
    for i in range(x.size):
        v = x[i]
        pdf = _exp_neg(max(v * v * -_HALF32, _EXP_MIN), coeffs, pow2) * _INV_SQRT_2PI32
        d[i] = g[i] * (cdf[i] + v * pdf)


def gelu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x·Φ(x), Φ(x)) for a float32 array."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty(x.shape, dtype=x.dtype)
    cdf = np.empty(x.shape, dtype=x.dtype)
    _gelu_forward(flat, out.reshape(-1), cdf.reshape(-1), _SMALL, _NEAR, _FAR)
    return out, cdf


def gelu_backward(g: np.ndarray, x: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """g·(Φ(x) + x·φ(x)) for float32 arrays of one shape."""
    d = np.empty(x.shape, dtype=x.dtype)
    flat = [np.ascontiguousarray(a).reshape(-1) for a in (x, g, cdf)]
    _gelu_backward(flat[0], flat[1], flat[2], d.reshape(-1), _EXP_REDUCED, _POW2)
    return d
