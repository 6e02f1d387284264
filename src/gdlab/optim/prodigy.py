"""Prodigy: Adam whose learning rate d is estimated from the distance travelled (no lr to tune)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from gdlab.optim._d_adaptation import DEstimateOptimizer, Slot, effective_grad, work_array
from gdlab.optim.optimizer import ParamsT, hyperparameters

__all__ = ["Prodigy", "ProdigyEstimate", "prodigy_"]


class ProdigyEstimate(NamedTuple):
    """The running estimate, stored in every param group under prodigyopt's names."""

    d: float  # the step size's scale, d_0 ≤ d ≤ d_max, never decreasing
    d_max: float
    d_numerator: float  # Σ β3-discounted d·dlr·⟨g, x_0 − x⟩
    k: int  # steps taken


def prodigy_(
    slots: list[Slot], est: ProdigyEstimate, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), beta3: float | None = None,
    decouple: bool = True, use_bias_correction: bool = False, safeguard_warmup: bool = False,
    d0: float = 1e-6, d_coef: float = 1.0, growth_rate: float = math.inf, slice_p: int = 1,
) -> ProdigyEstimate:  # fmt: skip
    """One Prodigy step of every parameter in place; returns the new estimate (the reference
    rule; see :class:`Prodigy`). Each slot's group gives its ``lr`` (lr or 0), ``eps``,
    ``weight_decay`` and ``maximize``."""
    beta1, beta2 = betas
    beta3 = math.sqrt(beta2) if beta3 is None else beta3
    d, k = est.d, est.k
    bias = math.sqrt(1 - beta2 ** (k + 1)) / (1 - beta1 ** (k + 1)) if use_bias_correction else 1
    dlr = d * lr * bias
    numerator, delta, denom = est.d_numerator * beta3, 0.0, 0.0
    grads = []
    for param, grad, state, group in slots:
        wd = group["weight_decay"] if not decouple else 0.0
        g = effective_grad(param, grad, state, maximize=group["maximize"], weight_decay=wd)
        grads.append(g)
        if "s" not in state:
            flat = param.reshape(-1)[::slice_p]
            state.update(step=0.0, s=np.zeros_like(flat))
            state["p0"] = flat.copy() if param.any() else np.zeros((), param.dtype)
            if beta1 > 0:
                state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        if group["lr"] > 0.0:
            u = work_array(state, "_u", param)
            g_sliced = g.reshape(-1)[::slice_p]
            x_sliced = param.reshape(-1)[::slice_p]
            u_sliced = u.reshape(-1)[: x_sliced.size]  # a work array of the sliced size
            np.subtract(state["p0"], x_sliced, out=u_sliced)
            delta += (d / d0) * dlr * float(g_sliced @ u_sliced)
            if beta1 > 0:
                state["exp_avg"] *= beta1
                np.multiply(g, d * (1 - beta1), out=u)
                state["exp_avg"] += u
            state["exp_avg_sq"] *= beta2
            np.multiply(g, d * d * (1 - beta2), out=u)
            u *= g
            state["exp_avg_sq"] += u
            s = state["s"]
            s *= beta3
            coef = (d / d0) * d if safeguard_warmup else (d / d0) * dlr
            np.multiply(g_sliced, coef, out=u_sliced)
            s += u_sliced
            denom += float(np.abs(s, out=u_sliced).sum())
    if denom == 0:  # no gradient yet: nothing moves, the estimate is not updated
        return est
    d_max = est.d_max
    if lr > 0.0:
        numerator += delta
        d_hat = d_coef * numerator / denom
        if d == d0:
            d = max(d, d_hat)
        d_max = max(d_max, d_hat)
        d = min(d_max, d * growth_rate)
    for (param, _, state, group), g in zip(slots, grads, strict=True):
        state["step"] += 1
        den, u = work_array(state, "_w", param), work_array(state, "_u", param)
        np.sqrt(state["exp_avg_sq"], out=den)
        den += d * group["eps"]
        if group["weight_decay"] and decouple:
            np.multiply(param, group["weight_decay"] * dlr, out=u)
            param -= u
        if beta1 > 0:
            np.multiply(state["exp_avg"], dlr, out=u)
        else:
            np.multiply(g, dlr * d, out=u)
        u /= den
        param -= u
    return ProdigyEstimate(d, d_max, numerator, k + 1)


class Prodigy(DEstimateOptimizer):
    """Prodigy (Mishchenko & Defazio 2024): Adam with the step size d·lr, d estimated from
    how far the iterates have moved, so lr = 1 needs no tuning.

    Update (prodigyopt's implementation of the paper's Algorithm 3)::

        m_t = β1·m + (1 − β1)·d_t·g_t,     v_t = β2·v + (1 − β2)·d_t²·g_t²
        r_t = β3·r + (d_t²/d_0)·lr·⟨g_t, x_0 − x_t⟩          (β3 = √β2 by default)
        s_t = β3·s + (d_t²/d_0)·lr·g_t
        d_{t+1} = max(d_t, d_coef·r_t/‖s_t‖₁)                (capped by growth_rate)
        x_{t+1} = x_t − d_t·lr·m_t/(√v_t + d_t·ε)  (− d_t·lr·λ·x_t, decoupled decay)

    d, d_max, d_numerator and k live in every param group (the reference's state dict
    layout); ``exp_avg``, ``exp_avg_sq``, ``s`` and ``p0`` (x_0) per parameter, with work
    arrays (``_g``, ``_u``, ``_w``: not saved) so a step allocates nothing parameter-sized.

    Note:
        Names and defaults are prodigyopt's ``Prodigy`` (``fsdp_in_use`` left out: no
        distributed runs here); equal step for step. As there, every param group must have
        the same lr or lr = 0 (gdlab raises ``ValueError``, the reference ``RuntimeError``);
        β1, β3, d_0, d_coef, growth_rate, decouple, the bias correction, the safeguard and
        slice_p are read from the first group, eps and weight_decay per group. prodigyopt
        prints a line when decoupled decay is on; gdlab does not.

    Args:
        params: parameters or param groups.
        lr: multiplier of the estimated step (default 1.0: leave it).
        betas: Adam's (β1, β2) (default (0.9, 0.999)).
        beta3: the estimate's discount (default None: √β2).
        eps: added to the denominator, scaled by d (default 1e-8).
        weight_decay: decay λ (default 0).
        decouple: AdamW-style decay (default True) or L2 added to g.
        use_bias_correction: Adam's bias correction in dlr (default False).
        safeguard_warmup: leave lr out of s (default False; the paper advises True with a
            warm-up schedule).
        d0: the initial estimate (default 1e-6).
        d_coef: multiplies the estimate (default 1.0).
        growth_rate: cap on d's growth per step (default inf).
        slice_p: estimate from every slice_p-th coordinate, to save memory (default 1).
        maximize: maximize the objective (default False; gdlab's addition, per group).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0, -2.0]))
        >>> opt = Prodigy([w])
        >>> w.grad = np.array([0.5, -0.5])
        >>> opt.step()
        >>> opt.param_groups[0]["d"]  # the first step takes d = d0 (no distance yet)
        1e-06

    Reference: Mishchenko & Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free
    Learner", ICML 2024, https://arxiv.org/abs/2306.06101; https://github.com/konstmish/prodigy
    """

    _global_rule = staticmethod(prodigy_)
    _estimate_type = ProdigyEstimate
    _per_group = frozenset({"lr", "eps", "weight_decay", "maximize"})
    _scalar_state_keys = frozenset({"step"})
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq"})
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        betas: tuple[float, float] = (0.9, 0.999),
        beta3: float | None = None,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decouple: bool = True,
        use_bias_correction: bool = False,
        safeguard_warmup: bool = False,
        d0: float = 1e-6,
        d_coef: float = 1.0,
        growth_rate: float = math.inf,
        slice_p: int = 1,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _first_estimate(self) -> ProdigyEstimate:
        d0 = self.defaults["d0"]
        return ProdigyEstimate(d=d0, d_max=d0, d_numerator=0.0, k=0)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        if group["beta3"] is not None and not 0.0 <= group["beta3"] < 1.0:
            raise ValueError(f"Invalid beta3 value: {group['beta3']}")
        slice_p = group["slice_p"]
        if isinstance(slice_p, bool) or not isinstance(slice_p, int) or slice_p < 1:
            raise ValueError(f"Invalid slice_p value: {slice_p!r} (need an integer >= 1)")
