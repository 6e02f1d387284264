"""Clipping the updates: each coordinate by value, or all of them by their global norm."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim.transforms.base import Arrays, GradientTransformation, stateless

__all__ = ["clip", "clip_by_global_norm"]


def clip(max_delta: float) -> GradientTransformation:
    """u ← clip(u, −max_delta, max_delta) per coordinate (Optax's ``clip``)."""
    if not 0.0 <= max_delta:
        raise ValueError(f"clip: max_delta must be >= 0, got {max_delta}")
    return stateless(
        lambda updates, params: [np.clip(u, -max_delta, max_delta, out=u) for u in updates]
    )


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """u ← u·max_norm/‖u‖ when the norm of all the group's updates ‖u‖ exceeds ``max_norm``.

    Optax's ``clip_by_global_norm`` (the norm is over the param group, which with one group is
    Optax's whole tree); ``torch.nn.utils.clip_grad_norm_`` instead divides by ‖u‖ + 1e-6.

    Reference: Pascanu et al., "On the difficulty of training recurrent neural networks",
    ICML 2013, https://arxiv.org/abs/1211.5063
    """
    if not 0.0 < max_norm or not math.isfinite(max_norm):
        raise ValueError(f"clip_by_global_norm: max_norm must be positive, got {max_norm}")

    def clipped(updates: Arrays, params: Arrays) -> Arrays:
        norm = math.sqrt(sum(float(np.vdot(u, u)) for u in updates))
        if norm < max_norm:
            return updates
        for u in updates:
            u /= u.dtype.type(norm)
            u *= max_norm
        return updates

    return stateless(clipped)
