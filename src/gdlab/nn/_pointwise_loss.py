"""Element-wise losses (torch.nn.functional signatures): mse, l1, huber, smooth_l1, the binary
cross-entropies and kl_div. Re-exported by :mod:`gdlab.nn.functional`.

Unlike torch, they refuse inputs and targets of different shapes (torch broadcasts (64,)
against (64, 1) with only a warning, silently giving a 64×64 loss).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.nn._loss_common import (
    REDUCTIONS,
    _check_reduction,
    _legacy,
    _pointwise,
    _raw,
    _reduce,
    _same_shape,
    _target,
    _weighted,
)
from gdlab.ops import elementwise as E
from gdlab.ops import nn_ops
from gdlab.ops import reduce as R
from gdlab.ops.dispatch import apply
from gdlab.tensor import Tensor

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "smooth_l1_loss",
]


def mse_loss(
    input: Tensor,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,  # noqa: A002
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Mean squared error: mean((x − y)²) (the articles' squared error).

    Args:
        input, target: tensors (or arrays) of the same shape; different shapes raise
            ValueError instead of broadcasting.
        reduction: 'mean' | 'sum' | 'none'.
        weight: optional per-element weights w of the input's shape (torch 2.13):
            'mean' becomes Σ w·(x − y)² / Σ w.

    Example:
        >>> mse_loss(gdlab.tensor([1.0, 2.0]), gdlab.tensor([1.0, 4.0])).item()
        2.0
    """
    reduction = _legacy(size_average, reduce, reduction)
    target = _pointwise("mse_loss", input, target, reduction)
    diff = input - target
    if weight is not None:
        return _weighted(diff * diff, weight, reduction, "mse_loss", input)
    return _reduce(diff * diff, reduction)


def l1_loss(
    input: Tensor,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,  # noqa: A002
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Mean absolute error: mean(|x − y|); with per-element ``weight`` w (torch 2.13),
    'mean' is Σ w·|x − y| / Σ w."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _pointwise("l1_loss", input, target, reduction)
    if weight is not None:
        return _weighted(E.abs(input - target), weight, reduction, "l1_loss", input)
    return _reduce(E.abs(input - target), reduction)


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any = None,
) -> Tensor:
    """½d² where |d| < delta, delta·(|d| − ½delta) elsewhere (d = x − y; Huber, 1964).

    With per-element ``weight`` w (torch 2.13), the loss is w times that, and 'mean' is its
    plain mean (not divided by Σ w, unlike mse_loss and l1_loss: torch's choice)."""
    if delta <= 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta, got {delta}")
    target = _pointwise("huber_loss", input, target, reduction)
    diff = input - target
    ad = E.abs(diff)
    loss = E.where(ad.data < delta, 0.5 * diff * diff, delta * (ad - 0.5 * delta))
    if weight is not None:
        return _weighted(loss, weight, reduction, "huber_loss", input, by_weights=False)
    return _reduce(loss, reduction)


def smooth_l1_loss(
    input: Tensor,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,  # noqa: A002
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """½d²/beta where |d| < beta, |d| − ½beta elsewhere; L1 when beta = 0 (Girshick, 2015)."""
    reduction = _legacy(size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    target = _pointwise("smooth_l1_loss", input, target, reduction)
    diff = input - target
    ad = E.abs(diff)
    if beta == 0:
        return _reduce(ad, reduction)
    loss = E.where(ad.data < beta, (0.5 / beta) * diff * diff, ad - 0.5 * beta)
    return _reduce(loss, reduction)


def binary_cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: Any = None,  # noqa: A002
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """−w·(y·log x + (1 − y)·log(1 − x)) for probabilities x; each log is clamped at −100
    (torch), so x = 0 or 1 gives a finite loss."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _pointwise("binary_cross_entropy", input, target, reduction)
    x = input.data
    if not np.all((x >= 0) & (x <= 1)):
        raise ValueError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (got values "
            f"in [{np.nanmin(x):.4g}, {np.nanmax(x):.4g}]; use binary_cross_entropy_with_logits "
            "for logits)"
        )
    loss = apply(nn_ops.BINARY_CROSS_ENTROPY, input, target)
    if weight is not None:
        loss = loss * _target(weight, input)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Any = None,  # noqa: A002
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """BCE(σ(x), y) computed stably from logits:
    (1 − y)·x + (1 + (pos_weight − 1)·y)·log(1 + e^−x), with log(1 + e^−x) = softplus(−x)."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _pointwise("binary_cross_entropy_with_logits", input, target, reduction)
    sp = E.softplus(-input)
    if pos_weight is not None:
        sp = sp * ((_target(pos_weight, input) - 1) * target + 1)
    loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * _target(weight, input)
    return _reduce(loss, reduction)


def kl_div(
    input: Tensor,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,  # noqa: A002
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Pointwise y·(log y − x) for log-probabilities x (0 where y = 0), or e^y·(y − x) with
    ``log_target``; 'batchmean' divides the sum by the batch size (the true KL divergence)."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, "kl_div", (*REDUCTIONS, "batchmean"))
    target = _target(target, input)
    _same_shape(input, target, "kl_div")
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        t = _raw(target)
        log_t = (
            E.log(E.where(t > 0, target, 1.0))
            if isinstance(target, Tensor)
            else (np.log(np.where(t > 0, t, 1.0)))
        )
        loss = target * (log_t - input)
    if reduction == "batchmean":
        return R.sum(loss) / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)
