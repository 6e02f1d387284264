"""Scaling by a constant, by the param group's learning rate, or by a schedule of the step."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from gdlab.optim.optimizer import check_lr
from gdlab.optim.transforms.base import (
    Arrays,
    GradientTransformation,
    Updates,
    init_empty,
    rescale,
)

__all__ = ["ScaleByScheduleState", "scale", "scale_by_lr", "scale_by_schedule"]


def scale(step_size: float) -> GradientTransformation:
    """u ← step_size·u (Optax's ``scale``; ``scale(-lr)`` is plain gradient descent)."""
    if not math.isfinite(step_size):
        raise ValueError(f"scale: step_size must be finite, got {step_size}")

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        return [rescale(u, step_size) for u in updates], states

    return GradientTransformation(init_empty, update)


def scale_by_lr(lr: float = 1e-3) -> GradientTransformation:
    """u ← −lr·u with the param group's ``lr`` (Optax's ``scale_by_learning_rate``).

    ``lr`` is the optimizer's default learning rate; at each step the group's current
    ``group["lr"]`` is used, so param groups and ``lr_scheduler`` work as with any optimizer.
    """
    check_lr(lr)

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        return [rescale(u, -lr) for u in updates], states

    return GradientTransformation(init_empty, update, lr)


class ScaleByScheduleState(NamedTuple):
    """step: how many updates were scaled (the schedule's argument is the count before)."""

    step: int


def scale_by_schedule(schedule: Callable[[int], float]) -> GradientTransformation:
    """u ← schedule(t)·u with t = 0, 1, 2... (Optax's ``scale_by_schedule``: no sign change).

    ``schedule`` is a function of the step, e.g. one of :mod:`gdlab.optim.schedules`.
    """
    if not callable(schedule):
        raise TypeError(f"scale_by_schedule: schedule must be callable, got {schedule!r}")

    def init(param: np.ndarray) -> ScaleByScheduleState:
        return ScaleByScheduleState(step=0)

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        if not states:
            return updates, states
        factor = float(schedule(states[0].step))
        return [rescale(u, factor) for u in updates], [
            ScaleByScheduleState(s.step + 1) for s in states
        ]

    return GradientTransformation(init, update)
