"""The optimizer battery: the checks every built-in optimizer passes, run on any optimizer.

``gdlab check-optimizer NAME`` (a registry name or ``pkg.module:Name``) runs it and prints the
table; ``tests/optim`` run the same checks over every built-in (``test_properties.py``,
``test_convergence.py`` import from here), so a new optimizer meets the bar the others meet:

- converges: reaches the minimiser of a quadratic, Rosenbrock's valley and Beale's function
  within ``TOL`` for some lr of a log grid (constant, else cosine-annealed), in a fixed budget;
- lr_zero: lr = 0 leaves the parameters unchanged (n/a where lr is only an initial step size);
- maximize: ``maximize=True`` on f equals minimising −f, bit for bit (n/a without the flag);
- state_dict: a reloaded optimizer continues exactly as the original, and loading copies;
- dtypes: float32 and float64 parameters (and state arrays) keep their dtype;
- zero_grad: zero gradients give finite parameters.
"""

from __future__ import annotations

import argparse
import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from gdlab.lab.config import option
from gdlab.lab.optimizers import get_optimizer_spec
from gdlab.nn import Parameter

__all__ = [
    "BatteryReport", "Check", "CheckOptimizerConfig", "PARABOLA_OPT", "PROBLEMS", "Problem", "TOL",
    "beale", "check_converges", "check_dtypes", "check_lr_zero", "check_maximize",
    "check_optimizer", "check_state_dict", "check_zero_grad", "format_report", "minimise",
    "parabola", "rosenbrock", "run_check_optimizer",
]  # fmt: skip

TOL = 3e-2  # distance to the minimiser that counts as converged
STALL = 1000  # steps without getting 1% closer after which an lr is given up
LR_GRID = tuple(float(x) for x in np.geomspace(1.0, 1e-4, 17))  # 4 per decade, largest first
Factory = Callable[..., Any]  # factory(params, **hyper) -> an optimizer


class Check(NamedTuple):
    """One check's outcome: passed True/False, or None where it does not apply."""

    name: str
    passed: bool | None
    detail: str


class BatteryReport(NamedTuple):
    """Every check of one optimizer."""

    optimizer: str
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(c.passed is not False for c in self.checks)


# ------------------------------------------------------------------ the convergence problems
PARABOLA_OPT = np.array([1.0, -1.0, 1.0])


def parabola(x: np.ndarray) -> tuple[float, np.ndarray]:
    """‖x − (1, −1, 1)‖², its value and gradient."""
    d = x - PARABOLA_OPT.reshape(x.shape)
    return float(np.sum(d * d)), 2 * d


def rosenbrock(x: np.ndarray) -> tuple[float, np.ndarray]:
    """(1 − a)² + 100(b − a²)², minimum at (1, 1)."""
    a, b = x.reshape(-1)
    f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
    g = np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])
    return float(f), g.reshape(x.shape)


def beale(x: np.ndarray) -> tuple[float, np.ndarray]:
    """Beale's function, minimum 0 at (3, 0.5) (Surjanovic & Bingham's library)."""
    u, v = x.reshape(-1)
    terms = [(1.5, 1), (2.25, 2), (2.625, 3)]
    r = [c - u + u * v**k for c, k in terms]
    gu = sum(2 * ri * (v**k - 1) for ri, (_, k) in zip(r, terms, strict=True))
    gv = sum(2 * ri * k * u * v ** (k - 1) for ri, (_, k) in zip(r, terms, strict=True))
    return float(sum(ri * ri for ri in r)), np.array([gu, gv]).reshape(x.shape)


class Problem(NamedTuple):
    """A convergence problem: f (value, gradient), start, minimiser, step budget."""

    name: str
    fn: Callable[[np.ndarray], tuple[float, np.ndarray]]
    start: tuple[float, ...]
    minimum: tuple[float, ...]
    steps: int


PROBLEMS = [
    Problem("quadratic", parabola, (-1.0, 10.0, 1.0), (1.0, -1.0, 1.0), 5000),
    Problem("rosenbrock", rosenbrock, (0.0, 0.0), (1.0, 1.0), 10000),
    Problem("beale", beale, (1.0, 1.0), (3.0, 0.5), 5000),
]


def minimise(
    make: Factory, fn: Callable[[np.ndarray], Any], x0: Any, steps: int, cosine: bool = False,
    target: np.ndarray | None = None, check_every: int = 50, **hyper: Any,
) -> np.ndarray:  # fmt: skip
    """Run ``make([p], **hyper)`` on f from ``x0`` (a (1, n) matrix, for Muon) for ``steps``;
    with ``target``, stop early once within ``TOL`` of it or once the iterate blows up."""
    from gdlab.optim.lr_scheduler import CosineAnnealingLR

    p = Parameter(np.asarray(x0, dtype=np.float64).reshape(1, -1))
    opt = make([p], **hyper)
    sched = CosineAnnealingLR(opt, T_max=steps) if cosine else None

    def closure() -> float:
        value, p.grad = fn(p.data)
        return value

    best, improved_at = math.inf, 0
    for t in range(steps):
        opt.step(closure)
        if sched is not None:
            sched.step()
        if target is not None and t % check_every == 0:
            x = p.data.reshape(-1)
            if not np.all(np.isfinite(x)) or np.abs(x).max() > 1e6:
                break  # diverged
            distance = float(np.abs(x - target).max())
            if distance <= TOL:
                break  # converged
            if distance < 0.99 * best:
                best, improved_at = distance, t
            elif t - improved_at >= STALL and not cosine:
                break  # stalled: no 1% closer in STALL steps (a cosine lr may still settle)
    return p.data.reshape(-1)


def check_converges(make: Factory, problem: Problem, **hyper: Any) -> Check:
    """Some lr of ``LR_GRID`` (constant, else cosine-annealed) reaches the minimiser."""
    target = np.array(problem.minimum)
    for cosine in (False, True):
        for lr in LR_GRID:
            with np.errstate(all="ignore"):
                x = minimise(make, problem.fn, problem.start, problem.steps, cosine, target,
                             **{**hyper, "lr": lr})  # fmt: skip
            if np.all(np.isfinite(x)) and np.abs(x - target).max() <= TOL:
                how = "cosine-annealed " if cosine else ""
                return Check(f"converges:{problem.name}", True, f"{how}lr={lr:.3g}")
    return Check(f"converges:{problem.name}", False,
                 f"no lr in [1e-4, 1] reached {problem.minimum} within {TOL}")  # fmt: skip


# ------------------------------------------------------------------ the properties
def _params(seed: int = 0, dtype: Any = np.float64) -> list[Parameter]:
    rng = np.random.default_rng(seed)
    return [Parameter(rng.normal(size=s).astype(dtype)) for s in ((3, 4), (2, 5))]


def _grads(params: list[Parameter], t: int) -> list[np.ndarray]:
    return [np.sin(p.data * 3 + t) + 0.5 * p.data for p in params]


def _train(opt: Any, params: list[Parameter], steps: range, sign: float = 1.0) -> None:
    for t in steps:

        def closure(t: int = t) -> float:
            for p, g in zip(params, _grads(params, t), strict=True):
                p.grad = sign * g
            return 0.0

        opt.step(closure)


def check_lr_zero(make: Factory, **hyper: Any) -> Check:
    """lr = 0: five steps leave every parameter exactly as it was."""
    params = _params()
    opt = make(params, **{**hyper, "lr": 0.0})
    if not getattr(opt, "_lr_scales_the_step", True):
        return Check("lr_zero", None, "n/a: lr is only the first trial step")
    before = [p.data.copy() for p in params]
    _train(opt, params, range(5))
    moved = sum(not np.array_equal(p.data, b) for p, b in zip(params, before, strict=True))
    return Check("lr_zero", moved == 0, "unchanged" if not moved else f"{moved} parameters moved")


def check_maximize(make: Factory, **hyper: Any) -> Check:
    """maximize=True on gradients g equals minimising with −g, bit for bit, over 10 steps."""
    a, b = _params(), _params()
    opt = make(a, **hyper)
    if "maximize" not in opt.defaults:
        return Check("maximize", None, "n/a: no maximize flag")
    _train(opt, a, range(10))
    _train(make(b, **{**hyper, "maximize": True}), b, range(10), sign=-1.0)
    same = all(np.array_equal(p.data, q.data) for p, q in zip(a, b, strict=True))
    return Check("maximize", same, "equal to minimising -f" if same else "differs")


def check_state_dict(make: Factory, **hyper: Any) -> Check:
    """After 4 steps, a new optimizer loading the state dict continues exactly (6 more steps),
    and loading copied the arrays (the saved dict is untouched)."""
    a = _params()
    opt = make(a, **hyper)
    _train(opt, a, range(4))
    saved = opt.state_dict()
    frozen = copy.deepcopy(saved)
    b = [Parameter(p.data.copy()) for p in a]
    clone = make(b, **hyper)
    clone.load_state_dict(saved)
    if not _same(saved, frozen):
        return Check("state_dict", False, "loading changed the saved dict (no copy)")
    for t in range(4, 10):
        _train(opt, a, range(t, t + 1))
        _train(clone, b, range(t, t + 1))
        if not all(np.array_equal(p.data, q.data) for p, q in zip(a, b, strict=True)):
            return Check("state_dict", False, f"the reloaded optimizer differs at step {t}")
    return Check("state_dict", True, "reload resumes exactly")


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    if isinstance(x, list | tuple):
        return len(x) == len(y) and all(_same(u, v) for u, v in zip(x, y, strict=True))
    if isinstance(x, np.ndarray):
        return np.array_equal(x, y, equal_nan=True)
    return bool(x == y) or (x != x and y != y)  # NaN hyper-parameters compare equal


def check_dtypes(make: Factory, **hyper: Any) -> Check:
    """float32 and float64 parameters and their floating state arrays keep their dtype."""
    wrong = []
    for dtype in (np.float32, np.float64):
        params = _params(dtype=dtype)
        opt = make(params, **hyper)
        _train(opt, params, range(3))
        arrays = [p.data for p in params] + [
            v for s in opt.state.values() for v in s.values()
            if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating)
        ]  # fmt: skip
        wrong += [f"{np.dtype(dtype).name}->{a.dtype}" for a in arrays if a.dtype != dtype]
    if wrong:
        return Check("dtypes", False, "changed: " + ", ".join(sorted(set(wrong))))
    return Check("dtypes", True, "float32 and float64 preserved")


def check_zero_grad(make: Factory, **hyper: Any) -> Check:
    """Three steps with zero gradients leave finite parameters."""
    params = _params()
    opt = make(params, **hyper)
    for _ in range(3):

        def closure() -> float:
            for p in params:
                p.grad = np.zeros_like(p.data)
            return 0.0

        with np.errstate(all="ignore"):
            opt.step(closure)
    finite = all(np.all(np.isfinite(p.data)) for p in params)
    return Check("zero_grad", finite, "finite" if finite else "non-finite parameters")


PROPERTIES = [check_lr_zero, check_maximize, check_state_dict, check_dtypes, check_zero_grad]


def check_optimizer(name: str, **hyper: Any) -> BatteryReport:
    """Run the whole battery on the optimizer ``name`` (a registry name or ``pkg.mod:Name``)
    with its registry defaults plus ``hyper``; a check that raises fails with the error."""
    spec = get_optimizer_spec(name)

    def make(params: list[Parameter], **kw: Any) -> Any:
        return spec.cls(params, **{"lr": spec.lr, **spec.defaults, **kw})

    checks = []
    for run in [*(_converges(p) for p in PROBLEMS), *PROPERTIES]:
        try:
            checks.append(run(make, **hyper))
        except Exception as exc:  # noqa: BLE001 - a failing optimizer is a failed check
            label = getattr(run, "check_name", run.__name__.removeprefix("check_"))
            checks.append(Check(label, False, f"{type(exc).__name__}: {exc}"))
    return BatteryReport(spec.name, checks)


def _converges(problem: Problem) -> Callable[..., Check]:
    def run(make: Factory, **hyper: Any) -> Check:
        return check_converges(make, problem, **hyper)

    run.check_name = f"converges:{problem.name}"  # type: ignore[attr-defined]
    return run


def format_report(report: BatteryReport) -> str:
    """The report as a table and a verdict line."""
    from gdlab.lab.output.tables import format_table

    marks = {True: "pass", False: "FAIL", None: "n/a"}
    rows = [{"check": c.name, "result": marks[c.passed], "detail": c.detail}
            for c in report.checks]  # fmt: skip
    verdict = "all checks passed" if report.passed else (
        f"{sum(c.passed is False for c in report.checks)} check(s) FAILED"
    )  # fmt: skip
    return f"{report.optimizer}\n\n{format_table(rows)}\n\n{verdict}"


def _optimizer_name(text: str) -> str:
    """argparse's type of the optimizer: a registry name or an importable pkg.module:Name."""
    try:
        get_optimizer_spec(text)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


@dataclass
class CheckOptimizerConfig:
    """The optimizer checked: a registry name or ``pkg.module:Name``."""

    optimizer: str = option(
        "sgd", "optimizer", type=_optimizer_name, metavar="OPTIMIZER",
        help="a built-in name (adam, sgd, ...) or pkg.module:Name (an Optimizer class, a "
        "chain or a rule function; file.py:Name works too)",
    )  # fmt: skip


def run_check_optimizer(config: CheckOptimizerConfig) -> dict[str, Any]:
    """The battery's result for the CLI: the table, each check, and exit code 1 on a failure."""
    report = check_optimizer(config.optimizer)
    checks = [c._asdict() for c in report.checks]
    out = {"optimizer": report.optimizer, "passed": report.passed, "checks": checks}
    return out | {"text": format_report(report)} | ({} if report.passed else {"exit_code": 1})
