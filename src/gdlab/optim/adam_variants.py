"""Adam's relatives: Adamax (infinity norm), NAdam (Nesterov) and RAdam (rectified)."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim._work import chunk_grad, for_chunks
from gdlab.optim.adam import update_moments
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["NAdam", "RAdam", "Adamax", "adamax_", "nadam_", "radam_"]


def _adam_like_init(param: np.ndarray, state: dict, second: str) -> None:
    state["step"] = 0.0
    state["exp_avg"] = np.zeros_like(param)
    state[second] = np.zeros_like(param)


def _chunk_grad(
    p: np.ndarray, g: np.ndarray, lr: float, wd: float, decoupled: bool, maximize: bool,
    d: np.ndarray, w: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Decoupled decay (θ ← θ·(1 − lr·λ)) or L2 in the gradient, for one chunk."""
    if wd and decoupled:
        p *= 1.0 - lr * wd
        return chunk_grad(p, g, 0.0, maximize, d, w)
    return chunk_grad(p, g, wd, maximize, d, w)


def adamax_(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    """One Adamax step in place (see :class:`Adamax`)."""
    if "exp_inf" not in state:
        _adam_like_init(param, state, "exp_inf")
    state["step"] += 1.0
    beta1, beta2 = betas
    clr = lr / (1.0 - beta1 ** state["step"])

    def kernel(p, g, m, u, w, d):  # chunks of θ, g, m, u; 2 work buffers
        g = chunk_grad(p, g, weight_decay, maximize, d, w)
        np.subtract(g, m, out=w)
        w *= 1.0 - beta1
        m += w
        u *= beta2
        np.abs(g, out=w)
        w += eps
        np.maximum(u, w, out=u)
        np.divide(m, u, out=w)
        w *= clr
        p -= w

    for_chunks([param, grad, state["exp_avg"], state["exp_inf"]], kernel, work=2)


def nadam_(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> None:
    """One NAdam step in place (see :class:`NAdam`)."""
    if "exp_avg_sq" not in state:
        _adam_like_init(param, state, "exp_avg_sq")
        state["mu_product"] = 1.0
    state["step"] += 1.0
    step = state["step"]
    beta1, beta2 = betas
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    state["mu_product"] *= mu
    mu_product = state["mu_product"]
    bc2 = 1.0 - beta2**step
    c_grad = lr * (1.0 - mu) / (1.0 - mu_product)
    c_avg = lr * mu_next / (1.0 - mu_product * mu_next)

    def kernel(p, g, m, s2, w, d, denom):  # chunks of θ, g, m, v; 3 work buffers
        g = _chunk_grad(p, g, lr, weight_decay, decoupled_weight_decay, maximize, d, w)
        update_moments(g, m, s2, beta1, beta2, w)
        np.divide(s2, bc2, out=denom)
        np.sqrt(denom, out=denom)
        denom += eps
        np.divide(g, denom, out=w)
        w *= c_grad
        p -= w
        np.divide(m, denom, out=w)
        w *= c_avg
        p -= w

    for_chunks([param, grad, state["exp_avg"], state["exp_avg_sq"]], kernel, work=3)


def radam_(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> None:
    """One RAdam step in place (see :class:`RAdam`)."""
    if "exp_avg_sq" not in state:
        _adam_like_init(param, state, "exp_avg_sq")
    state["step"] += 1.0
    step = state["step"]
    beta1, beta2 = betas
    bc1 = 1.0 - beta1**step
    bc2 = 1.0 - beta2**step
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * step * (beta2**step) / bc2
    rectified = rho_t > 5.0  # else too few steps for a reliable variance: momentum SGD step
    if rectified:
        rect = math.sqrt(
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        )
        factor = lr * math.sqrt(bc2) * rect / bc1

    def kernel(p, g, m, s2, w, d):  # chunks of θ, g, m, v; 2 work buffers
        g = _chunk_grad(p, g, lr, weight_decay, decoupled_weight_decay, maximize, d, w)
        update_moments(g, m, s2, beta1, beta2, w)
        if rectified:
            np.sqrt(s2, out=w)
            w += eps
            np.divide(m, w, out=w)
            w *= factor
        else:
            np.multiply(m, lr / bc1, out=w)
        p -= w

    for_chunks([param, grad, state["exp_avg"], state["exp_avg_sq"]], kernel, work=2)


class _AdamFamily(Optimizer):
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq", "exp_inf"})
    _nonnegative = ("eps", "weight_decay")  # and betas, checked by the base


class Adamax(_AdamFamily):
    """Adamax: Adam with the infinity norm in place of the second moment.

    Update::

        g_t = ±∇f(θ_{t-1}) + λ·θ_{t-1}
        m_t = β1·m_{t-1} + (1 − β1)·g_t
        u_t = max(β2·u_{t-1}, |g_t| + ε)
        θ_t = θ_{t-1} − lr/(1 − β1^t) · m_t/u_t

    Args:
        params: parameters or param groups.
        lr: learning rate (default 2e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: L2 penalty λ (default 0).
        maximize: maximize the objective (default False).
        foreach: accepted and ignored.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = Adamax([w], lr=0.1)
        >>> w.grad = np.array([2.0])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([0.9])

    Reference: Kingma & Ba, "Adam", ICLR 2015, section 7.1.
    """

    _rule = staticmethod(adamax_)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))


class NAdam(_AdamFamily):
    """NAdam: Adam with Nesterov momentum and torch's momentum-decay schedule.

    Update::

        μ_t = β1·(1 − 0.5·0.96^(t·ψ)),  ψ = momentum_decay
        m_t, v_t as in Adam;  v̂_t = v_t/(1 − β2^t)
        θ_t = θ_{t-1} − lr·(1 − μ_t)/(1 − Π_{i≤t} μ_i) · g_t/(√v̂_t + ε)
                      − lr·μ_{t+1}/(1 − Π_{i≤t+1} μ_i) · m_t/(√v̂_t + ε)
        decoupled_weight_decay: θ ← θ·(1 − lr·λ) before the step (NAdamW)

    Args:
        params: parameters or param groups.
        lr: learning rate (default 2e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        momentum_decay: ψ (default 4e-3).
        decoupled_weight_decay: AdamW-style decay (default False).
        maximize: maximize the objective (default False).
        foreach: accepted and ignored.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = NAdam([w], lr=0.1)
        >>> w.grad = np.array([2.0])
        >>> opt.step()
        >>> bool(w.data[0] < 1.0)
        True

    Reference: Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop.
    """

    _rule = staticmethod(nadam_)
    _scalar_state_keys = frozenset({"step", "mu_product"})
    _nonnegative = ("eps", "weight_decay", "momentum_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))


class RAdam(_AdamFamily):
    """RAdam: Adam with a rectified (variance-corrected) adaptive step.

    Update::

        m_t, v_t as in Adam;  ρ_∞ = 2/(1 − β2) − 1;  ρ_t = ρ_∞ − 2t·β2^t/(1 − β2^t)
        ρ_t > 5: r_t = √((ρ_t−4)(ρ_t−2)ρ_∞ / ((ρ_∞−4)(ρ_∞−2)ρ_t))
                 θ_t = θ_{t-1} − lr·m̂_t·r_t·√(1 − β2^t)/(√v_t + ε)
        else:    θ_t = θ_{t-1} − lr·m̂_t
        decoupled_weight_decay: θ ← θ·(1 − lr·λ) before the step (RAdamW)

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        decoupled_weight_decay: AdamW-style decay (default False).
        maximize: maximize the objective (default False).
        foreach: accepted and ignored.

    Example:
        >>> import numpy as np
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
