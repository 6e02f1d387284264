"""Gradient accumulation: one inner step every k mini-steps, on the mean gradient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from gdlab.optim.transforms.base import Arrays, GradientTransformation, Updates, materialize

__all__ = ["MultiStepsState", "MultiSteps"]


class MultiStepsState(NamedTuple):
    """Optax's counters and accumulator.

    Attributes:
        mini_step: mini-steps accumulated since the last inner step (0 ≤ mini_step < k).
        gradient_step: inner steps taken (the argument of ``every_k_schedule``).
        inner_opt_state: the wrapped transformation's state.
        acc_grads: the running mean (or sum) of the gradients of this cycle.
    """

    mini_step: int
    gradient_step: int
    inner_opt_state: Any
    acc_grads: np.ndarray


def MultiSteps(  # noqa: N802  (Optax's name: a class there, a constructor here)
    opt: GradientTransformation,
    every_k_schedule: int | Callable[[int], int],
    use_grad_mean: bool = True,
) -> GradientTransformation:
    """Accumulate k mini-batch gradients, then apply ``opt`` once to their mean (Optax's
    ``MultiSteps``): k − 1 zero updates, then ``opt``'s update of the mean; ``opt``'s state
    moves only then. A large batch in k small ones, with the memory of one.

    Args:
        opt: the wrapped transformation.
        every_k_schedule: k, or a function of the inner step count giving k.
        use_grad_mean: average the gradients (default) or sum them.
    """
    if not isinstance(opt, GradientTransformation):
        raise TypeError(f"MultiSteps: opt must be a GradientTransformation, got {opt!r}")
    if isinstance(every_k_schedule, int) and not isinstance(every_k_schedule, bool):
        if every_k_schedule < 1:
            raise ValueError(f"MultiSteps: every_k_schedule must be >= 1, got {every_k_schedule}")
        k_of = _constant(every_k_schedule)
    elif callable(every_k_schedule):
        k_of = every_k_schedule
    else:
        raise TypeError(
            f"MultiSteps: every_k_schedule must be an int or a function, got {every_k_schedule!r}"
        )

    def init(param: np.ndarray) -> MultiStepsState:
        return MultiStepsState(0, 0, opt.init(param), np.zeros_like(param))

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        if not states:
            return updates, states
        first = states[0]
        n = first.mini_step
        updates = [materialize(u, p) for u, p in zip(updates, params, strict=True)]
        for u, s in zip(updates, states, strict=True):
            acc = s.acc_grads
            if use_grad_mean:  # acc ← acc + (u − acc)/(n + 1)
                np.subtract(u.direction, acc, out=u.work)
                np.divide(u.work, n + 1, out=u.work)
                acc += u.work
            else:
                acc += u.direction
        inner = [s.inner_opt_state for s in states]
        acc = [s.acc_grads for s in states]
        if n < k_of(first.gradient_step) - 1:
            for u in updates:
                u.direction.fill(0.0)
            return updates, [MultiStepsState(n + 1, first.gradient_step, i, a)
                             for i, a in zip(inner, acc, strict=True)]  # fmt: skip
        for u, a in zip(updates, acc, strict=True):
            np.copyto(u.direction, a)
            a.fill(0.0)
        out, inner = opt.update(updates, inner, params, lr)
        return out, [MultiStepsState(0, first.gradient_step + 1, i, a)
                     for i, a in zip(inner, acc, strict=True)]  # fmt: skip

    return GradientTransformation(init, update, opt.lr)


def _constant(k: int) -> Callable[[int], int]:
    return lambda step: k
