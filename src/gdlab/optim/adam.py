"""Adam and AdamW (torch's formulas), with the Keras/Kingma "ε̂" form as an option."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import numpy as np

from gdlab.optim._fusion import flat_views, fused_module, hp_array, run_kernel
from gdlab.optim._work import chunk_grad, direct_work, for_chunks
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["Adam", "AdamW", "adam_", "update_moments"]


class _AdamHP(NamedTuple):
    beta1: float
    beta2: float
    e: float
    scale: float
    maximize: bool
    decay: float | None
    coupled: float


def adam_(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
    eps_hat: bool = False,
    fused: bool | None = None,
) -> None:
    """One Adam/AdamW step in place (see :class:`Adam`), fused or chunk by chunk, no allocation.

    With numba (``fused`` None or True, contiguous float32/float64 arrays) one compiled pass
    over memory does the whole update. Otherwise long parameters are walked in cache-sized
    chunks of NumPy ufuncs, every temporary in a reused work buffer. Either way
    :func:`gdlab.optim.set_num_threads` shares long parameters out over threads.
    """
    if "step" not in state:
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    if amsgrad and "max_exp_avg_sq" not in state:
        state["max_exp_avg_sq"] = np.zeros_like(param)
    state["step"] += 1.0
    step = state["step"]
    beta1, beta2 = betas
    bc2_sqrt = math.sqrt(1.0 - beta2**step)
    # lr/(1−β1^t)·m/(√v/√(1−β2^t) + ε) = s·m/(√v + e), one pass fewer than torch's order
    scale = lr * bc2_sqrt / (1.0 - beta1**step)
    e = eps if eps_hat else eps * bc2_sqrt
    vmax = state["max_exp_avg_sq"] if amsgrad else None
    arrays = [param, grad, state["exp_avg"], state["exp_avg_sq"], vmax]
    hp = _AdamHP(  # positional: this runs per parameter per step
        beta1, beta2, e, scale, maximize,
        1.0 - lr * weight_decay if weight_decay and decoupled_weight_decay else None,
        weight_decay if weight_decay and not decoupled_weight_decay else 0.0,
    )  # fmt: skip
    kernels = fused_module(fused, "adam_", param.size)
    views = None if kernels is None else flat_views([a for a in arrays if a is not None])
    if views is not None:
        _adam_fused(kernels.adam_kernel, views, hp)
    elif (work := direct_work(param, grad, 2)) is not None:  # one chunk: no closure, no slicing
        _adam_chunk(*arrays, *work, hp=hp)
    else:
        for_chunks(arrays, partial(_adam_chunk, hp=hp), work=2)


def _adam_fused(kernel: Callable[..., None], views: list[np.ndarray], hp: _AdamHP) -> None:
    """The whole update in one compiled pass (``_fused.adam_kernel``, same arithmetic)."""
    amsgrad = len(views) > 4
    if not amsgrad:
        views.append(views[3])  # fills the kernel's max_exp_avg_sq slot, unused
    decay = 1.0 if hp.decay is None else hp.decay
    values = (1.0 - hp.beta1, hp.beta2, 1.0 - hp.beta2, hp.e, -hp.scale, decay, hp.coupled)
    flags = (bool(hp.maximize), bool(hp.coupled), hp.decay is not None, amsgrad)
    run_kernel(kernel, views, hp_array(values, views[0].dtype), *flags)


def update_moments(
    g: np.ndarray, m: np.ndarray, v: np.ndarray, beta1: float, beta2: float, work: np.ndarray
) -> None:
    """m ← m + (1 − β1)·(g − m) (torch's lerp), v ← β2·v + (1 − β2)·g², in place."""
    np.subtract(g, m, out=work)
    work *= 1.0 - beta1
    m += work
    v *= beta2
    np.multiply(g, g, out=work)
    work *= 1.0 - beta2
    v += work


def _adam_chunk(
    p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, vmax: np.ndarray | None,
    w: np.ndarray, ge: np.ndarray, *, hp: _AdamHP,
) -> None:  # fmt: skip
    """The Adam update of one cache-sized chunk; ``w``, ``ge`` are work buffers."""
    g = chunk_grad(p, g, hp.coupled, hp.maximize, ge, w)
    if hp.decay is not None:
        p *= hp.decay
    update_moments(g, m, v, hp.beta1, hp.beta2, w)
    if vmax is not None:  # amsgrad: normalise by the running maximum of v
        np.maximum(vmax, v, out=vmax)
        v = vmax
    np.sqrt(v, out=w)
    w += hp.e
    np.divide(m, w, out=w)
    w *= -hp.scale
    p += w


class Adam(Optimizer):
    """Adam: adaptive moment estimation (torch's formula, eps outside the square root).

    Update::

        g_t = ±∇f(θ_{t-1}) (+ λ·θ_{t-1} if weight decay is coupled)
        m_t = β1·m_{t-1} + (1 − β1)·g_t
        v_t = β2·v_{t-1} + (1 − β2)·g_t²          # amsgrad: v̂max_t = max(v̂max_{t-1}, v_t)
        θ_t = θ_{t-1} − lr·m̂_t / (√v̂_t + ε),  m̂_t = m_t/(1 − β1^t), v̂_t = v_t/(1 − β2^t)
        decoupled_weight_decay (AdamW): θ_{t-1} ← θ_{t-1}·(1 − lr·λ) first, no λ in g_t

    Note:
        Kingma & Ba's section 2 efficiency remark, Keras and Deep Learning from Scratch add ε̂
        to √v_t *before* bias correction: θ_t = θ_{t-1} − lr·√(1−β2^t)/(1−β1^t)·m_t/(√v_t + ε̂).
        ``eps_hat=True`` selects that form (a gdlab extension); it differs only through ε.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.999)).
        eps: ε (default 1e-8).
        weight_decay: λ (default 0).
        amsgrad: use the running maximum of v (default False).
        maximize: maximize the objective (default False).
        decoupled_weight_decay: AdamW's decay (default False).
        eps_hat: the ε̂ form above (default False).
        foreach: accepted and ignored.
        fused: None (default) runs the numba kernel when numba is installed
            (``gdlab[fast]``), True requires it, False forces the NumPy rule; same results.
        capturable, differentiable: must be False.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0, -1.0]))
        >>> opt = Adam([w], lr=0.1)
        >>> w.grad = np.array([3.0, -0.5])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([ 0.9, -0.9])

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
    https://arxiv.org/abs/1412.6980; Reddi et al., "On the Convergence of Adam and Beyond"
    (AMSGrad), ICLR 2018.
    """

    _rule = staticmethod(adam_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq", "max_exp_avg_sq"})
    _nonnegative = ("eps", "weight_decay")
    _has_fused_kernel = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
        eps_hat: bool = False,
    ) -> None:
        defaults = hyperparameters(locals())
        if isinstance(betas, list):
            defaults["betas"] = tuple(betas)
        super().__init__(params, defaults)


class AdamW(Adam):
    """Adam with decoupled weight decay (default weight_decay 1e-2).

    Update: θ ← θ·(1 − lr·λ), then the Adam step without λ in the gradient
    (``Adam(..., decoupled_weight_decay=True)``). See :class:`Adam` for the rest.

    Args:
        params, lr, betas, eps, amsgrad, maximize: as :class:`Adam`.
        weight_decay: decoupled decay λ (default 1e-2).

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.0)
        >>> w.grad = np.array([2.0])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([0.9])

    Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
    https://arxiv.org/abs/1711.05101
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, **hyperparameters(locals()), decoupled_weight_decay=True)
