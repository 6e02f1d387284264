"""Gradient centralization: remove the mean of each output unit's gradient."""

from __future__ import annotations

import numpy as np

from gdlab.optim.transforms.base import GradientTransformation, stateless

__all__ = ["centralize", "centralize_array"]


def centralize_array(u: np.ndarray) -> np.ndarray:
    """u minus its mean over every axis but the first (vectors and scalars unchanged)."""
    if u.ndim < 2:
        return u
    return u - u.mean(axis=tuple(range(1, u.ndim)), keepdims=True)


def centralize() -> GradientTransformation:
    """Gradient centralization (Yong et al. 2020), Optax's ``centralize``.

    For a weight of shape (out, in, ...) each row's gradient loses its mean,
    u_i ← u_i − mean(u_i): the update stays in the hyperplane Σ_j w_ij = const, which the
    authors find regularises and speeds up training. Biases (1-D) pass unchanged. Put it
    first, on the raw gradient: ``chain(centralize(), scale_by_adam(), scale_by_lr(lr))``.

    Reference: Yong et al., "Gradient Centralization: A New Optimization Technique for Deep
    Neural Networks", ECCV 2020, https://arxiv.org/abs/2004.01461
    """
    return stateless(lambda updates, params: [_centralize_(u) for u in updates])


def _centralize_(u: np.ndarray) -> np.ndarray:
    """:func:`centralize_array` in place (only the row means are allocated)."""
    if u.ndim >= 2:
        u -= u.mean(axis=tuple(range(1, u.ndim)), keepdims=True)
    return u
