"""LAMB: Adam's step rescaled per tensor to a fixed fraction of the weights' norm."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim._scratch import ema_moments_, grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays

__all__ = ["LAMB", "lamb_"]


def lamb_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-6, weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:  # fmt: skip
    """One LAMB step in place (the reference rule; see :class:`LAMB`)."""
    m, v = state_arrays(state, param, "exp_avg", "exp_avg_sq", step=0.0)
    beta1, beta2 = betas
    a, b = scratch(state, param, 2)
    g = grad_into(param, grad, 0.0, maximize, a, b)
    state["step"] += 1.0
    t = state["step"]
    ema_moments_(m, v, g, betas, b)  # m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²
    r = np.divide(v, 1.0 - beta2**t, out=a)
    np.sqrt(r, out=r)
    r += eps
    np.divide(m, 1.0 - beta1**t, out=b)
    np.divide(b, r, out=r)  # r = m̂/(√v̂ + ε)
    if weight_decay:
        r += np.multiply(param, weight_decay, out=b)
    w_norm, r_norm = math.sqrt(np.vdot(param, param)), math.sqrt(np.vdot(r, r))
    trust = w_norm / r_norm if w_norm > 0 and r_norm > 0 else 1.0  # the layer's step is lr·‖θ‖
    r *= lr * trust
    param -= r


class LAMB(Optimizer):
    """LAMB: Adam (with L2 decay) whose step on each tensor has the length lr·‖θ‖.

    Update (You et al., Algorithm 2, with φ the identity)::

        m_t = β1·m_{t-1} + (1 − β1)·g_t,   v_t = β2·v_{t-1} + (1 − β2)·g_t²
        r_t = (m_t/(1 − β1^t)) / (√(v_t/(1 − β2^t)) + ε) + λ·θ_{t-1}
        θ_t = θ_{t-1} − lr·(‖θ_{t-1}‖/‖r_t‖)·r_t        (the ratio is 1 if a norm is 0)

    Note:
        The trust ratio is per parameter tensor (a layer's weight, its bias). Equal step for
        step to ``optax.lamb`` (JAX, float64), which follows the paper. kozistr's
        ``pytorch_optimizer.Lamb`` differs: it does not bias-correct v, divides the step by
        1 − β1^t outside the trust ratio (10x the paper's first step with β1 = 0.9) and
        clips ‖θ‖ at 10; after 50 steps of the reference test's problem at lr 0.05 its
        parameters are 0.66 away from the paper's (relative, in norm).

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-6, optax's and the paper's).
        weight_decay: λ, added to Adam's direction before the trust ratio (default 0).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([3.0, 4.0]))
        >>> opt = LAMB([w], lr=0.1)
        >>> w.grad = np.array([1.0, 0.0])
        >>> opt.step()  # ‖θ‖ = 5: the step has length 0.1·5
        >>> w.data.round(6)
        array([2.5, 4. ])

    Reference: You et al., "Large Batch Optimization for Deep Learning: Training BERT in 76
    minutes", ICLR 2020, https://arxiv.org/abs/1904.00962
    """

    _rule = staticmethod(lamb_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq"})
    _elementwise = False  # a norm per tensor
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
