"""nn.TransformerEncoderLayer and nn.TransformerEncoder: torch's sub-module names, options,
post-norm / pre-norm blocks and outputs."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.dtypes import get_default_dtype, resolve_dtype
from gdlab.nn import functional as F
from gdlab.nn.attention import MultiheadAttention, as_generator
from gdlab.nn.container import ModuleList
from gdlab.nn.layers import Dropout, Linear
from gdlab.nn.module import Module
from gdlab.nn.norm import LayerNorm
from gdlab.tensor import Tensor

__all__ = [
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "generate_square_subsequent_mask",
]


def generate_square_subsequent_mask(sz: int, dtype: Any = None) -> np.ndarray:
    """The causal float mask (sz, sz): 0 on and below the diagonal, −inf above it
    (``torch.nn.Transformer.generate_square_subsequent_mask``).

    Example:
        >>> generate_square_subsequent_mask(2).tolist()
        [[0.0, -inf], [0.0, 0.0]]
    """
    d = get_default_dtype() if dtype is None else resolve_dtype(dtype)
    mask = np.zeros((sz, sz), dtype=d)
    mask[np.triu_indices(sz, 1)] = -np.inf
    return mask


def _activation(activation: str | Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation
    raise ValueError(f"activation should be relu/gelu, not {activation}")


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward network, each with a residual connection and
    LayerNorm (Vaswani et al., 2017).

    Post-norm (default)::

        x = norm1(x + dropout1(self_attn(x)))
        x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

    Pre-norm (``norm_first=True``, the more stable choice for deep stacks)::

        x = x + dropout1(self_attn(norm1(x)))
        x = x + dropout2(linear2(dropout(activation(linear1(norm2(x))))))

    Args:
        d_model: model dimension; nhead: attention heads (must divide ``d_model``).
        dim_feedforward: hidden size of the feed-forward network (default 2048).
        dropout: dropout probability everywhere (default 0.1).
        activation: "relu" (default), "gelu" or a callable.
        layer_norm_eps: LayerNorm's eps (default 1e-5).
        batch_first: (N, L, E) inputs instead of (L, N, E).
        norm_first: pre-norm instead of post-norm.
        bias: biases in the Linear and LayerNorm layers (default True).
        dtype: parameter dtype (default float32).
        generator: numpy Generator or int seed for the initialisation and dropout masks.

    Example:
        >>> layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True)
        >>> layer(gdlab.randn(2, 5, 16)).shape
        (2, 5, 16)

    References: Vaswani et al. (2017), arXiv:1706.03762; Xiong et al. (2020), "On Layer
    Normalization in the Transformer Architecture", arXiv:2002.04745 (pre-norm).
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        dtype: Any = None,
        generator: Any = None,
    ) -> None:
        act = _activation(activation)
        super().__init__()
        gen = as_generator(generator)
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype,
            generator=gen,
        )  # fmt: skip
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype, generator=gen)
        self.dropout = Dropout(dropout, generator=gen)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype, generator=gen)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, generator=gen)
        self.dropout2 = Dropout(dropout, generator=gen)
        self.activation = act

    def forward(
        self,
        src: Tensor,
        src_mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool = False,
    ) -> Tensor:
        """One encoder block on ``src`` ((L, N, E), (N, L, E) with batch_first, or (L, E)).

        ``src_mask`` is the attention mask (L, S) or (N·nhead, L, S) and
        ``src_key_padding_mask`` (N, S) marks padded keys (bool True = ignored; float masks
        are added to the scores); ``is_causal`` is a hint that ``src_mask`` is causal.
        """
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x: Tensor, attn_mask: Any, key_padding_mask: Any, is_causal: bool):
        out = self.self_attn(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
            need_weights=False, is_causal=is_causal,
        )[0]  # fmt: skip
        return self.dropout1(out)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


def _shared_generators(module: Module) -> dict[int, Any]:
    """A deepcopy memo that keeps every numpy Generator of ``module`` shared: the copies'
    dropout masks continue one random stream instead of repeating each other's."""
    memo: dict[int, Any] = {}
    for m in module.modules():
        for value in vars(m).values():
            if isinstance(value, np.random.Generator):
                memo[id(value)] = value
    return memo


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` and an optional final ``norm``.

    Args:
        encoder_layer: the layer to copy (deep copies: the layers do not share weights; their
            dropout masks draw from the one generator the layer was given).
        num_layers: number of layers.
        norm: a module applied to the output (a LayerNorm for pre-norm stacks), or None.
        enable_nested_tensor, mask_check: accepted for torch compatibility; gdlab has no
            nested tensors, so padded positions are computed and masked as in training.

    Example:
        >>> layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32)
        >>> nn.TransformerEncoder(layer, num_layers=2)(gdlab.randn(5, 2, 16)).shape
        (5, 2, 16)
    """

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        if not isinstance(encoder_layer, Module):
            raise TypeError(
                f"TransformerEncoder: encoder_layer must be a Module, got "
                f"{type(encoder_layer).__name__}"
            )
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"TransformerEncoder: num_layers must be >= 1, got {num_layers}")
        super().__init__()
        self.layers = ModuleList(
            [
                copy.deepcopy(encoder_layer, _shared_generators(encoder_layer))
                for _ in range(num_layers)
            ]
        )
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(
        self,
        src: Tensor,
        mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """Run the layers in turn; masks as in ``TransformerEncoderLayer.forward``.
        ``is_causal=None`` detects whether ``mask`` is the causal mask (as torch)."""
        causal = bool(is_causal) if is_causal is not None else _is_causal_mask(mask)
        out = src
        for layer in self.layers:
            out = layer(
                out, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=causal
            )
        return out if self.norm is None else self.norm(out)


def _is_causal_mask(mask: Any) -> bool:
    if mask is None:
        return False
    m = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        return False
    causal = generate_square_subsequent_mask(m.shape[0], np.float64)
    if m.dtype == np.bool_:
        return bool(np.array_equal(m, np.isinf(causal)))
    return bool(np.array_equal(m, causal))
