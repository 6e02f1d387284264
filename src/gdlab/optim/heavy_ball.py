"""The articles' momentum (Polyak's heavy ball): v ← μ·v + lr·g; θ ← θ − v."""

from __future__ import annotations

import numpy as np

from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["Momentum", "momentum_"]


def momentum_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, momentum: float = 0.9,
    weight_decay: float = 0.0, maximize: bool = False,
) -> None:  # fmt: skip
    """One step of the articles' momentum in place (the reference rule; see :class:`Momentum`)."""
    v = state.get("velocity")
    if v is None:
        v = state["velocity"] = np.zeros_like(param)
    v *= momentum
    if weight_decay:
        v += (weight_decay * lr) * param  # the L2 penalty's step, inside the velocity
    v += (-lr if maximize else lr) * grad
    param -= v


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
