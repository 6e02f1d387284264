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
from gdlab.lab.sweeps import Trials, TrialSpec
from gdlab.random import get_generator

__all__ = [
    "Trial",
    "TuningResult",
    "compare_optimizers",
    "jittered_starts",
    "lr_trial",
    "run_score",
    "tune_lr",
]


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


def lr_trial(
    function: str,
    optimizer: str,
    lr: float,
    starts: list,
    steps: int,
    hparams: dict,
    seed: int,
    schedule: dict | None = None,
) -> list[dict]:
    """A sweep trial: ``optimizer`` at ``lr`` from every start, gradient noise from ``seed``,
    the lr following ``schedule`` (``LRSchedule``'s fields) if given; the trajectories as JSON
    (``Trajectory.to_dict``)."""
    fn = get_function(function)
    lrs = _schedule_at(LRSchedule(**schedule) if schedule else None, optimizer, lr, steps)
    return [run_trajectory(fn, optimizer, start, steps, lr, seed=seed, lr_schedule=lrs,
                           **hparams).to_dict() for start in starts]  # fmt: skip


def _schedule_at(
    schedule: LRSchedule | None, optimizer: OptimizerLike, lr: float, steps: int
) -> Any:
    """step -> lr from the trial's lr; None without a schedule or for an optimizer whose lr is
    no step size (L-BFGS: a line search)."""
    if schedule is None or not schedule.active or not tunes_lr(optimizer):
        return None
    return schedule.at(lr, steps)


def _candidates(optimizer: OptimizerLike, lrs: list[float]) -> list[float]:
    """The grid for an optimizer that tunes its lr; its own lr alone for one that does not."""
    return lrs if tunes_lr(optimizer) else [OPTIMIZERS[optimizer].lr]


def _run_grid(
    function: TestFunction | str,
    grid: list[tuple[OptimizerLike, float, int]],
    starts: list,
    steps: int,
    hparams: dict,
    trials: Trials | None,
    schedule: LRSchedule | None = None,
) -> list[list[Trajectory]]:
    """The runs of every (optimizer, lr, seed) of ``grid`` from every start: as trials on
    ``trials``' executor when everything has a name (a trial spec is JSON), else here."""
    named = isinstance(function, str) and all(isinstance(o, str) for o, _, _ in grid)
    if trials is None or not named:
        fn = get_function(function) if isinstance(function, str) else function
        return [[run_trajectory(fn, o, start, steps, lr, seed=s,
                                lr_schedule=_schedule_at(schedule, o, lr, steps), **hparams)
                 for start in starts] for o, lr, s in grid]  # fmt: skip
    points = [[float(c) for c in start] for start in starts]
    # a schedule is named in the trial only when there is one (the keys of runs without one
    # stay as they were)
    sched = ({"schedule": {"name": schedule.name, "params": dict(schedule.params)}}
             if schedule is not None and schedule.active else {})  # fmt: skip
    specs = [TrialSpec(f"{__name__}:lr_trial", {"function": function, "optimizer": o, "lr": lr,
                       "starts": points, "steps": steps, "hparams": dict(hparams)} | sched, s,
                       f"{function}-{o}-lr{lr:.3g}-s{s}")
             for o, lr, s in grid]  # fmt: skip
    return [[Trajectory.from_dict(d) for d in runs] for runs in trials.map(specs)]


def _tune_all(
    function: TestFunction | str,
    optimizers: Sequence[OptimizerLike],
    *,
    steps: int = 100,
    budget: int = 12,
    lr_range: tuple[float, float] = LR_RANGE,
    search: str = "grid",
    starts: Sequence[Sequence[float]] | None = None,
    seeds: Sequence[int] = (0,),
    search_seed: int = 0,
    trials: Trials | None = None,
    schedule: LRSchedule | None = None,
    **hparams: Any,
) -> list[TuningResult]:
    """Every optimizer at the same ``budget`` learning rates, all runs in one sweep."""
    fn = get_function(function) if isinstance(function, str) else function
    starts = [fn.start] if starts is None else list(starts)
    lrs = [float(lr) for lr in lr_candidates(budget, lr_range, search, search_seed)]
    grid = [(o, lr, s) for o in optimizers for lr in _candidates(o, lrs) for s in seeds]
    runs = iter(_run_grid(function, grid, starts, steps, hparams, trials, schedule))
    results = []
    for o in optimizers:
        trials_of, runs_by_lr = [], {}
        for lr in _candidates(o, lrs):
            paths = [t for _ in seeds for t in next(runs)]
            scores = np.array([run_score(t) for t in paths])
            trials_of.append(Trial(lr, scores[:, 0], scores[:, 1], sum(t.diverged for t in paths)))
            runs_by_lr[lr] = paths
        best = runs_by_lr[best_lr({t.lr: t.score() for t in trials_of})]
        results.append(TuningResult(best[0].optimizer, fn.name, trials_of, best))
    return results


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
    trials: Trials | None = None,
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
        trials: run each (lr, seed) as a sweep trial (an executor, a run directory to resume
            from); only when the function and the optimizer are given by name.
        schedule: a learning-rate schedule every run follows from its lr over ``steps``.
        **hparams: fixed optimizer settings (``momentum=0.9``...).

    Example:
        >>> res = tune_lr("rosenbrock", "adam", steps=200, budget=8)
        >>> res.best_lr, res.best.median, res.at_grid_edge
    """
    return _tune_all(function, [optimizer], steps=steps, budget=budget, lr_range=lr_range,
                     search=search, starts=starts, seeds=seeds, search_seed=search_seed,
                     trials=trials, schedule=schedule, **hparams)[0]  # fmt: skip


def compare_optimizers(
    function: TestFunction | str, optimizers: Sequence[OptimizerLike], **tune_kwargs: Any
) -> dict[str, TuningResult]:
    """``tune_lr`` for each optimizer with the same budget, range, starts and seeds (with
    ``trials=``, all their runs are one sweep).

    Example:
        >>> results = compare_optimizers("ravine", ["sgd", "momentum", "adam"], steps=50, budget=8)
        >>> {name: res.best_lr for name, res in results.items()}
    """
    return {res.optimizer: res for res in _tune_all(function, optimizers, **tune_kwargs)}
