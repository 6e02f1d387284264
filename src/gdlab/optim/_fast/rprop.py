"""Rprop's fast kernel: NumPy ufuncs into reused work buffers, chunk by chunk."""

from __future__ import annotations

import numpy as np

from gdlab.optim._fast.chunked import chunk_grad, for_chunks

__all__ = ["rprop"]


def rprop(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    etas: tuple[float, float] = (0.5, 1.2), step_sizes: tuple[float, float] = (1e-6, 50),
    maximize: bool = False, fused: bool | None = None,
) -> None:  # fmt: skip
    """``rprop_`` in place, over cache-sized chunks, no allocation (``fused`` is ignored)."""
    if "prev" not in state:
        state["step"] = 0.0
        state["prev"] = np.zeros_like(param)
        state["step_size"] = np.full_like(param, lr)
    state["step"] += 1.0
    etaminus, etaplus = etas

    def kernel(p, g, prev, step_size, d, factor, mask, where):  # θ, g, state; 2+2 buffers
        g = chunk_grad(p, g, 0.0, maximize, d, factor)
        np.multiply(g, prev, out=factor)
        np.sign(factor, out=factor)
        np.less(factor, 0, out=mask)  # the sign flipped: shrink the step, skip this update
        np.greater(factor, 0, out=where)
        np.copyto(factor, etaplus, where=where)
        np.copyto(factor, etaminus, where=mask)
        np.equal(factor, 0, out=where)
        np.copyto(factor, 1.0, where=where)
        step_size *= factor
        np.clip(step_size, step_sizes[0], step_sizes[1], out=step_size)
        np.copyto(prev, g)
        np.copyto(prev, 0.0, where=mask)
        np.sign(prev, out=factor)
        factor *= step_size
        p -= factor

    for_chunks([param, grad, state["prev"], state["step_size"]], kernel, work=2, masks=2)
