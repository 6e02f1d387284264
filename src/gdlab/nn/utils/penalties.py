"""Regularisation penalties added to the loss (the articles' L1 and L2 against overfitting),
and conversion between a parameter list and one flat vector."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from gdlab.autograd.grad_mode import no_grad
from gdlab.ops import elementwise as E
from gdlab.ops import reduce as R
from gdlab.ops.shape import cat, reshape
from gdlab.tensor import Tensor

__all__ = ["l1_penalty", "l2_penalty", "parameters_to_vector", "vector_to_parameters"]


def _penalty(parameters: Tensor | Iterable[Tensor], term: Any, weight: float) -> Tensor:
    """weight·Σ_p term(p) over the parameters (at least one)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not params:
        raise ValueError("penalty: got an empty list of parameters")
    total = term(params[0])
    for p in params[1:]:
        total = total + term(p)
    return total * weight if weight != 1.0 else total


def l1_penalty(parameters: Tensor | Iterable[Tensor], weight: float = 1.0) -> Tensor:
    """weight·Σ|θ| over all parameters (L1, lasso): pushes weights to exactly zero.

    Its gradient is weight·sign(θ). Add it to the loss:
    ``loss = criterion(model(x), y) + l1_penalty(model.parameters(), 1e-4)``.

    Args:
        parameters: a tensor or an iterable of tensors (e.g. ``model.parameters()``).
        weight: the regularisation strength λ (default 1.0).

    Example:
        >>> l1_penalty([gdlab.tensor([1.0, -2.0]), gdlab.tensor([3.0])], weight=0.5).item()
        3.0

    Reference: Tibshirani (1996), "Regression Shrinkage and Selection via the Lasso".
    """
    return _penalty(parameters, lambda p: R.sum(E.abs(p)), weight)


def l2_penalty(parameters: Tensor | Iterable[Tensor], weight: float = 1.0) -> Tensor:
    """weight·Σθ² over all parameters (L2, ridge; no ½ factor).

    Its gradient is 2·weight·θ, so with plain SGD it equals ``weight_decay = 2·weight``
    (torch's weight_decay adds wd·θ to the gradient, i.e. the penalty (wd/2)·Σθ²).
    Arguments and use as ``l1_penalty``.

    Example:
        >>> l2_penalty([gdlab.tensor([1.0, -2.0]), gdlab.tensor([3.0])], weight=0.5).item()
        7.0

    Reference: Hoerl & Kennard (1970), "Ridge Regression".
    """
    return _penalty(parameters, lambda p: R.sum(p * p), weight)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    return cat([reshape(p, (-1,)) for p in parameters], dim=0)


def vector_to_parameters(vec: Tensor | np.ndarray, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters, in place."""
    data = np.asarray(_raw(vec))
    if data.ndim != 1:
        raise TypeError(f"expected a 1-D vector, got shape {data.shape}")
    params = list(parameters)
    total = sum(p.data.size for p in params)
    if data.size != total:
        raise ValueError(
            f"vector_to_parameters: vector of {data.size} elements for {total} parameter elements"
        )
    offset = 0
    with no_grad():
        for p in params:
            n = p.data.size
            p.copy_(data[offset : offset + n].reshape(p.shape))
            offset += n


def _raw(x: Any) -> Any:
    """A tensor's array; anything else unchanged (``ndarray.data`` is a memoryview)."""
    return x.data if isinstance(x, Tensor) else x
