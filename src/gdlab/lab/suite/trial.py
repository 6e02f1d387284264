"""The suite's unit of work: train one optimizer at one setting on one workload until its
validation target is reached or its step budget is spent.

:func:`suite_trial` is a top-level function named by a :class:`~gdlab.lab.sweeps.TrialSpec`,
so any executor runs it and its result (JSON) is the same wherever it ran, except the wall
times, which the leaderboard keeps out of its byte-stable files.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gdlab.lab.optimizers import at_evaluation_point
from gdlab.lab.suite.optimizers import build_optimizer
from gdlab.lab.suite.problems import Problem, build_problem
from gdlab.lab.suite.workloads import Workload
from gdlab.lab.sweeps import TrialSpec

__all__ = ["TrialResult", "suite_trial", "trial_spec"]


@dataclass
class TrialResult:
    """What a trial measured: steps and seconds to the target (None if missed), the
    validation curve (step, metric) and whether the loss stopped being finite."""

    workload: str
    optimizer: str
    hparams: dict[str, float]
    steps_to_target: int | None
    seconds_to_target: float | None
    best_metric: float
    diverged: bool
    steps: list[int] = field(default_factory=list)
    metrics: list[float] = field(default_factory=list)

    @property
    def cost(self) -> float:
        """Steps to target, ``inf`` when the target was missed (the score's measure)."""
        return math.inf if self.steps_to_target is None else float(self.steps_to_target)


def trial_spec(
    workload: Workload,
    optimizer: str,
    hparams: dict[str, float],
    target: float,
    budget: int,
    seed: int,
    label: str,
) -> TrialSpec:
    """The trial training ``optimizer`` with ``hparams`` on ``workload`` (at its batch size and
    evaluation cadence) from ``seed``, until ``target`` or ``budget`` steps."""
    params = {
        "workload": workload.name, "optimizer": optimizer, "hparams": dict(hparams),
        "target": float(target), "budget": int(budget), "batch_size": int(workload.batch_size),
        "eval_every": int(workload.eval_every),
    }  # fmt: skip
    return TrialSpec("gdlab.lab.suite.trial:suite_trial", params, seed=seed, label=label)


def _batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Indices of shuffled mini-batches, a new permutation every epoch, forever."""
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start : start + batch_size]


def suite_trial(
    workload: str,
    optimizer: str,
    hparams: dict[str, float],
    target: float,
    budget: int,
    batch_size: int,
    eval_every: int,
    seed: int,
) -> dict[str, Any]:
    """Train until the validation metric reaches ``target`` (checked every ``eval_every``
    steps) or ``budget`` steps; return the :class:`TrialResult` as JSON-ready data.

    The model's initial weights and the batch order come from ``seed``. Wall time counts
    training and evaluation, not building the problem.
    """
    problem = build_problem(workload, seed)
    opt = build_optimizer(optimizer, problem.model.parameters(), hparams)
    rng = np.random.default_rng(seed)
    batches = _batches(len(problem.x_train), min(batch_size, len(problem.x_train)), rng)
    first = problem.metric(problem.model)
    result = TrialResult(workload, optimizer, dict(hparams), None, None, first, False,
                         [0], [first])  # fmt: skip
    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging trial is marked, not warned
        _train(problem, opt, batches, result, target, budget, eval_every, start)
    return asdict(result)


def _gradient(problem: Problem, opt: Any, idx: np.ndarray) -> Any:
    """A closure's work: the batch's loss and its gradient at the current weights."""
    opt.zero_grad()
    loss = problem.loss(problem.model, problem.x_train[idx], problem.y_train[idx])
    loss.backward()
    return loss


def _train(
    problem: Problem,
    opt: Any,
    batches: Iterator[np.ndarray],
    result: TrialResult,
    target: float,
    budget: int,
    eval_every: int,
    start: float,
) -> None:
    """The training loop; fills ``result`` in place (the caller owns the error state)."""
    sign = 1.0 if problem.higher_is_better else -1.0
    params = list(problem.model.parameters())
    for step in range(1, budget + 1):
        idx = next(batches)
        opt.zero_grad()
        loss = problem.loss(problem.model, problem.x_train[idx], problem.y_train[idx])
        if not math.isfinite(float(loss.item())):
            result.diverged = True
            break
        loss.backward()
        if getattr(opt, "gradient_before_closure", False):  # SAM: then the gradient at w + ε
            opt.step(lambda idx=idx: _gradient(problem, opt, idx))
        else:
            opt.step()
        if step % eval_every and step != budget:
            continue
        with at_evaluation_point(opt, params):  # schedule-free: evaluated at x
            value = problem.metric(problem.model)
        if not math.isfinite(value):
            result.diverged = True
            break
        result.steps.append(step)
        result.metrics.append(value)
        result.best_metric = max(result.best_metric * sign, value * sign) * sign
        if sign * value >= sign * target:
            result.steps_to_target = step
            result.seconds_to_target = time.perf_counter() - start
            break
