"""The gradient transformation: an ``(init, update)`` pair on arrays, and their composition.

As Optax's ``GradientTransformation``, with two differences of shape. gdlab's optimizers hold
one state per parameter (``optimizer.state[p]``, as torch), so ``init`` builds the state of
one parameter and ``update`` maps the *list* of a param group's updates (a transformation
such as :func:`clip_by_global_norm` needs all of them at once) with the list of their states::

    state = t.init(param)                                      # a NamedTuple
    updates, states = t.update(updates, states, params, lr)    # lists, one entry per parameter

And an update is an :class:`Update`: a work array (the direction, owned by the optimizer and
changed in place, so a step allocates nothing) with its scalar factors kept apart until the
update is applied. A scaling (the lr, Adam's bias corrections, a schedule) multiplies a
factor and decoupled weight decay adds to a coefficient of θ instead of passing over the
array, so ``chain(scale_by_adam(), add_decayed_weights(λ), scale_by_lr(lr))`` ends in
θ ← θ·(1 − lr·λ) + (−lr·√(1−β2^t)/(1−β1^t))·m/(√v + ε·√(1−β2^t)): AdamW's arithmetic, bit for
bit. Optax's maths is the same (its order of rounding differs in the last bits).

Updates follow Optax's sign: they are *added* to the parameters, and :func:`scale_by_lr`
multiplies by −lr. ``lr`` is the param group's current learning rate (what a scheduler
writes), read by the transformations that declare one. ``update`` changes the arrays of the
states it is given in place and returns the new states (NamedTuples over the same arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "EmptyState", "GradientTransformation", "Update", "compose", "init_empty", "materialize",
    "rescale", "stateless",
]  # fmt: skip

Arrays = list[np.ndarray]


class Update(NamedTuple):
    """One parameter's update u = (numerator/denominator)·direction + decay·θ.

    Attributes:
        direction: the optimizer's work array for this parameter; a transformation may
            overwrite it.
        work: a second work array of the same shape, for temporaries.
        spare: a third one (a transformation needing two temporaries).
        numerator, denominator: the scalar factor of ``direction``, kept as a fraction so that
            a bias correction 1/(1 − β1^t) rounds where torch's and gdlab's Adam round it.
        decay: the coefficient of θ (decoupled weight decay), applied as θ·(1 + decay).
    """

    direction: np.ndarray
    work: np.ndarray
    spare: np.ndarray
    numerator: float = 1.0
    denominator: float = 1.0
    decay: float = 0.0


Updates = list[Update]


def materialize(u: Update, param: np.ndarray) -> Update:
    """``u`` with its factors applied to its direction (in place): u = 1·direction.

    An elementwise transformation that is not a scaling (clipping, a momentum trace, a root)
    needs the update's values.
    """
    if u.numerator != 1.0 or u.denominator != 1.0:
        np.multiply(u.direction, u.numerator / u.denominator, out=u.direction)
    if u.decay:
        np.multiply(param, u.decay, out=u.work)
        np.add(u.direction, u.work, out=u.direction)
    return u._replace(numerator=1.0, denominator=1.0, decay=0.0)


def rescale(u: Update, factor: float) -> Update:
    """u·factor, symbolically: the numerator and the decay coefficient take the factor."""
    return u._replace(numerator=u.numerator * factor, decay=u.decay * factor)


class GradientTransformation(NamedTuple):
    """A gradient transformation (Optax's, with per-parameter state).

    Attributes:
        init: ``init(param) -> state``, the named state of one parameter.
        update: ``update(updates, states, params, lr) -> (updates, states)`` on lists of
            :class:`Update` and of states; works in place (the updates' and states' arrays).
        lr: the default learning rate when the transformation scales by the param group's
            ``lr`` (:func:`scale_by_lr`), else None.
    """

    init: Callable[[np.ndarray], Any]
    update: Callable[[Updates, list[Any], Arrays, float | None], tuple[Updates, list[Any]]]
    lr: float | None = None


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none."""


def init_empty(param: np.ndarray) -> EmptyState:
    return EmptyState()


def stateless(fn: Callable[[Arrays, Arrays], Arrays]) -> GradientTransformation:
    """A transformation without state from ``fn(updates, params) -> updates`` on arrays.

    ``fn`` may return new arrays (they are copied into the work arrays) or change its
    arguments in place.
    """

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        updates = [materialize(u, p) for u, p in zip(updates, params, strict=True)]
        out = fn([u.direction for u in updates], params)
        for u, d in zip(updates, out, strict=True):
            if d is not u.direction:
                np.copyto(u.direction, d)
        return updates, states

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

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        new: list[Sequence[Any]] = []
        for i, t in enumerate(transforms):
            updates, inner = t.update(updates, [s[i] for s in states], params, lr)
            new.append(inner)
        return updates, [tuple(column) for column in zip(*new, strict=True)] if new else states

    return GradientTransformation(init, update, lrs[0] if lrs else None)
