"""Adan: adaptive Nesterov momentum from the gradient and its difference to the last one."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim._scratch import grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["Adan", "adan_"]


def adan_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float, float] = (0.98, 0.92, 0.99), eps: float = 1e-8,
    weight_decay: float = 0.0, no_prox: bool = False, maximize: bool = False,
) -> None:  # fmt: skip
    """One Adan step in place (the reference rule; see :class:`Adan`)."""
    a, b, c = scratch(state, param, 3)
    g = grad_into(param, grad, 0.0, maximize, c, a)
    if "exp_avg" not in state:  # the first difference g_1 − g_0 is zero
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param),
                     exp_avg_diff=np.zeros_like(param), pre_grad=g.copy())  # fmt: skip
    beta1, beta2, beta3 = betas
    state["step"] += 1.0
    t, m, v, d = state["step"], state["exp_avg"], state["exp_avg_sq"], state["exp_avg_diff"]
    diff = np.subtract(g, state["pre_grad"], out=a)  # Δ = g − g_prev
    m *= beta1
    m += np.multiply(g, 1.0 - beta1, out=b)
    d *= beta2
    d += np.multiply(diff, 1.0 - beta2, out=b)
    n = np.multiply(diff, beta2, out=a)
    n += g  # n = g + β2·Δ, the Nesterov-corrected gradient whose square v tracks
    v *= beta3
    np.multiply(n, 1.0 - beta3, out=b)
    b *= n
    v += b  # v ← β3·v + (1 − β3)·n²
    denom = np.sqrt(v, out=a)
    denom /= math.sqrt(1.0 - beta3**t)
    denom += eps
    if no_prox:
        param *= 1.0 - lr * weight_decay
    np.divide(m, denom, out=b)
    b *= lr / (1.0 - beta1**t)
    param -= b  # θ ← θ − lr·m̂/denom
    np.divide(d, denom, out=b)
    b *= lr * beta2 / (1.0 - beta2**t)
    param -= b  # θ ← θ − lr·β2·d̂/denom
    if not no_prox and weight_decay:
        param /= 1.0 + lr * weight_decay  # the proximal step of λ/2·‖θ‖²
    np.copyto(state["pre_grad"], g)


class Adan(Optimizer):
    """Adan: Adam's scaling of a momentum that also extrapolates the gradient's change.

    Update (Xie et al., Algorithm 1, in the authors' code's β = 1 − the paper's β)::

        Δ_t = g_t − g_{t-1}                                  (Δ_1 = 0)
        m_t = β1·m_{t-1} + (1 − β1)·g_t
        d_t = β2·d_{t-1} + (1 − β2)·Δ_t
        n_t = β3·n_{t-1} + (1 − β3)·(g_t + β2·Δ_t)²
        u_t = (m_t/(1 − β1^t) + β2·d_t/(1 − β2^t)) / (√n_t/√(1 − β3^t) + ε)
        θ_t = (θ_{t-1} − lr·u_t)/(1 + lr·λ)     (no_prox: θ_t = θ_{t-1}(1 − lr·λ) − lr·u_t)

    Note:
        Defaults and argument names are the authors' (sail-sg/Adan): betas (0.98, 0.92,
        0.99), ε 1e-8, the proximal weight decay unless ``no_prox``. Equal step for step to
        kozistr's ``pytorch_optimizer.Adan`` (whose ``weight_decouple`` is ``no_prox``), which
        computes as the authors' code does; ``optax.adan`` does not (8.8e-3 away, relative in
        norm, after 50 steps of the reference test's problem at lr 0.02). The
        authors' ``max_grad_norm`` (clipping by the norm over all parameters) is not offered:
        clip before ``step`` (``gdlab.nn.utils.clip_grad_norm_``).

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: (β1, β2, β3) of the gradient, its difference and the squared corrected
            gradient (default (0.98, 0.92, 0.99)).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        no_prox: decay θ by (1 − lr·λ) before the step instead of dividing by (1 + lr·λ)
            after it (default False).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = Adan([w], lr=0.1)
        >>> w.grad = np.array([2.0])
        >>> opt.step()  # Δ_1 = 0: the first step is Adam's, lr·sign(g)
        >>> w.data.round(6)
        array([0.9])

    Reference: Xie et al., "Adan: Adaptive Nesterov Momentum Algorithm for Faster Optimizing
    Deep Models", TPAMI 2024, https://arxiv.org/abs/2208.06677
    """

    _rule = staticmethod(adan_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq", "exp_avg_diff", "pre_grad"})
    _nonnegative = ("eps", "weight_decay")
    _n_betas = 3

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float, float] = (0.98, 0.92, 0.99),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        no_prox: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
