"""Skip the steps whose gradient is not finite, and count them."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gdlab.optim.transforms.base import Arrays, GradientTransformation, Update, Updates, materialize

__all__ = ["ApplyIfFiniteState", "apply_if_finite"]


class ApplyIfFiniteState(NamedTuple):
    """Optax's counters (the same in every parameter's state) and the inner state.

    Attributes:
        notfinite_count: consecutive non-finite updates (0 after a finite one).
        last_finite: whether the last update was finite.
        total_notfinite: every non-finite update so far.
        inner_state: the wrapped transformation's state.
    """

    notfinite_count: int
    last_finite: bool
    total_notfinite: int
    inner_state: Any


def apply_if_finite(
    inner: GradientTransformation, max_consecutive_errors: int
) -> GradientTransformation:
    """``inner``, except that a step with a NaN or inf in any update is skipped (zero update,
    inner state unchanged); after more than ``max_consecutive_errors`` skips in a row the
    step is taken anyway (Optax's ``apply_if_finite``). The param group is one tree.
    """
    if not isinstance(inner, GradientTransformation):
        raise TypeError(f"apply_if_finite: inner must be a GradientTransformation, got {inner!r}")
    if isinstance(max_consecutive_errors, bool) or not isinstance(max_consecutive_errors, int):
        raise TypeError(
            "apply_if_finite: max_consecutive_errors must be an int, got "
            f"{max_consecutive_errors!r}"
        )
    if max_consecutive_errors < 0:
        raise ValueError(
            f"apply_if_finite: max_consecutive_errors must be >= 0, got {max_consecutive_errors}"
        )

    def init(param: np.ndarray) -> ApplyIfFiniteState:
        return ApplyIfFiniteState(0, True, 0, inner.init(param))

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        if not states:
            return updates, states
        first = states[0]
        updates = [materialize(u, p) for u, p in zip(updates, params, strict=True)]
        finite = all(_finite(u) for u in updates)
        count = 0 if finite else first.notfinite_count + 1
        total = first.total_notfinite + (0 if finite else 1)
        inner_states = [s.inner_state for s in states]
        if finite or count > max_consecutive_errors:
            updates, inner_states = inner.update(updates, inner_states, params, lr)
        else:
            for u in updates:
                u.direction.fill(0.0)
        return updates, [ApplyIfFiniteState(count, finite, total, s) for s in inner_states]

    return GradientTransformation(init, update, inner.lr)


def _finite(u: Update) -> bool:
    """Whether every value of the update is finite (0·x is 0, or NaN for inf and NaN; the
    sum of those is NaN if any is: no boolean array of the parameter's size)."""
    np.multiply(u.direction, 0.0, out=u.work)
    return not np.isnan(u.work.sum())
