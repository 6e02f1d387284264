"""The surfaces view: several optimizers on one 2-D test function, recomputed on every change.

Each optimizer is ``gdlab.lab``'s trajectory loop (``zero_grad; f(p).backward(); [noise];
step``) on its own 2-element ``Parameter``; the playground only evaluates f for all of them in
one graph per step (the points stacked into a (k, 2) tensor, the sum of their values
differentiated), which gives every parameter exactly its own gradient while paying the
autodiff engine's per-op overhead once instead of k times. So a path here ends where
``run_trajectory`` (and ``gdlab surface``) ends for the same settings, bit for bit, and 5
optimizers × 300 steps take well under the 200 ms a slider change may cost.

Example:
    >>> settings = SurfaceSettings.from_json({"function": "ravine", "steps": 50})
    >>> [p.optimizer for p in run_paths(settings)]
    ['sgd', 'momentum', 'nesterov', 'rmsprop', 'adam']
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from gdlab.playground import _uses
from gdlab.playground.optimizers import hparams, optimizer_names, slider
from gdlab.playground.settings import SettingsError, choice, integer, json_object, number

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "SCHEDULES",
    "Contour",
    "OptimizerChoice",
    "SurfacePath",
    "SurfaceSettings",
    "contour",
    "contour_message",
    "function_names",
    "paths_message",
    "run_paths",
]

MAX_STEPS = 2000
MAX_OPTIMIZERS = 8
LR_RANGE = (1e-6, 1e9)  # wide on purpose: a huge lr is a lesson (the path diverges), not an error
GRID = 120  # contour resolution per axis
GAP_FLOOR = 1e-16  # f − f* at an exact minimum, drawn on the log axis

SCHEDULES = ("constant", "step", "exponential", "cosine")


def function_names() -> list[str]:
    """The 2-D test functions the surfaces view offers."""
    return list(_uses.FUNCTIONS)


@dataclass(frozen=True)
class OptimizerChoice:
    """A ticked optimizer and its learning rate."""

    name: str
    lr: float


DEFAULT_OPTIMIZERS = (
    OptimizerChoice("sgd", 1e-3),
    OptimizerChoice("momentum", 1e-3),
    OptimizerChoice("nesterov", 1e-3),
    OptimizerChoice("rmsprop", 1e-2),
    OptimizerChoice("adam", 5e-2),
)


@dataclass(frozen=True)
class SurfaceSettings:
    """Everything the surfaces view computes from (the page keeps the same in its URL).

    ``start`` None means the function's own start. The schedule is applied per step:
    ``step`` multiplies the lr by ``gamma`` every ``step_size`` steps, ``exponential`` every
    step, ``cosine`` anneals it to 0 over ``steps`` (torch's StepLR / ExponentialLR /
    CosineAnnealingLR). ``seed`` draws the gradient noise of the noisy functions
    and AdaHessian's and Sophia-H's probes.
    """

    function: str = "rosenbrock"
    start: tuple[float, float] | None = None
    optimizers: tuple[OptimizerChoice, ...] = DEFAULT_OPTIMIZERS
    steps: int = 300
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)
    schedule: str = "constant"
    gamma: float = 0.99
    step_size: int = 100
    seed: int = 0

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SurfaceSettings:
        """Check every value sent by the page; missing keys take the defaults."""
        raw = json_object(raw, "surface settings")
        d = cls()
        function = choice(raw.get("function", d.function), "function", _uses.FUNCTIONS)
        fn = _uses.get_function(function)
        start = _start(raw.get("start"), fn)
        return cls(
            function=function,
            start=start,
            optimizers=_optimizers(raw.get("optimizers")),
            steps=integer(raw.get("steps", d.steps), "steps", 1, MAX_STEPS),
            momentum=slider(raw, "momentum", d.momentum),
            betas=(slider(raw, "beta1", d.betas[0]), slider(raw, "beta2", d.betas[1])),
            schedule=choice(raw.get("schedule", d.schedule), "schedule", SCHEDULES),
            gamma=number(raw.get("gamma", d.gamma), "gamma", 0.0, 1.0, low_open=True),
            step_size=integer(raw.get("step_size", d.step_size), "step_size", 1, MAX_STEPS),
            seed=integer(raw.get("seed", d.seed), "seed", 0, 2**31 - 1),
        )

    def hparams(self, name: str) -> dict[str, Any]:
        """The optimizer arguments besides lr that the sliders set for ``name``."""
        return hparams(name, self.momentum, self.betas)


def _start(raw: Any, fn: Any) -> tuple[float, float] | None:
    if raw is None:
        return None
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise SettingsError(f"start must be two numbers [x, y], got {raw!r}")
    (x_lo, x_hi), (y_lo, y_hi) = fn.domain
    return (number(raw[0], "start x", x_lo, x_hi), number(raw[1], "start y", y_lo, y_hi))


def _optimizers(raw: Any) -> tuple[OptimizerChoice, ...]:
    if raw is None:
        return DEFAULT_OPTIMIZERS
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_OPTIMIZERS:
        raise SettingsError(f"tick between 1 and {MAX_OPTIMIZERS} optimizers, got {raw!r}")
    chosen = []
    for item in raw:
        if not isinstance(item, dict):
            raise SettingsError(f"an optimizer must be {{name, lr}}, got {item!r}")
        name = choice(item.get("name"), "optimizer", optimizer_names())
        lr = number(item.get("lr"), f"lr of {name}", *LR_RANGE)
        chosen.append(OptimizerChoice(name, lr))
    names = [c.name for c in chosen]
    if len(set(names)) != len(names):
        raise SettingsError(f"each optimizer may be ticked once, got {names}")
    return tuple(chosen)


class SurfacePath(NamedTuple):
    """One optimizer's path: ``points`` (steps + 1, 2), NaN after a divergence."""

    optimizer: str
    lr: float
    points: np.ndarray
    values: np.ndarray
    diverged_step: int | None


class _Run(NamedTuple):
    """One optimizer being stepped: its parameter, optimizer, scheduler and noise."""

    param: Any
    optimizer: Any
    scheduler: Any
    noise: np.random.Generator | None


def _scheduler(settings: SurfaceSettings, opt: Any) -> Any:
    sched = _uses.optim.lr_scheduler
    if settings.schedule == "step":
        return sched.StepLR(opt, settings.step_size, settings.gamma)
    if settings.schedule == "exponential":
        return sched.ExponentialLR(opt, settings.gamma)
    if settings.schedule == "cosine":
        return sched.CosineAnnealingLR(opt, settings.steps)
    return None


def _start_runs(settings: SurfaceSettings, fn: Any, x0: np.ndarray) -> list[_Run]:
    runs = []
    for c in settings.optimizers:
        param = _uses.Parameter(x0.copy())
        opt = _uses.make_optimizer(
            c.name, [param], c.lr, probe_seed=settings.seed, **settings.hparams(c.name)
        )[0]
        noise = _uses.get_generator(settings.seed) if fn.noise_std else None
        runs.append(_Run(param, opt, _scheduler(settings, opt), noise))
    return runs


def _step_all(fn: Any, runs: list[_Run], active: list[int]) -> None:
    """One step of every active run, f evaluated for all of them in one graph."""
    for i in active:
        runs[i].optimizer.zero_grad()
    xy = _uses.stack([runs[i].param for i in active])
    fn.f(xy[:, 0], xy[:, 1]).sum().backward()
    for i in active:
        run = runs[i]
        if run.noise is not None:
            run.param.grad = run.param.grad + run.noise.normal(0.0, fn.noise_std, size=2)
        run.optimizer.step()
        if run.scheduler is not None:
            run.scheduler.step()


def run_paths(settings: SurfaceSettings) -> list[SurfacePath]:
    """Every ticked optimizer's path from the start, ``settings.steps`` steps each.

    A path that leaves ±``DIVERGENCE_BOX`` or turns NaN stops there, as in ``run_trajectory``.
    """
    fn = _uses.get_function(settings.function)
    x0 = np.array(fn.start if settings.start is None else settings.start, dtype=np.float64)
    runs = _start_runs(settings, fn, x0)
    k, steps = len(runs), settings.steps
    points = np.full((k, steps + 1, 2), np.nan)
    points[:, 0] = x0
    diverged: list[int | None] = [None] * k
    active = list(range(k))
    with np.errstate(all="ignore"):
        for step in range(1, steps + 1):
            if not active:
                break
            _step_all(fn, runs, active)
            for i in list(active):
                run = runs[i]
                with _uses.at_evaluation_point(run.optimizer, [run.param]):
                    xk = run.param.data.copy()  # a schedule-free path is x, as run_trajectory
                finite = bool(np.isfinite(xk).all())
                if finite:
                    points[i, step] = xk
                if not (finite and np.abs(xk).max() <= _uses.DIVERGENCE_BOX):
                    diverged[i] = step
                    active.remove(i)
    return [
        SurfacePath(c.name, c.lr, points[i], fn.grid(points[i, :, 0], points[i, :, 1]), diverged[i])
        for i, c in enumerate(settings.optimizers)
    ]


class Contour(NamedTuple):
    """The function on a grid for the contour plot; ``z`` is log10(f − f* + floor) when f* is
    known (so the valley floor shows), f itself otherwise."""

    function: str
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    log: bool
    minima: tuple[tuple[float, float], ...]
    start: tuple[float, float]
    description: str


def contour(function: str) -> Contour:
    """The contour grid of ``function`` over its plot domain."""
    fn = _uses.get_function(function)
    (x_lo, x_hi), (y_lo, y_hi) = fn.domain
    x = np.linspace(x_lo, x_hi, GRID)
    y = np.linspace(y_lo, y_hi, GRID)
    z = fn.grid(x[None, :], y[:, None])
    log = fn.f_star is not None
    if log:
        z = np.log10(np.maximum(z - fn.f_star, 0.0) + 1e-3)
    return Contour(fn.name, x, y, z, log, fn.minima, fn.start, fn.description)


def _nulls(a: np.ndarray) -> list:
    return np.where(np.isfinite(a), a, None).tolist()


def _path_json(path: SurfacePath, f_star: float | None) -> dict[str, Any]:
    valid = np.isfinite(path.points).all(axis=1)
    last = path.points[valid][-1]
    gap = path.values - f_star if f_star is not None else path.values
    if f_star is not None:
        gap = np.where(np.isfinite(gap), np.maximum(gap, GAP_FLOOR), np.nan)
    return {
        "optimizer": path.optimizer,
        "lr": path.lr,
        "x": _nulls(path.points[:, 0]),
        "y": _nulls(path.points[:, 1]),
        "gap": _nulls(gap),
        "final": [float(last[0]), float(last[1])],
        "final_value": float(path.values[valid][-1]),
        "diverged_step": path.diverged_step,
    }


def _divergence_message(settings: SurfaceSettings, paths: list[SurfacePath]) -> str | None:
    gone = [p for p in paths if p.diverged_step is not None]
    if not gone:
        return None
    parts = [f"{p.optimizer} (lr {p.lr:g}) diverged at step {p.diverged_step}" for p in gone]
    return "; ".join(parts) + ": its learning rate is too large for " + settings.function + "."


def paths_message(settings: SurfaceSettings) -> dict[str, Any]:
    """Run the paths and package them for the page (NaN as null), with the compute time."""
    t0 = time.perf_counter()
    paths = run_paths(settings)
    compute_ms = (time.perf_counter() - t0) * 1e3
    fn = _uses.get_function(settings.function)
    start = fn.start if settings.start is None else settings.start
    return {
        "type": "paths",
        "function": settings.function,
        "start": [float(start[0]), float(start[1])],
        "steps": settings.steps,
        "f_star": fn.f_star,
        "paths": [_path_json(p, fn.f_star) for p in paths],
        "warning": _divergence_message(settings, paths),
        "compute_ms": round(compute_ms, 2),
    }


def contour_message(function: str) -> dict[str, Any]:
    """The contour grid packaged for the page."""
    c = contour(function)
    return {
        "type": "contour",
        "function": c.function,
        "x": c.x.tolist(),
        "y": c.y.tolist(),
        "z": np.round(c.z, 5).tolist(),
        "log": c.log,
        "minima": [list(m) for m in c.minima],
        "start": list(c.start),
        "description": c.description,
        "f_star": _uses.get_function(function).f_star,
    }
