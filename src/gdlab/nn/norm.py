"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm (torch.nn's buffers and names:
``running_mean``, ``running_var``, ``num_batches_tracked``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.dtypes import get_default_dtype, resolve_dtype
from gdlab.nn import functional as F
from gdlab.nn.module import Module
from gdlab.nn.parameter import Parameter
from gdlab.tensor import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


def _dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else resolve_dtype(dtype)


class _BatchNorm(Module):
    _dims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        d = _dtype(dtype)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=d))
        else:
            self.register_parameter("weight", None)
        if affine and bias:  # torch 2.13: bias=False keeps the scale γ only
            self.bias = Parameter(np.zeros(num_features, dtype=d))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=d)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=d)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def _check(self, input: Tensor) -> None:  # noqa: A002
        name = type(self).__name__
        if input.ndim not in self._dims:
            dims = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"{name}: expected {dims} input (got {input.ndim}D input)")
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected {self.num_features} channels in dimension 1, got input of "
                f"shape {tuple(input.shape)}"
            )
        if self.training and input.data.size // input.shape[1] <= 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input size "
                f"{tuple(input.shape)}"
            )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """Batch statistics in training (updating the running ones: an exponential average
        with ``momentum``, or the cumulative average when momentum is None); running
        statistics in eval mode."""
        self._check(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) inputs, per channel C
    (Ioffe & Szegedy, 2015, https://arxiv.org/abs/1502.03167).

    y = (x − E[x]) / √(Var[x] + eps)·γ + β; the running variance uses the unbiased
    estimate, the normalisation the biased one (as torch). In training, the running
    statistics r are updated as r ← (1 − momentum)·r + momentum·batch statistic (a cumulative
    average when momentum is None); eval mode normalises with them instead.

    Args:
        num_features: C.
        eps: added to the variance (default 1e-5).
        momentum: weight of each batch in the running statistics (default 0.1).
        affine: learn γ (``weight``) and β (``bias``) (default True).
        track_running_stats: keep running statistics; without them eval mode uses the batch
            statistics too (default True).
        dtype: parameter dtype (default float32).
        bias: learn β (default True; keyword-only, torch 2.13).

    Example:
        >>> bn = nn.BatchNorm1d(4)
        >>> y = bn(gdlab.randn(8, 4))              # training: batch statistics
        >>> int(bn.num_batches_tracked.item())
        1
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) inputs, per channel C (statistics over N, H
    and W); arguments and update rule as ``BatchNorm1d``.

    Example:
        >>> nn.BatchNorm2d(3)(gdlab.randn(2, 3, 5, 5)).shape
        (2, 3, 5, 5)
    """

    _dims = (4,)


class LayerNorm(Module):
    """Normalise each sample over its last dimensions ``normalized_shape``, then γ·x̂ + β
    with x̂ = (x − E[x]) / √(Var[x] + eps) (biased variance); the same in train and eval mode.

    Args:
        normalized_shape: an int or the trailing shape to normalise over.
        eps: added to the variance (default 1e-5).
        elementwise_affine: learn γ (``weight``, ones) and β (``bias``, zeros) of that shape.
        bias: learn β when affine (default True).
        dtype: parameter dtype (default float32).

    Example:
        >>> nn.LayerNorm(4)(gdlab.randn(2, 3, 4)).shape
        (2, 3, 4)

    Reference: Ba et al. (2016), "Layer Normalization", https://arxiv.org/abs/1607.06450
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        d = _dtype(dtype)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=d))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=d))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
