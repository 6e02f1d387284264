"""Run an optimizer on a 2-D test function and record its path.

The point is a 2-element float64 ``Parameter``; each step is the torch loop
``opt.zero_grad(); loss = f(p); loss.backward(); opt.step()`` with gdlab's optimizers, so a
path on a surface is exactly what the same optimizer does to a network's weights.
A run that blows up is a result: the path stops, ``diverged`` is set with the step, and
nothing raises.

Example:
    >>> traj = run_trajectory("rosenbrock", "adam", start=(-1.2, 1.0), steps=200, lr=0.05)
    >>> traj.points.shape, traj.diverged
    ((201, 2), False)
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlab.lab.optimizers import (
    OptimizerLike,
    at_evaluation_point,
    make_optimizer,
    take_step,
    tunes_lr,
)
from gdlab.lab.output.fileio import atomic_write_text
from gdlab.lab.surface.functions import TestFunction, get_function
from gdlab.nn.parameter import Parameter
from gdlab.random import get_generator

__all__ = ["Trajectory", "load_trajectories", "run_trajectory", "save_trajectories"]

#: A run is declared diverged when a coordinate leaves [-DIVERGENCE_BOX, DIVERGENCE_BOX].
DIVERGENCE_BOX = 1e8


@dataclass
class Trajectory:
    """The path of one optimizer run on a 2-D function.

    ``points`` has shape (steps + 1, 2) with the start in row 0; after a divergence the rows
    past the last finite point are NaN. ``values`` and ``grad_norms`` are f and ‖∇f‖ (the
    exact gradient, without noise) at each point.
    """

    function: str
    optimizer: str
    settings: dict
    points: np.ndarray
    values: np.ndarray
    grad_norms: np.ndarray
    diverged: bool = False
    diverged_step: int | None = None
    f_star: float | None = None
    seed: int | None = None
    label_keys: tuple[str, ...] = ()  # settings named in the label besides lr

    @property
    def lr(self) -> float | None:
        return self.settings.get("lr")

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    @property
    def valid_points(self) -> np.ndarray:
        """The rows of ``points`` that are finite (what a plot draws)."""
        return self.points[np.isfinite(self.points).all(axis=1)]

    @property
    def final_point(self) -> np.ndarray:
        """The last finite point (where a diverged run was last seen)."""
        return self.valid_points[-1]

    @property
    def final_value(self) -> float:
        """f at the last point; +inf for a diverged run (so it ranks last)."""
        return math.inf if self.diverged else float(self.values[-1])

    @property
    def gap(self) -> np.ndarray:
        """f − f* per step (f itself when f* is unknown)."""
        return self.values - (self.f_star or 0.0)

    @property
    def label(self) -> str:
        """``name (lr=…, <explicit settings>)``, plus the divergence step if any."""
        show_lr = self.lr is not None and tunes_lr(self.optimizer)  # not L-BFGS' line search
        parts = [f"lr={self.lr:.3g}"] if show_lr else []
        parts += [f"{k}={_short(self.settings[k])}" for k in self.label_keys]
        tag = f"{self.optimizer} ({', '.join(parts)})" if parts else self.optimizer
        return f"{tag}, diverged at step {self.diverged_step}" if self.diverged else tag

    def to_dict(self) -> dict:
        """A JSON-ready dict (NaN and ±inf become null)."""
        return {
            "function": self.function,
            "optimizer": self.optimizer,
            "settings": _jsonable(self.settings),
            "seed": self.seed,
            "f_star": self.f_star,
            "diverged": self.diverged,
            "diverged_step": self.diverged_step,
            "points": _nulls(self.points),
            "values": _nulls(self.values),
            "grad_norms": _nulls(self.grad_norms),
            "label_keys": list(self.label_keys),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Trajectory:
        def arr(x: Any) -> np.ndarray:
            return np.array(x, dtype=np.float64)  # None -> nan

        return cls(d["function"], d["optimizer"], dict(d["settings"]), arr(d["points"]),
                   arr(d["values"]), arr(d["grad_norms"]), bool(d["diverged"]),
                   d["diverged_step"], d["f_star"], d["seed"],
                   tuple(d.get("label_keys", ())))  # fmt: skip


def _short(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _nulls(a: np.ndarray) -> list:
    return np.where(np.isfinite(a), a, None).tolist()


def _jsonable(settings: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.items()}


def _resolve_function(function: TestFunction | str) -> TestFunction:
    return get_function(function) if isinstance(function, str) else function


def _check_run_args(steps: int, start: Any) -> np.ndarray:
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"run_trajectory: steps must be a non-negative int, got {steps!r}")
    x0 = np.array(start, dtype=np.float64).reshape(-1)
    if x0.shape != (2,) or not np.isfinite(x0).all():
        raise ValueError(f"run_trajectory: start must be two finite numbers, got {start!r}")
    return x0


def run_trajectory(
    function: TestFunction | str,
    optimizer: OptimizerLike,
    start: Sequence[float] | None = None,
    steps: int = 100,
    lr: float | None = None,
    *,
    seed: int | np.random.Generator | None = None,
    box: float = DIVERGENCE_BOX,
    lr_schedule: Callable[[int], float] | None = None,
    **hparams: Any,
) -> Trajectory:
    """Run ``steps`` optimizer steps on ``function`` from ``start`` and record the path.

    Each step: ``opt.zero_grad(); f(p).backward(); [p.grad += noise]; opt.step()``. L-BFGS,
    SAM and Newton's family get a closure (``lab.optimizers.take_step``) and may evaluate f
    several times per step; a schedule-free optimizer's path is x, where it is evaluated (it
    steps at y).

    Args:
        function: a ``TestFunction`` or its registry name.
        optimizer: a short name from ``OPTIMIZERS`` or a factory ``(params, lr=, **hp)``.
        start: the starting point (default: the function's own start).
        steps: the number of optimizer steps.
        lr: learning rate (default: the optimizer's default).
        seed: generator or int seed for the gradient noise of noisy functions; an int also
            seeds AdaHessian's and Sophia-H's probes (0 otherwise), so their paths repeat.
        box: a coordinate beyond ±box (or NaN/inf) counts as divergence.
        lr_schedule: step -> lr (``gdlab.optim.schedules``); step k (from 0) runs at
            ``lr_schedule(k)``, written to every group's ``lr`` as a scheduler would.
        **hparams: further optimizer arguments (``momentum=0.5``, ``betas=(0.9, 0.99)``...).

    Returns:
        a ``Trajectory``; a diverged run stops there, marked, without raising.

    Example:
        >>> t = run_trajectory("ravine", "momentum", steps=50, lr=0.1, momentum=0.9)
        >>> t.points.shape, t.diverged, f"{t.gap[-1]:.1e}"
    """
    fn = _resolve_function(function)
    x0 = _check_run_args(steps, fn.start if start is None else start)
    p = Parameter(x0.copy())
    # AdaHessian's and Sophia-H's probes come from the run's seed: the same path every run
    probe_seed = seed if isinstance(seed, int) else 0
    opt, name, settings = make_optimizer(optimizer, [p], lr, probe_seed=probe_seed, **hparams)
    rng = get_generator(seed) if fn.noise_std else None
    # Newton's family differentiates the gradient again: its closure keeps the graph
    create_graph = bool(getattr(opt, "requires_create_graph", False))

    def closure() -> Any:
        opt.zero_grad()
        loss = fn(p)
        loss.backward(create_graph=create_graph)
        if rng is not None:
            p.grad = p.grad + rng.normal(0.0, fn.noise_std, size=2)
        return loss

    points = np.full((steps + 1, 2), np.nan)
    points[0] = x0
    diverged_step = None
    # L-BFGS, SAM and Newton's family take a closure and may evaluate f several times per step
    # (as train.Trainer); a schedule-free optimizer steps at y and its path is x, where it is
    # evaluated
    with np.errstate(all="ignore"):
        for k in range(1, steps + 1):
            if lr_schedule is not None:
                for group in opt.param_groups:
                    group["lr"] = float(lr_schedule(k - 1))
            take_step(opt, closure)
            with at_evaluation_point(opt, [p]):
                xk = p.data.copy()
            if not (np.isfinite(xk).all() and np.abs(xk).max() <= box):
                diverged_step = k
                if np.isfinite(xk).all():
                    points[k] = xk
                break
            points[k] = xk
    traj = _record(fn, name, settings, points, diverged_step, seed)
    traj.label_keys = tuple(k for k in hparams if k != "lr")
    return traj


def _record(fn: TestFunction, name: str, settings: dict, points: np.ndarray,
            diverged_step: int | None, seed: Any) -> Trajectory:  # fmt: skip
    values = fn.grid(points[:, 0], points[:, 1])
    with np.errstate(all="ignore"):  # a diverged run's last point may overflow the norm
        grad_norms = np.linalg.norm(fn.gradient(points[:, 0], points[:, 1]), axis=-1)
    return Trajectory(
        function=fn.name,
        optimizer=name,
        settings=settings,
        points=points,
        values=values,
        grad_norms=grad_norms,
        diverged=diverged_step is not None,
        diverged_step=diverged_step,
        f_star=fn.f_star,
        seed=seed if isinstance(seed, int) else None,
    )


# ---------------------------------------------------------------- paths as data
_CSV_FIELDS = ["function", "optimizer", "lr", "step", "x", "y", "f", "grad_norm", "diverged"]


def _csv_text(trajectories: Sequence[Trajectory]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CSV_FIELDS)
    for t in trajectories:
        for k in range(len(t.points)):
            x, y = t.points[k]
            w.writerow([t.function, t.optimizer, repr(t.lr), k, repr(float(x)), repr(float(y)),
                        repr(float(t.values[k])), repr(float(t.grad_norms[k])),
                        int(t.diverged)])  # fmt: skip
    return buf.getvalue()


def save_trajectories(
    trajectories: Sequence[Trajectory], path: str | os.PathLike
) -> os.PathLike | str:
    """Write paths as data, atomically: ``.json`` (full records) or ``.csv`` (one row per step).

    Same runs give byte-identical files. NaN/inf are ``null`` in JSON and ``nan`` in CSV.
    """
    suffix = os.fspath(path).rsplit(".", 1)[-1].lower()
    if suffix == "json":
        text = json.dumps([t.to_dict() for t in trajectories], indent=1, allow_nan=False)
        return atomic_write_text(path, text + "\n")
    if suffix == "csv":
        return atomic_write_text(path, _csv_text(trajectories))
    raise ValueError(f"save_trajectories: unsupported file type {path!s} (use .json or .csv)")


def load_trajectories(path: str | os.PathLike) -> list[Trajectory]:
    """Read trajectories written by ``save_trajectories`` as JSON (the CSV form is a table
    for other tools and does not keep every setting).

    Example:
        >>> save_trajectories(runs, "paths.json")
        >>> [t.label for t in load_trajectories("paths.json")]
    """
    with open(path, encoding="utf-8") as f:
        try:
            records = json.load(f)
            return [Trajectory.from_dict(d) for d in records]
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(
                f"load_trajectories: {os.fspath(path)} is not a JSON file written by "
                f"save_trajectories ({type(exc).__name__}: {exc})"
            ) from None
