"""The textbooks' gradient-descent experiments by name, with their published numbers.

``reproduce(name)`` runs one experiment with gdlab's own optimizers (the article-form
options where the book's formula differs from torch's: ``eps_in_sqrt`` for d2l's AdaGrad and
RMSProp, ``eps_hat`` for Deep Learning from Scratch's Adam, the ``Momentum`` class for its
momentum) and returns a result holding the computed values, the published ones, and whether
they agree to ``tolerance`` (the books print 6 decimals). Each result draws itself.

Example:
    >>> res = reproduce("d2l_momentum")
    >>> res.matches, res.computed["beta=0.5"]
    (True, (0.007188, 0.002553))       # rounded here for display

Sources: d2l.ai, chapter "Optimization Algorithms" (``train_2d`` from (−5, −2), 20 steps;
1-D ``gd`` from x = 10, 10 steps); Saito, "Deep Learning from Scratch", ch. 6,
``optimizer_compare_naive.py`` (start (−7, 2), 30 updates); Goh, "Why Momentum Really
Works", Distill 2017.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdlab.lab.functions import Function1D, TestFunction, get_function, get_function_1d
from gdlab.lab.trajectories import Trajectory, run_trajectory
from gdlab.nn.parameter import Parameter

__all__ = [
    "EXPERIMENTS",
    "Experiment",
    "ExperimentResult",
    "get_experiment",
    "register_experiment",
    "reproduce",
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
        from gdlab.lab.plots import plot_function_1d, plot_trajectories

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
    """A named, reproducible experiment: ``run()`` returns an ``ExperimentResult``."""

    name: str
    description: str
    source: str
    run: Callable[[], ExperimentResult]


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
    """Run the experiment ``name`` and return its result (see ``ExperimentResult.matches``)."""
    return get_experiment(name).run()


def _experiment(name: str, description: str, source: str):
    def wrap(fn: Callable[[], tuple[dict, dict, dict]]) -> Callable[[], ExperimentResult]:
        def run() -> ExperimentResult:
            computed, expected, extra = fn()
            return ExperimentResult(name, description, source, computed, expected, **extra)

        register_experiment(Experiment(name, description, source, run))
        return run

    return wrap


# ---------------------------------------------------------------- d2l.ai, 2-D
_D2L = "d2l.ai, Optimization Algorithms (train_2d from (-5, -2), 20 steps)"
_D2L_START = (-5.0, -2.0)


def _final(t: Trajectory) -> tuple[float, float]:
    return float(t.points[-1, 0]), float(t.points[-1, 1])


def _runs(function: str, settings: dict[str, tuple[str, dict]], start, steps: int):
    """key -> trajectory for each (optimizer, settings) of one figure."""
    return {
        key: run_trajectory(function, opt, start, steps, **hp)
        for key, (opt, hp) in settings.items()
    }


def _d2l_2d(function: str, settings: dict, expected: dict) -> tuple[dict, dict, dict]:
    runs = _runs(function, settings, _D2L_START, 20)
    computed = {k: _final(t) for k, t in runs.items()}
    for k, t in runs.items():
        computed[f"{k} diverges"] = bool(abs(t.points[-1]).max() > 100)
    return (
        computed,
        expected,
        {"function": get_function(function), "trajectories": [*runs.values()]},
    )


@_experiment("d2l_gd_2d", "d2l: gradient descent on x₁² + 2x₂², η = 0.1", _D2L)
def _d2l_gd_2d():
    return _d2l_2d("elliptic", {"eta=0.1": ("sgd", {"lr": 0.1})},
                   {"eta=0.1": (-0.057646, -0.000073)})  # fmt: skip


@_experiment("d2l_ravine_gd", "d2l: gradient descent on the ravine 0.1x₁² + 2x₂²", _D2L)
def _d2l_ravine_gd():
    return _d2l_2d(
        "ravine",
        {"eta=0.4": ("sgd", {"lr": 0.4}), "eta=0.6": ("sgd", {"lr": 0.6})},
        {"eta=0.4": (-0.943467, -0.000073), "eta=0.6": (-0.387814, -1673.365109),
         "eta=0.6 diverges": True, "eta=0.4 diverges": False},
    )  # fmt: skip


@_experiment("d2l_momentum", "d2l: momentum (v ← βv + g; x ← x − ηv) on the ravine, η = 0.6",
             _D2L)  # fmt: skip
def _d2l_momentum():
    # d2l's momentum is torch's SGD(momentum=β) exactly (buffer starts at the first gradient).
    return _d2l_2d(
        "ravine",
        {"beta=0.5": ("sgd", {"lr": 0.6, "momentum": 0.5}),
         "beta=0.25": ("sgd", {"lr": 0.6, "momentum": 0.25})},
        {"beta=0.5": (0.007188, 0.002553), "beta=0.25": (-0.126340, -0.186632)},
    )  # fmt: skip


@_experiment("d2l_adagrad", "d2l: AdaGrad (ε = 1e-6 inside √) on the ravine", _D2L)
def _d2l_adagrad():
    hp = {"eps": 1e-6, "eps_in_sqrt": True}
    return _d2l_2d(
        "ravine",
        {"eta=0.4": ("adagrad", {"lr": 0.4, **hp}), "eta=2": ("adagrad", {"lr": 2.0, **hp})},
        {"eta=0.4": (-2.382563, -0.158591), "eta=2": (-0.002295, -0.000000)},
    )


@_experiment("d2l_rmsprop", "d2l: RMSProp (γ = 0.9, ε = 1e-6 inside √) on the ravine", _D2L)
def _d2l_rmsprop():
    hp = {"lr": 0.4, "alpha": 0.9, "eps": 1e-6, "eps_in_sqrt": True}
    return _d2l_2d("ravine", {"eta=0.4": ("rmsprop", hp)}, {"eta=0.4": (-0.010599, 0.000000)})


# ---------------------------------------------------------------- d2l.ai, 1-D
def gd_1d(function: Function1D | str, x0: float, lr: float, steps: int) -> np.ndarray:
    """d2l's 1-D ``gd``: ``steps`` SGD steps from ``x0``; returns x_0 ... x_steps (float64)."""
    from gdlab.optim import SGD

    fn = get_function_1d(function) if isinstance(function, str) else function
    p = Parameter(np.array([x0], dtype=np.float64))
    opt = SGD([p], lr=lr)
    xs = [float(x0)]
    for _ in range(steps):
        opt.zero_grad()
        fn(p).sum().backward()
        opt.step()
        xs.append(float(p.data[0]))
    return np.array(xs)


def _d2l_1d(function: str, settings: dict[str, float], expected: dict):
    paths = {k: gd_1d(function, 10.0, lr, 10) for k, lr in settings.items()}
    computed = {k: float(xs[-1]) for k, xs in paths.items()}
    return computed, expected, {"function": get_function_1d(function), "paths_1d": paths}


@_experiment("d2l_gd_1d", "d2l: gradient descent on x² from x = 10, 10 steps",
             "d2l.ai, Gradient Descent, section 12.3.1")  # fmt: skip
def _d2l_gd_1d():
    return _d2l_1d("square", {"eta=0.2": 0.2, "eta=0.05": 0.05, "eta=1.1": 1.1},
                   {"eta=0.2": 0.060466, "eta=0.05": 3.486784, "eta=1.1": 61.917364})  # fmt: skip


@_experiment("d2l_local_minimum", "d2l: x·cos(cx), c = 0.15π, η = 2 stops in a local minimum",
             "d2l.ai, Gradient Descent, section 12.3.1.2")  # fmt: skip
def _d2l_local_minimum():
    return _d2l_1d("xcos", {"eta=2": 2.0}, {"eta=2": -1.528166})


# ---------------------------------------------------------------- Deep Learning from Scratch
@_experiment("dlfs_optimizer_compare",
             "DLFS ch. 6: SGD, Momentum, AdaGrad, Adam on x²/20 + y² from (−7, 2), 30 updates",
             "Saito, Deep Learning from Scratch, ch06/optimizer_compare_naive.py")  # fmt: skip
def _dlfs_optimizer_compare():
    settings = {
        "SGD": ("sgd", {"lr": 0.95}),
        # The book's v ← μv − lr·g; x ← x + v is the article-form Momentum class.
        "Momentum": (_momentum_class(), {"lr": 0.1, "momentum": 0.9}),
        "AdaGrad": ("adagrad", {"lr": 1.5, "eps": 1e-7}),
        # The book adds ε to √v, not to √v̂: Adam's eps_hat form.
        "Adam": ("adam", {"lr": 0.3, "eps": 1e-7, "eps_hat": True}),
    }
    runs = _runs("ravine_dlfs", settings, (-7.0, 2.0), 30)
    computed = {k: _final(t) for k, t in runs.items()}
    expected = {"SGD": (-0.350393, 0.084782), "Momentum": (0.896414, 0.088086),
                "AdaGrad": (-0.120162, 0.000000), "Adam": (0.136007, 0.318245)}  # fmt: skip
    return computed, expected, {"function": get_function("ravine_dlfs"),
                                "trajectories": [*runs.values()]}  # fmt: skip


def _momentum_class() -> Any:
    from gdlab.optim import Momentum

    return Momentum


# ---------------------------------------------------------------- momentum on a ravine
@_experiment("momentum_zigzag",
             "momentum smooths gradient descent's zig-zag across the ravine 0.1x₁² + 2x₂²",
             "the articles (002) and d2l.ai, Momentum, section 12.6.1")  # fmt: skip
def _momentum_zigzag():
    runs = _runs("ravine", {"gd": ("sgd", {"lr": 0.4}),
                            "momentum": ("sgd", {"lr": 0.4, "momentum": 0.5})},
                 _D2L_START, 20)  # fmt: skip
    gd, mom = runs["gd"], runs["momentum"]
    computed = {
        "gd final f": float(gd.values[-1]),
        "momentum final f": float(mom.values[-1]),
        "gd x2 sign changes": _sign_changes(gd.points[:, 1]),
        "momentum x2 sign changes": _sign_changes(mom.points[:, 1]),
    }
    computed["momentum reaches lower f"] = computed["momentum final f"] < computed["gd final f"]
    computed["momentum zig-zags less"] = (
        computed["momentum x2 sign changes"] < computed["gd x2 sign changes"]
    )
    expected = {"momentum reaches lower f": True, "momentum zig-zags less": True}
    return computed, expected, {"function": get_function("ravine"), "trajectories": [gd, mom]}


def _sign_changes(v: np.ndarray) -> int:
    s = np.sign(v[np.abs(v) > 1e-12])
    return int(np.count_nonzero(s[1:] != s[:-1]))


# ---------------------------------------------------------------- Goh's closed forms
def _rate_gd(t: Trajectory) -> float:
    """max over eigen-coordinates of |w_{k+1} / w_k| (constant per coordinate for GD)."""
    p = t.points
    ratios = p[1:6] / p[:5]
    return float(np.abs(ratios).max())


def _rate_recurrence(t: Trajectory, k: int = 25) -> float:
    """Spectral radius of the fitted 2-term recurrence w_{k+1} = a·w_k + b·w_{k−1} per
    coordinate (the heavy ball is exactly such a recurrence on a diagonal quadratic)."""
    rates = []
    for c in range(2):
        w = t.points[: k + 1, c]
        A = np.stack([w[1:-1], w[:-2]], axis=1)
        (a, b), *_ = np.linalg.lstsq(A, w[2:], rcond=None)
        rates.append(np.abs(np.roots([1.0, -a, -b])).max())
    return float(max(rates))


@_experiment("goh_quadratic",
             "Goh: optimal step sizes on 0.1x² + 2y² (λ = 0.2, 4; κ = 20) and their rates",
             "Goh, Why Momentum Really Works, Distill 2017")  # fmt: skip
def _goh_quadratic():
    lam1, lamn = 0.2, 4.0  # 0.1x² + 2y² = ½ wᵀ diag(0.2, 4) w
    kappa = lamn / lam1
    alpha_gd = 2 / (lam1 + lamn)
    alpha_m = (2 / (math.sqrt(lam1) + math.sqrt(lamn))) ** 2
    beta_m = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
    gd = run_trajectory("ravine", "sgd", _D2L_START, 30, alpha_gd)
    mom = run_trajectory("ravine", "sgd", _D2L_START, 30, alpha_m, momentum=beta_m)
    computed = {
        "gd rate": _rate_gd(gd),
        "momentum rate": _rate_recurrence(mom),
        "gd alpha": alpha_gd,
        "momentum alpha": alpha_m,
        "momentum beta": beta_m,
    }
    expected = {"gd rate": (kappa - 1) / (kappa + 1),
                "momentum rate": (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)}  # fmt: skip
    notes = "rates measured from the optimizer's path; closed forms from Goh (2017)"
    return computed, expected, {"function": get_function("ravine"), "trajectories": [gd, mom],
                                "notes": notes}  # fmt: skip
