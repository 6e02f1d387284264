"""SWALR: anneal each group's lr to a constant SWA learning rate (torch's)."""

from __future__ import annotations

import math

from gdlab.optim._lr_base import LRScheduler, _per_group, _value
from gdlab.optim.optimizer import Optimizer

__all__ = ["SWALR"]


def _linear(t: float) -> float:
    return t


def _cosine(t: float) -> float:
    return (1 - math.cos(math.pi * t)) / 2


_ANNEAL = {"cos": _cosine, "linear": _linear}


class SWALR(LRScheduler):
    """Anneal every group's lr from its current value to ``swa_lr`` over ``anneal_epochs``,
    then hold it (torch.optim.swa_utils.SWALR, the same chainable arithmetic).

    lr_t = swa_lr·α(t) + lr_0·(1 − α(t)),  t = min(1, epoch/anneal_epochs),
    α(t) = (1 − cos πt)/2 ("cos") or t ("linear"); lr_0 is recovered from the current lr, so
    SWALR takes over from whatever schedule ran before.

    Args:
        optimizer: the optimizer.
        swa_lr: the final lr, one for all groups or a list with one per group.
        anneal_epochs: epochs of annealing, >= 0 (default 10).
        anneal_strategy: "cos" (default) or "linear".
        last_epoch: as every scheduler (default -1).

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> from gdlab.optim import SGD
        >>> opt = SGD([Parameter(np.zeros(1))], lr=1.0)
        >>> sched = SWALR(opt, swa_lr=0.1, anneal_epochs=2, anneal_strategy="linear")
        >>> lrs = []
        >>> for _ in range(3):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 6))
        >>> lrs
        [0.55, 0.1, 0.1]

    Reference: Izmailov et al., "Averaging Weights Leads to Wider Optima and Better
    Generalization", UAI 2018, https://arxiv.org/abs/1803.05407
    """

    def __init__(
        self, optimizer: Optimizer, swa_lr: float | list[float], anneal_epochs: int = 10,
        anneal_strategy: str = "cos", last_epoch: int = -1,
    ) -> None:  # fmt: skip
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        swa_lrs = _per_group("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in _ANNEAL:
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        if (
            isinstance(anneal_epochs, bool)
            or not isinstance(anneal_epochs, int)
            or (anneal_epochs < 0)
        ):
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self._anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[float]:
        anneal = _ANNEAL[self._anneal_strategy]
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        groups = self.optimizer.param_groups
        prev_lrs = [self._initial_lr(_value(g["lr"]), g["swa_lr"], prev_alpha) for g in groups]
        alpha = anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha)
                for g, lr in zip(groups, prev_lrs, strict=True)]  # fmt: skip
