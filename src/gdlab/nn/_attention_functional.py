"""Attention as torch.nn.functional computes it: ``scaled_dot_product_attention`` and the
multi-head forward pass behind ``nn.MultiheadAttention``.

Without dropout (and, for ``MultiheadAttention``, without ``need_weights``) attention is one
fused primitive (``ops/attention_ops.py: ATTENTION``); with dropout, or when the weights are
returned, it is composed from matmul, the fused scaled softmax and dropout, as torch's math
path. No gradient code lives here. Masks become an additive float bias (0 where attention
is allowed, −inf where it is not), as torch canonicalises them; a float mask that requires
grad stays a Tensor and is differentiated.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from gdlab.nn._dropout import dropout
from gdlab.ops import linalg
from gdlab.ops import reduce as R
from gdlab.ops import shape as S
from gdlab.ops.attention_ops import attention, scaled_softmax, self_attention
from gdlab.ops.dispatch import apply
from gdlab.ops.nn_ops import LINEAR
from gdlab.tensor import Tensor

__all__ = ["MultiheadAttentionArgs", "multi_head_attention", "scaled_dot_product_attention"]


def _mask_dtype_check(mask: Any, name: str) -> np.ndarray | Tensor:
    data = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype != np.bool_ and data.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {name} are supported, got {data.dtype}")
    return mask if isinstance(mask, Tensor) and mask.requires_grad else data


def mask_to_bias(mask: Any, dtype: np.dtype, name: str, allowed_when: bool) -> Any:
    """A bool or float mask as an additive bias of ``dtype``.

    ``allowed_when`` is the bool value that lets a position take part: True for
    ``scaled_dot_product_attention`` (torch's convention there), False for
    ``MultiheadAttention``'s masks (True means "masked out" there).
    """
    m = _mask_dtype_check(mask, name)
    if isinstance(m, Tensor):
        return m if m.dtype == dtype else m.to(dtype)
    if m.dtype == np.bool_:
        bias = np.zeros(m.shape, dtype=dtype)
        bias[m != allowed_when] = -np.inf
        return bias
    return m.astype(dtype, copy=False)


def _add_bias(a: Any, b: Any) -> Any:
    """The sum of two biases (arrays or Tensors), or the one that is not None."""
    if a is None:
        return b
    return a if b is None else a + b


def _attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    bias: Any,
    scale: float,
    dropout_p: float,
    generator: Any,
    safe: bool,
) -> tuple[Tensor, Tensor]:
    """softmax(q·kᵀ·scale + bias)·v and the (dropped-out) attention weights; ``safe``: a
    fully masked row attends to nothing (zeros) instead of giving NaN."""
    scores = linalg.matmul(q, S.transpose(k, -2, -1))
    if isinstance(bias, Tensor):  # a float mask that is differentiated: added in the graph
        weights = R.softmax(scores * scale + bias, -1)
    else:
        weights = scaled_softmax(scores, scale, bias, safe=safe)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True, generator=generator)
    return linalg.matmul(weights, v), weights


def _causal_bias(q_len: int, k_len: int, dtype: np.dtype) -> np.ndarray:
    bias = np.zeros((q_len, k_len), dtype=dtype)
    bias[np.triu_indices(q_len, 1, k_len)] = -np.inf
    return bias


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    *,
    generator: Any = None,
) -> Tensor:
    """softmax(Q·Kᵀ·scale + M)·V over the last two dimensions (torch's math backend).

    Args:
        query: (..., L, E); key: (..., S, E); value: (..., S, Ev); leading dims broadcast.
        attn_mask: bool (True = may attend, torch's SDPA convention) or float (added to the
            scores), broadcastable to (..., L, S).
        dropout_p: dropout probability on the attention weights (always applied when > 0,
            as torch's function does; modules pass 0.0 in eval mode).
        is_causal: attend only to positions j <= i (top-left aligned, as torch); excludes
            ``attn_mask``.
        scale: factor on the scores, default 1/√E.
        enable_gqa: key/value with fewer heads than query (dim -3), repeated to match.
        generator: numpy Generator or int seed for the dropout mask (gdlab's explicit rng).

    Example:
        >>> q = gdlab.randn(2, 4, 8)
        >>> scaled_dot_product_attention(q, q, q, is_causal=True).shape
        (2, 4, 8)

    Reference: Vaswani et al. (2017), "Attention Is All You Need", arXiv:1706.03762.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"scaled_dot_product_attention: {name} must be a Tensor, got {type(t).__name__}"
            )
        if t.ndim < 2:
            raise ValueError(
                f"scaled_dot_product_attention: {name} must have at least 2 dimensions, "
                f"got shape {t.shape}"
            )
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: query {query.shape}, key {key.shape} and value "
            f"{value.shape} do not fit: expected query (..., L, E), key (..., S, E), "
            "value (..., S, Ev)"
        )
    if is_causal and attn_mask is not None:
        raise ValueError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
            "is_causal=True"
        )
    if enable_gqa:
        key, value = _repeat_kv(query, key, value)
    dtype = query.dtype
    q_len, k_len = query.shape[-2], key.shape[-2]
    if is_causal:
        bias = _causal_bias(q_len, k_len, dtype)
    elif attn_mask is not None:
        bias = mask_to_bias(attn_mask, dtype, "attn_mask", allowed_when=True)
    else:
        bias = None
    s = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    if dropout_p == 0.0:
        return attention(query, key, value, bias, s, safe=True)
    return _attend(query, key, value, bias, s, dropout_p, generator, safe=True)[0]


def _repeat_kv(query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
    if query.ndim < 3:
        raise ValueError("scaled_dot_product_attention: enable_gqa needs a head dimension (-3)")
    hq, hk = query.shape[-3], key.shape[-3]
    if hk != value.shape[-3] or hq % hk:
        raise ValueError(
            f"scaled_dot_product_attention: number of heads in key/value ({hk}, "
            f"{value.shape[-3]}) must divide the number of query heads ({hq})"
        )
    r = hq // hk

    def repeat(t: Tensor) -> Tensor:
        e = S.expand(S.unsqueeze(t, -3), *t.shape[:-2], r, *t.shape[-2:])
        return S.reshape(e, *t.shape[:-3], hq, *t.shape[-2:])

    return repeat(key), repeat(value)


# ------------------------------------------------------------------------- multi-head attention
class MultiheadAttentionArgs(NamedTuple):
    """The parameters and options of one multi-head attention call (``nn.MultiheadAttention``
    fills it from its attributes)."""

    num_heads: int
    in_proj_weight: Tensor | None
    in_proj_bias: Tensor | None
    out_proj_weight: Tensor
    out_proj_bias: Tensor | None
    q_proj_weight: Tensor | None = None
    k_proj_weight: Tensor | None = None
    v_proj_weight: Tensor | None = None
    bias_k: Tensor | None = None
    bias_v: Tensor | None = None
    add_zero_attn: bool = False
    dropout_p: float = 0.0
    generator: Any = None


def _in_projection(
    query: Tensor, key: Tensor, value: Tensor, a: MultiheadAttentionArgs
) -> tuple[Tensor, Tensor, Tensor]:
    """Q, K, V = query·W_qᵀ + b_q, ... ; one product for self-attention (torch's packed path)."""
    e = query.shape[-1]
    b = a.in_proj_bias
    bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e : 2 * e], b[2 * e :])
    if a.in_proj_weight is None:
        return (
            _linear(query, a.q_proj_weight, bq),
            _linear(key, a.k_proj_weight, bk),
            _linear(value, a.v_proj_weight, bv),
        )
    w = a.in_proj_weight
    if query is key and key is value:
        qkv = _linear(query, w, b)
        return qkv[..., :e], qkv[..., e : 2 * e], qkv[..., 2 * e :]
    return (
        _linear(query, w[:e], bq),
        _linear(key, w[e : 2 * e], bk),
        _linear(value, w[2 * e :], bv),
    )


def _linear(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    return apply(LINEAR, x, w) if b is None else apply(LINEAR, x, w, b)


def _split_heads(x: Tensor, heads: int) -> Tensor:
    """(N, L, E) -> (N, heads, L, E / heads): head h holds channels h·d ... (h+1)·d − 1."""
    n, length, e = x.shape
    return S.permute(S.reshape(x, n, length, heads, e // heads), 0, 2, 1, 3)


def _check_masks(
    attn_mask: Any, key_padding_mask: Any, n: int, heads: int, q_len: int, k_len: int
) -> None:
    if attn_mask is not None:
        shape = tuple(np.shape(attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask))
        if len(shape) == 2 and shape != (q_len, k_len):
            raise ValueError(
                f"The shape of the 2D attn_mask is {shape}, but should be {(q_len, k_len)}."
            )
        if len(shape) == 3 and shape != (n * heads, q_len, k_len):
            raise ValueError(
                f"The shape of the 3D attn_mask is {shape}, but should be "
                f"{(n * heads, q_len, k_len)}."
            )
        if len(shape) not in (2, 3):
            raise ValueError(f"attn_mask's dimension {len(shape)} is not supported")
    if key_padding_mask is not None:
        kpm = key_padding_mask.data if isinstance(key_padding_mask, Tensor) else key_padding_mask
        shape = tuple(np.shape(kpm))
        for i, (got, want) in enumerate(zip(shape, (n, k_len), strict=False)):
            if got != want:
                raise ValueError(f"Expected key_padded_mask.shape[{i}] to be {want}, but got {got}")
        if len(shape) != 2:
            raise ValueError(f"expecting key_padding_mask shape of {(n, k_len)}, but got {shape}")


def _pad_bias(bias: Any, extra: int) -> Any:
    """Append ``extra`` allowed (zero) key columns to a bias, for bias_k or the zero key."""
    if bias is None or not extra:
        return bias
    if isinstance(bias, Tensor):
        return S.pad(bias, (0, extra))
    widths = [(0, 0)] * (bias.ndim - 1) + [(0, extra)]
    return np.pad(bias, widths)


def _bias(
    attn_mask: Any, key_padding_mask: Any, n: int, heads: int, q_len: int, k_len: int, dtype: Any
) -> Any:
    """The masks as one additive bias broadcasting against the scores (N, heads, L, S)."""
    bias = None
    if attn_mask is not None:
        bias = mask_to_bias(attn_mask, dtype, "attn_mask", allowed_when=False)
        if bias.ndim == 3:
            bias = (
                S.reshape(bias, n, heads, q_len, k_len)
                if isinstance(bias, Tensor)
                else bias.reshape(n, heads, q_len, k_len)
            )
    if key_padding_mask is not None:
        kpm = mask_to_bias(key_padding_mask, dtype, "key_padding_mask", allowed_when=False)
        kpm = (
            S.reshape(kpm, n, 1, 1, k_len)
            if isinstance(kpm, Tensor)
            else kpm.reshape(n, 1, 1, k_len)
        )
        bias = _add_bias(bias, kpm)
    return bias


def _packed_self_attention(
    query: Tensor, key: Tensor, value: Tensor, a: MultiheadAttentionArgs, need_weights: bool
) -> bool:
    """Self-attention through one packed in-projection and the fused self-attention row
    (torch's fast path has the same conditions, plus its own)."""
    return (
        query is key
        and key is value
        and a.in_proj_weight is not None
        and a.bias_k is None
        and not a.add_zero_attn
        and a.dropout_p == 0.0
        and not need_weights
    )


def multi_head_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    a: MultiheadAttentionArgs,
    key_padding_mask: Any = None,
    need_weights: bool = True,
    attn_mask: Any = None,
    average_attn_weights: bool = True,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on batch-first inputs: query (N, L, E), key (N, S, Ek), value
    (N, S, Ev). Returns the output (N, L, E) and, with ``need_weights``, the attention
    weights (N, L, S) averaged over heads, or (N, heads, L, S).

    Masks follow ``nn.MultiheadAttention``: bool True = not allowed; attn_mask (L, S) or
    (N·heads, L, S); key_padding_mask (N, S).
    """
    n, q_len, e = query.shape
    heads = a.num_heads
    hd = e // heads
    if _packed_self_attention(query, key, value, a, need_weights):
        _check_masks(attn_mask, key_padding_mask, n, heads, q_len, q_len)
        bias = _bias(attn_mask, key_padding_mask, n, heads, q_len, q_len, query.dtype)
        qkv = _linear(query, a.in_proj_weight, a.in_proj_bias)
        out = self_attention(qkv, bias, 1.0 / math.sqrt(hd), safe=True, heads=heads)
        return _linear(out, a.out_proj_weight, a.out_proj_bias), None
    q, k, v = _in_projection(query, key, value, a)
    if a.bias_k is not None:
        k = S.cat([k, S.expand(a.bias_k, n, 1, e)], dim=1)
        v = S.cat([v, S.expand(a.bias_v, n, 1, e)], dim=1)
    k_len = key.shape[1]
    _check_masks(attn_mask, key_padding_mask, n, heads, q_len, k_len)
    bias = _bias(attn_mask, key_padding_mask, n, heads, q_len, k_len, query.dtype)
    extra = (a.bias_k is not None) + a.add_zero_attn
    bias = _pad_bias(bias, extra)
    if a.add_zero_attn:
        zeros = np.zeros((n, 1, e), dtype=query.dtype)
        k = S.cat([k, zeros], dim=1)
        v = S.cat([v, zeros], dim=1)
    scale = 1.0 / math.sqrt(hd)
    if not need_weights and a.dropout_p == 0.0:
        # one fused node on the projections' (N, L, heads·d) layout: no head transposes
        out = attention(q, k, v, bias, scale, safe=True, heads=heads)
        weights = None
    else:  # torch: the weights path uses softmax (NaN rows), the other SDPA (zeros)
        qh, kh, vh = (_split_heads(t, heads) for t in (q, k, v))
        out, weights = _attend(qh, kh, vh, bias, scale, a.dropout_p, a.generator, not need_weights)
        out = S.reshape(S.permute(out, 0, 2, 1, 3), n, q_len, e)
    out = _linear(out, a.out_proj_weight, a.out_proj_bias)
    if not need_weights:
        return out, None
    return out, weights.mean(dim=1) if average_attn_weights else weights
