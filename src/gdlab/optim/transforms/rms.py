"""Scaling by the root of a running mean of squares (RMSprop's), or by a running std dev."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gdlab.optim.transforms.base import Arrays, GradientTransformation

__all__ = ["ScaleByRmsState", "ScaleByStddevState", "scale_by_rms", "scale_by_stddev"]


class ScaleByRmsState(NamedTuple):
    """step t (for the bias correction) and the running mean of u² (``square_avg``, torch's)."""

    step: int
    square_avg: np.ndarray


class ScaleByStddevState(NamedTuple):
    """step t, the running means of u (``grad_avg``) and of u² (``square_avg``), torch's."""

    step: int
    grad_avg: np.ndarray
    square_avg: np.ndarray


def _check(name: str, decay: float, eps: float) -> None:
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"{name}: decay must be in [0, 1), got {decay}")
    if not 0.0 <= eps:
        raise ValueError(f"{name}: eps must be >= 0, got {eps}")


def _scaling(n: np.ndarray, eps: float, eps_in_sqrt: bool) -> np.ndarray:
    return 1.0 / np.sqrt(n + eps) if eps_in_sqrt else 1.0 / (np.sqrt(n) + eps)


def scale_by_rms(
    decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0, eps_in_sqrt: bool = True,
    bias_correction: bool = False,
) -> GradientTransformation:  # fmt: skip
    """RMSprop's scaling, Optax's ``scale_by_rms``: v ← decay·v + (1 − decay)·u²,
    u ← u/√(v + eps) (``eps_in_sqrt=False``: u/(√v + eps), torch's RMSprop).

    ``bias_correction`` divides v by 1 − decay^t first; v starts at ``initial_scale``.

    Reference: Tieleman & Hinton, Lecture 6.5, "RMSprop", COURSERA 2012.
    """
    _check("scale_by_rms", decay, eps)

    def init(param: np.ndarray) -> ScaleByRmsState:
        return ScaleByRmsState(0, np.full_like(param, initial_scale))

    def update(updates: Arrays, states: list[Any], params: Arrays, lr: float | None) -> Any:
        out, new = [], []
        for u, s in zip(updates, states, strict=True):
            t = s.step + 1 if bias_correction else 0
            v = (1.0 - decay) * (u * u) + decay * s.square_avg
            v_hat = v / (1.0 - decay**t) if bias_correction else v
            out.append(_scaling(v_hat, eps, eps_in_sqrt) * u)
            new.append(ScaleByRmsState(t, v))
        return out, new

    return GradientTransformation(init, update)


def scale_by_stddev(
    decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0, eps_in_sqrt: bool = True,
    bias_correction: bool = False,
) -> GradientTransformation:  # fmt: skip
    """Centred RMSprop's scaling, Optax's ``scale_by_stddev``: u ← u/√(v − m² + eps), with
    m, v the running means of u and u² (torch's ``RMSprop(centered=True)`` up to eps).

    Reference: Graves, "Generating Sequences With Recurrent Neural Networks", 2013,
    https://arxiv.org/abs/1308.0850
    """
    _check("scale_by_stddev", decay, eps)

    def init(param: np.ndarray) -> ScaleByStddevState:
        return ScaleByStddevState(0, np.zeros_like(param), np.full_like(param, initial_scale))

    def update(updates: Arrays, states: list[Any], params: Arrays, lr: float | None) -> Any:
        out, new = [], []
        for u, s in zip(updates, states, strict=True):
            t = s.step + 1 if bias_correction else 0
            m = (1.0 - decay) * u + decay * s.grad_avg
            v = (1.0 - decay) * (u * u) + decay * s.square_avg
            m_hat = m / (1.0 - decay**t) if bias_correction else m
            v_hat = v / (1.0 - decay**t) if bias_correction else v
            out.append(_scaling(v_hat - m_hat * m_hat, eps, eps_in_sqrt) * u)
            new.append(ScaleByStddevState(t, m, v))
        return out, new

    return GradientTransformation(init, update)
