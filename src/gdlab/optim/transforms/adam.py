"""Adam's scaling: the bias-corrected first moment over the root of the second."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from gdlab.optim._scratch import lerp_adam_moments_
from gdlab.optim.transforms.base import Arrays, GradientTransformation, Updates, materialize

__all__ = ["ScaleByAdamState", "ScaleByAmsgradState", "scale_by_adam"]


class ScaleByAdamState(NamedTuple):
    """Adam's moments under torch's names: step t, m (``exp_avg``), v (``exp_avg_sq``)."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray


class ScaleByAmsgradState(NamedTuple):
    """AMSGrad's: Adam's moments and the running maximum of v (``max_exp_avg_sq``, torch's)."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray


def scale_by_adam(
    b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, eps_root: float = 0.0,
    amsgrad: bool = False,
) -> GradientTransformation:  # fmt: skip
    """Adam's direction, Optax's ``scale_by_adam`` (no lr, no sign: add :func:`scale_by_lr`).

    m ← b1·m + (1 − b1)·u,  v ← b2·v + (1 − b2)·u²,
    u ← m̂ / (√(v̂ + eps_root) + eps),  m̂ = m/(1 − b1^t),  v̂ = v/(1 − b2^t).

    ``eps`` is outside the root (as torch's Adam); ``eps_root`` inside (for differentiating
    through the step). The update is computed as gdlab's and torch's Adam compute it,
    √(1 − b2^t)/(1 − b1^t) · m/(√(v + eps_root·(1 − b2^t)) + eps·√(1 − b2^t)), with the factor
    kept apart until the update is applied, so that
    ``chain(scale_by_adam(), add_decayed_weights(λ), scale_by_lr(lr))`` is gdlab's
    ``AdamW(lr, weight_decay=λ)`` bit for bit.

    ``amsgrad`` divides by the root of the running maximum of v, as torch's ``amsgrad``
    (Optax's ``scale_by_amsgrad`` takes the maximum of the bias-corrected v̂ instead: a
    different rule while t is small).

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
    https://arxiv.org/abs/1412.6980; Reddi et al., "On the Convergence of Adam and Beyond"
    (AMSGrad), ICLR 2018.
    """
    for name, beta in (("b1", b1), ("b2", b2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"scale_by_adam: {name} must be in [0, 1), got {beta}")
    if not 0.0 <= eps or not 0.0 <= eps_root:
        raise ValueError(f"scale_by_adam: eps and eps_root must be >= 0, got {eps}, {eps_root}")

    def init(param: np.ndarray) -> ScaleByAdamState | ScaleByAmsgradState:
        if amsgrad:
            return ScaleByAmsgradState(0, *(np.zeros_like(param) for _ in range(3)))
        return ScaleByAdamState(0, np.zeros_like(param), np.zeros_like(param))

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        out, new = [], []
        for u, s, p in zip(updates, states, params, strict=True):
            u = materialize(u, p)
            g, w, m, v = u.direction, u.work, s.exp_avg, s.exp_avg_sq
            t = s.step + 1
            lerp_adam_moments_(g, m, v, b1, b2, w)  # m ← lerp(m, g, 1 − b1), v ← b2·v + (1 − b2)·g²
            if amsgrad:
                v = np.maximum(s.max_exp_avg_sq, v, out=s.max_exp_avg_sq)
            bc2 = 1.0 - b2**t
            bc2_sqrt = math.sqrt(bc2)
            if eps_root:
                np.add(v, eps_root * bc2, out=w)
                np.sqrt(w, out=w)
            else:
                np.sqrt(v, out=w)
            w += eps * bc2_sqrt
            np.divide(m, w, out=g)
            out.append(u._replace(numerator=bc2_sqrt, denominator=1.0 - b1**t))
            new.append(s._replace(step=t))
        return out, new

    return GradientTransformation(init, update)
