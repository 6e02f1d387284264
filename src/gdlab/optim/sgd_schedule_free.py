"""Schedule-Free SGD: momentum replaced by an average, no learning-rate schedule to choose."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.optim._schedule_free import (
    ScheduleFreeOptimizer,
    averaging_weight,
    new_state,
    step_y_and_z,
    warmup_lr,
)
from gdlab.optim._scratch import grad_into, scratch
from gdlab.optim.optimizer import ParamsT, hyperparameters

__all__ = ["SGDScheduleFree", "sgd_schedule_free_"]


def sgd_schedule_free_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, momentum: float = 0.9,
    weight_decay: float = 0.0, warmup_steps: int = 0, r: float = 0.0,
    weight_lr_power: float = 2.0, maximize: bool = False,
) -> None:  # fmt: skip
    """One Schedule-Free SGD step in place on y = ``param`` (the reference rule; see
    :class:`SGDScheduleFree`)."""
    if "z" not in state:
        state.update(new_state(param))
    lr_t = warmup_lr(lr, state, warmup_steps)
    c = averaging_weight(state, lr_t, r, weight_lr_power)
    u, work = scratch(state, param, 2)
    u = grad_into(param, grad, weight_decay, maximize, u, work)  # ±g + λ·y: decay at y
    step_y_and_z(param, state["z"], u, c, lr_t, momentum, work)


class SGDScheduleFree(ScheduleFreeOptimizer):
    """Schedule-Free SGD (Defazio et al. 2024): SGD steps on z, the model evaluated at their
    running average x, gradients taken between the two at y.

    Update (the paper's Algorithm 1, with the ``schedulefree`` package's weighting)::

        y_t = (1 − β)·z_t + β·x_t                    # the parameter during training
        z_{t+1} = z_t − γ_t·(∇f(y_t) + λ·y_t)
        x_{t+1} = (1 − c_{t+1})·x_t + c_{t+1}·z_{t+1}
        c_{t+1} = w_t / Σ_{i≤t} w_i,   w_t = t^r · (max_{i≤t} γ_i)^p
        γ_t = lr · min(1, t / warmup_steps)

    Only y and z are stored; ``eval()`` puts x in the parameters, ``train()`` puts y back
    (call them around every evaluation: gdlab's Trainer does). β is ``momentum``.

    Note:
        Argument names and defaults are the ``schedulefree`` package's ``SGDScheduleFree``
        (``r`` and ``weight_lr_power`` = p). Equal step for step to it, with two
        differences: the step count and the averaging weights are per parameter (as torch's
        ``step``; the package keeps them per group, so the two differ only for a parameter
        that has no gradient at some steps), and ``step`` in eval mode raises
        ``RuntimeError`` (the package raises ``Exception``). gdlab adds ``maximize``. A new
        optimizer is in train mode (before the first step x = y, so the modes agree).

    Args:
        params: parameters or param groups.
        lr: learning rate γ (default 1.0, the package's; the paper tunes it as SGD's x10).
        momentum: β, the interpolation between z and x (default 0.9, in (0, 1)).
        weight_decay: L2 penalty λ, applied at y (default 0).
        warmup_steps: linear warm-up steps of γ (default 0).
        r: the power of t in the averaging weights (default 0: uniform).
        weight_lr_power: the power of max γ in the averaging weights (default 2).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = SGDScheduleFree([w], lr=0.1)
        >>> w.grad = np.array([1.0])
        >>> opt.step()  # c_1 = 1: y = z − γ·g
        >>> w.data
        array([0.9])

    Reference: Defazio, Yang, Mehta, Mishchenko, Khaled, Cutkosky, "The Road Less Scheduled",
    NeurIPS 2024, https://arxiv.org/abs/2405.15682; https://github.com/facebookresearch/schedule_free
    """

    _rule = staticmethod(sgd_schedule_free_)
    _nonnegative = ("weight_decay",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        warmup_steps: int = 0,
        r: float = 0.0,
        weight_lr_power: float = 2.0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _beta(self, group: dict[str, Any]) -> float:
        return group["momentum"]

    def _validate(self, group: dict[str, Any]) -> None:
        if not 0.0 < group["momentum"] < 1.0:
            raise ValueError(f"Momentum must be between 0 and 1 exclusive: {group['momentum']}")
        super()._validate(group)
