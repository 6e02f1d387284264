"""Lion: the sign of an interpolated momentum (EvoLved Sign Momentum)."""

from __future__ import annotations

import numpy as np

from gdlab.optim._scratch import ema_, grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays

__all__ = ["Lion", "lion_"]


def lion_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0, maximize: bool = False,
) -> None:  # fmt: skip
    """One Lion step in place (the reference rule; see :class:`Lion`)."""
    (m,) = state_arrays(state, param, "exp_avg")
    beta1, beta2 = betas
    a, b, d = scratch(state, param, 3)
    g = grad_into(param, grad, 0.0, maximize, a, d)
    param *= 1.0 - lr * weight_decay
    c = np.multiply(m, beta1, out=b)
    c += np.multiply(g, 1.0 - beta1, out=d)  # c = β1·m + (1 − β1)·g
    np.sign(c, out=c)
    c *= lr
    param -= c  # every coordinate moves by ±lr
    ema_(m, g, beta2, d)  # the momentum tracks g more slowly than the step


class Lion(Optimizer):
    """Lion: every coordinate moves by ±lr, the sign of a momentum interpolated with g.

    Update (Chen et al., Algorithm 2)::

        c_t = β1·m_{t-1} + (1 − β1)·g_t
        θ_t = θ_{t-1}·(1 − lr·λ) − lr·sign(c_t)
        m_t = β2·m_{t-1} + (1 − β2)·g_t           # m_0 = 0

    Note:
        The update has the same size as SGD with lr·√n but no scale of its own: the paper
        uses an lr 3-10x smaller than AdamW's and a weight decay 3-10x larger (so lr·λ stays
        the same). Equal step for step to lucidrains' ``lion-pytorch`` (defaults and names
        identical; its ``decoupled_weight_decay=True``, which divides λ by the initial lr,
        is not offered).

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-4).
        betas: (β1, β2): the step's and the momentum's interpolation (default (0.9, 0.99)).
        weight_decay: decoupled decay λ (default 0).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0, -1.0, 0.5]))
        >>> opt = Lion([w], lr=0.1)
        >>> w.grad = np.array([3.0, -0.01, 0.0])
        >>> opt.step()
        >>> w.data  # ±lr, and no move where g = 0
        array([ 0.9, -0.9,  0.5])

    Reference: Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023,
    https://arxiv.org/abs/2302.06675
    """

    _rule = staticmethod(lion_)
    _param_shaped_keys = frozenset({"exp_avg"})
    _nonnegative = ("weight_decay",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
