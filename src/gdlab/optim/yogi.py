"""Yogi: Adam whose second moment moves additively, by the sign of v − g²."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim._scratch import decayed_grad_into, ema_, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays

__all__ = ["Yogi", "yogi_"]


def yogi_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-3,
    initial_accumulator: float = 1e-6, weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False, maximize: bool = False,
) -> None:  # fmt: skip
    """One Yogi step in place (the reference rule; see :class:`Yogi`)."""
    m, v = state_arrays(state, param, "exp_avg", "exp_avg_sq", fill=initial_accumulator, step=0.0)
    beta1, beta2 = betas
    a, b = scratch(state, param, 2)
    g = decayed_grad_into(param, grad, lr, weight_decay, decoupled_weight_decay, maximize, a, b)
    state["step"] += 1.0
    t = state["step"]
    ema_(m, g, beta1, b)  # m ← β1·m + (1 − β1)·g
    g2 = np.multiply(g, g, out=b)
    np.subtract(v, g2, out=a)
    np.sign(a, out=a)
    a *= g2
    a *= 1.0 - beta2
    v -= a  # v ← v − (1 − β2)·sign(v − g²)·g²: v moves by at most (1 − β2)·g² per step
    bc1, bc2 = 1.0 - beta1**t, 1.0 - beta2**t
    np.sqrt(v, out=a)
    a /= math.sqrt(bc2)
    a += eps
    np.divide(m, a, out=a)
    a *= lr / bc1
    param -= a  # θ ← θ − lr/(1 − β1^t) · m/(√v/√(1 − β2^t) + ε)


class Yogi(Optimizer):
    """Yogi: Adam with an additive second-moment update, so v cannot collapse after a burst.

    Update (Zaheer et al., Algorithm 2, with Adam's bias correction)::

        m_t = β1·m_{t-1} + (1 − β1)·g_t                  m_0 = v_0 = initial_accumulator
        v_t = v_{t-1} − (1 − β2)·sign(v_{t-1} − g_t²)·g_t²
        θ_t = θ_{t-1} − lr/(1 − β1^t) · m_t/(√v_t/√(1 − β2^t) + ε)

    Note:
        Adam's v_t = v_{t-1} − (1 − β2)(v_{t-1} − g_t²) shrinks v by a fraction of itself;
        Yogi's by at most (1 − β2)·g_t², so one large gradient is remembered longer. Defaults
        are the paper's (lr 1e-2, ε 1e-3, accumulators started at 1e-6). Equal step for step
        to kozistr's ``pytorch_optimizer.Yogi`` and to ``optax.yogi`` (both bias-correct as
        here; the paper's Algorithm 2 is written without it). Its ``weight_decouple`` is
        ``decoupled_weight_decay`` here, default False (L2, as torch's Adam); ``fixed_decay``
        is not offered.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-3).
        initial_accumulator: the first value of m and v (default 1e-6).
        weight_decay: λ (default 0).
        decoupled_weight_decay: AdamW-style decay θ ← θ(1 − lr·λ), else g ← g + λθ
            (default False).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = Yogi([w], lr=0.1, eps=1e-8, initial_accumulator=0.0)
        >>> w.grad = np.array([2.0])
        >>> opt.step()  # from zero accumulators the first step is Adam's, lr·sign(g)
        >>> w.data.round(6)
        array([0.9])

    Reference: Zaheer et al., "Adaptive Methods for Nonconvex Optimization", NeurIPS 2018,
    https://papers.nips.cc/paper/8186-adaptive-methods-for-nonconvex-optimization
    """

    _rule = staticmethod(yogi_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq"})
    _nonnegative = ("eps", "initial_accumulator", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-3,
        initial_accumulator: float = 1e-6,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
