"""Adam's scaling: the bias-corrected first moment over the root of the second."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gdlab.optim.transforms.base import Arrays, GradientTransformation

__all__ = ["ScaleByAdamState", "scale_by_adam"]


class ScaleByAdamState(NamedTuple):
    """Adam's moments under torch's names: step t, m (``exp_avg``), v (``exp_avg_sq``)."""

    step: int
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray


def scale_by_adam(
    b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, eps_root: float = 0.0
) -> GradientTransformation:
    """Adam's direction, Optax's ``scale_by_adam`` (no lr, no sign: add :func:`scale_by_lr`).

    m ← b1·m + (1 − b1)·u,  v ← b2·v + (1 − b2)·u²,
    u ← m̂ / (√(v̂ + eps_root) + eps),  m̂ = m/(1 − b1^t),  v̂ = v/(1 − b2^t).

    ``eps`` is outside the root (as torch's Adam); ``eps_root`` inside (for differentiating
    through the step). ``chain(scale_by_adam(), add_decayed_weights(λ), scale_by_lr(lr))``
    is AdamW.

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
    https://arxiv.org/abs/1412.6980
    """
    for name, beta in (("b1", b1), ("b2", b2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"scale_by_adam: {name} must be in [0, 1), got {beta}")
    if not 0.0 <= eps or not 0.0 <= eps_root:
        raise ValueError(f"scale_by_adam: eps and eps_root must be >= 0, got {eps}, {eps_root}")

    def init(param: np.ndarray) -> ScaleByAdamState:
        return ScaleByAdamState(0, np.zeros_like(param), np.zeros_like(param))

    def update(updates: Arrays, states: list[Any], params: Arrays, lr: float | None) -> Any:
        out, new = [], []
        for u, s in zip(updates, states, strict=True):
            t = s.step + 1
            m = (1.0 - b1) * u + b1 * s.exp_avg
            v = (1.0 - b2) * (u * u) + b2 * s.exp_avg_sq
            m_hat = m / (1.0 - b1**t)
            v_hat = v / (1.0 - b2**t)
            out.append(m_hat / (np.sqrt(v_hat + eps_root) + eps))
            new.append(ScaleByAdamState(t, m, v))
        return out, new

    return GradientTransformation(init, update)
