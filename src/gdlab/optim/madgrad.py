"""MADGRAD: dual averaging with momentum and a cube-root AdaGrad scale."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim._scratch import grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["MADGRAD", "madgrad_"]


def madgrad_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, momentum: float = 0.9,
    weight_decay: float = 0.0, eps: float = 1e-6, decouple_decay: bool = False,
    maximize: bool = False,
) -> None:  # fmt: skip
    """One MADGRAD step in place (the reference rule; see :class:`MADGRAD`)."""
    if "grad_sum_sq" not in state:
        state.update(step=0.0, grad_sum_sq=np.zeros_like(param), s=np.zeros_like(param))
        if momentum:
            state["x0"] = param.copy()
    a, b, c = scratch(state, param, 3)
    lr = lr + eps if lr else 0.0  # the authors' code adds ε to a nonzero lr
    lamb = lr * math.sqrt(state["step"] + 1.0)  # λ_k = lr·√(k + 1)
    g = grad_into(param, grad, 0.0 if decouple_decay else weight_decay, maximize, a, b)
    nu, s = state["grad_sum_sq"], state["s"]
    if momentum:
        x0 = state["x0"]
    else:  # x0 = θ + s/(ν^(1/3) + ε), from the ν before this step
        x0 = np.power(nu, 1.0 / 3.0, out=c)
        x0 += eps
        np.divide(s, x0, out=x0)
        x0 += param
    np.multiply(g, lamb, out=b)
    b *= g
    nu += b  # ν ← ν + λ·g²
    rms = np.power(nu, 1.0 / 3.0, out=b)
    rms += eps
    if eps == 0:
        rms[rms == 0] = np.inf
    s += np.multiply(g, lamb, out=a)  # s ← s + λ·g
    z = np.divide(s, rms, out=b)
    np.subtract(x0, z, out=z)  # z = x0 − s/ν^(1/3): the dual-averaging iterate
    if weight_decay and decouple_decay:
        decay = np.multiply(param, lr * weight_decay, out=a)
    if momentum:
        param *= momentum
        z *= 1.0 - momentum
        param += z  # momentum as averaging of the z iterates
    else:
        np.copyto(param, z)
    if weight_decay and decouple_decay:
        param -= decay
    state["step"] += 1.0


class MADGRAD(Optimizer):
    """MADGRAD: momentumized, adaptive, dual-averaged gradient.

    Update (Defazio & Jelassi, Algorithm 1; k = 0, 1, ...)::

        λ_k = lr·√(k + 1)
        s_{k+1} = s_k + λ_k·g_k,         ν_{k+1} = ν_k + λ_k·g_k²
        z_{k+1} = θ_0 − s_{k+1}/(ν_{k+1}^(1/3) + ε)
        θ_{k+1} = (1 − c)·θ_k + c·z_{k+1},   c = 1 − momentum

    Note:
        Defaults and argument names are the authors' (facebookresearch/madgrad 1.3): lr
        1e-2, momentum 0.9, ε 1e-6, L2 weight decay unless ``decouple_decay``. As there, lr
        is replaced by lr + ε when nonzero, and with momentum 0 the centre θ_0 is recomputed
        as θ_k + s_k/(ν_k^(1/3) + ε). The step counter k is kept per parameter (the
        authors keep one for the optimizer); they agree when every parameter steps each time.
        Equal step for step to the authors' ``madgrad.MADGRAD``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        momentum: (default 0.9), in [0, 1).
        weight_decay: λ (default 0).
        eps: ε (default 1e-6).
        decouple_decay: θ ← θ − lr·λ·θ after the step (AdamW-style) instead of g + λθ
            (default False).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = MADGRAD([w], lr=1.0 - 1e-6, momentum=0.0)
        >>> w.grad = np.array([8.0])
        >>> opt.step()  # θ_1 = θ_0 − λg/((λg²)^(1/3) + ε), λ = lr + ε = 1: 1 − 8/4
        >>> w.data.round(6)
        array([-1.])

    Reference: Defazio & Jelassi, "Adaptivity without Compromise: A Momentumized, Adaptive,
    Dual Averaged Gradient Method for Stochastic Optimization", JMLR 2022,
    https://arxiv.org/abs/2101.11075
    """

    _rule = staticmethod(madgrad_)
    _param_shaped_keys = frozenset({"grad_sum_sq", "s", "x0"})
    _nonnegative = ("weight_decay", "eps")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        eps: float = 1e-6,
        decouple_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        if not 0.0 <= group["momentum"] < 1.0:
            raise ValueError(f"Momentum {group['momentum']} must be in the range [0,1]")
