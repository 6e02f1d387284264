"""Exact GELU for float32 as two compiled loops (numba; ``pip install gdlab[fast]``).

Imported lazily by :mod:`gdlab.ops.gelu_fast` only. Each kernel walks flat arrays once, so
it agrees with the NumPy path (``gdlab.ops.erf``, the same float32 erf tables) within an ulp
or two of float32. The loop bodies are branch-free (selects), in float32, and call no library
function, so LLVM vectorises them without a vector math library (tables from
``gdlab.ops._erf_fit``). The forward uses the NumPy path's polynomial below 1 and erf itself
as a polynomial on [1, 2) and [2, 4) (no exponential); the backward's e^y is 2^n·p(r),
r = y − n·ln 2 (ln 2 in two parts, Cody & Waite), 2^n built from its exponent bits (a bit cast
of (n + 127)·2²³: one integer add and shift where a product of seven selected powers of two
took ~35 vector operations per element; the same number, since both scalings are exact while
the result is normal and round once into a subnormal).
Compiled with ``cache=True`` and, of numba's fast-math flags, only ``contract`` (a·b + c as
one fused multiply-add, which LLVM may then use in the polynomials).

    forward:  Φ(x) = ½(1 + erf(x/√2)),  out = x·Φ(x)
    backward: g·(Φ(x) + x·φ(x)),  φ(x) = e^(−x²/2)/√(2π)
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from gdlab.ops.erf import _FLOAT32_SMALL

__all__ = ["gelu_backward", "gelu_forward"]

# contract only: each Horner step is one fused multiply-add (one rounding instead of two, and
# 1.5x faster); no reassociation or other fast-math liberties
_JIT = dict(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy", boundscheck=False)

_f = np.float32
# e^r on [−ln2/2, ln2/2], highest power first (gdlab.ops._erf_fit.fit_exp)
_EXP_REDUCED = tuple(
    _f(c)
    for c in (
        0.0013941108433972674, 0.008375126398153335, 0.04166635289677516,
        0.16666415514653277, 0.5000000047117757, 1.000000037716214, 1.0,
    )
)  # fmt: skip
_LN2_HI = _f(0.693115234375)  # ln 2 with its low bits cleared: n·_LN2_HI is exact
_LN2_LO = _f(3.1946184945309415e-05)
_LOG2E = _f(1.0 / math.log(2.0))
_HALF32, _ONE32 = _f(0.5), _f(1.0)
_EXP_MIN = _f(-87.0)  # e^−87 is still a normal float32
_INV_SQRT_2PI32 = _f(1.0 / math.sqrt(2.0 * math.pi))
_SMALL = tuple(_f(c) for c in _FLOAT32_SMALL)
# erf(centre + u) on [1, 2) and [2, 4), highest power first (_erf_fit.fit_erf_pieces); the
# first padded in front to the length of the second, so one loop evaluates either
_NEAR = (_f(0.0),) * 2 + tuple(
    _f(c)
    for c in (
        0.0015553907845944762, -0.0024021882670341764, -0.004709593935184524,
        0.019333558749802502, -0.01486926067382483, -0.044599468498182596,
        0.13875209686532508, -0.17839541546606563, 0.11893028875994793, 0.9661051463841244,
    )
)  # fmt: skip
_FAR = tuple(
    _f(c)
    for c in (
        -9.620902834709479e-06, 2.2144843209466165e-05, 1.2318377594487275e-05,
        -0.00014119153307073673, 0.0003914576359330604, -0.0007349403191497522,
        0.001016332202063327, -0.001045097117296944, 0.0007891193661053209,
        -0.0004177003606983081, 0.00013925279087845417, 0.9999779086894597,
    )
)  # fmt: skip
_NEAR_CENTRE, _FAR_CENTRE, _SPLIT, _END = _f(1.5), _f(3.0), _f(2.0), _f(4.0)
_INV_SQRT2 = _f(1.0 / math.sqrt(2.0))
_ZERO32 = _f(0.0)


@njit(inline="always", **_JIT)
def _cdf(x, small, near, far):
    """Φ(x) for one float32 element."""
    z = x * _INV_SQRT2
    a = abs(z)
    t = z * z
    s = t * small[0] + small[1]
    for k in range(2, len(small)):
        s = s * t + small[k]
    inner = s * z + z
    b = min(max(a, _ONE32), _END)  # the tail on a clipped to [1, END]
    lo = b < _SPLIT
    u = b - (_NEAR_CENTRE if lo else _FAR_CENTRE)
    e = u * (near[0] if lo else far[0]) + (near[1] if lo else far[1])
    for k in range(2, len(near)):
        e = e * u + (near[k] if lo else far[k])
    tail = _ONE32 if a >= _END else e
    tail = tail if z >= _ZERO32 else -tail
    r = inner if a < _ONE32 else tail
    r = z if z != z else r  # NaN stays NaN
    return _HALF32 * (_ONE32 + r)


@njit(**_JIT)
def _gelu_forward(x, out, cdf, small, near, far):
    for i in range(x.size):
        v = x[i]
        c = _cdf(v, small, near, far)
        cdf[i] = c
        out[i] = v * c


@intrinsic
def _int32_bits_as_float32(typingctx, bits):
    """The float32 whose bit pattern is the int32 ``bits`` (LLVM's bitcast: vectorises)."""
    if bits != types.int32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return types.float32(types.int32), codegen


_EXP_BIAS = np.int32(127)  # float32's exponent bias: 2^n has exponent field n + 127
_MANTISSA_BITS = np.int32(23)


@njit(inline="always", **_JIT)
def _exp_neg(y, coeffs):
    """e^y for y in [−87, 0] in float32 (tables as arguments: a global tuple indexed by a
    loop variable would cost a call per element)."""
    m = np.int32(y * _LOG2E - _HALF32)  # round(y / ln 2) for y <= 0; >= −126 for y >= −87
    n = np.float32(m)
    r = y - n * _LN2_HI
    r = r - n * _LN2_LO
    e = r * coeffs[0] + coeffs[1]
    for k in range(2, len(coeffs)):
        e = e * r + coeffs[k]
    return e * _int32_bits_as_float32(np.int32((m + _EXP_BIAS) << _MANTISSA_BITS))


@njit(**_JIT)
def _gelu_backward(x, g, cdf, d, coeffs):
    for i in range(x.size):
        v = x[i]
        pdf = _exp_neg(max(v * v * -_HALF32, _EXP_MIN), coeffs) * _INV_SQRT_2PI32
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
    _gelu_backward(flat[0], flat[1], flat[2], d.reshape(-1), _EXP_REDUCED)
    return d
