"""The suite's protocol: every optimizer on every workload, tuned by the ruleset, scored.

1. External tuning: each optimizer gets ``trials`` settings drawn quasi-randomly (scrambled
   Halton, seeded by the study) from its declared search space; self-tuning: its defaults,
   one trial. Every trial trains until the workload's validation target or its budget.
2. The optimizer's cost on a workload is the fewest steps any of its trials needed (``inf``
   if none reached the target); wall time to target is reported beside it.
3. Per study (seed), the performance profile of the costs over the workloads and the score
   ∫_1^4 ρ(τ) dτ / 3 (``gdlab.lab.suite.score``); several studies show the score's spread.

Every trial is a :class:`~gdlab.lab.sweeps.TrialSpec` run by ``run_sweep``: any executor,
results in ``run_dir/trials`` as they finish, a rerun skips the finished ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gdlab.lab.suite.config import SuiteConfig
from gdlab.lab.suite.optimizers import NADAMW, default_hparams, sample_trials
from gdlab.lab.suite.score import scores
from gdlab.lab.suite.trial import TrialResult, trial_spec
from gdlab.lab.suite.workloads import FULL_SCALE, Workload, get_workload
from gdlab.lab.sweeps import Executor, SweepProgress, TrialSpec, run_sweep

__all__ = ["SuiteResult", "budget_of", "calibrate", "run_suite", "suite_specs"]

Progress = Callable[[SweepProgress], None]


@dataclass
class SuiteResult:
    """Every trial of every study, and the score per study and optimizer."""

    config: SuiteConfig
    trials: list[tuple[int, TrialResult]] = field(default_factory=list)  # (study, result)
    scores: dict[int, dict[str, float]] = field(default_factory=dict)

    def best(self, study: int, workload: str, optimizer: str) -> TrialResult | None:
        """The trial that reached the target fastest (None if none did)."""
        hits = [r for s, r in self.trials
                if s == study and r.workload == workload and r.optimizer == optimizer
                and r.steps_to_target is not None]  # fmt: skip
        return min(hits, key=lambda r: r.steps_to_target, default=None)

    def cost(self, study: int, workload: str, optimizer: str) -> float:
        best = self.best(study, workload, optimizer)
        return math.inf if best is None else best.cost


def budget_of(workload: Workload, config: SuiteConfig) -> int:
    """The workload's step budget under ``config`` (quick or full, times ``budget_scale``)."""
    scale = (FULL_SCALE if config.full else 1) * config.budget_scale
    return max(1, round(workload.budget * scale))


def _settings(config: SuiteConfig, optimizer: str, seed: int) -> list[dict[str, float]]:
    if config.ruleset == "self":
        return [default_hparams(optimizer)]
    return sample_trials(optimizer, config.trials, seed)


def suite_specs(config: SuiteConfig) -> list[tuple[int, TrialSpec]]:
    """Every trial of the suite, with its study, in a fixed order."""
    out = []
    for study in range(config.studies):
        seed = config.seed + study
        for name in config.workloads:
            w = get_workload(name)
            for opt in config.optimizers:
                for k, hp in enumerate(_settings(config, opt, seed)):
                    label = f"{name}-{opt.replace(':', '.')}-t{k}-s{seed}"
                    spec = trial_spec(w, opt, hp, w.target, budget_of(w, config), seed, label)
                    out.append((study, spec))
    return out


def run_suite(
    config: SuiteConfig,
    run_dir: str | Path,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """Run (or resume) the suite in ``run_dir`` and score it."""
    specs = suite_specs(config)
    done = run_sweep([s for _, s in specs], run_dir, executor, progress)
    if done.failures:
        failure = done.failures[0]
        raise RuntimeError(f"suite: trial {failure.spec.label} failed: {failure.reason}")
    result = SuiteResult(config)
    result.trials = [(study, TrialResult(**done[spec])) for study, spec in specs]
    for study in range(config.studies):
        costs = [[result.cost(study, w, o) for o in config.optimizers] for w in config.workloads]
        result.scores[study] = dict(zip(config.optimizers, map(float, scores(costs)),
                                        strict=True))  # fmt: skip
    return result


def calibrate(
    config: SuiteConfig,
    run_dir: str | Path,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> list[dict[str, object]]:
    """The targets the NAdamW baseline supports: for each workload, the best validation
    metric it reaches at its stored settings within the budget (no early stop), from the
    first study's seed, beside the stored target and the step the stored one is reached."""
    specs = []
    for name in config.workloads:
        w = get_workload(name)
        never = math.inf if w.higher_is_better else -math.inf
        label, budget = f"calibrate-{name}-s{config.seed}", budget_of(w, config)
        specs.append(trial_spec(w, NADAMW, w.baseline, never, budget, config.seed, label))
    done = run_sweep(specs, run_dir, executor, progress)
    if done.failures:
        raise RuntimeError(f"suite: calibration failed: {done.failures[0].reason}")
    rows = []
    for name, spec in zip(config.workloads, specs, strict=True):
        w, r = get_workload(name), TrialResult(**done[spec])
        sign = 1 if w.higher_is_better else -1
        reached = [
            s for s, m in zip(r.steps, r.metrics, strict=True) if sign * m >= sign * w.target
        ]
        rows.append(
            {
                "workload": name,
                "baseline": dict(w.baseline),
                "budget": budget_of(w, config),
                "best_metric": r.best_metric,
                "stored_target": w.target,
                "steps_to_stored_target": reached[0] if reached else None,
            }
        )
    return rows
