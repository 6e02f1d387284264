"""Momentum as a transformation: a trace of past updates, optionally Nesterov's."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gdlab.optim.transforms.base import Arrays, GradientTransformation, Updates, materialize

__all__ = ["TraceState", "trace"]


class TraceState(NamedTuple):
    """The trace b (torch's ``momentum_buffer``)."""

    momentum_buffer: np.ndarray


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """b ← u + decay·b; u ← b (nesterov: u ← u + decay·b), Optax's ``trace``.

    The trace starts at zero, so ``chain(trace(μ), scale_by_lr(lr))`` is torch's
    ``SGD(momentum=μ)`` (whose buffer starts at the first gradient: the same numbers).

    Reference: Polyak, "Some methods of speeding up the convergence of iteration methods",
    1964; Sutskever et al., ICML 2013 (Nesterov's form).
    """
    if not 0.0 <= decay:
        raise ValueError(f"trace: decay must be >= 0, got {decay}")

    def init(param: np.ndarray) -> TraceState:
        return TraceState(np.zeros_like(param))

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        out = []
        for u, s, p in zip(updates, states, params, strict=True):
            u = materialize(u, p)
            b = s.momentum_buffer
            b *= decay
            b += u.direction
            if nesterov:
                np.multiply(b, decay, out=u.work)
                np.add(u.direction, u.work, out=u.direction)
            else:
                np.copyto(u.direction, b)
            out.append(u)
        return out, states

    return GradientTransformation(init, update)
