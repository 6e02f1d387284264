"""Schedule-Free RAdam: the schedule-free average with RAdam's rectification as its warm-up."""

from __future__ import annotations

import numpy as np

from gdlab.optim._schedule_free import (
    ScheduleFreeOptimizer,
    adam_direction,
    averaging_weight,
    new_state,
    step_y_and_z,
)
from gdlab.optim._scratch import ema_sq_, grad_into, scratch
from gdlab.optim.optimizer import ParamsT, hyperparameters
from gdlab.optim.radam import rectification

__all__ = ["RAdamScheduleFree", "radam_schedule_free_"]


def radam_schedule_free_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
    r: float = 0.0, weight_lr_power: float = 2.0, silent_sgd_phase: bool = True,
    maximize: bool = False,
) -> None:  # fmt: skip
    """One Schedule-Free RAdam step in place on y = ``param`` (the reference rule; see
    :class:`RAdamScheduleFree`)."""
    if "z" not in state:
        state.update(new_state(param), exp_avg_sq=np.zeros_like(param))
    beta1, beta2 = betas
    t = state["step"] + 1
    rect = rectification(beta2, t, min_rho=4.0)  # None until the variance is tractable
    lr_t = lr * (rect if rect is not None else 0.0 if silent_sgd_phase else 1.0)
    c = averaging_weight(state, lr_t, r, weight_lr_power)
    u, work = scratch(state, param, 2)
    v = state["exp_avg_sq"]
    ema_sq_(v, grad, beta2, work)  # v ← β2·v + (1 − β2)·g²
    if rect is not None:
        adam_direction(u, grad, v, 1.0 - beta2**t, eps)
        u = grad_into(param, u, weight_decay, maximize, u, work)  # ±u + λ·y
    else:  # an SGD step
        u = grad_into(param, grad, weight_decay, maximize, u, work)
    step_y_and_z(param, state["z"], u, c, lr_t, beta1, work)


class RAdamScheduleFree(ScheduleFreeOptimizer):
    """Schedule-Free RAdam: Schedule-Free AdamW whose step size is RAdam's rectification
    (so no ``warmup_steps``).

    Update (as :class:`AdamWScheduleFree`, with γ_t = lr·r_t)::

        ρ_∞ = 2/(1 − β2) − 1,   ρ_t = ρ_∞ − 2t·β2^t/(1 − β2^t)
        r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2)ρ_t))   if ρ_t > 4
        r_t = 0 (silent_sgd_phase) or 1 with u_t = g_t (an SGD step)   otherwise

    Note:
        Argument names and defaults are the ``schedulefree`` package's ``RAdamScheduleFree``
        (the authors' repository). Equal step for step to it, with the two differences of
        :class:`SGDScheduleFree`, and ``maximize`` added. With the default
        ``silent_sgd_phase=True`` the first steps (ρ_t ≤ 4: 5 steps at β2 = 0.999) leave
        the parameters where they are.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 0.0025).
        betas: (β1 the interpolation, β2 the second moment's) (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: decoupled decay λ, at y (default 0).
        r: the power of t in the averaging weights (default 0).
        weight_lr_power: the power of max γ in the averaging weights (default 2).
        silent_sgd_phase: no step while ρ_t ≤ 4 (default True); False takes SGD steps.
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = RAdamScheduleFree([w], lr=0.1)
        >>> w.grad = np.array([2.0])
        >>> opt.step()  # ρ_1 ≤ 4: the silent phase
        >>> w.data
        array([1.])

    Reference: Defazio et al., "The Road Less Scheduled", NeurIPS 2024,
    https://arxiv.org/abs/2405.15682; Liu et al., "On the Variance of the Adaptive Learning
    Rate and Beyond", ICLR 2020; https://github.com/facebookresearch/schedule_free
    """

    _rule = staticmethod(radam_schedule_free_)
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.0025,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        r: float = 0.0,
        weight_lr_power: float = 2.0,
        silent_sgd_phase: bool = True,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
