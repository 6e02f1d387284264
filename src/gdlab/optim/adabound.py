"""AdaBound and AMSBound: Adam whose per-coordinate step is clipped into bounds closing on SGD's."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim._scratch import ema_moments_, grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["AdaBound", "adabound_"]


def adabound_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), final_lr: float = 0.1, gamma: float = 1e-3,
    eps: float = 1e-8, weight_decay: float = 0.0, amsbound: bool = False,
    maximize: bool = False,
) -> None:  # fmt: skip
    """One AdaBound step in place (the reference rule; see :class:`AdaBound`)."""
    if "exp_avg" not in state:
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param),
                     base_lr=lr)  # fmt: skip
        if amsbound:
            state["max_exp_avg_sq"] = np.zeros_like(param)
    beta1, beta2 = betas
    a, b = scratch(state, param, 2)
    g = grad_into(param, grad, weight_decay, maximize, a, b)
    state["step"] += 1.0
    t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
    ema_moments_(m, v, g, betas, b)  # m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²
    if amsbound:
        np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        v = state["max_exp_avg_sq"]
    step_size = lr * math.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
    # a scheduler's change of lr moves the bounds too (final_lr is relative to the first lr)
    final = final_lr * lr / state["base_lr"] if state["base_lr"] > 0 else 0.0
    lower, upper = final * (1.0 - 1.0 / (gamma * t + 1.0)), final * (1.0 + 1.0 / (gamma * t))
    rate = np.sqrt(v, out=a)
    rate += eps
    np.divide(step_size, rate, out=rate)
    np.clip(rate, lower, upper, out=rate)  # each coordinate's lr, within the bounds
    rate *= m
    param -= rate


class AdaBound(Optimizer):
    """AdaBound: Adam's per-coordinate learning rate clipped into [η_l(t), η_u(t)] → final_lr.

    Update (Luo et al., Algorithm 2 as the authors' code computes it)::

        g_t ← g_t + λ·θ_{t-1}
        m_t = β1·m_{t-1} + (1 − β1)·g_t,   v_t = β2·v_{t-1} + (1 − β2)·g_t²
        (amsbound: v_t ← max(v_{t-1}, v_t))
        η_t = clip(lr·√(1 − β2^t)/(1 − β1^t)/(√v_t + ε), η_l(t), η_u(t))
        η_l(t) = α*·(1 − 1/(γt + 1)),   η_u(t) = α*·(1 + 1/(γt)),   α* = final_lr·lr/lr_0
        θ_t = θ_{t-1} − η_t·m_t

    Note:
        Defaults and argument names are the authors' (Luolc/AdaBound, ``adabound`` 0.0.5);
        AMSBound is ``AdaBound(amsbound=True)``. lr_0 is the lr of the parameter's first
        step (the authors take the group's lr at construction; they differ only if lr is
        changed before the first step). Equal step for step to the authors' ``adabound``.
        kozistr's ``pytorch_optimizer.AdaBound`` decays weights decoupled by default and
        adds 1e-15 to v under the root.

    Args:
        params: parameters or param groups.
        lr: Adam's learning rate (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        final_lr: the SGD learning rate the bounds converge to (default 0.1).
        gamma: the convergence speed of the bounds (default 1e-3), in (0, 1).
        eps: ε (default 1e-8).
        weight_decay: L2 penalty λ (default 0).
        amsbound: AMSGrad's running maximum of v (default False).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = AdaBound([w], lr=0.1, final_lr=0.1, gamma=0.5)
        >>> w.grad = np.array([2.0])
        >>> opt.step()  # Adam's rate 0.5 is clipped to η_u(1) = 0.1·(1 + 1/0.5); m_1 = 0.2
        >>> w.data.round(6)
        array([0.94])

    Reference: Luo et al., "Adaptive Gradient Methods with Dynamic Bound of Learning Rate",
    ICLR 2019, https://arxiv.org/abs/1902.09843
    """

    _rule = staticmethod(adabound_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq", "max_exp_avg_sq"})
    _scalar_state_keys = frozenset({"step", "base_lr"})
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        final_lr: float = 0.1,
        gamma: float = 1e-3,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsbound: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        if not 0.0 <= group["final_lr"]:
            raise ValueError(f"Invalid final learning rate: {group['final_lr']}")
        if not 0.0 < group["gamma"] < 1.0:
            raise ValueError(f"Invalid gamma parameter: {group['gamma']}")
