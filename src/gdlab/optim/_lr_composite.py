"""Schedulers that combine others or react to a metric, and the cyclic ones (torch's numbers).

Public through :mod:`gdlab.optim.lr_scheduler`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from gdlab.optim import schedules
from gdlab.optim.lr_scheduler import LRScheduler, _lrs, _per_group
from gdlab.optim.optimizer import Optimizer

__all__ = [
    "ChainedScheduler", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR",
    "ReduceLROnPlateau", "SequentialLR",
]  # fmt: skip


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when the metric has not improved for ``patience`` epochs.

    Improvement (mode "min", threshold_mode "rel"): metric < best·(1 − threshold); "abs":
    metric < best − threshold; "max" mirrors. A NaN metric never counts as an improvement.
    ``step(metrics)`` needs the metric. Lrs never go below ``min_lr``, and changes smaller
    than ``eps`` are skipped.

    Example:
        >>> # sched = ReduceLROnPlateau(opt, factor=0.5, patience=3); sched.step(val_loss)
    """

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
        self.min_lrs = [float(m) for m in _per_group("min_lr", optimizer, min_lr)]
        self.patience, self.cooldown, self.eps = patience, cooldown, eps
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.last_epoch = 0
        self._step_count = 0
        self._last_lr = _lrs(optimizer)
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
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
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
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _lrs(self.optimizer)


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
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        children = state.pop("_schedulers")
        self.__dict__.update(state)
        for s, saved in zip(self._schedulers, children, strict=True):
            s.load_state_dict(saved)


class SequentialLR(_Container):
    """Run ``schedulers[i]`` from ``milestones[i-1]`` on (torch's semantics).

    Unlike torch, a :class:`ReduceLROnPlateau` may be in the sequence: it starts from the
    groups' ``initial_lr`` at its milestone (as every scheduler in a sequence starts from its
    base lr), and ``step(metrics)`` passes the metric to it (the others ignore it).

    Example:
        >>> # s = SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5),
        >>> #                        CosineAnnealingLR(opt, T_max=95)], milestones=[5])
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
            group["lr"] = group["initial_lr"]
        for s in self._schedulers:  # undo the initial step each child took
            s.last_epoch -= 1
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
                    group["lr"] = group["initial_lr"]
            scheduler.step(metrics)
        elif idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Container):
    """Step several schedulers together, each multiplying in its own change.

    Example:
        >>> # s = ChainedScheduler([ConstantLR(opt, 0.1, total_iters=2), ExponentialLR(opt, 0.9)])
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
        self._last_lr = _lrs(optimizer)

    def step(self) -> None:  # type: ignore[override]
        for s in self._schedulers:
            s.step()
        self._last_lr = _lrs(self.optimizer)


def _set_momentum(optimizer: Optimizer, group: dict, value: float, use_beta1: bool) -> None:
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _init_momentum(optimizer: Optimizer, base: Any, top: Any, last_epoch: int) -> bool:
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
        )
    use_beta1 = "betas" in optimizer.defaults
    bases = _per_group("base_momentum", optimizer, base)
    tops = _per_group("max_momentum", optimizer, top)
    if last_epoch == -1:
        for b, m, group in zip(bases, tops, optimizer.param_groups, strict=True):
            _set_momentum(optimizer, group, m, use_beta1)
            group["max_momentum"], group["base_momentum"] = m, b
    return use_beta1


class CyclicLR(LRScheduler):
    """Cyclical learning rate between base_lr and max_lr (step it once per batch).

    See :func:`gdlab.optim.schedules.cyclic` for the formula; with ``cycle_momentum`` the
    momentum (or Adam's β1) cycles inversely between base_momentum and max_momentum.

    Example:
        >>> # sched = CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=10)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float = 0.8,
        max_momentum: float = 0.9,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        args = (step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)
        self._wave = schedules.cyclic_wave(*args)
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _init_momentum(optimizer, base_momentum, max_momentum, last_epoch)
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def get_lr(self) -> list[float]:
        # base_lrs are the groups' initial_lr during the initial step, then base_lr (as torch)
        factor, scale = self._wave(self.last_epoch)
        lrs = [b + (m - b) * factor * scale
               for b, m in zip(self.base_lrs, self.max_lrs, strict=True)]  # fmt: skip
        if self.cycle_momentum:
            for group, b, m in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums, strict=True
            ):
                _set_momentum(self.optimizer, group, m - (m - b) * factor * scale, self.use_beta1)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_wave")}


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every T_i epochs, T_i = T_0·T_mult^i (SGDR).

    Example:
        >>> # sched = CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2)

    Reference: Loshchilov & Hutter, "SGDR", https://arxiv.org/abs/1608.03983
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cos = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (b - self.eta_min) * cos / 2 for b in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:
                n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult**n
        else:
            self.T_i = self.T_0
            self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = _lrs(self.optimizer)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (step once per batch); see :func:`gdlab.optim.schedules.one_cycle`.

    Example:
        >>> # sched = OneCycleLR(opt, max_lr=0.1, total_steps=1000)

    Reference: Smith & Topin, "Super-Convergence", https://arxiv.org/abs/1708.07120
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(
                    f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}"
                )
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        self.total_steps = total_steps
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        self._lr_shapes = [
            schedules.one_cycle(m, total_steps, pct_start, anneal_strategy, div_factor,
                                final_div_factor, three_phase)
            for m in max_lrs
        ]  # fmt: skip
        if last_epoch == -1:
            for m, group in zip(max_lrs, optimizer.param_groups, strict=True):
                group["initial_lr"] = m / div_factor
                group["max_lr"] = m
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _init_momentum(optimizer, base_momentum, max_momentum, last_epoch)
            # momentum follows the same phases, from max to base and back (div factors 1)
            self._momentum_shapes = [
                _momentum_cycle(b, m, total_steps, pct_start, anneal_strategy, three_phase)
                for b, m in zip(_per_group("base_momentum", optimizer, base_momentum),
                                _per_group("max_momentum", optimizer, max_momentum), strict=True)
            ]  # fmt: skip
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(
                f"Tried to step {t} times. The specified number of total steps is "
                f"{self.total_steps}"
            )
        if self.cycle_momentum:
            for group, shape in zip(
                self.optimizer.param_groups, self._momentum_shapes, strict=True
            ):
                _set_momentum(self.optimizer, group, shape(t), self.use_beta1)
        return [shape(t) for shape in self._lr_shapes]

    def state_dict(self) -> dict[str, Any]:
        skip = ("optimizer", "_lr_shapes", "_momentum_shapes")
        return {k: v for k, v in self.__dict__.items() if k not in skip}


def _momentum_cycle(
    base: float, top: float, total: int, pct_start: float, strategy: str, three_phase: bool
) -> schedules.Schedule:
    """Momentum of OneCycleLR: max → base during the lr's rise, then back to max."""
    up = float(pct_start * total) - 1
    if three_phase:
        phases = [
            (up, top, base),
            (float(2 * pct_start * total) - 2, base, top),
            (total - 1, top, top),
        ]  # noqa: E501
    else:
        phases = [(up, top, base), (total - 1, base, top)]

    def schedule(t: int) -> float:
        start_step = 0.0
        for i, (end_step, a, b) in enumerate(phases):
            if t <= end_step or i == len(phases) - 1:
                return schedules._anneal(a, b, (t - start_step) / (end_step - start_step), strategy)
            start_step = end_step
        raise AssertionError("unreachable")

    return schedule
