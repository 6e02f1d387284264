"""Attention as two primitives: the attention softmax, softmax(x·scale + bias) over the last
dimension, and scaled dot-product attention, softmax(Q·Kᵀ·scale + B)·V, fused.

Attention scores are the largest arrays of a transformer step ((N, heads, L, S)); composed
from mul, add and softmax they would be written five times forward and four times backward.
The softmax row computes the weights in place on one new array, and its VJP
``scale·p·(g − Σ g·p)`` reuses them. Its ``bias`` is a constant (a mask as 0/−inf or a
float mask that needs no gradient).

The attention row keeps the weights P of its forward for the backward (closed form):

    dV = Pᵀ·g,  dS = P·(g·Vᵀ − Σ_row (g·Vᵀ)·P),  dQ = scale·dS·K,  dK = scale·dSᵀ·Q,  dB = dS

dS is computed once per backward and shared by the rules of Q, K and B. Self-attention takes
Q, K and V packed in one array (``MultiheadAttention``'s one in-projection product): the same
rules, whose three gradients are written side by side into one array, instead of three
slices each scattered into zeros of the packed shape and added.

Products over heads are written through head views straight into their merged
(..., L, heads·d) layout (matmul's ``out``; the self-attention gradients into their third of
the packed array), not transposed and copied after. With numba (``pip install gdlab[fast]``),
float32 scores of ``MIN_SIZE`` elements or more go through compiled row loops for the
softmax and its VJP (``gdlab.ops._attention_kernels``, within a few ulps of the NumPy path).

Both rows are twice differentiable: when the engine runs a rule on Tensors
(``create_graph=True``) the same formulas run through gdlab's NumPy protocol
(``ops/numpy_protocol.py``), with P recomputed from Q and K by the softmax row so that it
carries their graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlab._compiled import CompiledKernels
from gdlab.ops import shape as shape_ops
from gdlab.ops.dispatch import apply
from gdlab.ops.registry import defop
from gdlab.tensor import Tensor

__all__ = [
    "ATTENTION",
    "SCALED_SOFTMAX",
    "SELF_ATTENTION",
    "AttentionSaved",
    "attention",
    "scaled_softmax",
    "self_attention",
]


# exp(m − shift) at or above this keeps a row's largest terms normal numbers (full precision)
_ROW_FLOOR = {np.dtype(np.float32): float(np.exp(-60.0)), np.dtype(np.float64): 1e-250}

MIN_SIZE = 1 << 14  # elements; smaller scores take the NumPy path (no numba import for them)

_KERNELS = CompiledKernels("gdlab.ops._attention_kernels")


def _kernels(*arrays: Any):
    """The compiled softmax kernels for these float32 arrays, or None (use NumPy)."""
    for a in arrays:
        if not isinstance(a, np.ndarray) or a.dtype != np.float32 or a.size < MIN_SIZE:
            return None
    return _KERNELS.get()


def _row_sums(z: np.ndarray) -> np.ndarray:
    """Σ over the last axis, keepdims: a matrix-vector product with ones, which BLAS runs
    several times faster than NumPy's reduction over short rows."""
    n = z.shape[-1]
    return (z.reshape(-1, n) @ np.ones(n, dtype=z.dtype)).reshape(*z.shape[:-1], 1)


def _scaled_softmax(
    x: np.ndarray,
    scale: float,
    bias: np.ndarray | None = None,
    safe: bool = False,
    scratch: bool = False,
) -> np.ndarray:
    """The forward; with ``scratch`` (fresh scores of ours) the compiled path works in x."""
    kernels = _kernels(x)
    z = _scale_in_place(x, scale) if scratch and kernels is not None else x * x.dtype.type(scale)
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
    floor = _ROW_FLOOR[z.dtype] * z.shape[-1]
    if kernels is not None:
        low = kernels.softmax_rows(z, shift, floor)  # the low rows keep their scores
        if low.any():
            rows = z.reshape(-1, z.shape[-1])
            rows[low] = _softmax_rows(rows[low], safe)
        return z
    z -= shift
    np.exp(z, out=z)
    total = _row_sums(z)
    low = (total < floor).reshape(-1)
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


def _softmax_grad(g: Any, p: Any, scratch: bool = False) -> Any:
    """p·(g − Σ_row g·p), the softmax's VJP: in place with BLAS row sums on arrays (or by
    the compiled kernel, into ``g`` itself when it is ``scratch``), the same formula out of
    place on Tensors (recorded, so differentiable again)."""
    kernels = _kernels(g, p)
    if kernels is not None and g.shape == p.shape:
        g = np.ascontiguousarray(g)
        out = g if scratch else np.empty_like(g)
        return kernels.softmax_grad_rows(g, np.ascontiguousarray(p), out)
    gp = g * p
    if isinstance(gp, np.ndarray) and isinstance(p, np.ndarray):
        gp -= p * (_row_sums(gp) if gp.dtype in _ROW_FLOOR else gp.sum(axis=-1, keepdims=True))
        return gp
    return gp - p * np.sum(gp, axis=-1, keepdims=True)


def _scaled_softmax_vjp(g, out, x, scale, bias=None, safe=False):
    return _scaled(_softmax_grad(g, out), scale)


def _scale_in_place(a: np.ndarray, scale: float) -> np.ndarray:
    a *= a.dtype.type(scale)
    return a


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


# ------------------------------------------------------------------------- fused attention
@dataclass(eq=False)
class AttentionSaved:
    """What one attention call keeps for its backward (held by its graph node): the weights
    P of the forward whose result is ``out``, and dS for the output gradient ``g`` (computed
    by the first rule that needs it, reused by the others)."""

    out: np.ndarray | None = None
    weights: np.ndarray | None = None
    g: Any = None
    dscores: np.ndarray | None = None


def _t(a: Any) -> Any:
    """The transpose of the last two dimensions (an array view, or a Tensor op)."""
    return np.swapaxes(a, -1, -2)


def _split(a: Any, heads: int | None) -> Any:
    """(..., L, heads·d) -> (..., heads, L, d): a strided view BLAS takes as it is (each
    head's (L, d) matrix has unit stride along d); unchanged when ``heads`` is None."""
    if heads is None:
        return a
    shape = np.shape(a)
    return np.swapaxes(np.reshape(a, (*shape[:-1], heads, shape[-1] // heads)), -3, -2)


def _merge(a: Any, heads: int | None) -> Any:
    """(..., heads, L, d) -> (..., L, heads·d), the inverse of ``_split`` (one copy)."""
    if heads is None:
        return a
    shape = np.shape(a)
    return np.reshape(np.swapaxes(a, -3, -2), (*shape[:-3], shape[-2], heads * shape[-1]))


def _merged_product(a: Any, b: Any, heads: int | None, into: Any = None) -> Any:
    """a·b with its heads merged, (..., heads, L, d) -> (..., L, heads·d); on arrays the
    product is written through a head view of the result (or of ``into``), not copied."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return _merge(np.matmul(a, b), heads)
    if heads is not None and into is None:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])[:-1]
        into = np.empty((*batch, a.shape[-2], heads * b.shape[-1]), np.result_type(a, b))
    if into is None:
        return np.matmul(a, b)
    np.matmul(a, b, out=_split(into, heads))
    return into


def _scaled(a: Any, scale: float) -> Any:
    """a·scale: in place on an array (a result of ours), recorded on a Tensor."""
    if scale == 1.0:
        return a
    return a * scale if isinstance(a, Tensor) else _scale_in_place(a, scale)


def _attention(q, k, v, bias=None, scale=1.0, safe=True, heads=None, saved=None):
    qh, kh, vh = _split(q, heads), _split(k, heads), _split(v, heads)
    p = _scaled_softmax(np.matmul(qh, _t(kh)), scale, bias, safe, scratch=True)
    out = _merged_product(p, vh, heads)
    if saved is not None:
        saved.out, saved.weights = out, p
    return out


def _weights(out, q, k, bias, scale, safe, heads, saved) -> Any:
    """P of the forward (saved), recomputed on arrays, or recomputed as a Tensor with the
    graph of Q, K and the bias when the rule is being differentiated."""
    if saved is not None and saved.out is out:
        return saved.weights
    scores = np.matmul(_split(q, heads), _t(_split(k, heads)))
    if not any(isinstance(a, Tensor) for a in (scores, bias)):
        return _scaled_softmax(scores, scale, bias, safe, scratch=True)
    if isinstance(bias, Tensor):  # a float mask that is differentiated
        return apply(SCALED_SOFTMAX, scores * scale + bias, scale=1.0, safe=safe)
    return apply(SCALED_SOFTMAX, scores, scale=float(scale), bias=bias, safe=safe)


def _dscores(g, out, q, k, v, bias, scale, safe, heads, saved) -> Any:
    """dS = P·(g·Vᵀ − Σ_row (g·Vᵀ)·P), once per output gradient."""
    if saved is not None and saved.g is g and saved.dscores is not None:
        return saved.dscores
    p = _weights(out, q, k, bias, scale, safe, heads, saved)
    ds = _softmax_grad(np.matmul(_split(g, heads), _t(_split(v, heads))), p, scratch=True)
    if saved is not None and isinstance(ds, np.ndarray):
        saved.g, saved.dscores = g, ds
    return ds


# ``into``: where the self-attention row's rule wants the gradient (its third of one array)
def _attention_vjp_q(
    g, out, q, k, v, bias=None, scale=1.0, safe=True, heads=None, saved=None, into=None
):
    ds = _dscores(g, out, q, k, v, bias, scale, safe, heads, saved)
    return _scaled(_merged_product(ds, _split(k, heads), heads, into), scale)


def _attention_vjp_k(
    g, out, q, k, v, bias=None, scale=1.0, safe=True, heads=None, saved=None, into=None
):
    ds = _dscores(g, out, q, k, v, bias, scale, safe, heads, saved)
    return _scaled(_merged_product(_t(ds), _split(q, heads), heads, into), scale)


def _attention_vjp_v(
    g, out, q, k, v, bias=None, scale=1.0, safe=True, heads=None, saved=None, into=None
):
    p = _weights(out, q, k, bias, scale, safe, heads, saved)
    return _merged_product(_t(p), _split(g, heads), heads, into)


def _attention_vjp_bias(g, out, q, k, v, bias=None, scale=1.0, safe=True, heads=None, saved=None):
    ds = _dscores(g, out, q, k, v, bias, scale, safe, heads, saved)
    return ds.copy() if saved is not None and ds is saved.dscores else ds


ATTENTION = defop(
    "attention",
    _attention,
    _attention_vjp_q,
    _attention_vjp_k,
    _attention_vjp_v,
    _attention_vjp_bias,
)


def attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    bias: Any = None,
    scale: float = 1.0,
    safe: bool = True,
    heads: int | None = None,
) -> Tensor:
    """softmax(q·kᵀ·scale + bias)·v as one fused primitive.

    q (..., L, E), k (..., S, E), v (..., S, Ev); or, with ``heads``, the layout of
    ``MultiheadAttention``'s projections, q (..., L, heads·d) and so on, head h in channels
    h·d ... (h+1)·d − 1, attended head by head and returned as (..., L, heads·dv) without a
    transpose in the graph. ``bias`` (an array, a Tensor that may require grad, or None)
    broadcasts against the scores (..., [heads,] L, S). With ``safe`` a fully masked row gives
    zeros (torch's scaled_dot_product_attention), else NaN.

    Example:
        >>> q = gdlab.randn(2, 4, 8)
        >>> attention(q, q, q, scale=8**-0.5).shape
        (2, 4, 8)
    """
    return apply(
        ATTENTION, q, k, v, bias, scale=float(scale), safe=safe, heads=heads, saved=AttentionSaved()
    )


# ------------------------------------------------------------------------- self-attention
def _thirds(qkv: Any) -> tuple[Any, Any, Any]:
    """Q, K, V: the three equal parts of the last dimension (views, or Tensor slices)."""
    e = np.shape(qkv)[-1] // 3
    return qkv[..., :e], qkv[..., e : 2 * e], qkv[..., 2 * e :]


def _self_attention(qkv, bias=None, scale=1.0, safe=True, heads=None, saved=None):
    return _attention(*_thirds(qkv), bias, scale, safe, heads, saved)


def _self_attention_vjp_qkv(g, out, qkv, bias=None, scale=1.0, safe=True, heads=None, saved=None):
    args = (g, out, *_thirds(qkv), bias, scale, safe, heads, saved)
    rules = (_attention_vjp_q, _attention_vjp_k, _attention_vjp_v)
    if any(isinstance(a, Tensor) for a in (g, qkv, bias)):
        return shape_ops.cat([rule(*args) for rule in rules], -1)
    if np.shape(g)[:-1] != np.shape(qkv)[:-1]:  # a bias broadcast the batch: unbroadcast later
        return np.concatenate([rule(*args) for rule in rules], axis=-1)
    dqkv = np.empty(np.shape(qkv), np.result_type(g, qkv))
    for rule, part in zip(rules, _thirds(dqkv), strict=True):
        rule(*args, into=part)
    return dqkv


def _self_attention_vjp_bias(g, out, qkv, bias=None, scale=1.0, safe=True, heads=None, saved=None):
    return _attention_vjp_bias(g, out, *_thirds(qkv), bias, scale, safe, heads, saved)


SELF_ATTENTION = defop(
    "self_attention", _self_attention, _self_attention_vjp_qkv, _self_attention_vjp_bias
)


def self_attention(
    qkv: Tensor, bias: Any = None, scale: float = 1.0, safe: bool = True, heads: int | None = None
) -> Tensor:
    """``attention(q, k, v, ...)`` with q, k, v the three equal parts of ``qkv``'s last
    dimension (the packed in-projection of self-attention), as one primitive.

    Example:
        >>> qkv = gdlab.randn(2, 4, 3 * 8)
        >>> self_attention(qkv, scale=4**-0.5, heads=2).shape
        (2, 4, 8)
    """
    saved = AttentionSaved()
    return apply(SELF_ATTENTION, qkv, bias, scale=float(scale), safe=safe, heads=heads, saved=saved)
