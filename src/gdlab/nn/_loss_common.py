"""Shared pieces of the loss functions: ``reduction`` handling, target coercion, shape checks.

Used by :mod:`gdlab.nn._pointwise_loss`, :mod:`gdlab.nn._loss_functional` and
:mod:`gdlab.nn.loss`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.ops import reduce as R
from gdlab.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _legacy(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """torch's deprecated size_average/reduce arguments, mapped to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _check_reduction(reduction: str, name: str, valid: tuple = REDUCTIONS) -> None:
    if reduction not in valid:
        choices = " | ".join(f"'{r}'" for r in valid)
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; use {choices}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    return loss


def _target(target: Any, like: Tensor) -> Any:
    if isinstance(target, Tensor):
        return target
    return np.asarray(target, dtype=like.dtype)


def _same_shape(input: Tensor, target: Any, name: str) -> None:  # noqa: A002
    if tuple(input.shape) != tuple(np.shape(_raw(target))):
        raise ValueError(
            f"{name}: input of shape {tuple(input.shape)} and target of shape "
            f"{tuple(np.shape(_raw(target)))} differ; they must match "
            "(no silent broadcasting: reshape one of them, e.g. target.reshape(input.shape))"
        )


def _pointwise(name: str, input: Tensor, target: Any, reduction: str) -> Any:  # noqa: A002
    _check_reduction(reduction, name)
    target = _target(target, input)
    _same_shape(input, target, name)
    return target


def _weighted(
    loss: Tensor, weight: Any, reduction: str, name: str, input: Tensor, by_weights: bool = True
) -> Tensor:
    """torch's elementwise ``weight``: w·loss, and 'mean' = Σ w·loss / Σ w (``by_weights``,
    mse and l1) or the plain mean of w·loss (huber)."""
    w = _target(weight, input)
    if tuple(np.shape(_raw(w))) != tuple(input.shape):
        raise ValueError(
            f"{name}: Weights and input must have the same size, got weight of shape "
            f"{tuple(np.shape(_raw(w)))} and input of shape {tuple(input.shape)}"
        )
    loss = loss * w
    if reduction == "mean" and by_weights:
        return R.sum(loss) / (R.sum(w) if isinstance(w, Tensor) else float(np.sum(w)))
    return _reduce(loss, reduction)


def _raw(x: Any) -> Any:
    """A tensor's array; anything else unchanged (``ndarray.data`` is a memoryview)."""
    return x.data if isinstance(x, Tensor) else x
