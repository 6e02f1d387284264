"""Adam's (and AdamW's) fast kernel: one numba pass, or NumPy in chunks into work buffers."""

from __future__ import annotations

import math
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from gdlab.optim._fast.buffers import direct_work
from gdlab.optim._fast.chunked import chunk_grad, for_chunks
from gdlab.optim._fast.numba_loader import flat_views, fused_module, run_kernel

__all__ = ["AdamScalars", "adam"]


class AdamScalars(NamedTuple):
    """Adam's step as the kernels take it: θ ← θ + m/(√v + e)·neg_step_size, and flags."""

    one_minus_beta1: Any
    beta2: Any
    one_minus_beta2: Any
    e: Any  # ε·√(1 − β2^t) (ε with eps_hat): the bias correction moved out of the sqrt
    neg_step_size: Any  # −lr·√(1 − β2^t)/(1 − β1^t)
    decay: Any  # 1 − lr·λ (decoupled weight decay)
    weight_decay: Any  # λ (coupled weight decay)
    maximize: bool
    coupled: bool
    decoupled: bool
    amsgrad: bool


def adam(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
    amsgrad: bool = False, maximize: bool = False, decoupled_weight_decay: bool = False,
    eps_hat: bool = False, fused: bool | None = None,
) -> None:  # fmt: skip
    """``adam.adam_`` in place, with no allocation: one numba pass over memory if ``fused``
    allows and the arrays can be flat, else NumPy ufuncs in cache-sized chunks."""
    if "step" not in state:
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    if amsgrad and "max_exp_avg_sq" not in state:
        state["max_exp_avg_sq"] = np.zeros_like(param)
    state["step"] += 1.0
    step = state["step"]
    beta1, beta2 = betas
    bc2_sqrt = math.sqrt(1.0 - beta2**step)
    decoupled = bool(weight_decay) and decoupled_weight_decay
    scalars = AdamScalars(
        1.0 - beta1, beta2, 1.0 - beta2, eps if eps_hat else eps * bc2_sqrt,
        -(lr * bc2_sqrt / (1.0 - beta1**step)), 1.0 - lr * weight_decay if decoupled else 1.0,
        weight_decay, maximize, bool(weight_decay) and not decoupled, decoupled, amsgrad,
    )  # fmt: skip
    vmax = state["max_exp_avg_sq"] if amsgrad else None
    arrays = [param, grad, state["exp_avg"], state["exp_avg_sq"], vmax]
    kernels = fused_module(fused, "adam_", param.size)
    views = None if kernels is None else flat_views([a for a in arrays if a is not None])
    if views is not None:
        if not amsgrad:
            views.append(views[3])  # fills the kernel's max_exp_avg_sq slot, unused
        typed = scalars._replace(**{k: param.dtype.type(getattr(scalars, k)) for k in _VALUES})
        run_kernel(kernels.adam_kernel, views, typed)
    elif (work := direct_work(param, grad, 2)) is not None:  # one chunk: no closure, no slicing
        _adam_chunk(*arrays, *work, s=scalars)
    else:
        for_chunks(arrays, partial(_adam_chunk, s=scalars), work=2)


_VALUES = AdamScalars._fields[:7]


def _adam_chunk(
    p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, vmax: np.ndarray | None,
    w: np.ndarray, ge: np.ndarray, *, s: AdamScalars,
) -> None:  # fmt: skip
    """The Adam update of one cache-sized chunk; ``w``, ``ge`` are work buffers."""
    g = chunk_grad(p, g, s.weight_decay if s.coupled else 0.0, s.maximize, ge, w)
    if s.decoupled:
        p *= s.decay
    np.subtract(g, m, out=w)  # m ← m + (1 − β1)·(g − m), torch's lerp
    w *= s.one_minus_beta1
    m += w
    v *= s.beta2
    np.multiply(g, g, out=w)
    w *= s.one_minus_beta2
    v += w
    if vmax is not None:  # amsgrad: normalise by the running maximum of v
        np.maximum(vmax, v, out=vmax)
        v = vmax
    np.sqrt(v, out=w)
    w += s.e
    np.divide(m, w, out=w)
    w *= s.neg_step_size
    p += w
