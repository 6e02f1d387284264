"""NovoGrad: momentum of gradients normalised per tensor by a running average of ‖g‖²."""

from __future__ import annotations

import numpy as np

from gdlab.optim._scratch import grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["NovoGrad", "novograd_"]


def novograd_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.95, 0.98), eps: float = 1e-8, weight_decay: float = 0.0,
    grad_averaging: bool = False, maximize: bool = False,
) -> None:  # fmt: skip
    """One NovoGrad step in place (the reference rule; see :class:`NovoGrad`)."""
    beta1, beta2 = betas
    a, b = scratch(state, param, 2)
    g = grad_into(param, grad, 0.0, maximize, a, b)
    norm2 = np.vdot(g, g)
    first = "moments" not in state
    if first:  # v_1 = ‖g_1‖², not (1 − β2)·‖g_1‖²
        state["grads_ema"] = np.array(norm2, dtype=param.dtype)
    else:
        state["grads_ema"] *= beta2
        state["grads_ema"] += (1.0 - beta2) * norm2
    u = np.divide(g, np.sqrt(state["grads_ema"]) + eps, out=a)  # one scale for the tensor
    if weight_decay:
        u += np.multiply(param, weight_decay, out=b)  # u = g/(√v + ε) + λθ
    if first:
        state["moments"] = u.copy()
    else:
        m = state["moments"]
        m *= beta1
        if grad_averaging:
            u *= 1.0 - beta1
        m += u
    param -= np.multiply(state["moments"], lr, out=b)


class NovoGrad(Optimizer):
    """NovoGrad: SGD-momentum on g/√v with v one running average of ‖g‖² per tensor.

    Update (Ginsburg et al., Algorithm 1)::

        v_1 = ‖g_1‖²,   v_t = β2·v_{t-1} + (1 − β2)·‖g_t‖²       (one scalar per tensor)
        u_t = g_t/(√v_t + ε) + λ·θ_{t-1}
        m_1 = u_1,      m_t = β1·m_{t-1} + u_t          (grad_averaging: + (1 − β1)·u_t)
        θ_t = θ_{t-1} − lr·m_t

    Note:
        Equal step for step to kozistr's ``pytorch_optimizer.NovoGrad`` (defaults and names
        identical; its decoupled ``weight_decouple`` is not offered: the paper adds λθ to the
        normalised gradient). The state keeps its keys: ``grads_ema`` (a 0-d array) and
        ``moments``. ``optax.novograd`` agrees to 9e-7 (relative, in norm, after 50 steps of
        the reference test's problem), not to rounding.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: (β1, β2) (default (0.95, 0.98), the paper's).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        grad_averaging: scale u_t by (1 − β1) after the first step (default False).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0, 1.0]))
        >>> opt = NovoGrad([w], lr=0.1)
        >>> w.grad = np.array([3.0, 4.0])
        >>> opt.step()  # the first step is lr·g/‖g‖
        >>> w.data.round(6)
        array([0.94, 0.92])

    Reference: Ginsburg et al., "Stochastic Gradient Methods with Layer-wise Adaptive Moments
    for Training of Deep Networks", 2019, https://arxiv.org/abs/1905.11286
    """

    _rule = staticmethod(novograd_)
    _param_shaped_keys = frozenset({"moments"})
    _elementwise = False  # a norm per tensor
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.95, 0.98),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        grad_averaging: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
