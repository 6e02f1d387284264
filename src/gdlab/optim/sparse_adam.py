"""SparseAdam: Adam on the rows a row-sparse gradient touches (torch.optim.SparseAdam)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdlab.autograd.sparse import RowSparseGrad
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays

__all__ = ["SparseAdam", "sparse_adam_"]


def sparse_adam_(
    param: np.ndarray, grad: RowSparseGrad, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, maximize: bool = False,
) -> None:  # fmt: skip
    """One SparseAdam step in place on the rows ``grad`` holds (see :class:`SparseAdam`)."""
    if type(grad) is not RowSparseGrad:
        raise RuntimeError(
            "SparseAdam does not support dense gradients, please consider Adam instead"
        )
    m, v = state_arrays(state, param, "exp_avg", "exp_avg_sq", step=0.0)
    beta1, beta2 = betas
    state["step"] += 1.0
    rows = grad.indices
    g = -grad.values if maximize else grad.values
    m_old, v_old = m[rows], v[rows]
    m_step = (g - m_old) * (1.0 - beta1)  # m += (1 − β1)·(g − m), on the rows only
    v_step = (g * g - v_old) * (1.0 - beta2)
    m[rows] = m_old + m_step
    v[rows] = v_old + v_step
    t = state["step"]
    step_size = lr * math.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
    param[rows] += -step_size * ((m_step + m_old) / (np.sqrt(v_step + v_old) + eps))


class SparseAdam(Optimizer):
    """SparseAdam: Adam's moments and step on the rows a sparse gradient touches only.

    For the rows r in the gradient (``Embedding(sparse=True)``: the rows the batch used)::

        m_r ← m_r + (1 − β1)·(g_r − m_r),   v_r ← v_r + (1 − β2)·(g_r² − v_r)
        θ_r ← θ_r − lr·√(1 − β2^t)/(1 − β1^t) · m_r/(√v_r + ε)

    Every other row keeps its parameters and its moments: it is not decayed as dense Adam
    would decay it with a zero gradient (so the two differ), and t counts the parameter's
    steps, touched or not. The step is torch.optim.SparseAdam's, in the same order of
    operations; a dense gradient raises torch's error.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab import nn
        >>> emb = nn.Embedding(4, 2, sparse=True, dtype=np.float64)
        >>> before = emb.weight.data.copy()
        >>> opt = SparseAdam(emb.parameters(), lr=0.1)
        >>> emb(np.array([2, 2])).sum().backward()
        >>> opt.step()
        >>> np.flatnonzero((emb.weight.data != before).any(axis=1))  # only row 2 moved
        array([2])

    Reference: torch.optim.SparseAdam; Kingma & Ba, "Adam: A Method for Stochastic
    Optimization", ICLR 2015.
    """

    _rule = staticmethod(sparse_adam_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq"})
    _nonnegative = ("eps",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _sparse_grad(self, group: dict[str, Any], grad: Any) -> Any:
        return grad  # the rule's own input
