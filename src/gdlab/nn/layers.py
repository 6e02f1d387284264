"""Linear, Dropout and Embedding layers (torch.nn's names, shapes and default init)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdlab.dtypes import get_default_dtype, resolve_dtype
from gdlab.nn import functional as F
from gdlab.nn import init
from gdlab.nn.module import Module
from gdlab.nn.parameter import Parameter
from gdlab.ops import nn_ops
from gdlab.ops.dispatch import apply
from gdlab.tensor import Tensor

__all__ = ["Dropout", "Embedding", "Linear", "empty_parameter"]


def empty_parameter(*shape: int, dtype: Any = None) -> Parameter:
    """A zero-filled parameter of the given shape (initialised by the layer afterwards)."""
    d = get_default_dtype() if dtype is None else resolve_dtype(dtype)
    return Parameter(np.zeros(shape, dtype=d))


class _FanInLayer(Module):
    """A layer with a ``weight`` (out, fan_in...) and an optional ``bias`` (out,), Linear's
    and Conv's, both initialised as torch's: W, b ~ U(−1/√fan_in, 1/√fan_in)."""

    def _make_parameters(self, weight_shape: tuple, bias: bool, dtype: Any, generator: Any) -> None:
        self.weight = empty_parameter(*weight_shape, dtype=dtype)
        if bias:
            self.bias = empty_parameter(weight_shape[0], dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Any = None) -> None:
        """torch's default: kaiming_uniform(a=√5) for the weight, which is
        U(−1/√fan_in, 1/√fan_in), and the same bound for the bias."""
        weight, bias = self.weight, self.bias
        init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
        if bias is not None:
            fan_in = weight.data.size // weight.shape[0]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(bias, -bound, bound, generator=generator)


class Linear(_FanInLayer):
    """y = x·Wᵀ + b with ``weight`` (out_features, in_features) and ``bias`` (out_features,).

    Initialisation (torch): W, b ~ U(−1/√in_features, 1/√in_features).

    Args:
        in_features, out_features: sizes of each input and output sample.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (default float32).
        generator: numpy Generator or seed for the initialisation (default: gdlab's).

    Example:
        >>> layer = nn.Linear(3, 4)
        >>> layer(gdlab.randn(10, 3)).shape
        (10, 4)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: Any = None,
        generator: Any = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self._make_parameters((out_features, in_features), bias, dtype, generator)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        # the parameters straight from their dict (Module.__getattr__ is a Python call per
        # name) and one shape check: this runs per layer per step, and small models pay
        # mostly such overhead
        params = self._parameters
        weight, bias = params["weight"], params["bias"]
        shape = input.data.shape
        n = self.in_features
        if not shape or shape[-1] != n:
            raise ValueError(f"Linear expected last dim {n}, got input of shape {tuple(shape)}")
        if weight.data.shape[-1] != n:  # a weight replaced by hand: F.linear's check and error
            return F.linear(input, weight, bias)
        if bias is None:
            return apply(nn_ops.LINEAR, input, weight)
        return apply(nn_ops.LINEAR, input, weight, bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability ``p`` and scale the
    others by 1/(1 − p); in eval mode, the identity (Srivastava et al., 2014).

    Args:
        p: drop probability in [0, 1] (default 0.5).
        inplace: accepted for torch compatibility; gdlab never modifies the input.
        generator: numpy Generator or seed for the masks (default: gdlab's generator).

    Example:
        >>> drop = nn.Dropout(0.5, generator=0)
        >>> drop(gdlab.ones(6)).tolist()      # kept entries scaled by 1 / (1 − p)
        [2.0, 2.0, 2.0, 0.0, 0.0, 0.0]
        >>> drop.eval()(gdlab.ones(3)).tolist()
        [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, generator: Any = None) -> None:
        super().__init__()
        F._check_p(p)
        self.p = p
        self.inplace = inplace
        # an int seed becomes one Generator here, so successive masks differ
        is_seed = isinstance(generator, int) and not isinstance(generator, bool)
        self.generator = np.random.default_rng(generator) if is_seed else generator

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout(input, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Embedding(Module):
    """A lookup table: integer indices -> rows of ``weight`` (num_embeddings, embedding_dim).

    Initialisation (torch): N(0, 1), with the ``padding_idx`` row zero (and never updated).

    Args:
        num_embeddings, embedding_dim: the table's shape.
        padding_idx: a row that stays zero and gets no gradient (default None).
        max_norm: referenced rows are first renormalised in place to at most this
            ``norm_type``-norm (default None: never).
        norm_type: the p of the p-norm for ``max_norm`` (default 2).
        scale_grad_by_freq: divide each row's gradient by its count in the batch (default
            False).
        sparse: ``weight.grad`` is a :class:`~gdlab.autograd.sparse.RowSparseGrad` of the
            rows the batch touched, not a dense table (default False); for
            :class:`~gdlab.optim.SparseAdam`, SGD and Adagrad, as torch's.
        dtype, generator: parameter dtype (default float32) and initialisation generator.

    Example:
        >>> emb = nn.Embedding(10, 3, padding_idx=0)
        >>> emb(np.array([[1, 2, 0]])).shape
        (1, 3, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Any = None,
        _freeze: bool = False,
        dtype: Any = None,
        generator: Any = None,
    ) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                    f"{num_embeddings}"
                )
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = empty_parameter(num_embeddings, embedding_dim, dtype=dtype)
            self.reset_parameters(generator)
        else:
            # shared, not copied, as torch's Parameter(_weight)
            w = _weight.data if isinstance(_weight, Tensor) else np.asarray(_weight)
            w = w if dtype is None else w.astype(resolve_dtype(dtype), copy=False)
            if w.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight of shape {w.shape} does not match "
                    f"[num_embeddings, embedding_dim] = [{num_embeddings}, {embedding_dim}]"
                )
            self.weight = Parameter(w, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Any,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose weight is the 2-D ``embeddings`` (memory shared, as torch;
        frozen by default: ``freeze=False`` lets it learn), as
        ``torch.nn.Embedding.from_pretrained``.

        Example:
            >>> emb = nn.Embedding.from_pretrained(gdlab.tensor([[1.0, 2.0], [3.0, 4.0]]))
            >>> emb(np.array([1])).tolist(), emb.weight.requires_grad
            ([[3.0, 4.0]], False)
        """
        shape = np.shape(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if len(shape) != 2:
            raise ValueError(f"Embeddings parameter is expected to be 2-dimensional, got {shape}")
        return cls(
            shape[0],
            shape[1],
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=embeddings,
            _freeze=freeze,
        )

    def reset_parameters(self, generator: Any = None) -> None:
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input: Any) -> Tensor:  # noqa: A002
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s
