"""Adamax: Adam with the infinity norm in place of the second moment (torch's formula)."""

from __future__ import annotations

import numpy as np

from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays

__all__ = ["Adamax", "adamax_"]


def adamax_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:  # fmt: skip
    """One Adamax step in place (the reference rule; see :class:`Adamax`)."""
    m, u = state_arrays(state, param, "exp_avg", "exp_inf", step=0.0)
    beta1, beta2 = betas
    state["step"] += 1.0
    g = -grad if maximize else grad
    if weight_decay:
        g = g + weight_decay * param
    m += (1.0 - beta1) * (g - m)  # m = β1·m + (1 − β1)·g
    u *= beta2
    np.maximum(u, np.abs(g) + eps, out=u)  # u = max(β2·u, |g| + ε)
    param -= (lr / (1.0 - beta1 ** state["step"])) * (m / u)


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the second moment.

    Update::

        g_t = ±∇f(θ_{t-1}) + λ·θ_{t-1}
        m_t = β1·m_{t-1} + (1 − β1)·g_t
        u_t = max(β2·u_{t-1}, |g_t| + ε)
        θ_t = θ_{t-1} − lr/(1 − β1^t) · m_t/u_t

    Args:
        params, betas, eps, weight_decay, maximize, foreach: as :class:`~gdlab.optim.Adam`
            (weight_decay: the L2 penalty λ added to the gradient).
        lr: learning rate (default 2e-3).

    Example:
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
    _param_shaped_keys = frozenset({"exp_avg", "exp_inf"})
    _nonnegative = ("eps", "weight_decay")

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
