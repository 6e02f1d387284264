"""The textbooks' gradient-descent experiments, registered with their published numbers.

``articles.reproduce(name)`` runs one experiment with gdlab's own optimizers (the article-form
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

import numpy as np

from gdlab.lab.articles.registry import published
from gdlab.lab.surface.functions import Function1D, get_function, get_function_1d
from gdlab.lab.surface.trajectories import Trajectory, run_trajectory
from gdlab.nn.parameter import Parameter
from gdlab.optim import SGD, Momentum

__all__ = ["gd_1d"]

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


@published("d2l_gd_2d", "d2l: gradient descent on x₁² + 2x₂², η = 0.1", _D2L)
def _d2l_gd_2d():
    return _d2l_2d("elliptic", {"eta=0.1": ("sgd", {"lr": 0.1})},
                   {"eta=0.1": (-0.057646, -0.000073)})  # fmt: skip


@published("d2l_ravine_gd", "d2l: gradient descent on the ravine 0.1x₁² + 2x₂²", _D2L)
def _d2l_ravine_gd():
    return _d2l_2d(
        "ravine",
        {"eta=0.4": ("sgd", {"lr": 0.4}), "eta=0.6": ("sgd", {"lr": 0.6})},
        {"eta=0.4": (-0.943467, -0.000073), "eta=0.6": (-0.387814, -1673.365109),
         "eta=0.6 diverges": True, "eta=0.4 diverges": False},
    )  # fmt: skip


@published("d2l_momentum", "d2l: momentum (v ← βv + g; x ← x − ηv) on the ravine, η = 0.6",
             _D2L)  # fmt: skip
def _d2l_momentum():
    # d2l's momentum is torch's SGD(momentum=β) exactly (buffer starts at the first gradient).
    return _d2l_2d(
        "ravine",
        {"beta=0.5": ("sgd", {"lr": 0.6, "momentum": 0.5}),
         "beta=0.25": ("sgd", {"lr": 0.6, "momentum": 0.25})},
        {"beta=0.5": (0.007188, 0.002553), "beta=0.25": (-0.126340, -0.186632)},
    )  # fmt: skip


@published("d2l_adagrad", "d2l: AdaGrad (ε = 1e-6 inside √) on the ravine", _D2L)
def _d2l_adagrad():
    hp = {"eps": 1e-6, "eps_in_sqrt": True}
    return _d2l_2d(
        "ravine",
        {"eta=0.4": ("adagrad", {"lr": 0.4, **hp}), "eta=2": ("adagrad", {"lr": 2.0, **hp})},
        {"eta=0.4": (-2.382563, -0.158591), "eta=2": (-0.002295, -0.000000)},
    )


@published("d2l_rmsprop", "d2l: RMSProp (γ = 0.9, ε = 1e-6 inside √) on the ravine", _D2L)
def _d2l_rmsprop():
    hp = {"lr": 0.4, "alpha": 0.9, "eps": 1e-6, "eps_in_sqrt": True}
    return _d2l_2d("ravine", {"eta=0.4": ("rmsprop", hp)}, {"eta=0.4": (-0.010599, 0.000000)})


# ---------------------------------------------------------------- d2l.ai, 1-D
def gd_1d(function: Function1D | str, x0: float, lr: float, steps: int) -> np.ndarray:
    """d2l's 1-D ``gd``: ``steps`` SGD steps from ``x0``; returns x_0 ... x_steps (float64)."""
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


@published("d2l_gd_1d", "d2l: gradient descent on x² from x = 10, 10 steps",
             "d2l.ai, Gradient Descent, section 12.3.1")  # fmt: skip
def _d2l_gd_1d():
    return _d2l_1d("square", {"eta=0.2": 0.2, "eta=0.05": 0.05, "eta=1.1": 1.1},
                   {"eta=0.2": 0.060466, "eta=0.05": 3.486784, "eta=1.1": 61.917364})  # fmt: skip


@published("d2l_local_minimum", "d2l: x·cos(cx), c = 0.15π, η = 2 stops in a local minimum",
             "d2l.ai, Gradient Descent, section 12.3.1.2")  # fmt: skip
def _d2l_local_minimum():
    return _d2l_1d("xcos", {"eta=2": 2.0}, {"eta=2": -1.528166})


# ---------------------------------------------------------------- Deep Learning from Scratch
@published("dlfs_optimizer_compare",
             "DLFS ch. 6: SGD, Momentum, AdaGrad, Adam on x²/20 + y² from (−7, 2), 30 updates",
             "Saito, Deep Learning from Scratch, ch06/optimizer_compare_naive.py")  # fmt: skip
def _dlfs_optimizer_compare():
    settings = {
        "SGD": ("sgd", {"lr": 0.95}),
        # The book's v ← μv − lr·g; x ← x + v is the article-form Momentum class.
        "Momentum": (Momentum, {"lr": 0.1, "momentum": 0.9}),
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


# ---------------------------------------------------------------- momentum on a ravine
@published("momentum_zigzag",
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


@published("goh_quadratic",
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
