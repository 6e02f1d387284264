"""Schedulers that decay the lr epoch by epoch: lambda, step, exponential, polynomial, cosine.

Public through :mod:`gdlab.optim.lr_scheduler`. Each computes torch's recursive ("chainable")
form in ``get_lr`` and the closed form in ``_get_closed_form_lr`` (used by ``step(epoch)``).
"""

from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from gdlab.optim._lr_base import LRScheduler, _lrs, _per_group, _scaled_lrs, _value
from gdlab.optim.optimizer import Optimizer

__all__ = [
    "ConstantLR", "CosineAnnealingLR", "ExponentialLR", "LambdaLR", "LinearLR", "MultiStepLR",
    "MultiplicativeLR", "PolynomialLR", "StepLR",
]  # fmt: skip


class LambdaLR(LRScheduler):
    """lr = initial_lr · lr_lambda(epoch) (one function, or one per group).

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        lr_lambda: a function of the epoch giving the factor, or a list with one per group.
            Callable objects (not plain functions) have their ``__dict__`` saved in
            ``state_dict()``.
        last_epoch: index of the last epoch (default -1: start fresh).

    Example::

        sched = LambdaLR(opt, lambda epoch: 0.95**epoch)   # lr_t = lr·0.95^t
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        self.optimizer = optimizer
        self.lr_lambdas = _per_group("lr_lambda", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        state = self._saved_state("lr_lambdas")
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        fns = self._load_saved_state(state_dict, "lr_lambdas")
        for fn, saved in zip(self.lr_lambdas, fns, strict=True):
            if saved is not None:
                fn.__dict__.update(saved)

    def get_lr(self) -> list[float]:
        pairs = zip(self.lr_lambdas, self.base_lrs, strict=True)
        return [base * fn(self.last_epoch) for fn, base in pairs]


class MultiplicativeLR(LambdaLR):
    """lr ← lr · lr_lambda(epoch) at every step after the first.

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        lr_lambda: a function of the epoch giving the factor, or a list with one per group.
        last_epoch: index of the last epoch (default -1: start fresh).

    Example::

        sched = MultiplicativeLR(opt, lambda epoch: 0.95)   # ×0.95 every epoch
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        for fn in _per_group("lr_lambda", optimizer, lr_lambda):
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return _lrs(self.optimizer)
        return [
            _value(g["lr"]) * fn(self.last_epoch)
            for fn, g in zip(self.lr_lambdas, self.optimizer.param_groups, strict=True)
        ]


class StepLR(LRScheduler):
    """lr = initial_lr · γ^⌊epoch/step_size⌋ (computed as torch: ×γ every step_size epochs).

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        step_size: epochs between decays; positive.
        gamma: decay factor γ; positive (default 0.1).
        last_epoch: index of the last epoch (default -1: start fresh).

    Example::

        sched = StepLR(opt, step_size=30, gamma=0.1)   # 0.1 → 0.01 at epoch 30 → 0.001 at 60
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if not step_size > 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size}")
        if not gamma > 0:
            raise ValueError(f"StepLR: gamma must be positive, got {gamma}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _lrs(self.optimizer)
        return _scaled_lrs(self.optimizer, self.gamma)

    def _get_closed_form_lr(self) -> list[float]:
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr ×= γ at each milestone epoch (milestones may repeat; unsorted ones are fine).

    lr = initial_lr · γ^(number of milestones ≤ epoch).

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        milestones: epochs at which the lr is multiplied by γ (a repeated one, γ^k).
        gamma: decay factor γ (default 0.1).
        last_epoch: index of the last epoch (default -1: start fresh).

    Example::

        sched = MultiStepLR(opt, milestones=[30, 80], gamma=0.1)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return _lrs(self.optimizer)
        factor = self.gamma ** self.milestones[self.last_epoch]
        return _scaled_lrs(self.optimizer, factor)

    def _get_closed_form_lr(self) -> list[float]:
        ms = sorted(self.milestones.elements())
        return [b * self.gamma ** bisect_right(ms, self.last_epoch) for b in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = initial_lr · factor for the first ``total_iters`` epochs, then initial_lr.

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        factor: the factor in [0, 1] (default 1/3).
        total_iters: epochs with the reduced lr (default 5).
        last_epoch: index of the last epoch (default -1: start fresh).

    Example::

        sched = ConstantLR(opt, factor=0.5, total_iters=4)   # half the lr for 4 epochs
    """

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return _scaled_lrs(self.optimizer, self.factor)
        if self.last_epoch != self.total_iters:
            return _lrs(self.optimizer)
        return _scaled_lrs(self.optimizer, 1.0 / self.factor)

    def _get_closed_form_lr(self) -> list[float]:
        on = self.last_epoch >= self.total_iters
        return [b * (self.factor + on * (1 - self.factor)) for b in self.base_lrs]


class LinearLR(LRScheduler):
    """lr factor goes linearly from start_factor to end_factor over total_iters epochs.

    lr = initial_lr · (s + (e − s)·min(epoch, total_iters)/total_iters).

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        start_factor: s in (0, 1] (default 1/3).
        end_factor: e in [0, 1] (default 1).
        total_iters: epochs to go from s to e (default 5).
        last_epoch: index of the last epoch (default -1: start fresh).

    Example::

        sched = LinearLR(opt, start_factor=0.1, total_iters=5)   # a linear warm-up
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or "
                "equal to 1."
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return _scaled_lrs(self.optimizer, self.start_factor)
        if self._is_initial or self.last_epoch > self.total_iters:
            return _lrs(self.optimizer)
        delta = self.end_factor - self.start_factor
        factor = 1.0 + delta / (
            self.total_iters * self.start_factor + (self.last_epoch - 1) * delta
        )
        return _scaled_lrs(self.optimizer, factor)

    def _get_closed_form_lr(self) -> list[float]:
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [b * (self.start_factor + (self.end_factor - self.start_factor) * frac)
                for b in self.base_lrs]  # fmt: skip


class ExponentialLR(LRScheduler):
    """lr ← lr·γ every epoch (lr = initial_lr·γ^epoch).

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        gamma: decay factor γ; positive.
        last_epoch: index of the last epoch (default -1: start fresh).

    Example::

        sched = ExponentialLR(opt, gamma=0.9)
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        if not gamma > 0:
            raise ValueError(f"ExponentialLR: gamma must be positive, got {gamma}")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return _lrs(self.optimizer)
        return _scaled_lrs(self.optimizer, self.gamma)

    def _get_closed_form_lr(self) -> list[float]:
        return [b * self.gamma**self.last_epoch for b in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = initial_lr·(1 − min(epoch, total_iters)/total_iters)^power.

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        total_iters: epochs until the lr reaches 0 (default 5).
        power: the polynomial's power (default 1: linear decay).
        last_epoch: index of the last epoch (default -1: start fresh).

    Example::

        sched = PolynomialLR(opt, total_iters=4, power=2.0)
    """

    def __init__(
        self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1
    ) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial or self.last_epoch > self.total_iters:
            return _lrs(self.optimizer)
        factor = (
            (1.0 - self.last_epoch / self.total_iters)
            / (1.0 - (self.last_epoch - 1) / self.total_iters)
        ) ** self.power
        return _scaled_lrs(self.optimizer, factor)

    def _get_closed_form_lr(self) -> list[float]:
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [b * (1.0 - frac) ** self.power for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = η_min + (initial_lr − η_min)·(1 + cos(π·epoch/T_max))/2 (torch's recursive form).

    Past T_max the lr rises again (a cosine, not a restart; see CosineAnnealingWarmRestarts).

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        T_max: epochs from initial_lr down to η_min; positive.
        eta_min: η_min, the lowest lr (default 0).
        last_epoch: index of the last epoch (default -1: start fresh).

    Example::

        sched = CosineAnnealingLR(opt, T_max=100, eta_min=1e-4)

    Reference: Loshchilov & Hutter, "SGDR", https://arxiv.org/abs/1608.03983
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, e = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if self._is_initial:
            return _lrs(self.optimizer)
        if self._step_count == 1 and t > 0:
            return [e + (b - e) * (1 + math.cos(t * math.pi / T)) / 2 for b in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [_value(g["lr"]) + (b - e) * (1 - math.cos(math.pi / T)) / 2
                    for b, g in zip(self.base_lrs, groups, strict=True)]  # fmt: skip
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (_value(g["lr"]) - e) + e for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        t, T, e = self.last_epoch, self.T_max, self.eta_min
        return [e + (b - e) * (1 + math.cos(math.pi * t / T)) / 2 for b in self.base_lrs]
