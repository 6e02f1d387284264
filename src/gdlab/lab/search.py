"""The lab's one learning-rate search protocol: the same budget for every optimizer.

An optimizer compared at someone's favourite learning rate tells you about the favourite, not
the optimizer. ``gdlab compare`` (networks) and ``gdlab surface`` (2-D functions) both search
the same way:

1. **Candidates**: ``budget`` learning rates over a documented range (``lr_candidates``): a
   log-spaced grid with both ends included, or log-uniform random draws from a seed.
   ``surface`` searches ``LR_RANGE`` for every optimizer; ``compare`` searches each
   optimizer family's own range (``lr_range_for``). A grid of one candidate is the range's
   low end for ``surface`` (``np.geomspace``'s one point: the smallest, safest step on a
   2-D function) and its geometric middle for ``compare`` (a network trained once at the
   bottom of a family's range would barely move); ``single`` names the choice.
2. **Scores**: each candidate gets a score tuple, lower is better; a diverged or non-finite
   run scores +inf (``trial_score``), so it ranks last.
3. **Choice**: the lowest score wins, ties going to the smaller lr (``best_lr``); a winner at
   either end of the candidates may have its optimum outside the range (``at_edge``).

Example:
    >>> lrs = lr_candidates(3, (1e-3, 1e-1))            # array([0.001, 0.01, 0.1])
    >>> best_lr({float(lr): (abs(lr - 0.01),) for lr in lrs})
    0.01
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from gdlab.lab.optimizers import tunes_lr
from gdlab.optim import OPTIMIZERS
from gdlab.random import get_generator

__all__ = [
    "BATCH_ONE_SCALE",
    "DEFAULT_RANGE",
    "LR_RANGE",
    "LR_RANGES",
    "at_edge",
    "best_lr",
    "lr_candidates",
    "lr_grid",
    "lr_range_for",
    "trial_score",
]

#: The range searched for every optimizer on the 2-D functions (``gdlab surface``).
LR_RANGE: tuple[float, float] = (1e-4, 10.0)

#: The range searched per optimizer on networks (``gdlab compare``): the registry's
#: (``gdlab.optim.registry``, where the reasons for each range are written).
LR_RANGES: dict[str, tuple[float, float]] = {n: s.lr_range for n, s in OPTIMIZERS.items()}
#: The range of an optimizer missing from ``LR_RANGES``.
DEFAULT_RANGE = (1e-4, 1.0)
#: Single-sample batches are searched a decade lower than ``LR_RANGES``: a one-sample gradient
#: is far noisier than a mini-batch's, and the stable steps are correspondingly smaller.
BATCH_ONE_SCALE = 0.1


def lr_candidates(
    budget: int,
    lr_range: tuple[float, float] = LR_RANGE,
    search: str = "grid",
    seed: int | np.random.Generator | None = 0,
    *,
    single: str = "low",
) -> np.ndarray:
    """``budget`` learning rates over ``lr_range``: a log grid or log-uniform random draws.

    The grid includes both ends; a grid of one is the range's low end (``single="low"``,
    ``surface``'s) or its geometric middle (``single="middle"``, ``compare``'s). The random
    draws come from ``seed`` (sorted), so every optimizer sees the same ones.

    Example:
        >>> lr_candidates(5, (1e-4, 1.0))  # array([1e-04, 1e-03, 1e-02, 1e-01, 1e+00])
        >>> lr_candidates(1, (1e-4, 1.0), single="middle")  # array([0.01])
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ValueError(f"lr_candidates: budget must be a positive int, got {budget!r}")
    lo, hi = lr_range
    if not 0 < lo <= hi:
        raise ValueError(f"lr_candidates: lr_range must satisfy 0 < low <= high, got {lr_range}")
    if single not in ("low", "middle"):
        raise ValueError(f"lr_candidates: single must be 'low' or 'middle', got {single!r}")
    if search == "grid":
        if budget == 1 and single == "middle":
            return np.array([float(np.sqrt(lo * hi))])
        return np.geomspace(lo, hi, budget)
    if search == "random":
        return np.sort(np.exp(get_generator(seed).uniform(np.log(lo), np.log(hi), budget)))
    raise ValueError(f"lr_candidates: search must be 'grid' or 'random', got {search!r}")


def lr_range_for(optimizer: str, batch_mode: str = "mbgd") -> tuple[float, float]:
    """``LR_RANGES[optimizer]`` (``DEFAULT_RANGE`` when absent), a decade lower for
    single-sample batches (``batch_mode="sgd"``)."""
    lo, hi = LR_RANGES.get(optimizer, DEFAULT_RANGE)
    if batch_mode == "sgd":
        lo, hi = lo * BATCH_ONE_SCALE, hi * BATCH_ONE_SCALE
    return lo, hi


def lr_grid(optimizer: str, trials: int, batch_mode: str = "mbgd") -> np.ndarray:
    """The ``trials`` candidates ``compare`` tries for ``optimizer`` at ``batch_mode`` (one
    trial: the range's geometric middle); only its own lr for an optimizer whose lr is not
    tuned (the registry's ``tune_lr``: L-BFGS)."""
    if not tunes_lr(optimizer):
        return np.array([OPTIMIZERS[optimizer].lr])
    return lr_candidates(trials, lr_range_for(optimizer, batch_mode), single="middle")


def trial_score(value: float, diverged: bool = False) -> float:
    """A run's score: ``value``, or +inf when the run diverged or the value is not finite."""
    return math.inf if diverged or not math.isfinite(value) else float(value)


def best_lr(scores: Mapping[float, Sequence[float]]) -> float:
    """The lr with the lowest score tuple (compared in order); ties go to the smaller lr."""
    return min(scores, key=lambda lr: (*scores[lr], lr))


def at_edge(lr: float, candidates: Sequence[float]) -> bool:
    """True when ``lr`` is the smallest or largest of several candidates: the best lr may lie
    outside the range searched."""
    lrs = sorted(float(c) for c in candidates)
    return len(lrs) > 1 and (math.isclose(lr, lrs[0]) or math.isclose(lr, lrs[-1]))
