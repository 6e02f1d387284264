"""RMSprop's fast kernel: NumPy ufuncs into reused work buffers, chunk by chunk."""

from __future__ import annotations

import numpy as np

from gdlab.optim._fast.chunked import chunk_grad, denominator, for_chunks

__all__ = ["rmsprop"]


def rmsprop(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, alpha: float = 0.99,
    eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
    maximize: bool = False, eps_in_sqrt: bool = False, fused: bool | None = None,
) -> None:  # fmt: skip
    """``rmsprop_`` in place, over cache-sized chunks, no allocation (``fused`` is ignored)."""
    if "square_avg" not in state:
        state["step"] = 0.0
        state["square_avg"] = np.zeros_like(param)
    if momentum > 0 and "momentum_buffer" not in state:
        state["momentum_buffer"] = np.zeros_like(param)
    if centered and "grad_avg" not in state:
        state["grad_avg"] = np.zeros_like(param)
    state["step"] += 1.0
    grad_avg = state["grad_avg"] if centered else None
    buf = state["momentum_buffer"] if momentum > 0 else None

    def kernel(p, g, sq, gavg, b, w, d):  # chunks of θ, g, v, ḡ, b; 2 work buffers
        g = chunk_grad(p, g, weight_decay, maximize, d, w)
        sq *= alpha
        np.multiply(g, g, out=w)
        w *= 1.0 - alpha
        sq += w
        if centered:
            np.subtract(g, gavg, out=w)
            w *= 1.0 - alpha
            gavg += w
            np.multiply(gavg, gavg, out=w)
            np.subtract(sq, w, out=w)
            avg = denominator(w, eps, eps_in_sqrt, w)
        else:
            avg = denominator(sq, eps, eps_in_sqrt, w)
        np.divide(g, avg, out=w)
        if momentum > 0:
            b *= momentum
            b += w
            np.multiply(b, lr, out=w)
        else:
            w *= lr
        p -= w

    for_chunks([param, grad, state["square_avg"], grad_avg, buf], kernel, work=2)
