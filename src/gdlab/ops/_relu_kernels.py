"""ReLU's input gradient as one compiled loop (numba; ``pip install gdlab[fast]``).

Imported lazily by :mod:`gdlab.ops.elementwise` only. NumPy's ``g * (out > 0)`` takes two
passes and a mask array; this loop takes one and computes the same product element by
element (g·1 or g·0, so zeros keep g's sign and an infinite g gives NaN where out ≤ 0, as
NumPy's): bit for bit the NumPy path (tests/ops/test_relu_kernels.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["relu_backward"]

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)


@njit(**_JIT)
def _relu_backward(g, out, gx):  # pragma: no cover - compiled
    zero = out.dtype.type(0)
    for i in range(g.size):
        gx[i] = g[i] * (out[i] > zero)


def relu_backward(g: np.ndarray, out: np.ndarray) -> np.ndarray:
    """g·(out > 0) for C-contiguous arrays of one shape and float dtype."""
    gx = np.empty(g.shape, dtype=g.dtype)
    _relu_backward(g.reshape(-1), out.reshape(-1), gx.reshape(-1))
    return gx
