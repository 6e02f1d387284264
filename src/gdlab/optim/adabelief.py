"""AdaBelief: Adam whose second moment is the variance of g around its running mean."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim._scratch import decayed_grad_into, ema_, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["AdaBelief", "adabelief_"]


def adabelief_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-16, weight_decay: float = 0.0,
    amsgrad: bool = False, decoupled_weight_decay: bool = True, rectify: bool = True,
    degenerated_to_sgd: bool = True, maximize: bool = False,
) -> None:  # fmt: skip
    """One AdaBelief step in place (the reference rule; see :class:`AdaBelief`)."""
    if "exp_avg" not in state:
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_var=np.zeros_like(param))
        if amsgrad:
            state["max_exp_avg_var"] = np.zeros_like(param)
    beta1, beta2 = betas
    a, b = scratch(state, param, 2)
    g = decayed_grad_into(param, grad, lr, weight_decay, decoupled_weight_decay, maximize, a, b)
    state["step"] += 1.0
    t, m, s = state["step"], state["exp_avg"], state["exp_avg_var"]
    ema_(m, g, beta1, b)  # m ← β1·m + (1 − β1)·g
    s *= beta2
    np.subtract(g, m, out=b)
    np.square(b, out=b)
    b *= 1.0 - beta2
    s += b  # the "belief" (1 − β2)·(g − m)²: how far g is from its prediction m
    s += eps  # the authors add ε to s at every step
    if amsgrad:
        np.maximum(state["max_exp_avg_var"], s, out=state["max_exp_avg_var"])
    bc1, bc2 = 1.0 - beta1**t, 1.0 - beta2**t
    if not rectify:  # θ ← θ − lr/(1 − β1^t) · m/(√v/√(1 − β2^t) + ε)
        np.sqrt(state["max_exp_avg_var"] if amsgrad else s, out=a)
        a /= math.sqrt(bc2)
        a += eps
        np.divide(m, a, out=a)
        a *= lr / bc1
        param -= a
        return
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho = rho_inf - 2.0 * t * beta2**t / bc2
    if rho >= 5:  # RAdam's rectified step (on s, as the authors' code, even with amsgrad)
        r = bc2 * (rho - 4) / (rho_inf - 4) * (rho - 2) / rho * rho_inf / (rho_inf - 2)
        np.sqrt(s, out=a)
        a += eps
        np.divide(m, a, out=a)
        a *= lr * math.sqrt(r) / bc1
        param -= a
    elif degenerated_to_sgd:
        param -= np.multiply(m, lr / bc1, out=a)


class AdaBelief(Optimizer):
    """AdaBelief: Adam's step scaled by the variance of g around its prediction m.

    Update (the authors' code, adabelief-pytorch 0.2.1)::

        θ_{t-1} ← θ_{t-1}·(1 − lr·λ)                  (decoupled; else g_t ← g_t + λ·θ_{t-1})
        m_t = β1·m_{t-1} + (1 − β1)·g_t
        s_t = β2·s_{t-1} + (1 − β2)·(g_t − m_t)² + ε   (amsgrad: ŝ_t = max(ŝ_{t-1}, s_t))
        rectify=False: θ_t = θ_{t-1} − lr/(1 − β1^t) · m_t/(√s_t/√(1 − β2^t) + ε)
        rectify=True:  RAdam's rule with s_t for v_t: ρ_t ≥ 5: the rectified adaptive step,
                       else (degenerated_to_sgd) θ_t = θ_{t-1} − lr·m_t/(1 − β1^t)

    Note:
        Defaults and semantics are the authors' (adabelief-pytorch 0.2.1): ε = 1e-16,
        decoupled decay and rectification on by default; its ``weight_decouple`` is
        ``decoupled_weight_decay`` here, ``fixed_decay`` is not offered. The rectified step
        uses s_t, not the amsgrad maximum, as the authors' code does. kozistr's
        pytorch-optimizer has other defaults (rectify=False).

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-16).
        weight_decay: λ (default 0).
        amsgrad: the running maximum of s (default False).
        decoupled_weight_decay: AdamW-style decay (default True).
        rectify: RAdam's rectification (default True).
        degenerated_to_sgd: an SGD-momentum step while ρ_t < 5 (default True), else none.
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = AdaBelief([w], lr=0.1)
        >>> w.grad = np.array([2.0])
        >>> opt.step()  # ρ_1 < 5: an SGD-momentum step, lr·m̂ = lr·g
        >>> w.data
        array([0.8])

    Reference: Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the Belief in
    Observed Gradients", NeurIPS 2020, https://arxiv.org/abs/2010.07468
    """

    _rule = staticmethod(adabelief_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_var", "max_exp_avg_var"})
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        decoupled_weight_decay: bool = True,
        rectify: bool = True,
        degenerated_to_sgd: bool = True,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
