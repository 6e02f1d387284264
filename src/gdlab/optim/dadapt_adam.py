"""D-Adaptation Adam: Adam whose step size d is estimated on the fly (no lr to tune)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from gdlab.optim._d_adaptation import DEstimateOptimizer, Slot, effective_grad, work_array
from gdlab.optim._scratch import ema_sq_
from gdlab.optim.optimizer import ParamsT, hyperparameters

__all__ = ["DAdaptAdam", "DAdaptAdamEstimate", "dadapt_adam_"]


class DAdaptAdamEstimate(NamedTuple):
    """The running estimate, stored in every param group under dadaptation's names."""

    d: float  # the distance-to-solution estimate, never decreasing
    numerator_weighted: float  # the √β2-discounted Σ dlr·⟨g, s/(√v + ε)⟩
    k: int  # steps taken


def dadapt_adam_(
    slots: list[Slot], est: DAdaptAdamEstimate, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), decouple: bool = False,
    use_bias_correction: bool = False, d0: float = 1e-6, growth_rate: float = math.inf,
) -> DAdaptAdamEstimate:  # fmt: skip
    """One D-Adaptation Adam step of every parameter in place; returns the new estimate (the
    reference rule; see :class:`DAdaptAdam`). Each slot's group gives ``lr`` (lr or 0),
    ``eps``, ``weight_decay``, ``layer_scale`` and ``maximize``."""
    beta1, beta2 = betas
    d, k = est.d, est.k
    bias = math.sqrt(1 - beta2 ** (k + 1)) / (1 - beta1 ** (k + 1)) if use_bias_correction else 1
    dlr = d * lr * bias
    sqrt_beta2 = math.sqrt(beta2)
    acc, sk_l1 = 0.0, 0.0
    for param, grad, state, group in slots:
        wd = group["weight_decay"] if not decouple else 0.0
        g = effective_grad(param, grad, state, maximize=group["maximize"], weight_decay=wd)
        if "s" not in state:
            zeros = np.zeros_like(param)
            state.update(step=0.0, s=zeros, exp_avg=zeros.copy(), exp_avg_sq=zeros.copy())
        if group["lr"] > 0.0:
            m, v, s = state["exp_avg"], state["exp_avg_sq"], state["s"]
            u = work_array(state, "_u", param)
            scale = group["layer_scale"]
            np.sqrt(v, out=u)  # s/(√v + ε)
            u += group["eps"]
            np.divide(s, u, out=u)
            acc += scale * dlr * float(g.ravel() @ u.ravel())
            m *= beta1
            np.multiply(g, scale * dlr * (1 - beta1), out=u)
            m += u  # the step size is inside m
            ema_sq_(v, g, beta2, u)  # v ← β2·v + (1 − β2)·g²
            s *= sqrt_beta2
            np.multiply(g, dlr * (1 - sqrt_beta2), out=u)
            s += u
            sk_l1 += scale * float(np.abs(s, out=u).sum())
    numerator = sqrt_beta2 * est.numerator_weighted + (1 - sqrt_beta2) * acc
    if sk_l1 == 0:  # nothing to step on: nothing moves, the estimate is not updated
        return est
    if lr > 0.0:
        d_hat = numerator / ((1 - sqrt_beta2) * sk_l1)
        d = max(d, min(d_hat, d * growth_rate))
    for param, _, state, group in slots:
        state["step"] += 1
        u = work_array(state, "_u", param)
        if group["weight_decay"] and decouple:
            np.multiply(param, group["weight_decay"] * dlr, out=u)
            param -= u
        np.sqrt(state["exp_avg_sq"], out=u)  # den = √v + ε
        u += group["eps"]
        np.divide(state["exp_avg"], u, out=u)
        param -= u
    return DAdaptAdamEstimate(d, numerator, k + 1)


class DAdaptAdam(DEstimateOptimizer):
    """D-Adaptation Adam (Defazio & Mishchenko 2023): Adam with the step d·lr, d estimated
    from the gradients seen so far, so lr = 1 needs no tuning.

    Update (dadaptation's ``DAdaptAdam``, the paper's Algorithm 4)::

        γ_k = d_k·lr
        m_{k+1} = β1·m_k + (1 − β1)·γ_k·g_k,    v_{k+1} = β2·v_k + (1 − β2)·g_k²
        r_{k+1} = √β2·r_k + (1 − √β2)·γ_k·⟨g_k, s_k/(√v_k + ε)⟩
        s_{k+1} = √β2·s_k + (1 − √β2)·γ_k·g_k
        d_{k+1} = max(d_k, min(r_{k+1}/((1 − √β2)·‖s_{k+1}‖₁), growth_rate·d_k))
        x_{k+1} = x_k − m_{k+1}/(√v_{k+1} + ε)   (− γ_k·λ·x_k with decoupled decay)

    Note:
        Names and defaults are dadaptation's ``DAdaptAdam`` (``log_every`` and
        ``fsdp_in_use`` left out), with its per-group ``layer_scale`` (the way to scale a
        group's step, since every group must have the same lr or lr = 0: ``ValueError``, the
        reference's ``RuntimeError``). Equal step for step. β, decouple, the bias
        correction, d0 and growth_rate are read from the first group. dadaptation prints a
        line when decoupled decay is on; gdlab does not.

    Args:
        params: parameters or param groups.
        lr: multiplier of the estimated step (default 1.0: leave it).
        betas: Adam's (β1, β2) (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: decay λ (default 0).
        decouple: AdamW-style decay (default False: L2 added to g).
        use_bias_correction: Adam's bias correction in γ (default False).
        d0: the initial estimate (default 1e-6).
        growth_rate: cap on d's growth per step (default inf).
        layer_scale: a group's multiplier of the step (default 1.0).
        maximize: maximize the objective (default False; gdlab's addition, per group).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0, -2.0]))
        >>> opt = DAdaptAdam([w])
        >>> w.grad = np.array([0.5, -0.5])
        >>> opt.step()
        >>> opt.param_groups[0]["d"]  # the first step cannot grow d (s_0 = 0)
        1e-06

    Reference: Defazio & Mishchenko, "Learning-Rate-Free Learning by D-Adaptation", ICML
    2023, https://arxiv.org/abs/2301.07733; https://github.com/facebookresearch/dadaptation
    """

    _global_rule = staticmethod(dadapt_adam_)
    _estimate_type = DAdaptAdamEstimate
    _per_group = frozenset({"lr", "eps", "weight_decay", "layer_scale", "maximize"})
    _param_shaped_keys = frozenset({"s", "exp_avg", "exp_avg_sq"})
    _nonnegative = ("eps", "weight_decay", "layer_scale")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decouple: bool = False,
        use_bias_correction: bool = False,
        d0: float = 1e-6,
        growth_rate: float = math.inf,
        layer_scale: float = 1.0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _first_estimate(self) -> DAdaptAdamEstimate:
        return DAdaptAdamEstimate(self.defaults["d0"], 0.0, 0)
