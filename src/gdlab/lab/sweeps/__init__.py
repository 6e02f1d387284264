"""Sweeps: many independent trials, run serially, on local processes, on Dask or on Ray.

A trial is a :class:`TrialSpec` (a function's import path, JSON-able arguments and a seed);
its result is a file in the run directory, written the moment it finishes. The lab's sweeps
(``compare``'s learning-rate search and seeds, ``lr-find`` grids, ``reproduce`` seeds, the
benchmark suite) are lists of trial specs handed to :func:`run_sweep`, so they all run on any
executor, resume after an interruption and give the same files whichever executor ran them.

Example:
    >>> with make_executor("processes", jobs=2) as ex:
    ...     res = run_sweep(specs, "runs/sweep", ex)
"""

from gdlab.lab.sweeps.executors import (
    EXECUTORS,
    Completed,
    DaskExecutor,
    Executor,
    ProcessExecutor,
    RayExecutor,
    SerialExecutor,
    make_executor,
)
from gdlab.lab.sweeps.store import TrialFailure, TrialStore
from gdlab.lab.sweeps.sweep import SweepProgress, SweepResult, run_sweep
from gdlab.lab.sweeps.trial import TrialSpec, canonical_json, resolve, run_trial
from gdlab.lab.sweeps.trials import TrialError, Trials

__all__ = [
    "EXECUTORS",
    "Completed",
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "RayExecutor",
    "SerialExecutor",
    "SweepProgress",
    "SweepResult",
    "TrialError",
    "TrialFailure",
    "TrialSpec",
    "TrialStore",
    "Trials",
    "canonical_json",
    "make_executor",
    "resolve",
    "run_sweep",
    "run_trial",
]
