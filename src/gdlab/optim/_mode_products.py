"""Products of a tensor with a matrix along one axis, written into preallocated arrays.

Shampoo and SOAP multiply a gradient by a matrix along each axis (x ×_i M) and form each
axis's statistic G_(i) G_(i)ᵀ. For vectors and matrices, the common case, these are single
``np.matmul`` calls with ``out=``, so a step allocates nothing; a tensor of three or more
axes goes through ``np.tensordot``, which makes its transposed copies and result (then
copied into ``out``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["axis_gram_into", "mode_product_into", "work_matrix"]


def mode_product_into(x: np.ndarray, m: np.ndarray, axis: int, out: np.ndarray) -> np.ndarray:
    """y = x ×_axis m into ``out``: y[..., k, ...] = Σ_a x[..., a, ...]·m[a, k] (k at ``axis``),
    i.e. ``moveaxis(tensordot(x, m, ([axis], [0])), -1, axis)``; ``out`` must not be ``x``."""
    if x.ndim == 1 or (x.ndim == 2 and axis == 0):
        return np.matmul(m.T, x, out=out)
    if x.ndim == 2:
        return np.matmul(x, m, out=out)
    np.copyto(out, np.moveaxis(np.tensordot(x, m, axes=([axis], [0])), -1, axis))
    return out


def axis_gram_into(g: np.ndarray, axis: int, out: np.ndarray) -> np.ndarray:
    """G_(i) G_(i)ᵀ into ``out``: ``g`` contracted with itself over every axis but ``axis``."""
    if g.ndim == 1:
        return np.multiply.outer(g, g, out=out)
    if g.ndim == 2:
        return np.matmul(g, g.T, out=out) if axis == 0 else np.matmul(g.T, g, out=out)
    others = [k for k in range(g.ndim) if k != axis]
    np.copyto(out, np.tensordot(g, g, axes=(others, others)))
    return out


def work_matrix(state: dict, key: str, n: int, dtype: np.dtype) -> np.ndarray:
    """An n×n work array kept in ``state[key]`` (a key starting with ``_``: not saved)."""
    buf = state.get(key)
    if buf is None or buf.shape != (n, n) or buf.dtype != dtype:
        buf = state[key] = np.empty((n, n), dtype=dtype)
    return buf
