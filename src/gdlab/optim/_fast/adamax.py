"""Adamax's fast kernel: NumPy ufuncs into reused work buffers, chunk by chunk."""

from __future__ import annotations

import numpy as np

from gdlab.optim._fast.chunked import chunk_grad, for_chunks

__all__ = ["adamax"]


def adamax(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
    maximize: bool = False, fused: bool | None = None,
) -> None:  # fmt: skip
    """``adamax_`` in place, over cache-sized chunks, no allocation (``fused`` is ignored)."""
    if "exp_inf" not in state:
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_inf=np.zeros_like(param))
    state["step"] += 1.0
    beta1, beta2 = betas
    clr = lr / (1.0 - beta1 ** state["step"])

    def kernel(p, g, m, u, w, d):  # chunks of θ, g, m, u; 2 work buffers
        g = chunk_grad(p, g, weight_decay, maximize, d, w)
        np.subtract(g, m, out=w)
        w *= 1.0 - beta1
        m += w
        u *= beta2
        np.abs(g, out=w)
        w += eps
        np.maximum(u, w, out=u)
        np.divide(m, u, out=w)
        w *= clr
        p -= w

    for_chunks([param, grad, state["exp_avg"], state["exp_inf"]], kernel, work=2)
