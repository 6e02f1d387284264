"""NAdam's fast kernel: NumPy ufuncs into reused work buffers, chunk by chunk."""

from __future__ import annotations

import numpy as np

from gdlab.optim._fast.chunked import decayed_grad, for_chunks
from gdlab.optim._scratch import lerp_adam_moments_

__all__ = ["nadam"]


def nadam(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
    momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, maximize: bool = False,
    fused: bool | None = None,
) -> None:  # fmt: skip
    """``nadam_`` in place, over cache-sized chunks, no allocation (``fused`` is ignored)."""
    if "exp_avg_sq" not in state:
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
        state["mu_product"] = 1.0
    state["step"] += 1.0
    step = state["step"]
    beta1, beta2 = betas
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    state["mu_product"] *= mu
    mu_product = state["mu_product"]
    bc2 = 1.0 - beta2**step
    c_grad = lr * (1.0 - mu) / (1.0 - mu_product)
    c_avg = lr * mu_next / (1.0 - mu_product * mu_next)

    def kernel(p, g, m, s2, w, d, denom):  # chunks of θ, g, m, v; 3 work buffers
        g = decayed_grad(p, g, lr, weight_decay, decoupled_weight_decay, maximize, d, w)
        lerp_adam_moments_(g, m, s2, beta1, beta2, w)
        np.divide(s2, bc2, out=denom)
        np.sqrt(denom, out=denom)
        denom += eps
        np.divide(g, denom, out=w)
        w *= c_grad
        p -= w
        np.divide(m, denom, out=w)
        w *= c_avg
        p -= w

    for_chunks([param, grad, state["exp_avg"], state["exp_avg_sq"]], kernel, work=3)
