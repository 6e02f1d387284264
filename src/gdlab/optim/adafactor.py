"""Adafactor (torch 2.13's variant): factored second moments, relative step sizes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["Adafactor", "adafactor_"]


def adafactor_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, beta2_decay: float = -0.8,
    eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:  # fmt: skip
    """One Adafactor step in place (see :class:`Adafactor`)."""
    if "step" not in state:
        state["step"] = 0.0
        if grad.ndim > 1:
            state["row_var"] = np.zeros((*grad.shape[:-1], 1), dtype=param.dtype)
            state["col_var"] = np.zeros((*grad.shape[:-2], 1, grad.shape[-1]), dtype=param.dtype)
        else:
            state["variance"] = np.zeros_like(param)
    g = -grad if maximize else grad
    eps1, eps2 = eps
    if eps1 is None:
        eps1 = float(np.finfo(param.dtype).eps)
    state["step"] += 1.0
    step = state["step"]
    if param.size == 0:
        return
    one_minus_beta2 = step**beta2_decay
    rho = min(lr, 1.0 / math.sqrt(step))
    rms = float(np.linalg.norm(param.reshape(-1))) / math.sqrt(param.size)
    alpha = max(eps2, rms) * rho
    if weight_decay:
        param *= 1.0 - lr * weight_decay
    var = _second_moment(state, g * g, one_minus_beta2, eps1)
    update = g / np.sqrt(var)
    rms_u = float(np.linalg.norm(update.reshape(-1))) / (math.sqrt(update.size) * d)
    update *= alpha / max(1.0, rms_u)
    param -= update


def _second_moment(state: dict, g2: np.ndarray, weight: float, eps1: float) -> np.ndarray:
    """v̂_t ≥ ε1², from the running means of g² (``weight`` = 1 − β2_t).

    Matrices (and stacks of them) keep only row and column means, R and C, and estimate
    v̂ = R·C / max(mean(R), ε1): memory O(n + m) instead of O(n·m).
    """
    if g2.ndim > 1:
        row, col = state["row_var"], state["col_var"]
        row += weight * (g2.mean(axis=-1, keepdims=True) - row)
        col += weight * (g2.mean(axis=-2, keepdims=True) - col)
        var = row @ col
        var /= np.maximum(row.mean(axis=-2, keepdims=True), eps1)
    else:
        v = state["variance"]
        v += weight * (g2 - v)
        var = v.copy()
    return np.maximum(var, eps1 * eps1, out=var)


class Adafactor(Optimizer):
    """Adafactor: Adam-like steps with a factored (row × column) second moment.

    Update (torch 2.13, ``lr`` caps the relative step size)::

        β2_t = 1 − t^c  (c = beta2_decay);  ρ_t = min(lr, 1/√t)
        α_t = max(ε2, RMS(θ_{t-1}))·ρ_t;  θ ← θ·(1 − lr·λ)
        matrices: R_t = β2_t R + (1 − β2_t)·mean_cols(g²), C_t likewise over rows,
                  v̂_t = R_t C_t / max(mean(R_t), ε1);  vectors: v̂_t = β2_t v̂ + (1 − β2_t) g²
        U_t = g_t / √max(v̂_t, ε1²);  θ_t = θ − α_t·U_t / max(1, RMS(U_t)/d)

    Args:
        params: parameters or param groups.
        lr: cap of the relative step size (default 1e-2).
        beta2_decay: c (default −0.8).
        eps: (ε1, ε2); ε1 None means the dtype's machine epsilon (default (None, 1e-3)).
        d: clipping threshold of the update's RMS (default 1.0).
        weight_decay: decoupled decay λ (default 0).
        maximize: maximize the objective (default False).
        foreach: accepted and ignored.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.ones((2, 3)))
        >>> opt = Adafactor([w])
        >>> w.grad = np.ones((2, 3))
        >>> opt.step()
        >>> bool((w.data < 1).all())
        True

    Reference: Shazeer & Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory
    Cost", ICML 2018, https://arxiv.org/abs/1804.04235
    """

    _rule = staticmethod(adafactor_)
    _param_shaped_keys = frozenset({"variance"})
    _lr_message = "Learning rate should be >= 0 but is: {}"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)  # lr, with torch's Adafactor wording
        if not 0.0 >= group["beta2_decay"]:
            raise ValueError(f"beta2_decay should be <= 0 but is: {group['beta2_decay']}")
        eps = group["eps"]
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= group["d"]:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {group['d']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"weight_decay should be >= 0 but is: {group['weight_decay']}")
