"""nn.MultiheadAttention: torch's parameters, state_dict names, masks and outputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.nn import init
from gdlab.nn._attention_functional import MultiheadAttentionArgs, multi_head_attention
from gdlab.nn.layers import Linear, empty_parameter
from gdlab.nn.module import Module
from gdlab.ops import shape as S
from gdlab.tensor import Tensor

__all__ = ["MultiheadAttention", "as_generator"]


def as_generator(generator: Any) -> Any:
    """An int seed becomes one Generator, so that the initialisation and every later dropout
    mask draw from one stream (successive masks differ); a Generator or None passes."""
    if isinstance(generator, int | np.integer) and not isinstance(generator, bool):
        return np.random.default_rng(generator)
    return generator


class MultiheadAttention(Module):
    """Multi-head attention: heads of scaled dot-product attention over learned projections.

    MultiHead(Q, K, V) = concat(head_1 ... head_h)·W_oᵀ + b_o, with
    head_i = softmax(Q·W_qiᵀ·(K·W_kiᵀ)ᵀ / √d + M)·V·W_viᵀ and d = embed_dim / num_heads.

    Args:
        embed_dim: model dimension E (split evenly over the heads).
        num_heads: number of heads; must divide ``embed_dim``.
        dropout: dropout on the attention weights in training (default 0.0).
        bias: biases on the input and output projections (default True).
        add_bias_kv: learn one extra key and value (``bias_k``, ``bias_v``) appended to
            the sequence.
        add_zero_attn: append a zero key and value after projection.
        kdim, vdim: key and value feature sizes (default ``embed_dim``); when either differs
            the projections are ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight``
            instead of one ``in_proj_weight`` (torch's names).
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).
        dtype: parameter dtype (default float32).
        generator: numpy Generator or int seed for the initialisation and the dropout masks.

    Initialisation (torch): Xavier-uniform projections, zero biases, Xavier-normal
    ``bias_k``/``bias_v``; ``out_proj`` is a Linear with zero bias.

    Example:
        >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
        >>> x = gdlab.randn(3, 5, 8)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        ((3, 5, 8), (3, 5, 5))

    Reference: Vaswani et al. (2017), "Attention Is All You Need", arXiv:1706.03762.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        dtype: Any = None,
        generator: Any = None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                f"and num_heads={num_heads} instead"
            )
        if embed_dim % num_heads:
            raise ValueError(
                f"embed_dim must be divisible by num_heads, got embed_dim={embed_dim} and "
                f"num_heads={num_heads}"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout}")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn
        self.generator = as_generator(generator)
        e = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty_parameter(3 * e, e, dtype=dtype)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = empty_parameter(e, e, dtype=dtype)
            self.k_proj_weight = empty_parameter(e, self.kdim, dtype=dtype)
            self.v_proj_weight = empty_parameter(e, self.vdim, dtype=dtype)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = empty_parameter(3 * e, dtype=dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(e, e, bias=bias, dtype=dtype, generator=self.generator)
        if add_bias_kv:
            self.bias_k = empty_parameter(1, 1, e, dtype=dtype)
            self.bias_v = empty_parameter(1, 1, e, dtype=dtype)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        gen = self.generator
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight, generator=gen)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w, generator=gen)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k, generator=gen)
            init.xavier_normal_(self.bias_v, generator=gen)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` to ``key``/``value``: (L, N, E) inputs, or (N, L, E) with
        ``batch_first``, or unbatched (L, E). Returns ``(attn_output, attn_weights)``; the
        weights are None unless ``need_weights`` (averaged over heads unless
        ``average_attn_weights`` is False).

        Masks (torch's convention here: bool True = not allowed; float = added to scores):
        ``key_padding_mask`` (N, S) ignores padded keys; ``attn_mask`` (L, S) or
        (N·num_heads, L, S). ``is_causal`` is a hint that ``attn_mask`` is the causal mask,
        which must still be given (as torch).
        """
        if is_causal and attn_mask is None:
            raise ValueError(
                "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                "module method `generate_square_subsequent_mask` to create this mask."
            )
        batched = self._check_inputs(query, key, value)
        q, k, v = query, key, value
        if not batched:  # one sequence: a batch of one
            q, k, v = (S.unsqueeze(t, 0) for t in (q, k, v))
            if key_padding_mask is not None:
                key_padding_mask = _unsqueeze0(key_padding_mask)
        elif not self.batch_first:  # (L, N, E) -> (N, L, E), keeping self-attention's identity
            q = S.transpose(query, 0, 1)
            k = q if key is query else S.transpose(key, 0, 1)
            v = k if value is key else S.transpose(value, 0, 1)
        out, weights = multi_head_attention(
            q, k, v, self._args(), key_padding_mask, need_weights, attn_mask,
            average_attn_weights,
        )  # fmt: skip
        if not batched:
            out = S.squeeze(out, 0)
            weights = None if weights is None else S.squeeze(weights, 0)
        elif not self.batch_first:
            out = S.transpose(out, 0, 1)
        return out, weights

    def _args(self) -> MultiheadAttentionArgs:
        return MultiheadAttentionArgs(
            num_heads=self.num_heads,
            in_proj_weight=self.in_proj_weight,
            in_proj_bias=self.in_proj_bias,
            out_proj_weight=self.out_proj.weight,
            out_proj_bias=self.out_proj.bias,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            bias_k=self.bias_k,
            bias_v=self.bias_v,
            add_zero_attn=self.add_zero_attn,
            dropout_p=self.dropout if self.training else 0.0,
            generator=self.generator,
        )

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """Whether the inputs are batched (3-D); errors in torch's words otherwise."""
        if query.ndim not in (2, 3):
            raise ValueError(
                "query should be unbatched 2D or batched 3D tensor but received "
                f"{query.ndim}-D query tensor"
            )
        batched = query.ndim == 3
        for name, t in (("key", key), ("value", value)):
            if t.ndim != query.ndim:
                raise ValueError(
                    f"For {'batched' if batched else 'unbatched'} "
                    f"({query.ndim}-D) `query`, expected `{name}` to be {query.ndim}-D "
                    f"but found {t.ndim}-D tensor instead"
                )
        if query.shape[-1] != self.embed_dim:
            raise ValueError(
                f"was expecting embedding dimension of {self.embed_dim}, but got {query.shape[-1]}"
            )
        if key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ValueError(
                f"key and value feature sizes must be kdim={self.kdim} and vdim={self.vdim}, "
                f"got {key.shape[-1]} and {value.shape[-1]}"
            )
        seq_axis = 1 if batched and self.batch_first else 0
        if key.shape[seq_axis] != value.shape[seq_axis] or (
            batched and key.shape[1 - seq_axis] != query.shape[1 - seq_axis]
        ):
            raise ValueError(
                f"key shape {key.shape} does not match value shape {value.shape} "
                f"(query {query.shape})"
            )
        return batched

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"


def _unsqueeze0(mask: Any) -> Any:
    return S.unsqueeze(mask, 0) if isinstance(mask, Tensor) else np.asarray(mask)[None]
