"""LARS: SGD with momentum whose step on each weight matrix is scaled by ‖θ‖/‖g‖."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim._scratch import grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["LARS", "lars_"]


def lars_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, momentum: float = 0.9,
    dampening: float = 0.0, weight_decay: float = 0.0, trust_coefficient: float = 1e-3,
    nesterov: bool = False, maximize: bool = False,
) -> None:  # fmt: skip
    """One LARS step in place (the reference rule; see :class:`LARS`)."""
    a, b = scratch(state, param, 2)
    g = grad_into(param, grad, 0.0, maximize, a, b)  # grad itself, or −grad in a
    if param.ndim > 1:  # weights: the local learning rate; biases and scales: plain SGD
        w_norm, g_norm = math.sqrt(np.vdot(param, param)), math.sqrt(np.vdot(g, g))
        denom = g_norm + weight_decay * w_norm
        local = trust_coefficient * w_norm / denom if w_norm > 0 and denom > 0 else 1.0
        if g is not a:
            np.copyto(a, g)
            g = a
        if weight_decay:
            g += np.multiply(param, weight_decay, out=b)
        g *= local  # g ← η_l·(g + λθ)
    if momentum:
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(param)
        buf = state["momentum_buffer"]
        buf *= momentum
        buf += np.multiply(g, 1.0 - dampening, out=b)
        if nesterov:  # g ← g + μ·b
            if g is not a:
                np.copyto(a, g)
                g = a
            g += np.multiply(buf, momentum, out=b)
        else:
            g = buf
    param -= np.multiply(g, lr, out=b)


class LARS(Optimizer):
    """LARS: layer-wise adaptive rate scaling, every weight matrix steps by η·lr·‖θ‖.

    Update (You et al., Algorithm 1; for tensors with ``ndim > 1``)::

        η_l = η·‖θ‖/(‖g‖ + λ·‖θ‖)              (1 if ‖θ‖ or the denominator is 0)
        b_t = μ·b_{t-1} + (1 − dampening)·η_l·(g + λ·θ)     b_0 = 0
        θ_t = θ_{t-1} − lr·b_t                 (nesterov: − lr·(η_l·(g + λθ) + μ·b_t))

    Note:
        Parameters with one dimension or none (biases, normalisation scales) take the plain
        SGD-momentum step, without the trust ratio and without weight decay, the common
        practice the paper's large-batch ResNet runs used. Equal step for step to kozistr's
        ``pytorch_optimizer.LARS`` (defaults and names identical). The buffer starts at 0,
        so the first step is (1 − dampening)·lr·g (torch's SGD starts it at g). ``optax.lars``
        divides by ‖g + λθ‖ instead of the paper's ‖g‖ + λ‖θ‖ and scales every tensor
        (0.69 away, relative in norm, after 50 steps of the reference test's problem).

    Args:
        params: parameters or param groups.
        lr: the global learning rate (default 1e-3).
        momentum: μ (default 0.9).
        dampening: (default 0).
        weight_decay: λ (default 0).
        trust_coefficient: η (default 1e-3).
        nesterov: Nesterov momentum (default False).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([[3.0, 4.0]]))
        >>> opt = LARS([w], lr=1.0, momentum=0.0, trust_coefficient=0.1)
        >>> w.grad = np.array([[100.0, 0.0]])
        >>> opt.step()  # the step is 0.1·‖θ‖ = 0.5 whatever ‖g‖
        >>> w.data.round(6)
        array([[2.5, 4. ]])

    Reference: You, Gitman, Ginsburg, "Large Batch Training of Convolutional Networks",
    2017, https://arxiv.org/abs/1708.03888
    """

    _rule = staticmethod(lars_)
    _param_shaped_keys = frozenset({"momentum_buffer"})
    _elementwise = False  # a norm per tensor
    _nonnegative = ("momentum", "dampening", "weight_decay", "trust_coefficient")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.9,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        trust_coefficient: float = 1e-3,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        if not group["momentum"] < 1.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if not group["dampening"] <= 1.0:
            raise ValueError(f"Invalid dampening value: {group['dampening']}")
