"""Schedulers that combine others or react to a metric (torch's numbers).

Public through :mod:`gdlab.optim.lr_scheduler`.
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from gdlab.optim._lr_base import (
    EPOCH_DEPRECATION_WARNING,
    LRScheduler,
    _group_values,
    _set,
    _value,
)
from gdlab.optim.optimizer import Optimizer

__all__ = ["ChainedScheduler", "ReduceLROnPlateau", "SequentialLR"]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when the metric has not improved for ``patience`` epochs.

    Improvement (mode "min", threshold_mode "rel"): metric < best·(1 − threshold); "abs":
    metric < best − threshold; "max" mirrors. A NaN metric never counts as an improvement.
    ``step(metrics)`` needs the metric. Lrs never go below ``min_lr``, and changes smaller
    than ``eps`` are skipped.

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        mode: "min" (the metric should fall, e.g. a loss) or "max" (default "min").
        factor: lr ← lr·factor on a plateau; < 1 (default 0.1).
        patience: epochs without improvement tolerated before reducing (default 10).
        threshold: the least change that counts as an improvement (default 1e-4).
        threshold_mode: "rel" or "abs" (default "rel").
        cooldown: epochs to wait after a reduction before counting again (default 0).
        min_lr: lower bound, one for all groups or a list (default 0).
        eps: smallest change of lr applied (default 1e-8).

    Example::

        sched = ReduceLROnPlateau(opt, factor=0.5, patience=3)
        for epoch in range(epochs):
            train(...)
            sched.step(val_loss)
    """

    requires_metric = True  # the training loop calls step(metric)

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: list[float] | float = 0,
        eps: float = 1e-8,
    ) -> None:
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        self.factor = factor
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        if isinstance(min_lr, list | tuple):
            if len(min_lr) != n:
                raise ValueError(f"expected {n} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = [_value(m) for m in min_lr]
        else:  # a scalar extends to groups added later (torch)
            self.default_min_lr = _value(min_lr)
            self.min_lrs = [self.default_min_lr] * n
        self.patience, self.cooldown, self.eps = patience, cooldown, eps
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.last_epoch = 0
        self._step_count = 0
        self._last_lr = _group_values(optimizer, "lr")
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            bar = (
                best * (1.0 - self.threshold)
                if self.threshold_mode == "rel"
                else best - self.threshold
            )
            return a < bar
        bar = (
            best * (self.threshold + 1.0) if self.threshold_mode == "rel" else best + self.threshold
        )
        return a > bar

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        self._step_count += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_values(self.optimizer, "lr")

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs "
                    f"from when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), "
                    "usually due to a new param group being added to the optimizer. Please "
                    "modify the `min_lrs` field to match the length of the `optimizer` param "
                    "groups."
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old = float(_value(group["lr"]))
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                _set(group, "lr", new)


def _check_children(kind: str, optimizer: Optimizer, children: Sequence[Any]) -> None:
    if len(children) < 1:
        raise ValueError(f"{kind} expects at least one scheduler, but got no scheduler.")
    for i, s in enumerate(children):
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{kind} at index {i} should have `optimizer` as its attribute.")
        if s.optimizer is not optimizer:
            raise ValueError(
                f"{kind} expects all schedulers to belong to the same optimizer, but got "
                f"scheduler {type(s).__name__} at index {i} with another optimizer"
            )


class _Container(LRScheduler):
    _schedulers: list[Any]

    def state_dict(self) -> dict[str, Any]:
        state = self._saved_state("_schedulers")
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        children = self._load_saved_state(state_dict, "_schedulers")
        for s, saved in zip(self._schedulers, children, strict=True):
            s.load_state_dict(saved)


def _undo_initial_steps(scheduler: Any) -> None:
    """Take back the initial step every (nested) scheduler took when it was built (torch)."""
    children = getattr(scheduler, "_schedulers", None)
    if children is not None:
        for child in children:
            _undo_initial_steps(child)
    elif hasattr(scheduler, "last_epoch"):
        scheduler.last_epoch -= 1


class SequentialLR(_Container):
    """Run ``schedulers[i]`` from ``milestones[i-1]`` on (torch's semantics).

    Unlike torch, a :class:`ReduceLROnPlateau` may be in the sequence: it starts from the
    groups' ``initial_lr`` at its milestone (as every scheduler in a sequence starts from its
    base lr), and ``step(metrics)`` passes the metric to it (the others ignore it).

    Args:
        optimizer: the optimizer all the schedulers write to.
        schedulers: the schedulers, in order of use.
        milestones: the epochs at which the next scheduler takes over (one fewer than
            ``schedulers``).
        last_epoch: index of the last epoch (default -1: start fresh).

    Example::

        warmup = LinearLR(opt, start_factor=0.1, total_iters=5)
        sched = SequentialLR(opt, [warmup, CosineAnnealingLR(opt, T_max=95)], milestones=[5])
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: list[Any],
        milestones: list[int],
        last_epoch: int = -1,
    ) -> None:
        _check_children("SequentialLR", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers "
                f"{len(schedulers)} and the number of milestones to be equal to {len(milestones)}"
            )
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        self._step_count = 0
        for group in optimizer.param_groups:
            _set(group, "lr", group["initial_lr"])
        for s in self._schedulers:
            _undo_initial_steps(s)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        if not isinstance(first, ReduceLROnPlateau):
            first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self, metrics: Any = None) -> None:  # type: ignore[override]
        self.last_epoch += 1
        self._step_count += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if isinstance(scheduler, ReduceLROnPlateau):
            if metrics is None:
                raise TypeError("SequentialLR.step: the ReduceLROnPlateau phase needs a metric")
            if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
                for group in self.optimizer.param_groups:  # starts from the base lr, as others
                    _set(group, "lr", group["initial_lr"])
            scheduler.step(metrics)
        elif idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Container):
    """Step several schedulers together, each multiplying in its own change.

    Args:
        schedulers: the schedulers (of one optimizer; not ReduceLROnPlateau).
        optimizer: that optimizer (default: the first scheduler's).

    Example::

        sched = ChainedScheduler([ConstantLR(opt, 0.1, total_iters=2), ExponentialLR(opt, 0.9)])
    """

    def __init__(self, schedulers: Sequence[Any], optimizer: Optimizer | None = None) -> None:
        optimizer = optimizer or schedulers[0].optimizer if schedulers else optimizer
        _check_children("ChainedScheduler", optimizer, schedulers)
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(
                    "ChainedScheduler does not support `ReduceLROnPlateau` scheduler as it "
                    "requires additional kwargs to be specified when calling `step`, but got "
                    f"one at index {i} in the given schedulers sequence."
                )
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._step_count = 0
        self._last_lr = _group_values(optimizer, "lr")

    def step(self) -> None:  # type: ignore[override]
        for s in self._schedulers:
            s.step()
        self._last_lr = _group_values(self.optimizer, "lr")
