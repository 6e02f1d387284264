"""The cyclic schedulers: CyclicLR, OneCycleLR, CosineAnnealingWarmRestarts (torch's numbers).

Public through :mod:`gdlab.optim.lr_scheduler`.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from typing import Any

from gdlab.optim import schedules
from gdlab.optim._lr_base import LRScheduler, _group_values, _per_group, _set
from gdlab.optim.optimizer import Optimizer

__all__ = ["CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR"]


def _set_momentum(group: dict, value: float, use_beta1: bool) -> None:
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
            _set_momentum(group, m, use_beta1)
            group["max_momentum"], group["base_momentum"] = m, b
    return use_beta1


class CyclicLR(LRScheduler):
    """Cyclical learning rate between base_lr and max_lr (step it once per batch).

    lr = base_lr + (max_lr − base_lr)·wave(t)·scale, where wave rises from 0 to 1 over
    ``step_size_up`` steps and falls back over ``step_size_down`` (see
    :func:`gdlab.optim.schedules.cyclic`); with ``cycle_momentum`` the momentum (or Adam's β1)
    cycles inversely between base_momentum and max_momentum.

    Args:
        optimizer: the optimizer whose ``group["lr"]`` (and momentum) is written.
        base_lr, max_lr: the cycle's bounds, one for all groups or a list.
        step_size_up: steps of the rising half (default 2000).
        step_size_down: steps of the falling half (default: step_size_up).
        mode: "triangular", "triangular2" (amplitude halved every cycle) or "exp_range"
            (amplitude ×gamma^t) (default "triangular").
        gamma: the "exp_range" factor (default 1).
        scale_fn, scale_mode: a custom amplitude function of the cycle or the step instead
            of ``mode`` (default None, "cycle").
        cycle_momentum: cycle the momentum too (default True).
        base_momentum, max_momentum: the momentum's bounds (default 0.8, 0.9).
        last_epoch: index of the last batch (default -1: start fresh).

    Example::

        sched = CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=10)   # step per batch

    Reference: Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017,
    https://arxiv.org/abs/1506.01186
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
                _set(group, "lr", lr)
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        self.total_size, self.step_ratio = schedules.cyclic_period(step_size_up, step_size_down)
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = schedules.cyclic_scale_mode(mode, scale_fn, scale_mode)
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _init_momentum(optimizer, base_momentum, max_momentum, last_epoch)
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """The cycle's amplitude at cycle (or step) ``x``: the custom function or the mode's."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return schedules.cyclic_scale(self.mode, self.gamma, x)

    def get_lr(self) -> list[float]:
        # base_lrs are the groups' initial_lr during the initial step, then base_lr (as torch)
        factor, cycle = schedules.cyclic_position(self.last_epoch, self.total_size, self.step_ratio)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [b + (m - b) * factor * scale
               for b, m in zip(self.base_lrs, self.max_lrs, strict=True)]  # fmt: skip
        if self.cycle_momentum:
            for group, b, m in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums, strict=True
            ):
                _set_momentum(group, m - (m - b) * factor * scale, self.use_beta1)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """As torch: a custom ``scale_fn`` is saved as None (a function) or its ``__dict__``."""
        state = self._saved_state()
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = (
            None if fn is None or isinstance(fn, types.FunctionType) else fn.__dict__.copy()
        )
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("_scale_fn_custom", None)
        self.__dict__.update(state)
        if saved is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(saved)


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every T_i epochs, T_i = T_0·T_mult^i (SGDR).

    lr = η_min + (initial_lr − η_min)·(1 + cos(π·T_cur/T_i))/2, T_cur the epochs since the
    last restart; ``step(epoch)`` accepts fractional epochs (per-batch stepping).

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        T_0: epochs until the first restart; a positive integer.
        T_mult: growth factor of the period; an integer ≥ 1 (default 1).
        eta_min: η_min, the lowest lr (default 0).
        last_epoch: index of the last epoch (default -1: start fresh).

    Example::

        sched = CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2)   # restarts at 10, 30, 70

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
            _set(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer, "lr")


class OneCycleLR(LRScheduler):
    """The 1cycle policy (step once per batch); see :func:`gdlab.optim.schedules.one_cycle`.

    The lr rises from max_lr/div_factor to max_lr over ``pct_start`` of the steps, then
    anneals to max_lr/(div_factor·final_div_factor); the momentum moves inversely.

    Args:
        optimizer: the optimizer whose ``group["lr"]`` (and momentum) is written.
        max_lr: the peak lr, one for all groups or a list.
        total_steps: number of steps of the cycle; or give ``epochs`` and
            ``steps_per_epoch``.
        pct_start: fraction of the steps spent rising (default 0.3).
        anneal_strategy: "cos" or "linear" (default "cos").
        cycle_momentum: cycle the momentum (or Adam's β1) too (default True).
        base_momentum, max_momentum: the momentum's bounds (default 0.85, 0.95).
        div_factor: initial lr = max_lr/div_factor (default 25).
        final_div_factor: final lr = initial lr/final_div_factor (default 1e4).
        three_phase: rise and fall symmetrically, then a third phase down to the final lr
            (Smith's original schedule) instead of falling to it in one (default False).
        last_epoch: index of the last batch (default -1: start fresh).

    Example::

        sched = OneCycleLR(opt, max_lr=0.1, total_steps=1000)   # sched.step() after each batch

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
        total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
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
                _set_momentum(group, shape(t), self.use_beta1)
        return [shape(t) for shape in self._lr_shapes]

    def state_dict(self) -> dict[str, Any]:
        return self._saved_state("_lr_shapes", "_momentum_shapes")


def _total_steps(total_steps: int | None, epochs: int | None, steps_per_epoch: int | None) -> int:
    """OneCycleLR's length: ``total_steps``, or ``epochs·steps_per_epoch`` (torch's checks)."""
    if total_steps is not None:
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        return total_steps
    if epochs is None or steps_per_epoch is None:
        raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
    if not isinstance(epochs, int) or epochs <= 0:
        raise ValueError(f"Expected positive integer epochs, but got {epochs}")
    if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
        raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
    return epochs * steps_per_epoch


def _momentum_cycle(
    base: float, top: float, total: int, pct_start: float, strategy: str, three_phase: bool
) -> schedules.Schedule:
    """Momentum of OneCycleLR: max → base during the lr's rise, then back to max."""
    values = [top, base, top, top] if three_phase else [top, base, top]
    ends = schedules.one_cycle_phase_ends(total, pct_start, three_phase)
    return schedules.anneal_phases(list(zip(ends, values, values[1:], strict=False)), strategy)
