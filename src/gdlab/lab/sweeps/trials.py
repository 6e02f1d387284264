"""Trials: where one lab job's trials run and land, and who hears of each one finished.

``compare``, ``suite`` and the seeded ``reproduce`` experiments each hold one :class:`Trials`
for their run: the run directory's ``trials/`` folder (so a rerun with the same ``--out``
skips what is finished), an executor, and an optional progress callback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gdlab.lab.sweeps.executors import Executor, SerialExecutor
from gdlab.lab.sweeps.sweep import SweepProgress, run_sweep, unique
from gdlab.lab.sweeps.trial import TrialSpec

__all__ = ["Progress", "TrialError", "Trials"]

Progress = Callable[[SweepProgress], None]


class TrialError(RuntimeError):
    """A trial of a sweep failed (its own error, or its worker died too often)."""


@dataclass
class Trials:
    """A run directory and an executor: ``map(specs)`` runs the unfinished specs, returns all.

    Without a run directory nothing is saved and nothing resumes (a call from Python that
    only wants the numbers).

    Example:
        >>> specs = [TrialSpec("math:hypot", {"x": 3.0}, seed=4)]
        >>> Trials(tmp_dir).map(specs)
        [5.0]
    """

    run_dir: Path | None = None
    executor: Executor = field(default_factory=SerialExecutor)
    progress: Progress | None = None

    def map(self, specs: Sequence[TrialSpec]) -> list[Any]:
        """Each spec's result, in order; the first failure raises :class:`TrialError`."""
        if self.run_dir is None:
            results, failures = {}, []
            for completed in self.executor.run(unique(specs)):
                if completed.failure is not None:
                    failures.append(completed.failure)
                results[completed.spec.key] = completed.result
        else:
            done = run_sweep(specs, self.run_dir, self.executor, self.progress)
            results, failures = done.results, done.failures
        if failures:
            raise TrialError(f"trial {failures[0].spec.label} failed: {failures[0].reason}")
        return [results[spec.key] for spec in specs]
