"""Apply a transformation to some parameters only (e.g. no weight decay on biases)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.optim.transforms.base import Arrays, GradientTransformation, Updates

__all__ = ["masked"]


def masked(
    inner: GradientTransformation, mask: Callable[[np.ndarray], bool]
) -> GradientTransformation:
    """``inner`` on the parameters where ``mask(param)`` is true; the others pass unchanged.

    Optax's ``masked`` with the mask a predicate of the parameter array, e.g.
    ``masked(add_decayed_weights(0.01), lambda p: p.ndim > 1)`` decays matrices, not biases.
    Every parameter keeps an inner state (unused where masked out), so the state has one shape.
    """
    if not isinstance(inner, GradientTransformation):
        raise TypeError(f"masked: inner must be a GradientTransformation, got {inner!r}")
    if not callable(mask):
        raise TypeError(f"masked: mask must be a predicate of the parameter, got {mask!r}")

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        chosen = [i for i, p in enumerate(params) if mask(p)]
        if not chosen:
            return updates, states
        sub_u, sub_s = inner.update(
            [updates[i] for i in chosen], [states[i] for i in chosen],
            [params[i] for i in chosen], lr,
        )  # fmt: skip
        out, new = list(updates), list(states)
        for j, i in enumerate(chosen):
            out[i], new[i] = sub_u[j], sub_s[j]
        return out, new

    return GradientTransformation(inner.init, update, inner.lr)
