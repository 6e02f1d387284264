"""Gradient clipping against exploding gradients: by total norm or by value (torch's API)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gdlab.autograd.sparse import RowSparseGrad, stored_values
from gdlab.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[np.ndarray]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [stored_values(p._grad) for p in params if p._grad is not None]


def _arrays(tensors: Iterable[np.ndarray | Tensor] | np.ndarray | Tensor) -> list[np.ndarray]:
    if isinstance(tensors, np.ndarray | Tensor | RowSparseGrad):
        tensors = [tensors]
    return [t.data if isinstance(t, Tensor) else np.asarray(stored_values(t)) for t in tensors]


def _number(func: str, name: str, value: object) -> float:
    """``float(value)`` as torch does (so "inf" works), with an error naming the argument."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        exc = ValueError if isinstance(value, str) else TypeError
        raise exc(f"{func}: {name} must be a number, got {value!r}") from None


def _nonfinite_error(norm_type: float, total: float) -> RuntimeError:
    return RuntimeError(
        f"The total norm of order {norm_type} for gradients from `parameters` is non-finite "
        f"({total}), so it cannot be clipped. To disable this error and scale the gradients "
        "by the non-finite norm anyway, set `error_if_nonfinite=False`"
    )


def get_total_norm(
    tensors: Iterable[np.ndarray | Tensor] | np.ndarray | Tensor,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: object = None,
) -> float:
    """The p-norm of all the given gradient arrays taken together as one vector.

    ‖(g_1, ..., g_n)‖_p = ‖(‖g_1‖_p, ..., ‖g_n‖_p)‖_p, accumulated in float64; ``inf`` gives
    the largest absolute value. Unlike torch (a 0-d tensor), the result is a Python float.

    Args:
        tensors: gradient arrays (or Tensors, whose data is used).
        norm_type: p (positive) or ``inf``.
        error_if_nonfinite: raise RuntimeError if the norm is NaN or infinite.
        foreach: accepted for torch compatibility and ignored.

    Example:
        >>> get_total_norm([np.array([3.0]), np.array([4.0])])
        5.0
    """
    norm_type = float(norm_type)
    grads = _arrays(tensors)
    if not grads:
        return 0.0
    if norm_type == np.inf:
        total = float(max(np.max(np.abs(g)) if g.size else 0.0 for g in grads))
    else:
        norms = [np.linalg.norm(g.reshape(-1).astype(np.float64), ord=norm_type) for g in grads]
        total = float(np.linalg.norm(np.asarray(norms), ord=norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise _nonfinite_error(norm_type, total)
    return total


def clip_grads_with_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    total_norm: float | Tensor,
    foreach: object = None,
) -> None:
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6)) in place (torch's rule).

    Example:
        >>> from gdlab.nn import Parameter
        >>> p = Parameter(np.zeros(2)); p.grad = np.array([3.0, 4.0])
        >>> clip_grads_with_norm_([p], 1.0, 5.0)
        >>> np.round(p.grad.data, 4)
        array([0.6, 0.8])
    """
    coef = min(float(max_norm) / (float(total_norm) + 1e-6), 1.0)
    if coef < 1.0 or not np.isfinite(coef):  # NaN norms poison the gradients, as in torch
        with np.errstate(invalid="ignore"):  # inf·0 is the expected NaN here
            for g in _grads(parameters):
                g *= coef


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: object = None,
) -> Tensor:
    """Scale all gradients together so that their total norm is at most ``max_norm``.

    g ← g · min(1, max_norm / (‖g‖ + 1e-6)), the norm over all parameters at once (torch's
    formula, including its 1e-6). Returns the total norm before clipping.

    Args:
        parameters: tensors (or one tensor) whose ``.grad`` is clipped in place.
        max_norm: largest allowed total norm; must be positive.
        norm_type: p of the p-norm; ``inf`` for the largest absolute value.
        error_if_nonfinite: raise if the total norm is NaN or infinite.
        foreach: accepted for torch compatibility and ignored.

    Example:
        >>> from gdlab.nn import Parameter
        >>> p = Parameter(np.zeros(2)); p.grad = np.array([3.0, 4.0])
        >>> float(clip_grad_norm_([p], max_norm=1.0))
        5.0
        >>> np.round(p.grad.data, 4)
        array([0.6, 0.8])

    Reference: Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural
    networks", 2013, https://arxiv.org/abs/1211.5063
    """
    max_norm = _number("clip_grad_norm_", "max_norm", max_norm)
    norm_type = _number("clip_grad_norm_", "norm_type", norm_type)
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be positive, got {max_norm}")
    if norm_type != np.inf and not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive or inf, got {norm_type}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)  # a generator would be exhausted by the norm
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    dtype = grads[0].dtype if grads else np.float32
    return Tensor._wrap(np.asarray(total, dtype=dtype))


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: object = None
) -> None:
    """Clamp every gradient element to [−clip_value, clip_value] in place.

    Example:
        >>> from gdlab.nn import Parameter
        >>> p = Parameter(np.zeros(3)); p.grad = np.array([-5.0, 0.5, 2.0])
        >>> clip_grad_value_([p], 1.0)
        >>> p.grad.data
        array([-1. ,  0.5,  1. ])
    """
    clip_value = _number("clip_grad_value_", "clip_value", clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
