"""The one registry of ``gdlab reproduce``: every experiment by name, and how it is written.

Two kinds of experiment share it: those with **published numbers** (the textbooks'; registered
with ``@published``, their ``run()`` returns computed next to published values, and their run
directory shows both side by side), and the **articles' training runs** (curves and a
reference computation, each with its own writer). ``gdlab reproduce NAME`` calls
``write_experiment``; ``reproduce(name)`` returns the ``ExperimentResult`` of a published one.

Example:
    >>> res = reproduce("d2l_momentum")
    >>> res.matches, res.computed["beta=0.5"]
    (True, (0.007188, 0.002553))       # rounded here for display
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdlab.lab.output.plots import plot_function_1d, plot_trajectories
from gdlab.lab.output.report import Report
from gdlab.lab.output.rundir import RunDir
from gdlab.lab.output.tables import format_table
from gdlab.lab.surface.functions import Function1D, TestFunction
from gdlab.lab.surface.trajectories import Trajectory, save_trajectories
from gdlab.lab.sweeps.trials import Trials

__all__ = [
    "EXPERIMENTS",
    "Experiment",
    "ExperimentResult",
    "get_experiment",
    "published",
    "register_experiment",
    "reproduce",
    "write_experiment",
    "write_published",
]

TOLERANCE = 1e-6  # the books print 6 decimals: a faithful rerun agrees to rounding


@dataclass
class ExperimentResult:
    """Computed values next to the published ones, and the runs behind them.

    ``computed`` and ``expected`` map a key (e.g. ``"eta=0.4"``) to a number, a tuple of
    numbers or a bool; ``matches`` is True when every expected key agrees to ``tolerance``.
    """

    name: str
    description: str
    source: str
    computed: dict[str, Any]
    expected: dict[str, Any]
    tolerance: float = TOLERANCE
    function: TestFunction | Function1D | None = None
    trajectories: list[Trajectory] = field(default_factory=list, repr=False)
    paths_1d: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    notes: str = ""

    def mismatches(self) -> dict[str, tuple[Any, Any]]:
        """key -> (computed, expected) for every expected value that is not reproduced."""
        return {
            k: (self.computed.get(k), want)
            for k, want in self.expected.items()
            if not _close(self.computed.get(k), want, self.tolerance)
        }

    @property
    def matches(self) -> bool:
        return not self.mismatches()

    def to_dict(self) -> dict:
        """A JSON-ready summary (no paths)."""
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "computed": {k: _plain(v) for k, v in self.computed.items()},
            "expected": {k: _plain(v) for k, v in self.expected.items()},
            "tolerance": self.tolerance,
            "matches": self.matches,
            "notes": self.notes,
        }

    def plot(self) -> Any:
        """The experiment's picture: paths on the contour plot (2-D) or on the curve (1-D)."""
        if isinstance(self.function, Function1D):
            return plot_function_1d(self.function, self.paths_1d, title=self.description,
                                    separate=len(self.paths_1d) > 1)  # fmt: skip
        if self.function is None or not self.trajectories:
            raise ValueError(f"ExperimentResult.plot: experiment {self.name!r} has no paths")
        return plot_trajectories(self.function, self.trajectories, title=self.description)


def _plain(v: Any) -> Any:
    if isinstance(v, tuple | list | np.ndarray):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _close(got: Any, want: Any, tol: float) -> bool:
    if got is None:
        return False
    if isinstance(want, bool):
        return bool(got) is want
    got, want = np.asarray(got, float), np.asarray(want, float)
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= tol))


@dataclass(frozen=True)
class Experiment:
    """A named, reproducible experiment.

    ``write(run_dir, seed, full)`` runs it (``full``: the longer version, where there is one)
    and writes its files, returning the result table and the report path (what ``gdlab
    reproduce NAME`` does); a ``"exit_code": 1`` in what it returns marks a failed check. An
    experiment whose runs are independent trials (seeds, variants) has ``uses_trials`` and
    also takes ``trials=`` (a :class:`~gdlab.lab.sweeps.Trials`: they run on its executor and
    land in the run directory, so a rerun resumes). An
    experiment with published numbers also has ``run()``, returning an ``ExperimentResult``
    (computed next to published).
    """

    name: str
    description: str
    source: str
    write: Callable[..., dict[str, Any]]
    run: Callable[[], ExperimentResult] | None = None
    uses_trials: bool = False


EXPERIMENTS: dict[str, Experiment] = {}


def register_experiment(experiment: Experiment) -> Experiment:
    """Add an experiment to the registry (names are unique)."""
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"register_experiment: {experiment.name!r} is already registered")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def get_experiment(name: str) -> Experiment:
    """The experiment registered as ``name``; an unknown name lists the valid ones."""
    try:
        return EXPERIMENTS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in EXPERIMENTS)
        raise ValueError(f"unknown experiment {name!r} (choose from {valid})") from None


def reproduce(name: str) -> ExperimentResult:
    """Run the experiment ``name`` and return its computed and published numbers (see
    ``ExperimentResult.matches``); an experiment without published numbers is a ValueError."""
    experiment = get_experiment(name)
    if experiment.run is None:
        raise ValueError(
            f"reproduce: experiment {name!r} has no published numbers; run it with "
            f"write_experiment({name!r}, run_dir) or `gdlab reproduce {name}`"
        )
    return experiment.run()


def write_experiment(
    name: str, run_dir: RunDir, seed: int = 0, full: bool = False, trials: Trials | None = None
) -> dict[str, Any]:
    """Run experiment ``name`` into ``run_dir``: its files, then ``text`` (the table and the
    report path, for the terminal), ``results`` (the table) and ``report``.

    ``trials`` places an experiment's independent runs (default: serially, in this process,
    saved under ``run_dir/trials`` so that the same command with the same ``--out`` resumes).
    """
    experiment = get_experiment(name)
    if experiment.uses_trials:
        trials = trials or Trials(run_dir.path)
        out = experiment.write(run_dir, seed, full, trials=trials)
    else:
        out = experiment.write(run_dir, seed, full)
    checks = out.get("checks")
    verdict = ""
    if checks:
        failed = sum(not c["passed"] for c in checks)
        verdict = f"\n\n{format_table(checks)}\n" + (f"{failed} check(s) FAILED" if failed
                                                      else "all checks passed")  # fmt: skip
    out["text"] = format_table(out["table"]) + verdict + f"\n\nreport: {out['report']}"
    out["results"] = out.pop("table")
    return out


def published(name: str, description: str, source: str):
    """Register the decorated ``fn() -> (computed, expected, extra)`` as an experiment with
    published numbers; ``gdlab reproduce`` writes them side by side (``write_published``)."""

    def wrap(fn: Callable[[], tuple[dict, dict, dict]]) -> Callable[[], ExperimentResult]:
        def run() -> ExperimentResult:
            computed, expected, extra = fn()
            return ExperimentResult(name, description, source, computed, expected, **extra)

        def write(run_dir: RunDir, seed: int, full: bool = False) -> dict[str, Any]:
            return write_published(run(), run_dir, seed)  # published numbers have one size

        register_experiment(Experiment(name, description, source, write, run))
        return run

    return wrap


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list | tuple):
        return "(" + ", ".join(_fmt(x) for x in v) + ")"
    return f"{v:.6f}" if isinstance(v, float) else str(v)


def write_published(res: ExperimentResult, run_dir: RunDir, seed: int) -> dict[str, Any]:
    """Write an experiment's computed vs published numbers, its paths and its picture."""
    name = res.name
    d = res.to_dict()
    bad = res.mismatches()
    table = [{"key": k, "computed": _fmt(v), "published": _fmt(d["expected"].get(k, "–")),
              "match": None if k not in d["expected"] else k not in bad}
             for k, v in d["computed"].items()]  # fmt: skip
    settings = {"experiment": name, "source": res.source, "tolerance": res.tolerance}
    run_dir.write_config(settings)
    run_dir.write_metrics(table)
    run_dir.write_json("summary.json", d)
    rep = Report(f"Reproduce {name}", subtitle=res.description, seed=seed, settings=settings)
    rep.add_text(f"Source: {res.source}. {res.notes}")
    rep.add_table(table, caption=f"Computed vs published (tolerance {res.tolerance:g})",
                  bad=[r["match"] is False for r in table])  # fmt: skip
    if res.trajectories:
        save_trajectories(res.trajectories, run_dir.path / "paths.csv")
    try:
        fig = res.plot()
    except ValueError:
        fig = None
    if fig is not None:
        run_dir.save_figure(fig, "paths")
        rep.add_figure(fig, caption=res.description)
    out = {"table": table, "report": str(rep.save(run_dir)), "matches": res.matches}
    return out | ({} if res.matches else {"exit_code": 1})
