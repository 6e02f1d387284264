"""Averaged SGD and Rprop (resilient backpropagation): torch's formulas."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.optim._work import chunk_grad, for_chunks
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["ASGD", "Rprop", "asgd_", "rprop_"]


def asgd_(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    lambd: float = 1e-4,
    alpha: float = 0.75,
    t0: float = 1e6,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    """One ASGD step in place (see :class:`ASGD`)."""
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


class ASGD(Optimizer):
    """Averaged stochastic gradient descent (Polyak–Juditsky averaging, torch's schedule).

    Update::

        g_t = ±∇f(θ_{t-1}) + λ_wd·θ_{t-1}
        θ_t = θ_{t-1}·(1 − λ·η_t) − η_t·g_t
        ā_t = ā_{t-1} + μ_t·(θ_t − ā_{t-1})        (state['ax'], the averaged iterate)
        η_{t+1} = lr / (1 + λ·lr·t)^α;  μ_{t+1} = 1 / max(1, t − t0)

    Args:
        params: parameters or param groups.
        lr: learning rate η_1 (default 1e-2).
        lambd: decay term λ (default 1e-4).
        alpha: power of the η schedule (default 0.75).
        t0: step at which averaging starts (default 1e6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective (default False).
        foreach: accepted and ignored.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = ASGD([w], lr=0.1, lambd=0.0)
        >>> w.grad = np.array([2.0])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([0.8])

    Reference: Polyak & Juditsky, "Acceleration of Stochastic Approximation by Averaging",
    SIAM J. Control Optim. 1992.
    """

    _rule = staticmethod(asgd_)
    _scalar_state_keys = frozenset({"step", "eta", "mu"})
    _param_shaped_keys = frozenset({"ax"})
    _nonnegative = ("weight_decay",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))


def rprop_(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    etas: tuple[float, float] = (0.5, 1.2),
    step_sizes: tuple[float, float] = (1e-6, 50),
    maximize: bool = False,
) -> None:
    """One Rprop step in place (see :class:`Rprop`)."""
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


class Rprop(Optimizer):
    """Rprop: per-coordinate steps that grow while the gradient's sign holds, shrink when it flips.

    Update (torch's variant, Rprop without weight backtracking)::

        s = sign(g_t·g_{t-1});  Δ_t = clip(Δ_{t-1}·(η+ if s>0, η− if s<0, 1 if s=0), Δmin, Δmax)
        g_t ← 0 where s < 0
        θ_t = θ_{t-1} − sign(g_t)·Δ_t;  g_{t-1} ← g_t          (Δ_0 = lr)

    Args:
        params: parameters or param groups.
        lr: initial step size Δ_0 (default 1e-2).
        etas: (η−, η+) (default (0.5, 1.2)).
        step_sizes: (Δmin, Δmax) (default (1e-6, 50)).
        maximize: maximize the objective (default False).
        foreach: accepted and ignored.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = Rprop([w], lr=0.1)
        >>> w.grad = np.array([2.0])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([0.9])

    Reference: Riedmiller & Braun, "A direct adaptive method for faster backpropagation
    learning: the RPROP algorithm", ICNN 1993.
    """

    _rule = staticmethod(rprop_)
    _param_shaped_keys = frozenset({"prev", "step_size"})

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        etas = group["etas"]
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
