"""Exact GELU for float32 as two compiled loops (numba; ``pip install gdlab[fast]``).

Imported lazily by :mod:`gdlab.ops.gelu_fast` only. Each kernel walks flat arrays once and
computes in float64 (rounded to float32 once, at the store), so it is as accurate as the NumPy
path (``gdlab.ops.erf``, the same float32 erf tables) within an ulp of float32. The loop
bodies are branch-free (selects) and call no library function: e^y is a polynomial raised
to a power by squaring (tables from ``gdlab.ops._erf_fit``), so LLVM vectorises them without
a vector math library. Compiled with ``fastmath=False`` and ``cache=True`` (as the optimizer
kernels in ``gdlab.optim._fused``).

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
_EXP_128 = (
    1.763898237182886e-05, 0.00018972324721435919, 0.0013830264221793014,
    0.008330998835628439, 0.04166611703535522, 0.16666659369389378, 0.49999999513405874,
    0.9999999998748272, 0.999999999999469,
)  # fmt: skip
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
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


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


@njit(**_JIT)
def _gelu_backward(x, g, cdf, d):
    for i in range(x.size):
        v = np.float64(x[i])
        y = max(v * v * -0.5, -88.0) * 0.0078125  # e^(−x²/2) = (e^(y/128))^128
        e = y * _EXP_128[0] + _EXP_128[1]
        for k in range(2, len(_EXP_128)):
            e = e * y + _EXP_128[k]
        for _ in range(7):
            e = e * e
        d[i] = g[i] * (cdf[i] + v * (e * _INV_SQRT_2PI))


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
    _gelu_backward(flat[0], flat[1], flat[2], d.reshape(-1))
    return d
