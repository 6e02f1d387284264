"""Averaged SGD (Polyak–Juditsky averaging with torch's step-size schedule)."""

from __future__ import annotations

import numpy as np

from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays

__all__ = ["ASGD", "asgd_"]


def asgd_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, lambd: float = 1e-4,
    alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0.0, maximize: bool = False,
) -> None:  # fmt: skip
    """One ASGD step in place (the reference rule; see :class:`ASGD`)."""
    (ax,) = state_arrays(state, param, "ax", step=0.0, eta=float(lr), mu=1.0)
    state["step"] += 1.0
    eta, mu = state["eta"], state["mu"]
    g = -grad if maximize else grad
    if weight_decay:
        g = g + weight_decay * param
    param *= 1.0 - lambd * eta
    param -= eta * g
    if mu != 1:
        ax += mu * (param - ax)  # the running average of the iterates
    else:
        ax[...] = param
    t = state["step"]
    state["eta"] = lr / ((1 + lambd * lr * t) ** alpha)
    state["mu"] = 1 / max(1, t - t0)


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
