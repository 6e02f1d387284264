"""Scaling by the root of a running mean of squares (RMSprop's), or by a running std dev."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gdlab.optim.transforms.base import Arrays, GradientTransformation, Updates, materialize

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


def _moment_(avg: np.ndarray, x: np.ndarray, decay: float, work: np.ndarray) -> None:
    """avg ← (1 − decay)·x + decay·avg in place (Optax's order of operations)."""
    np.multiply(x, 1.0 - decay, out=work)
    avg *= decay
    avg += work


def _divide_by_root_(
    u: np.ndarray, n: np.ndarray, eps: float, eps_in_sqrt: bool, work: np.ndarray
) -> None:
    """u ← u/√(n + eps) (or u/(√n + eps)) in place; ``n`` may be ``work`` itself."""
    if eps_in_sqrt:
        np.add(n, eps, out=work)
        np.sqrt(work, out=work)
    else:
        np.sqrt(n, out=work)
        work += eps
    np.divide(1.0, work, out=work)
    u *= work


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

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        out, new = [], []
        for u, s, p in zip(updates, states, params, strict=True):
            u = materialize(u, p)
            t = s.step + 1 if bias_correction else 0
            np.multiply(u.direction, u.direction, out=u.spare)
            _moment_(s.square_avg, u.spare, decay, u.work)
            n = s.square_avg
            if bias_correction:
                n = np.divide(n, 1.0 - decay**t, out=u.spare)
            _divide_by_root_(u.direction, n, eps, eps_in_sqrt, u.work)
            out.append(u)
            new.append(s._replace(step=t))
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

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        out, new = [], []
        for u, s, p in zip(updates, states, params, strict=True):
            u = materialize(u, p)
            g, w, n = u.direction, u.work, u.spare
            t = s.step + 1 if bias_correction else 0
            _moment_(s.grad_avg, g, decay, w)
            np.multiply(g, g, out=n)
            _moment_(s.square_avg, n, decay, w)
            bc = 1.0 - decay**t if bias_correction else 1.0
            np.divide(s.grad_avg, bc, out=w)  # m̂
            w *= w
            np.divide(s.square_avg, bc, out=n)  # v̂
            n -= w
            _divide_by_root_(g, n, eps, eps_in_sqrt, w)
            out.append(u)
            new.append(s._replace(step=t))
        return out, new

    return GradientTransformation(init, update)
