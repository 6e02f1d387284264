"""ASGD's fast kernel: NumPy ufuncs into reused work buffers, chunk by chunk."""

from __future__ import annotations

import numpy as np

from gdlab.optim._fast.chunked import chunk_grad, for_chunks

__all__ = ["asgd"]


def asgd(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, lambd: float = 1e-4,
    alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0.0, maximize: bool = False,
    fused: bool | None = None,
) -> None:  # fmt: skip
    """``asgd_`` in place, over cache-sized chunks, no allocation (``fused`` is ignored)."""
    if "ax" not in state:
        state["step"] = 0.0
        state["eta"] = float(lr)
        state["mu"] = 1.0
        state["ax"] = np.zeros_like(param)
    state["step"] += 1.0
    eta, mu = state["eta"], state["mu"]

    def kernel(p, g, ax, w, d):  # chunks of θ, g, ā; 2 work buffers
        g = chunk_grad(p, g, weight_decay, maximize, d, w)
        p *= 1.0 - lambd * eta
        np.multiply(g, eta, out=w)
        p -= w
        if mu != 1:
            np.subtract(p, ax, out=w)
            w *= mu
            ax += w
        else:
            np.copyto(ax, p)

    for_chunks([param, grad, state["ax"]], kernel, work=2)
    step = state["step"]
    state["eta"] = lr / ((1 + lambd * lr * step) ** alpha)
    state["mu"] = 1 / max(1, step - t0)
