"""(Stochastic) gradient descent with momentum, and the articles' ``Momentum`` form.

Batch gradient descent, stochastic gradient descent and mini-batch gradient descent are the
same update; they differ only in how many samples the gradient is averaged over (the data
loader's ``batch_size``: None = the whole set, 1, or b). ``SGD`` is all three.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from gdlab.optim._fusion import flat_views, fused_module, hp_array, run_kernel
from gdlab.optim._work import chunk_grad, direct_work, dtype_scalars, for_chunks
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["SGD", "Momentum", "sgd_", "momentum_"]


def sgd_(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
    fused: bool | None = None,
) -> None:
    """One SGD step on ``param`` in place (torch's formula; see :class:`SGD`).

    With numba (``fused`` None or True, contiguous float32/float64 arrays) one compiled pass
    does the update; otherwise NumPy ufuncs, on the whole arrays for a parameter of one chunk,
    else over cache-sized chunks.
    """
    kernels = fused_module(fused, "sgd_", param.size)
    hp = (weight_decay, momentum, dampening, nesterov, maximize)
    if kernels is not None and _sgd_fused(kernels.sgd_kernel, param, grad, state, lr, *hp):
        return
    buf = state.get("momentum_buffer") if momentum else None
    first = bool(momentum) and buf is None
    if first:  # torch starts the buffer at the first gradient (no dampening on it)
        buf = state["momentum_buffer"] = np.empty_like(param)
    flags = (bool(weight_decay), bool(momentum), bool(dampening), nesterov, maximize, first)
    hp = dtype_scalars(param, grad, (lr, weight_decay, momentum, 1.0 - dampening)) + flags
    work = direct_work(param, grad, 2)
    if work is None:
        for_chunks([param, grad, buf], partial(_sgd_chunk, hp=hp), work=2)
    else:  # one chunk: no closure, no slicing (same arithmetic)
        _sgd_chunk(param, grad, buf, *work, hp=hp)


def _sgd_chunk(
    p: np.ndarray, g: np.ndarray, b: np.ndarray | None, w: np.ndarray, d: np.ndarray, *,
    hp: tuple,
) -> None:  # fmt: skip
    """The SGD update of θ, g, buffer (one chunk or a whole small parameter); w, d: scratch.

    ``hp``: lr, λ, μ, 1 − τ (floats or 0-d arrays of θ's dtype), then the flags λ ≠ 0, μ ≠ 0,
    τ ≠ 0, nesterov, maximize, first step.
    """
    lr, weight_decay, momentum, keep, decay, has_momentum, dampening, nesterov, maximize, first = hp
    g = chunk_grad(p, g, weight_decay if decay else 0.0, maximize, d, w)
    if has_momentum:
        if first:
            np.copyto(b, g)
        else:
            b *= momentum
            if dampening:
                np.multiply(g, keep, out=w)
                b += w
            else:
                b += g
        if nesterov:  # θ ← θ − lr·(g + μ·b)
            np.multiply(b, momentum, out=w)
            w += g
            g = w
        else:
            g = b
    np.multiply(g, lr, out=w)
    p -= w


def _sgd_fused(
    kernel: Callable[..., None], param: np.ndarray, grad: np.ndarray, state: dict, lr: float,
    weight_decay: float, momentum: float, dampening: float, nesterov: bool, maximize: bool,
) -> bool:  # fmt: skip
    """The SGD update in one compiled pass (``_fused.sgd_kernel``); False if the arrays can't."""
    buf = state.get("momentum_buffer") if momentum else None
    first = bool(momentum) and buf is None
    if first:
        buf = np.empty_like(param)  # the kernel writes the first gradient into it
    views = flat_views([param, grad, param if buf is None else buf])
    if views is None:
        return False
    if first:
        state["momentum_buffer"] = buf
    values = hp_array((weight_decay, momentum, 1.0 - dampening, lr), param.dtype)
    flags = [bool(f) for f in (maximize, weight_decay, momentum, dampening, nesterov, first)]
    run_kernel(kernel, views, values, *flags)
    return True


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Update (PyTorch convention; the momentum buffer starts as the first gradient)::

        g_t = ±∇f(θ_{t-1}) + λ·θ_{t-1}          # − if maximize; λ = weight_decay
        b_t = μ·b_{t-1} + (1 − τ)·g_t           # b_1 = g_1; μ = momentum, τ = dampening
        θ_t = θ_{t-1} − lr·b_t                  # nesterov: θ_t = θ_{t-1} − lr·(g_t + μ·b_t)

    Note:
        Sutskever et al. and many tutorials (Deep Learning from Scratch, cs231n) write
        v_t = γ·v_{t-1} + lr·g_t; θ_t = θ_{t-1} − v_t. It equals this update while lr is
        constant and differs once lr is scheduled: use :class:`Momentum` for that form.
        d2l's momentum (v ← βv + g; x ← x − ηv) *is* this update with ``momentum=β``.
        Batch GD, SGD and mini-batch GD are all this class: only the batch differs.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3, as torch 2.13).
        momentum: momentum factor μ (default 0).
        dampening: dampening τ of the momentum (default 0).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        nesterov: Nesterov momentum (default False); needs momentum > 0 and dampening 0.
        maximize: maximize the objective instead (default False).
        foreach: accepted for torch compatibility and ignored.
        fused: None (default) runs the numba kernel when numba is installed
            (``gdlab[fast]``), True requires it, False forces the NumPy rule; same results.
        differentiable: must be False.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> w.grad = np.array([2.0])
        >>> opt.step()
        >>> w.data
        array([0.8])

    Reference: Sutskever, Martens, Dahl & Hinton, "On the importance of initialization and
    momentum in deep learning", ICML 2013.
    """

    _rule = staticmethod(sgd_)
    _param_shaped_keys = frozenset({"momentum_buffer"})
    _nonnegative = ("momentum", "weight_decay")
    _has_fused_kernel = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")


def momentum_(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    maximize: bool = False,
    fused: bool | None = None,
) -> None:
    """One step of the articles' momentum: v ← μ·v + lr·g; θ ← θ − v (v starts at 0).

    One compiled pass with numba (``fused`` as :func:`sgd_`), else NumPy over chunks.
    """
    v = state.get("velocity")
    if v is None:
        v = state["velocity"] = np.zeros_like(param)
    sign = -lr if maximize else lr
    kernels = fused_module(fused, "momentum_", param.size)
    views = None if kernels is None else flat_views([param, grad, v])
    if views is not None:
        values = hp_array((momentum, weight_decay * lr, sign), param.dtype)
        run_kernel(kernels.momentum_kernel, views, values, bool(weight_decay))
        return

    hp = (momentum, weight_decay * lr, sign, bool(weight_decay))
    work = direct_work(param, grad, 1)
    if work is None:
        for_chunks([param, grad, v], partial(_momentum_chunk, hp=hp), work=1)
    else:
        _momentum_chunk(param, grad, v, *work, hp=hp)


def _momentum_chunk(
    p: np.ndarray, g: np.ndarray, vel: np.ndarray, w: np.ndarray, *, hp: tuple
) -> None:
    """The articles' momentum update of θ, g, velocity; ``w`` is scratch."""
    momentum, decay_lr, sign, decay = hp
    if decay:
        np.multiply(p, decay_lr, out=w)
        vel *= momentum
        vel += w
        np.multiply(g, sign, out=w)
    else:
        np.multiply(g, sign, out=w)
        vel *= momentum
    vel += w
    p -= vel


class Momentum(Optimizer):
    """Gradient descent with momentum in the articles' form (lr inside the velocity).

    Update (Polyak's heavy ball as written by Deep Learning from Scratch, cs231n)::

        v_t = μ·v_{t-1} + lr·g_t        # v_0 = 0
        θ_t = θ_{t-1} − v_t

    Equal to ``SGD(momentum=μ)`` for a constant lr; with a schedule, a change of lr only
    affects new gradients here, while torch's SGD rescales the whole buffer.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 0.01).
        momentum: μ (default 0.9).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: maximize the objective instead (default False).
        fused: as :class:`SGD` (None: the numba kernel if installed; False: NumPy).

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = Momentum([w], lr=0.1, momentum=0.9)
        >>> w.grad = np.array([2.0])
        >>> opt.step()
        >>> w.data
        array([0.8])

    Reference: Polyak, "Some methods of speeding up the convergence of iteration methods",
    1964; Saito, "Deep Learning from Scratch", ch. 6.
    """

    _rule = staticmethod(momentum_)
    _param_shaped_keys = frozenset({"velocity"})
    _nonnegative = ("momentum", "weight_decay")
    _has_fused_kernel = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.01,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
