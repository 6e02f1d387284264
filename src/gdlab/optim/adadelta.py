"""Adadelta: a step whose units match θ's, from running averages of g² and Δθ² (torch's)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays

__all__ = ["Adadelta", "adadelta_"]


def adadelta_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, rho: float = 0.9,
    eps: float = 1e-6, weight_decay: float = 0.0, maximize: bool = False,
) -> None:  # fmt: skip
    """One Adadelta step in place (the reference rule; see :class:`Adadelta`)."""
    v, u = state_arrays(state, param, "square_avg", "acc_delta", step=0.0)
    state["step"] += 1.0
    g = -grad if maximize else grad
    if weight_decay:
        g = g + weight_decay * param
    v *= rho
    v += (1.0 - rho) * (g * g)
    delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
    u *= rho
    u += (1.0 - rho) * (delta * delta)
    param -= lr * delta


class Adadelta(Optimizer):
    """Adadelta: a step whose units match θ's, from running averages of g² and Δθ².

    Update::

        g_t = ±∇f(θ_{t-1}) + λ·θ_{t-1}
        v_t = ρ·v_{t-1} + (1 − ρ)·g_t²
        Δ_t = √(u_{t-1} + ε) / √(v_t + ε) · g_t
        u_t = ρ·u_{t-1} + (1 − ρ)·Δ_t²
        θ_t = θ_{t-1} − lr·Δ_t

    Args:
        params: parameters or param groups.
        lr: coefficient scaling Δ (default 1.0).
        rho: ρ (default 0.9).
        eps: ε (default 1e-6).
        weight_decay: L2 penalty λ (default 0).
        maximize: maximize the objective (default False).
        foreach: accepted and ignored.

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = Adadelta([w])
        >>> w.grad = np.array([1.0])
        >>> opt.step()
        >>> bool(w.data[0] < 1.0)
        True

    Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012,
    https://arxiv.org/abs/1212.5701
    """

    _rule = staticmethod(adadelta_)
    _param_shaped_keys = frozenset({"square_avg", "acc_delta"})
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
