"""RAdam's fast kernel: NumPy ufuncs into reused work buffers, chunk by chunk."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim._fast.chunked import decayed_grad, for_chunks
from gdlab.optim._scratch import lerp_adam_moments_
from gdlab.optim.radam import rectification

__all__ = ["radam"]


def radam(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False, maximize: bool = False, fused: bool | None = None,
) -> None:  # fmt: skip
    """``radam_`` in place, over cache-sized chunks, no allocation (``fused`` is ignored)."""
    if "exp_avg_sq" not in state:
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    state["step"] += 1.0
    step = state["step"]
    beta1, beta2 = betas
    bc1 = 1.0 - beta1**step
    bc2 = 1.0 - beta2**step
    rect = rectification(beta2, step, min_rho=5.0)
    rectified = rect is not None  # else too few steps for a reliable variance: momentum SGD
    if rectified:
        factor = lr * math.sqrt(bc2) * rect / bc1

    def kernel(p, g, m, s2, w, d):  # chunks of θ, g, m, v; 2 work buffers
        g = decayed_grad(p, g, lr, weight_decay, decoupled_weight_decay, maximize, d, w)
        lerp_adam_moments_(g, m, s2, beta1, beta2, w)
        if rectified:
            np.sqrt(s2, out=w)
            w += eps
            np.divide(m, w, out=w)
            w *= factor
        else:
            np.multiply(m, lr / bc1, out=w)
        p -= w

    for_chunks([param, grad, state["exp_avg"], state["exp_avg_sq"]], kernel, work=2)
