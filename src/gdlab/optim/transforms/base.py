"""The gradient transformation: a pure ``(init, update)`` pair on arrays, and their composition.

As Optax's ``GradientTransformation``, with one difference of shape: gdlab's optimizers hold
one state per parameter (``optimizer.state[p]``, as torch), so ``init`` builds the state of
one parameter and ``update`` maps the *list* of a param group's updates (a transformation
such as :func:`clip_by_global_norm` needs all of them at once) with the list of their states::

    state = t.init(param)                                      # a NamedTuple
    updates, states = t.update(updates, states, params, lr)    # lists, one entry per parameter

``updates`` are what is *added* to the parameters (Optax's sign): the gradient goes in, and
:func:`scale_by_lr` multiplies by −lr. ``lr`` is the param group's current learning rate
(what a scheduler writes), read by the transformations that declare one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = ["EmptyState", "GradientTransformation", "compose", "init_empty", "stateless"]

Arrays = list[np.ndarray]


class GradientTransformation(NamedTuple):
    """A pure gradient transformation (Optax's, with per-parameter state).

    Attributes:
        init: ``init(param) -> state``, the named state of one parameter.
        update: ``update(updates, states, params, lr) -> (updates, states)``, pure: new
            lists, the inputs untouched.
        lr: the default learning rate when the transformation scales by the param group's
            ``lr`` (:func:`scale_by_lr`), else None.
    """

    init: Callable[[np.ndarray], Any]
    update: Callable[[Arrays, list[Any], Arrays, float | None], tuple[Arrays, list[Any]]]
    lr: float | None = None


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none."""


def init_empty(param: np.ndarray) -> EmptyState:
    return EmptyState()


def stateless(fn: Callable[[Arrays, Arrays], Arrays]) -> GradientTransformation:
    """A transformation without state from ``fn(updates, params) -> updates``."""

    def update(updates: Arrays, states: list[Any], params: Arrays, lr: float | None) -> Any:
        return fn(updates, params), states

    return GradientTransformation(init_empty, update)


def compose(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` in order (Optax's ``chain``); the state is the tuple of theirs.

    At most one of them may scale by the group's lr (its ``lr`` becomes the composition's).
    """
    for i, t in enumerate(transforms):
        if not isinstance(t, GradientTransformation):
            raise TypeError(
                f"compose: argument {i} is a {type(t).__name__}, not a GradientTransformation"
            )
    lrs = [t.lr for t in transforms if t.lr is not None]
    if len(lrs) > 1:
        raise ValueError(f"compose: {len(lrs)} transformations scale by the lr; at most one may")

    def init(param: np.ndarray) -> tuple[Any, ...]:
        return tuple(t.init(param) for t in transforms)

    def update(updates: Arrays, states: list[Any], params: Arrays, lr: float | None) -> Any:
        new: list[Sequence[Any]] = []
        for i, t in enumerate(transforms):
            updates, inner = t.update(updates, [s[i] for s in states], params, lr)
            new.append(inner)
        return updates, [tuple(column) for column in zip(*new, strict=True)] if new else states

    return GradientTransformation(init, update, lrs[0] if lrs else None)
