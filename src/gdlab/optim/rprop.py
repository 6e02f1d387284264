"""Rprop (resilient backpropagation): torch's variant, without weight backtracking."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["Rprop", "rprop_"]


def rprop_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    etas: tuple[float, float] = (0.5, 1.2), step_sizes: tuple[float, float] = (1e-6, 50),
    maximize: bool = False,
) -> None:  # fmt: skip
    """One Rprop step in place (the reference rule; see :class:`Rprop`)."""
    if "prev" not in state:
        state.update(step=0.0, prev=np.zeros_like(param), step_size=np.full_like(param, lr))
    state["step"] += 1.0
    etaminus, etaplus = etas
    g = -grad if maximize else grad
    prev, step_size = state["prev"], state["step_size"]
    sign = np.sign(g * prev)
    factor = sign.copy()  # NaN stays NaN
    factor[sign > 0] = etaplus  # the sign held: a longer step
    factor[sign < 0] = etaminus  # it flipped: a shorter one, and no move this time
    factor[sign == 0] = 1.0
    step_size *= factor
    np.clip(step_size, step_sizes[0], step_sizes[1], out=step_size)
    prev[...] = np.where(sign < 0, 0.0, g)
    param -= np.sign(prev) * step_size


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
    _lr_scales_the_step = False  # lr is the initial step size, then clipped to step_sizes
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
