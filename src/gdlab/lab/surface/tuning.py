"""Learning-rate tuning on a 2-D function, by the lab's one search protocol (``lab.search``).

Each optimizer gets the same ``budget`` of learning rates over the same range ``LR_RANGE``
(``search.lr_candidates``: a log grid, or log-uniform random draws from a seed), and is
reported at its best one:

- every (start, seed) run scores ``final f − f*`` (final f when f* is unknown, as on a
  saddle); a diverged run scores +inf, so it ranks last;
- a learning rate's score is the **median** over the runs; ties (e.g. several lrs reach the
  minimum to machine precision) are broken by the median over runs of the mean gap along the
  path (faster is better), then by the smaller lr (``search.best_lr``);
- the spread over runs is reported as the interquartile range (25th and 75th percentiles).

Example:
    >>> res = tune_lr("rosenbrock", "adam", steps=200, budget=8)
    >>> res.best_lr, res.best.median
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdlab.lab.lr_schedule import LRSchedule
from gdlab.lab.optimizers import OPTIMIZERS, OptimizerLike, tunes_lr
from gdlab.lab.search import LR_RANGE, at_edge, best_lr, lr_candidates
from gdlab.lab.surface.functions import TestFunction, get_function
from gdlab.lab.surface.trajectories import Trajectory, run_trajectory
from gdlab.random import get_generator

__all__ = ["Trial", "TuningResult", "compare_optimizers", "jittered_starts", "run_score", "tune_lr"]


def run_score(traj: Trajectory) -> tuple[float, float]:
    """(final f − f*, mean f − f* along the path); (+inf, +inf) for a diverged or NaN run."""
    if traj.diverged or not np.isfinite(traj.values).all():
        return math.inf, math.inf
    gap = traj.gap
    return float(gap[-1]), float(np.mean(gap))


@dataclass
class Trial:
    """One learning rate, run from every start and seed."""

    lr: float
    finals: np.ndarray  # final f − f* per run (inf when diverged)
    speeds: np.ndarray  # mean f − f* along the path per run
    n_diverged: int

    @property
    def median(self) -> float:
        return float(np.median(self.finals))

    @property
    def iqr(self) -> tuple[float, float]:
        """(25th, 75th) percentiles of the final gap over runs (inf when diverged runs reach
        the quartile)."""
        with np.errstate(invalid="ignore"):
            q = np.nan_to_num(np.percentile(self.finals, [25, 75]), nan=math.inf)
        return float(q[0]), float(q[1])

    def score(self) -> tuple[float, float]:
        """(median final gap, median mean gap along the path): lower is better."""
        return (self.median, float(np.median(self.speeds)))


@dataclass
class TuningResult:
    """The trials of one optimizer on one function and the best learning rate."""

    optimizer: str
    function: str
    trials: list[Trial]
    best_trajectories: list[Trajectory] = field(repr=False)
    criterion: str = "median over runs of final f − f* (diverged = +inf)"

    @property
    def best_lr(self) -> float:
        return best_lr({t.lr: t.score() for t in self.trials})

    @property
    def best(self) -> Trial:
        lr = self.best_lr
        return next(t for t in self.trials if t.lr == lr)

    @property
    def trajectory(self) -> Trajectory:
        """The run from the first start and seed at the best learning rate (for plots)."""
        return self.best_trajectories[0]

    @property
    def at_grid_edge(self) -> bool:
        """The best lr is the smallest or largest one tried: the optimum may lie outside."""
        return at_edge(self.best_lr, [t.lr for t in self.trials])

    @property
    def label(self) -> str:
        """``name (lr=…)`` for legends; the name alone when its lr is not tuned (L-BFGS)."""
        return f"{self.optimizer} (lr={self.best_lr:.3g})" if self.tuned else self.optimizer

    @property
    def tuned(self) -> bool:
        """Whether a learning rate was chosen (False for an optimizer that does not tune it)."""
        return tunes_lr(self.optimizer)


def jittered_starts(
    function: TestFunction | str, n: int, scale: float = 0.05, seed: int = 0
) -> list[tuple[float, float]]:
    """The function's start and ``n − 1`` starts around it (Gaussian, ``scale`` × domain size).

    Example:
        >>> jittered_starts("rosenbrock", 3)  # the function's start, then two nearby points
    """
    fn = get_function(function) if isinstance(function, str) else function
    rng = get_generator(seed)
    width = np.array([fn.domain[0][1] - fn.domain[0][0], fn.domain[1][1] - fn.domain[1][0]])
    pts = [np.asarray(fn.start, float)]
    pts += [pts[0] + scale * width * rng.standard_normal(2) for _ in range(n - 1)]
    return [(float(p[0]), float(p[1])) for p in pts]


def _run_all(fn: TestFunction, optimizer: OptimizerLike, lr: float, starts: Sequence,
             seeds: Sequence[int], steps: int, hparams: dict,
             schedule: LRSchedule | None = None) -> list[Trajectory]:  # fmt: skip
    # the schedule starts from the trial's lr (not for L-BFGS, whose lr is no step size)
    lrs = schedule.at(lr, steps) if schedule is not None and tunes_lr(optimizer) else None
    return [
        run_trajectory(fn, optimizer, start, steps, lr, seed=s, lr_schedule=lrs, **hparams)
        for start in starts
        for s in seeds
    ]


def tune_lr(
    function: TestFunction | str,
    optimizer: OptimizerLike,
    *,
    steps: int = 100,
    budget: int = 12,
    lr_range: tuple[float, float] = LR_RANGE,
    search: str = "grid",
    starts: Sequence[Sequence[float]] | None = None,
    seeds: Sequence[int] = (0,),
    search_seed: int = 0,
    schedule: LRSchedule | None = None,
    **hparams: Any,
) -> TuningResult:
    """Try ``budget`` learning rates and keep the best by the module's documented criterion
    (one run at its own lr for an optimizer whose lr is not tuned, the registry's ``tune_lr``).

    Args:
        function: a ``TestFunction`` or its name.
        optimizer: a short name (``"adam"``) or a factory.
        steps: steps per run.
        budget: number of learning rates tried (the same for every optimizer).
        lr_range: (low, high) of the search, default ``LR_RANGE``.
        search: ``"grid"`` (log-spaced) or ``"random"`` (log-uniform from ``search_seed``).
        starts: starting points (default: the function's start).
        seeds: gradient-noise seeds (matter for noisy functions only).
        schedule: a learning-rate schedule every run follows from its lr over ``steps``.
        **hparams: fixed optimizer settings (``momentum=0.9``...).

    Example:
        >>> res = tune_lr("rosenbrock", "adam", steps=200, budget=8)
        >>> res.best_lr, res.best.median, res.at_grid_edge
    """
    fn = get_function(function) if isinstance(function, str) else function
    starts = [fn.start] if starts is None else list(starts)
    trials, runs_by_lr = [], {}
    # an optimizer whose lr is not a step size (L-BFGS: a line search) runs once at its own
    candidates = (
        lr_candidates(budget, lr_range, search, search_seed)
        if tunes_lr(optimizer)
        else [OPTIMIZERS[optimizer].lr]
    )
    for lr in candidates:
        runs = _run_all(fn, optimizer, float(lr), starts, seeds, steps, hparams, schedule)
        scores = np.array([run_score(t) for t in runs])
        trials.append(Trial(float(lr), scores[:, 0], scores[:, 1], sum(t.diverged for t in runs)))
        runs_by_lr[float(lr)] = runs
    best = runs_by_lr[best_lr({t.lr: t.score() for t in trials})]
    return TuningResult(best[0].optimizer, fn.name, trials, best)


def compare_optimizers(
    function: TestFunction | str, optimizers: Sequence[OptimizerLike], **tune_kwargs: Any
) -> dict[str, TuningResult]:
    """``tune_lr`` for each optimizer with the same budget, range, starts and seeds.

    Example:
        >>> results = compare_optimizers("ravine", ["sgd", "momentum", "adam"], steps=50, budget=8)
        >>> {name: res.best_lr for name, res in results.items()}
    """
    results = {}
    for opt in optimizers:
        res = tune_lr(function, opt, **tune_kwargs)
        results[res.optimizer] = res
    return results
