"""Adam (torch's formula, ε outside the square root), with the Keras/Kingma "ε̂" form as an
option; AdamW (decoupled weight decay) is this rule with ``decoupled_weight_decay=True``."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays

__all__ = ["Adam", "adam_", "adam_moments_"]


def adam_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
    amsgrad: bool = False, maximize: bool = False, decoupled_weight_decay: bool = False,
    eps_hat: bool = False,
) -> None:  # fmt: skip
    """One Adam/AdamW step in place (the reference rule; see :class:`Adam`)."""
    adam_moments_(param, grad, state, lr=lr, betas=betas, weight_decay=weight_decay,
                  decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)  # fmt: skip
    beta1, beta2 = betas
    t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
    if amsgrad:  # normalise by the largest v so far
        if "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
    # lr·m̂/(√v̂ + ε) = lr·√(1−β2^t)/(1−β1^t) · m/(√v + ε·√(1−β2^t)): no pass for v̂
    bc2_sqrt = math.sqrt(1.0 - beta2**t)
    step_size = lr * bc2_sqrt / (1.0 - beta1**t)
    param -= step_size * (m / (np.sqrt(v) + (eps if eps_hat else eps * bc2_sqrt)))


def adam_moments_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, betas: tuple[float, float],
    weight_decay: float, decoupled_weight_decay: bool, maximize: bool,
) -> np.ndarray:  # fmt: skip
    """Adam's first half, shared with NAdam and RAdam, in place; returns the gradient g.

    Counts the step, applies the weight decay (decoupled: θ ← θ·(1 − lr·λ); else g ← g + λ·θ)
    and updates m ← β1·m + (1 − β1)·g and v ← β2·v + (1 − β2)·g².
    """
    m, v = state_arrays(state, param, "exp_avg", "exp_avg_sq", step=0.0)
    state["step"] += 1.0
    beta1, beta2 = betas
    g = -grad if maximize else grad
    if weight_decay and decoupled_weight_decay:
        param *= 1.0 - lr * weight_decay
    elif weight_decay:
        g = g + weight_decay * param
    m += (1.0 - beta1) * (g - m)  # as torch's lerp
    v *= beta2
    v += (1.0 - beta2) * (g * g)
    return g


class Adam(Optimizer):
    """Adam: adaptive moment estimation (torch's formula, eps outside the square root).

    Update::

        g_t = ±∇f(θ_{t-1}) (+ λ·θ_{t-1} if weight decay is coupled)
        m_t = β1·m_{t-1} + (1 − β1)·g_t
        v_t = β2·v_{t-1} + (1 − β2)·g_t²          # amsgrad: v̂max_t = max(v̂max_{t-1}, v_t)
        θ_t = θ_{t-1} − lr·m̂_t / (√v̂_t + ε),  m̂_t = m_t/(1 − β1^t), v̂_t = v_t/(1 − β2^t)
        decoupled_weight_decay (AdamW): θ_{t-1} ← θ_{t-1}·(1 − lr·λ) first, no λ in g_t

    Note:
        Kingma & Ba's section 2 efficiency remark, Keras and Deep Learning from Scratch add ε̂
        to √v_t *before* bias correction: θ_t = θ_{t-1} − lr·√(1−β2^t)/(1−β1^t)·m_t/(√v_t + ε̂).
        ``eps_hat=True`` selects that form (a gdlab extension); it differs only through ε.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        amsgrad: use the running maximum of v (default False).
        maximize: maximize the objective (default False).
        decoupled_weight_decay: AdamW's decay (default False).
        eps_hat: the ε̂ form above (default False).
        foreach: accepted and ignored.
        fused: None (default) runs the numba kernel when numba is installed
            (``gdlab[fast]``), True requires it, False forces the NumPy rule; same results.
        capturable, differentiable: must be False.

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0, -1.0]))
        >>> opt = Adam([w], lr=0.1)
        >>> w.grad = np.array([3.0, -0.5])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([ 0.9, -0.9])

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
    https://arxiv.org/abs/1412.6980; Reddi et al., "On the Convergence of Adam and Beyond"
    (AMSGrad), ICLR 2018.
    """

    _rule = staticmethod(adam_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq", "max_exp_avg_sq"})
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
        eps_hat: bool = False,
    ) -> None:
        defaults = hyperparameters(locals())
        if isinstance(betas, list):
            defaults["betas"] = tuple(betas)
        super().__init__(params, defaults)
