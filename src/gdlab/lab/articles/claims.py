"""Claims of the articles, each checked: an experiment's table, pictures and pass/fail checks.

A claim experiment (``overfitting``, ``vanishing_gradients``, ...) is a function
``run(seed, full) -> ClaimResult``; :func:`claim` registers it for ``gdlab reproduce``, which
writes its table, figures and checks into a run directory and exits 1 when a check fails.
The thresholds of the checks are stated beside them, with the values measured when they were
set, so a reader can see how much room each one has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gdlab.lab.articles.registry import Experiment, register_experiment
from gdlab.lab.output.report import Report
from gdlab.lab.output.rundir import RunDir
from gdlab.lab.sweeps import Trials, TrialSpec

__all__ = ["Check", "ClaimResult", "claim", "runs_per_variant", "write_claim"]


@dataclass(frozen=True)
class Check:
    """One pass/fail statement about an experiment's numbers."""

    claim: str
    passed: bool
    measured: str

    def as_row(self) -> dict[str, Any]:
        return {"check": self.claim, "measured": self.measured, "passed": self.passed}


@dataclass
class ClaimResult:
    """What a claim experiment measured: a table, its checks and its pictures."""

    table: list[dict[str, Any]]
    checks: list[Check]
    settings: dict[str, Any]
    figures: dict[str, Callable[[], Any]] = field(default_factory=dict)
    notes: str = ""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def write_claim(
    name: str, description: str, source: str, result: ClaimResult, run_dir: RunDir, seed: int
) -> dict[str, Any]:
    """Write a claim's table, checks, figures and report; exit code 1 if a check failed."""
    settings = {"experiment": name, "source": source, "seed": seed, **result.settings}
    run_dir.write_config(settings)
    run_dir.write_metrics(result.table)
    checks = [c.as_row() for c in result.checks]
    run_dir.write_json("checks.json", {"passed": result.passed, "checks": checks})
    rep = Report(f"Reproduce {name}", subtitle=description, seed=seed, settings=settings)
    rep.add_text(f"Source: {source}. {result.notes}")
    for stem, make in result.figures.items():
        fig = make()
        run_dir.save_figure(fig, stem)
        rep.add_figure(fig, caption=stem.replace("_", " "))
    rep.add_table(checks, caption="Checks", bad=[not c.passed for c in result.checks])
    rep.add_table(result.table, caption="Results")
    out = {"table": result.table, "checks": checks, "report": str(rep.save(run_dir)),
           "matches": result.passed}  # fmt: skip
    return out | ({} if result.passed else {"exit_code": 1})


def claim(name: str, description: str, source: str, uses_trials: bool = False):
    """Register ``fn(seed, full) -> ClaimResult`` as the ``gdlab reproduce`` experiment
    ``name``; with ``uses_trials``, ``fn(seed, full, trials)`` runs its independent runs as
    trials (``Trials.map``: any executor, resumable)."""

    def wrap(fn: Callable[..., ClaimResult]) -> Callable[..., ClaimResult]:
        def write(run_dir: RunDir, seed: int, full: bool = False, **kw: Any) -> dict[str, Any]:
            result = fn(seed=seed, full=full, **kw)
            return write_claim(name, description, source, result, run_dir, seed)

        register_experiment(Experiment(name, description, source, write, uses_trials=uses_trials))
        return fn

    return wrap


def runs_per_variant(
    trials: Trials | None,
    function: str,
    variants: dict[str, dict[str, Any]],
    seeds: Sequence[int],
) -> dict[str, list[Any]]:
    """Run the trial ``function`` (``"module:name"``) with each variant's arguments from each
    seed, all as one sweep (trials labelled ``<variant>-s<seed>``); each variant's results in
    the order of ``seeds``."""
    grid = [(name, s) for name in variants for s in seeds]
    results = (trials or Trials()).map(
        [TrialSpec(function, variants[name], s, f"{name}-s{s}") for name, s in grid]
    )
    runs: dict[str, list[Any]] = {name: [] for name in variants}
    for (name, _), result in zip(grid, results, strict=True):
        runs[name].append(result)
    return runs
