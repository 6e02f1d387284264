"""Adadelta's fast kernel: NumPy ufuncs into reused work buffers, chunk by chunk."""

from __future__ import annotations

import numpy as np

from gdlab.optim._fast.chunked import chunk_grad, for_chunks

__all__ = ["adadelta"]


def adadelta(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, rho: float = 0.9,
    eps: float = 1e-6, weight_decay: float = 0.0, maximize: bool = False,
    fused: bool | None = None,
) -> None:  # fmt: skip
    """``adadelta_`` in place, over cache-sized chunks, no allocation (``fused`` is ignored)."""
    if "square_avg" not in state:
        state["step"] = 0.0
        state["square_avg"] = np.zeros_like(param)
        state["acc_delta"] = np.zeros_like(param)
    state["step"] += 1.0

    def kernel(p, g, sq, acc, w, d, delta):  # chunks of θ, g, v, u; 3 work buffers
        g = chunk_grad(p, g, weight_decay, maximize, d, w)
        sq *= rho
        np.multiply(g, g, out=w)
        w *= 1.0 - rho
        sq += w
        np.add(sq, eps, out=w)
        np.sqrt(w, out=w)  # std
        np.add(acc, eps, out=delta)
        np.sqrt(delta, out=delta)
        delta /= w
        delta *= g
        acc *= rho
        np.multiply(delta, delta, out=w)
        w *= 1.0 - rho
        acc += w
        delta *= lr
        p -= delta

    for_chunks([param, grad, state["square_avg"], state["acc_delta"]], kernel, work=3)
