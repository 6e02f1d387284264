"""Run a sweep: skip the finished trials, run the rest on an executor, save each as it ends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gdlab.lab.sweeps.executors import Executor, SerialExecutor
from gdlab.lab.sweeps.store import TrialFailure, TrialStore
from gdlab.lab.sweeps.trial import TrialSpec

__all__ = ["SweepProgress", "SweepResult", "run_sweep", "unique"]


@dataclass(frozen=True)
class SweepProgress:
    """Counts for a progress bar: ``done`` includes the ``reused`` trials of an earlier run;
    ``finished`` are the trials that ended (or were found finished, or failed) since the
    previous report, so a bar can weigh each by its cost."""

    total: int
    done: int
    failed: int
    running: int
    reused: int
    finished: tuple[TrialSpec, ...] = ()


@dataclass
class SweepResult:
    """Every trial's result by key (the specs' order), and the trials that failed."""

    results: dict[str, Any] = field(default_factory=dict)
    failures: list[TrialFailure] = field(default_factory=list)
    reused: int = 0

    def __getitem__(self, spec: TrialSpec) -> Any:
        return self.results[spec.key]

    def get(self, spec: TrialSpec, default: Any = None) -> Any:
        return self.results.get(spec.key, default)


def unique(specs: Sequence[TrialSpec]) -> list[TrialSpec]:
    """Each spec once (by key), in order of first appearance."""
    seen: dict[str, TrialSpec] = {}
    for spec in specs:
        seen.setdefault(spec.key, spec)
    return list(seen.values())


def run_sweep(
    specs: Sequence[TrialSpec],
    run_dir: str | Path,
    executor: Executor | None = None,
    progress: Callable[[SweepProgress], None] | None = None,
) -> SweepResult:
    """Run every trial of ``specs`` not already finished in ``run_dir``; return all results.

    Each result is written to ``run_dir/trials`` atomically the moment it arrives, and read
    back through the same JSON, so a fresh run, a resumed run and any executor give the same
    values. A KeyboardInterrupt stops the sweep; everything finished stays on disk.

    Example:
        >>> spec = TrialSpec("math:hypot", {"x": 3.0}, seed=4)
        >>> run_sweep([spec], tmp_dir)[spec]
        5.0
    """
    executor = executor or SerialExecutor()
    store = TrialStore(run_dir)
    specs = unique(specs)
    out = SweepResult()
    todo = []
    for spec in specs:
        if store.has(spec):
            out.results[spec.key] = store.load(spec)
            out.reused += 1
        else:
            todo.append(spec)
    done = failed = 0
    total = len(specs)

    def report(finished: tuple[TrialSpec, ...]) -> None:
        if progress is not None:
            running = min(executor.jobs, len(todo) - done - failed)
            progress(SweepProgress(total, out.reused + done, failed, running, out.reused, finished))

    report(tuple(s for s in specs if s.key in out.results))
    for completed in executor.run(todo):
        if completed.failure is not None:
            store.save_failure(completed.failure)
            out.failures.append(completed.failure)
            failed += 1
        else:
            out.results[completed.spec.key] = store.save(completed.spec, completed.result)
            done += 1
        report((completed.spec,))
    out.results = {s.key: out.results[s.key] for s in specs if s.key in out.results}
    return out
