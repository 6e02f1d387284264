"""Adagrad's fast kernel: NumPy ufuncs into reused work buffers, chunk by chunk."""

from __future__ import annotations

import numpy as np

from gdlab.autograd.sparse import RowSparseGrad
from gdlab.optim._fast.chunked import chunk_grad, denominator, for_chunks
from gdlab.optim._fast.sparse_rows import on_rows

__all__ = ["adagrad"]


def adagrad(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, lr_decay: float = 0.0,
    weight_decay: float = 0.0, initial_accumulator_value: float = 0.0, eps: float = 1e-10,
    maximize: bool = False, eps_in_sqrt: bool = False, fused: bool | None = None,
) -> None:  # fmt: skip
    """``adagrad_`` in place, over cache-sized chunks, no allocation (``fused`` is ignored);
    a row-sparse gradient updates its rows only."""
    if "sum" not in state:
        state["step"] = 0.0
        state["sum"] = np.full_like(param, initial_accumulator_value)
    if type(grad) is RowSparseGrad:
        hyper = dict(lr=lr, lr_decay=lr_decay, eps=eps, maximize=maximize)
        on_rows(adagrad, param, grad, state, ("sum",), eps_in_sqrt=eps_in_sqrt, **hyper)
        return
    state["step"] += 1.0
    clr = lr / (1 + (state["step"] - 1) * lr_decay)

    def kernel(p, g, acc, w, d):  # chunks of θ, g, Σg²; 2 work buffers
        g = chunk_grad(p, g, weight_decay, maximize, d, w)
        np.multiply(g, g, out=w)
        acc += w
        std = denominator(acc, eps, eps_in_sqrt, w)
        np.divide(g, std, out=w)
        w *= clr
        p -= w

    for_chunks([param, grad, state["sum"]], kernel, work=2)
