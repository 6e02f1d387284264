"""RAdam: Adam with a rectified (variance-corrected) adaptive step (torch's formula)."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim.adam import adam_moments_
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["RAdam", "radam_", "rectification"]


def radam_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False, maximize: bool = False,
) -> None:  # fmt: skip
    """One RAdam step in place (the reference rule; see :class:`RAdam`)."""
    adam_moments_(param, grad, state, lr=lr, betas=betas, weight_decay=weight_decay,
                  decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)  # fmt: skip
    beta1, beta2 = betas
    t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
    bc1, bc2 = 1.0 - beta1**t, 1.0 - beta2**t
    r = rectification(beta2, t, min_rho=5.0)
    if r is not None:  # enough steps for a reliable variance: the rectified adaptive step
        param -= (lr * math.sqrt(bc2) * r / bc1) * (m / (np.sqrt(v) + eps))
    else:  # else a momentum-SGD step
        param -= (lr / bc1) * m


def rectification(beta2: float, t: float, min_rho: float) -> float | None:
    """RAdam's r_t = √((ρ_t−4)(ρ_t−2)ρ_∞ / ((ρ_∞−4)(ρ_∞−2)ρ_t)), with ρ_∞ = 2/(1 − β2) − 1 and
    ρ_t = ρ_∞ − 2t·β2^t/(1 − β2^t) (the length of the approximated moving average); None
    while ρ_t ≤ ``min_rho``, too few steps for a reliable variance (torch: 5, the paper: 4)."""
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * t * (beta2**t) / (1.0 - beta2**t)
    if not rho_t > min_rho:
        return None
    return math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))


class RAdam(Optimizer):
    """RAdam: Adam with a rectified (variance-corrected) adaptive step.

    Update::

        m_t, v_t as in Adam;  ρ_∞ = 2/(1 − β2) − 1;  ρ_t = ρ_∞ − 2t·β2^t/(1 − β2^t)
        ρ_t > 5: r_t = √((ρ_t−4)(ρ_t−2)ρ_∞ / ((ρ_∞−4)(ρ_∞−2)ρ_t))
                 θ_t = θ_{t-1} − lr·m̂_t·r_t·√(1 − β2^t)/(√v_t + ε)
        else:    θ_t = θ_{t-1} − lr·m̂_t
        decoupled_weight_decay: θ ← θ·(1 − lr·λ) before the step (RAdamW)

    Args:
        params, lr, betas, eps, weight_decay, maximize, foreach: as :class:`~gdlab.optim.Adam`.
        decoupled_weight_decay: AdamW-style decay (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = RAdam([w], lr=0.1)
        >>> w.grad = np.array([2.0])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([0.8])

    Reference: Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond",
    ICLR 2020, https://arxiv.org/abs/1908.03265
    """

    _rule = staticmethod(radam_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq"})
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
