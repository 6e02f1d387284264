"""The attention softmax as one primitive: softmax(x·scale + bias) over the last dimension.

Attention scores are the largest arrays of a transformer step ((N, heads, L, S)); composed
from mul, add and softmax they would be written five times forward and four times backward.
One row computes the weights in place on one new array, and its VJP
``scale·p·(g − Σ g·p)`` reuses them. ``bias`` is a constant (an attention mask as 0/−inf or
a float mask that needs no gradient); a mask that requires grad is added before the call.
"""

from __future__ import annotations

import numpy as np

from gdlab.ops.dispatch import apply
from gdlab.ops.registry import defop
from gdlab.tensor import Tensor

__all__ = ["SCALED_SOFTMAX", "scaled_softmax"]


# exp(m − shift) at or above this keeps a row's largest terms normal numbers (full precision)
_ROW_FLOOR = {np.dtype(np.float32): float(np.exp(-60.0)), np.dtype(np.float64): 1e-250}


def _row_sums(z: np.ndarray) -> np.ndarray:
    """Σ over the last axis, keepdims: a matrix-vector product with ones, which BLAS runs
    several times faster than NumPy's reduction over short rows."""
    n = z.shape[-1]
    return (z.reshape(-1, n) @ np.ones(n, dtype=z.dtype)).reshape(*z.shape[:-1], 1)


def _scaled_softmax(
    x: np.ndarray, scale: float, bias: np.ndarray | None = None, safe: bool = False
) -> np.ndarray:
    z = x * x.dtype.type(scale)
    if bias is not None:
        z += bias
    if z.dtype not in _ROW_FLOOR or z.size == 0:
        return _softmax_rows(z, safe)
    # Shift by the global maximum (one fast reduction) instead of each row's (NumPy's
    # maximum over short rows is slow); softmax does not depend on the shift. Rows whose
    # terms all fall far below it (or a NaN, or a fully masked row) are redone row by row.
    shift = z.max()
    if not np.isfinite(shift):
        return _softmax_rows(z, safe)
    z -= shift
    np.exp(z, out=z)
    total = _row_sums(z)
    low = (total < _ROW_FLOOR[z.dtype] * z.shape[-1]).reshape(-1)
    if low.any():
        flat_z = z.reshape(-1, z.shape[-1])
        flat_x = (x * x.dtype.type(scale) + (0 if bias is None else bias)).reshape(flat_z.shape)
        flat_z[low] = _softmax_rows(flat_x[low], safe)
        total.reshape(-1)[low] = 1.0
    z /= total
    return z


def _softmax_rows(z: np.ndarray, safe: bool) -> np.ndarray:
    """softmax over the last axis, in place on ``z``, shifted by each row's maximum."""
    m = z.max(axis=-1, keepdims=True)
    empty = None
    if safe:
        empty = m == -np.inf
        if empty.any():
            m[empty] = 0.0  # a row masked everywhere: exp gives zeros, not NaN
        else:
            empty = None
    with np.errstate(invalid="ignore"):  # a fully masked row: −inf − (−inf) is torch's NaN
        z -= m
    np.exp(z, out=z)
    total = z.sum(axis=-1, keepdims=True)
    if empty is not None:
        total[empty] = 1.0
    z /= total
    return z


def _scaled_softmax_vjp(g, out, x, scale, bias=None, safe=False):
    gp = g * out
    gp -= out * (_row_sums(gp) if gp.dtype in _ROW_FLOOR else gp.sum(axis=-1, keepdims=True))
    if scale != 1.0:
        gp *= gp.dtype.type(scale)
    return gp


SCALED_SOFTMAX = defop("scaled_softmax", _scaled_softmax, _scaled_softmax_vjp)


def scaled_softmax(
    x: Tensor, scale: float, bias: np.ndarray | None = None, safe: bool = False
) -> Tensor:
    """softmax(x·scale + bias, dim=-1); ``bias`` broadcasts against ``x`` (an array, or None).

    With ``safe``, a row whose every entry is −inf gives zeros (torch's
    scaled_dot_product_attention); otherwise NaN (torch's softmax, MultiheadAttention's
    weights path).

    Example:
        >>> scaled_softmax(gdlab.zeros(2, 3), 0.5).tolist()[0]
        [0.3333333432674408, 0.3333333432674408, 0.3333333432674408]
    """
    if bias is None:
        return apply(SCALED_SOFTMAX, x, scale=float(scale))
    return apply(SCALED_SOFTMAX, x, scale=float(scale), bias=bias, safe=safe)
