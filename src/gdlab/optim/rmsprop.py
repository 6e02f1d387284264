"""RMSprop: steps scaled by a running average of squared gradients (torch's formula).

torch's form adds ε *outside* the square root; ``eps_in_sqrt=True`` is d2l.ai's
(x ← x − η·g/√(s + ε)).
"""

from __future__ import annotations

import numpy as np

from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays

__all__ = ["RMSprop", "rmsprop_"]


def rmsprop_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, alpha: float = 0.99,
    eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
    maximize: bool = False, eps_in_sqrt: bool = False,
) -> None:  # fmt: skip
    """One RMSprop step in place (the reference rule; see :class:`RMSprop`)."""
    (v,) = state_arrays(state, param, "square_avg", step=0.0)
    if momentum > 0 and "momentum_buffer" not in state:
        state["momentum_buffer"] = np.zeros_like(param)
    if centered and "grad_avg" not in state:
        state["grad_avg"] = np.zeros_like(param)
    state["step"] += 1.0
    g = -grad if maximize else grad
    if weight_decay:
        g = g + weight_decay * param
    v *= alpha
    v += (1.0 - alpha) * (g * g)
    if centered:  # the variance: subtract the square of the running mean gradient
        g_avg = state["grad_avg"]
        g_avg += (1.0 - alpha) * (g - g_avg)
        v = v - g_avg * g_avg
    avg = np.sqrt(v + eps) if eps_in_sqrt else np.sqrt(v) + eps
    if momentum > 0:
        buf = state["momentum_buffer"]
        buf *= momentum
        buf += g / avg
        param -= lr * buf
    else:
        param -= lr * (g / avg)


class RMSprop(Optimizer):
    """RMSprop: steps scaled by a running average of squared gradients.

    Update::

        g_t = ±∇f(θ_{t-1}) + λ·θ_{t-1}
        v_t = α·v_{t-1} + (1 − α)·g_t²
        centered: ḡ_t = α·ḡ_{t-1} + (1 − α)·g_t;  ṽ_t = v_t − ḡ_t²  (else ṽ_t = v_t)
        momentum μ > 0: b_t = μ·b_{t-1} + g_t/(√ṽ_t + ε);  θ_t = θ_{t-1} − lr·b_t
        else:           θ_t = θ_{t-1} − lr·g_t/(√ṽ_t + ε)

    Note:
        d2l.ai writes s ← γs + (1 − γ)g², x ← x − η·g/√(s + ε): ``alpha=γ, eps_in_sqrt=True``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant α (default 0.99).
        eps: ε (default 1e-8).
        weight_decay: L2 penalty λ (default 0).
        momentum: μ (default 0).
        centered: normalise by the estimated variance (default False).
        maximize: maximize the objective (default False).
        eps_in_sqrt: ε inside the square root (default False).
        foreach: accepted and ignored.

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = RMSprop([w], lr=0.01, alpha=0.0)
        >>> w.grad = np.array([4.0])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([0.99])

    Reference: Hinton, Srivastava & Swersky, "Neural Networks for Machine Learning", lecture
    6e (2012); Graves, "Generating Sequences With Recurrent Neural Networks" (centered), 2013.
    """

    _rule = staticmethod(rmsprop_)
    _param_shaped_keys = frozenset({"square_avg", "momentum_buffer", "grad_avg"})
    _nonnegative = ("eps", "momentum", "weight_decay", "alpha")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        *,
        eps_in_sqrt: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
