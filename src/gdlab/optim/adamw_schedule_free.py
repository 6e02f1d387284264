"""Schedule-Free AdamW: Adam's second moment with the schedule-free average instead of momentum."""

from __future__ import annotations

import numpy as np

from gdlab.optim._schedule_free import (
    ScheduleFreeOptimizer,
    adam_direction,
    averaging_weight,
    new_state,
    step_y_and_z,
    warmup_lr,
)
from gdlab.optim._scratch import ema_sq_, grad_into, scratch
from gdlab.optim.optimizer import ParamsT, hyperparameters

__all__ = ["AdamWScheduleFree", "adamw_schedule_free_"]


def adamw_schedule_free_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
    warmup_steps: int = 0, r: float = 0.0, weight_lr_power: float = 2.0, maximize: bool = False,
) -> None:  # fmt: skip
    """One Schedule-Free AdamW step in place on y = ``param`` (the reference rule; see
    :class:`AdamWScheduleFree`)."""
    if "z" not in state:
        state.update(new_state(param), exp_avg_sq=np.zeros_like(param))
    beta1, beta2 = betas
    lr_t = warmup_lr(lr, state, warmup_steps)
    c = averaging_weight(state, lr_t, r, weight_lr_power)  # counts the step: t = state["step"]
    u, work = scratch(state, param, 2)
    v = state["exp_avg_sq"]
    ema_sq_(v, grad, beta2, work)  # v ← β2·v + (1 − β2)·g²
    adam_direction(u, grad, v, 1.0 - beta2 ** state["step"], eps)
    u = grad_into(param, u, weight_decay, maximize, u, work)  # ±u + λ·y (decoupled, at y)
    step_y_and_z(param, state["z"], u, c, lr_t, beta1, work)


class AdamWScheduleFree(ScheduleFreeOptimizer):
    """Schedule-Free AdamW (Defazio et al. 2024): the schedule-free average with Adam's
    per-coordinate step size.

    Update (the paper's Algorithm 1, with the ``schedulefree`` package's weighting)::

        v_t = β2·v_{t-1} + (1 − β2)·g_t²,          g_t = ∇f(y_t)
        u_t = g_t / (√(v_t / (1 − β2^t)) + ε) + λ·y_t
        z_{t+1} = z_t − γ_t·u_t
        x_{t+1} = (1 − c_{t+1})·x_t + c_{t+1}·z_{t+1}
        y_{t+1} = (1 − β1)·z_{t+1} + β1·x_{t+1}       # the parameter during training
        c_{t+1} = w_t / Σ_{i≤t} w_i,   w_t = t^r · (max_{i≤t} γ_i)^p,   γ_t = lr·min(1, t/warmup)

    ``eval()`` puts x in the parameters, ``train()`` puts y back.

    Note:
        Argument names and defaults are the ``schedulefree`` package's ``AdamWScheduleFree``.
        Equal step for step to it, with the two differences of :class:`SGDScheduleFree`
        (per-parameter step counts; ``RuntimeError`` for a step in eval mode), and
        ``maximize`` added. β1 must be > 0 (x is recovered by dividing by β1).

    Args:
        params: parameters or param groups.
        lr: learning rate γ (default 0.0025).
        betas: (β1 the interpolation, β2 the second moment's) (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: decoupled decay λ, at y (default 0).
        warmup_steps: linear warm-up steps of γ (default 0).
        r: the power of t in the averaging weights (default 0).
        weight_lr_power: the power of max γ in the averaging weights (default 2).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0, -1.0]))
        >>> opt = AdamWScheduleFree([w], lr=0.1)
        >>> w.grad = np.array([3.0, -0.5])
        >>> opt.step()  # the first step moves each coordinate by ≈ lr
        >>> np.round(w.data, 6)
        array([ 0.9, -0.9])

    Reference: Defazio, Yang, Mehta, Mishchenko, Khaled, Cutkosky, "The Road Less Scheduled",
    NeurIPS 2024, https://arxiv.org/abs/2405.15682; https://github.com/facebookresearch/schedule_free
    """

    _rule = staticmethod(adamw_schedule_free_)
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.0025,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        warmup_steps: int = 0,
        r: float = 0.0,
        weight_lr_power: float = 2.0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
