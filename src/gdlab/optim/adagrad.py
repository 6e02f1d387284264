"""AdaGrad: each coordinate's step shrinks with its accumulated squared gradients.

torch's form adds ε *outside* the square root; ``eps_in_sqrt=True`` is the form d2l.ai uses
(x ← x − η·g/√(s + ε)), so its printed numbers can be reproduced.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.autograd.sparse import RowSparseGrad
from gdlab.optim.optimizer import Optimizer, ParamsT, check_sparse_weight_decay, hyperparameters

__all__ = ["Adagrad", "adagrad_"]


def adagrad_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, lr_decay: float = 0.0,
    weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10,
    maximize: bool = False, eps_in_sqrt: bool = False,
) -> None:  # fmt: skip
    """One Adagrad step in place (the reference rule; see :class:`Adagrad`)."""
    if "sum" not in state:
        state["step"] = 0.0
        state["sum"] = np.full_like(param, initial_accumulator_value)
    state["step"] += 1.0
    clr = lr / (1 + (state["step"] - 1) * lr_decay)
    if type(grad) is RowSparseGrad:  # sparse=True: Σ and θ change on the rows present (torch)
        rows = grad.indices
        g = -grad.values if maximize else grad.values
        s = state["sum"][rows] + g * g
        state["sum"][rows] = s
        std = np.sqrt(s + eps) if eps_in_sqrt else np.sqrt(s) + eps
        param[rows] -= clr * (g / std)
        return
    g = -grad if maximize else grad
    if weight_decay:
        g = g + weight_decay * param
    s = state["sum"]
    s += g * g
    std = np.sqrt(s + eps) if eps_in_sqrt else np.sqrt(s) + eps
    param -= clr * (g / std)


class Adagrad(Optimizer):
    """AdaGrad: each coordinate's step shrinks with its accumulated squared gradients.

    Update::

        g_t = ±∇f(θ_{t-1}) + λ·θ_{t-1}
        lr_t = lr / (1 + (t − 1)·lr_decay)
        s_t = s_{t-1} + g_t²                          # s_0 = initial_accumulator_value
        θ_t = θ_{t-1} − lr_t·g_t / (√s_t + ε)         # eps_in_sqrt: g_t / √(s_t + ε)

    Note:
        d2l.ai puts ε (1e-6) inside the square root: ``eps_in_sqrt=True`` (gdlab extension).
        Deep Learning from Scratch uses torch's form with ε = 1e-7.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay (default 0).
        weight_decay: L2 penalty λ (default 0).
        initial_accumulator_value: s_0 (default 0).
        eps: ε (default 1e-10).
        maximize: maximize the objective (default False).
        eps_in_sqrt: ε inside the square root (default False).
        foreach, fused: accepted and ignored.

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = Adagrad([w], lr=0.5)
        >>> w.grad = np.array([4.0])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([0.5])

    Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization", JMLR 2011.
    """

    _rule = staticmethod(adagrad_)
    _param_shaped_keys = frozenset({"sum"})
    _nonnegative = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        eps_in_sqrt: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
        for group in self.param_groups:  # torch creates Adagrad's state eagerly
            for p in group["params"]:
                state = self.state[p]
                state["step"] = 0.0
                state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])

    def _sparse_grad(self, group: dict[str, Any], grad: Any) -> Any:
        """As torch's Adagrad: only the rows present change (weight_decay is refused)."""
        return check_sparse_weight_decay("Adagrad", group, grad)
