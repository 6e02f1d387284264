"""D-Adaptation SGD: SGD (dual averaging) whose step size d is estimated on the fly."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from gdlab.optim._d_adaptation import DEstimateOptimizer, Slot, effective_grad, work_array
from gdlab.optim.optimizer import ParamsT, hyperparameters

__all__ = ["DAdaptSGD", "DAdaptSGDEstimate", "dadapt_sgd_"]


class DAdaptSGDEstimate(NamedTuple):
    """The running estimate, stored in every param group under dadaptation's names."""

    d: float  # the distance-to-solution estimate, never decreasing
    numerator_weighted: float  # Σ dlr·⟨g_k, s_k⟩
    g0_norm: float  # ‖g_0‖, the first gradient's norm (normalises the step)
    k: int  # steps taken


def dadapt_sgd_(
    slots: list[Slot], est: DAdaptSGDEstimate, *, lr: float, momentum: float = 0.0,
    d0: float = 1e-6, growth_rate: float = math.inf,
) -> DAdaptSGDEstimate:  # fmt: skip
    """One D-Adaptation SGD step of every parameter in place; returns the new estimate (the
    reference rule; see :class:`DAdaptSGD`). Each slot's group gives ``lr`` (lr or 0),
    ``weight_decay`` and ``maximize``."""
    g0_norm = est.g0_norm
    if est.k == 0:  # the first gradient's norm, without the decay term (as dadaptation)
        squares = sum(float(grad.ravel() @ grad.ravel()) for _, grad, _, gr in slots if gr["lr"])
        g0_norm = math.sqrt(squares)
    d = est.d
    dlr = d * lr / g0_norm if g0_norm else 0.0  # a zero first gradient: no step
    numerator, sk_sq = est.numerator_weighted, 0.0
    for param, grad, state, group in slots:
        if "s" not in state:
            state.update(z=param.copy(), s=np.zeros_like(param), x0=param.copy())
        wd = group["weight_decay"]
        g = effective_grad(param, grad, state, maximize=group["maximize"], weight_decay=wd)
        if group["lr"] > 0.0:
            s = state["s"]
            numerator += dlr * float(g.ravel() @ s.ravel())
            u = work_array(state, "_u", param)
            np.multiply(g, dlr, out=u)
            s += u  # s_k = Σ dlr_i·g_i: the dual average's sum
            sk_sq += float(s.ravel() @ s.ravel())
    if sk_sq == 0:  # nothing to step on: nothing moves, the estimate is not updated
        return est
    d_hat = 2 * numerator / math.sqrt(sk_sq)
    d = max(d, min(d_hat, d * growth_rate))
    for param, _, state, _ in slots:
        z, u = state["z"], work_array(state, "_u", param)
        np.subtract(state["x0"], state["s"], out=z)
        param *= momentum  # x ← β·x + (1 − β)·z: the averaging form of momentum
        np.multiply(z, 1.0 - momentum, out=u)
        param += u
    return DAdaptSGDEstimate(d, numerator, g0_norm, est.k + 1)


class DAdaptSGD(DEstimateOptimizer):
    """D-Adaptation SGD (Defazio & Mishchenko 2023): dual averaging with the step d·lr/‖g_0‖,
    d a lower bound on the distance to the solution, so lr = 1 needs no tuning.

    Update (dadaptation's ``DAdaptSGD``, the paper's Algorithm 1 with momentum as averaging)::

        γ_k = d_k·lr/‖g_0‖
        s_{k+1} = s_k + γ_k·g_k
        r_{k+1} = r_k + γ_k·⟨g_k, s_k⟩
        d_{k+1} = max(d_k, min(2·r_{k+1}/‖s_{k+1}‖, growth_rate·d_k))
        z_{k+1} = x_0 − s_{k+1}
        x_{k+1} = β·x_k + (1 − β)·z_{k+1}                 (β = momentum)

    Note:
        Names and defaults are dadaptation's ``DAdaptSGD`` (``log_every`` and
        ``fsdp_in_use`` left out: gdlab's library code does not log, and has no distributed
        runs); equal step for step. Two differences: weight decay is per group (the
        reference applies the first group's to all: equal when the groups agree), and
        the reference's ``g_0`` is the raw first gradient (its decay term is computed and
        dropped), which gdlab keeps. Every group must have the same lr or lr = 0
        (``ValueError``; the reference's ``RuntimeError``).

    Args:
        params: parameters or param groups.
        lr: multiplier of the estimated step (default 1.0: leave it).
        momentum: β, the averaging weight of the iterates (default 0).
        weight_decay: L2 penalty added to g (default 0).
        d0: the initial estimate (default 1e-6).
        growth_rate: cap on d's growth per step (default inf).
        maximize: maximize the objective (default False; gdlab's addition, per group).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([3.0, 4.0]))
        >>> opt = DAdaptSGD([w])
        >>> w.grad = np.array([3.0, 4.0])
        >>> opt.step()  # the first step is d0·g/‖g_0‖
        >>> w.data
        array([2.9999994, 3.9999992])

    Reference: Defazio & Mishchenko, "Learning-Rate-Free Learning by D-Adaptation", ICML
    2023, https://arxiv.org/abs/2301.07733; https://github.com/facebookresearch/dadaptation
    """

    _global_rule = staticmethod(dadapt_sgd_)
    _estimate_type = DAdaptSGDEstimate
    _scalar_state_keys = frozenset()
    _param_shaped_keys = frozenset({"z", "s", "x0"})
    _nonnegative = ("momentum", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        d0: float = 1e-6,
        growth_rate: float = math.inf,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _first_estimate(self) -> DAdaptSGDEstimate:
        return DAdaptSGDEstimate(self.defaults["d0"], 0.0, 0.0, 0)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        if not group["momentum"] < 1.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
