"""What Prodigy and D-Adaptation share: one step size d estimated over every parameter.

Their step is not per parameter: d comes from sums over all groups, so the class hands the
rule every parameter at once, as :class:`Slot` rows, with the running estimate (a NamedTuple
whose fields are stored in every param group under the reference's names, so the state
dict carries them as the reference's does). The rules keep their temporaries in work arrays
in each parameter's state (keys starting with "_", not saved: :func:`work_array`), rounded
as the references' expressions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from gdlab.optim.optimizer import EXECUTION_FLAGS, Optimizer, _number

__all__ = ["DEstimateOptimizer", "Slot", "effective_grad", "work_array"]


class Slot(NamedTuple):
    """One parameter as the rule sees it: its arrays, its state and its group's settings."""

    param: np.ndarray
    grad: np.ndarray
    state: dict
    group: dict[str, Any]


def work_array(state: dict, key: str, like: np.ndarray) -> np.ndarray:
    """A work array shaped as ``like``, kept in ``state`` under ``key`` (a key starting with
    "_": not saved), so a steady-state step allocates nothing parameter-sized."""
    buf = state.get(key)
    if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
        buf = state[key] = np.empty_like(like)
    return buf


def effective_grad(
    param: np.ndarray, grad: np.ndarray, state: dict, *, maximize: bool, weight_decay: float
) -> np.ndarray:
    """g: the gradient, negated when maximizing, plus weight_decay·param when given (coupled
    decay), in the work array ``state["_g"]`` when it differs from the gradient itself;
    rounded as the references' ``−grad + wd·param``."""
    if not (maximize or weight_decay):
        return grad
    g = work_array(state, "_g", param)
    if weight_decay:
        np.multiply(param, weight_decay, out=g)
        if maximize:
            g -= grad
        else:
            g += grad
    else:
        np.negative(grad, out=g)
    return g


class DEstimateOptimizer(Optimizer):
    """Base of the optimizers with a global d estimate (Prodigy, DAdaptSGD, DAdaptAdam).

    Subclasses set ``_global_rule(slots, estimate, *, lr, **shared) -> estimate``, the
    estimate's NamedTuple type ``_estimate_type`` (built first by ``_first_estimate``) and
    ``_per_group``, the hyper-parameters each group may set (the others are read from the
    first group, as the references do). Every group must have the same lr or lr = 0: the
    step is d·lr for all (the references raise otherwise).
    """

    _global_rule: Callable[..., Any]
    _estimate_type: type
    _per_group: frozenset[str] = frozenset({"lr", "weight_decay", "maximize"})

    def _first_estimate(self) -> Any:
        raise NotImplementedError

    def _validate(self, group: dict[str, Any]) -> None:
        """``Invalid d0 value`` (the references' check: d0 > 0) and a positive ``growth_rate``."""
        super()._validate(group)
        if not 0.0 < group["d0"] < math.inf:
            raise ValueError(f"Invalid d0 value: {group['d0']}")
        if not 0.0 < group["growth_rate"]:
            raise ValueError(f"Invalid growth_rate value: {group['growth_rate']}")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group; it shares the running estimate of the others."""
        group = dict(param_group)
        saved = {f: group.pop(f) for f in self._estimate_type._fields if f in group}
        super().add_param_group(group)
        if len(self.param_groups) > 1:
            current = {f: self.param_groups[0][f] for f in self._estimate_type._fields}
        else:
            current = self._first_estimate()._asdict()
        self.param_groups[-1].update(current | saved)

    def step(self, closure: Any = None) -> Any:
        """One step of every parameter with a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        self._opt_called = True
        groups = self.param_groups
        lr = max(_number(g["lr"]) for g in groups)
        for g in groups:
            if _number(g["lr"]) not in (lr, 0.0):
                raise ValueError(
                    f"{type(self).__name__}: every param group must have the same lr or lr=0 "
                    f"(the step is d·lr for all), got lr={_number(g['lr'])} and lr={lr}"
                )
        slots = []
        for g in groups:
            for p in g["params"]:
                if p._grad is not None:
                    p._version += 1
                    slots.append(Slot(p.data, p._grad, self.state[p], g))
        first = groups[0]
        shared = {
            k: _number(first[k])
            for k in self.defaults
            if k not in self._per_group and k not in EXECUTION_FLAGS
        }
        estimate = self._estimate_type(**{f: first[f] for f in self._estimate_type._fields})
        estimate = type(self)._global_rule(slots, estimate, lr=lr, **shared)
        for g in groups:
            g.update(estimate._asdict())
        return loss
