"""Performance profiles: how often each optimizer is within a factor τ of the best.

For problems p and solvers s with cost t[p, s] (steps, samples or seconds to reach a target;
``inf`` when the target is never reached or the run diverged), the performance ratio is

    r[p, s] = t[p, s] / min_s' t[p, s']

and the profile of solver s is the fraction of problems it solves within a factor τ of the best:

    ρ_s(τ) = |{p : r[p, s] ≤ τ}| / n_problems.

ρ_s(1) is the share of problems on which s is the fastest; ρ_s(∞) the share it solves at all.
The AlgoPerf benchmark summarises a profile by its normalised area up to τ_max = 4:

    score_s = ∫_1^{τ_max} ρ_s(τ) dτ / (τ_max − 1)            (1 = fastest everywhere)

References:
    Dolan & Moré, "Benchmarking optimization software with performance profiles",
    Math. Programming 91 (2002), https://arxiv.org/abs/cs/0102001.
    Dahl et al., "Benchmarking Neural Network Training Algorithms" (AlgoPerf), 2023,
    https://arxiv.org/abs/2306.07179.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "performance_profile",
    "performance_ratios",
    "plot_performance_profile",
    "profile_scores",
]


def _costs(costs: Any) -> np.ndarray:
    t = np.asarray(costs, dtype=np.float64)
    if t.ndim != 2 or t.size == 0:
        raise ValueError(
            f"performance_ratios: costs must be a non-empty 2-D array (problems, solvers), "
            f"got shape {t.shape}"
        )
    if np.any(np.isnan(t)) or np.any(t <= 0):
        raise ValueError(
            "performance_ratios: costs must be positive, with inf (not nan) for a failure"
        )
    return t


def performance_ratios(costs: Any) -> np.ndarray:
    """r[p, s] = t[p, s] / min over solvers of t[p, :]; inf for failures and unsolved problems.

    Args:
        costs: array (n_problems, n_solvers) of positive costs, ``inf`` for a failure.

    Example:
        >>> performance_ratios([[1.0, 2.0], [4.0, np.inf]])
        array([[ 1.,  2.],
               [ 1., inf]])
    """
    t = _costs(costs)
    best = t.min(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        r = t / best
    r[~np.isfinite(best).repeat(t.shape[1], axis=1)] = np.inf
    return r


def performance_profile(costs: Any, taus: Any) -> np.ndarray:
    """ρ[s, k] = fraction of problems with r[p, s] ≤ taus[k]; shape (n_solvers, len(taus)).

    Example:
        >>> performance_profile([[1.0, 2.0], [4.0, np.inf]], [1.0, 2.0])
        array([[1. , 1. ],
               [0. , 0.5]])
    """
    r = performance_ratios(costs)
    taus = np.asarray(taus, dtype=np.float64)
    return (r.T[:, :, None] <= taus[None, None, :]).mean(axis=1)


def profile_scores(costs: Any, tau_max: float = 4.0) -> np.ndarray:
    """AlgoPerf's score per solver: the area under ρ_s on [1, tau_max], divided by tau_max − 1.

    ρ_s is a step function, so the integral is exact: each problem solved at ratio r ≤ tau_max
    contributes (tau_max − r) / (tau_max − 1) / n_problems.
    """
    if not tau_max > 1.0:
        raise ValueError(f"profile_scores: tau_max must be > 1, got {tau_max}")
    r = performance_ratios(costs)
    contrib = np.clip(tau_max - r, 0.0, None) / (tau_max - 1.0)
    contrib[~np.isfinite(r)] = 0.0
    return contrib.mean(axis=0)


def plot_performance_profile(
    costs: Any,
    solvers: Sequence[str],
    *,
    tau_max: float | None = None,
    title: str = "Performance profile",
    xlabel: str = "τ (within a factor τ of the best)",
) -> Any:
    """Step plot of ρ_s(τ) for every solver on a log2 τ axis; returns the matplotlib Figure.

    The legend shows each solver's AlgoPerf score (area up to τ = 4).
    """
    from matplotlib.figure import Figure

    r = performance_ratios(costs)
    if len(solvers) != r.shape[1]:
        raise ValueError(
            f"plot_performance_profile: {len(solvers)} solver names for {r.shape[1]} columns"
        )
    finite = r[np.isfinite(r)]
    top = tau_max or max(4.0, float(finite.max()) * 1.25 if finite.size else 4.0)
    taus = np.unique(np.concatenate([[1.0, top], finite[finite <= top]]))
    rho = performance_profile(costs, taus)
    scores = profile_scores(costs)
    fig = Figure(figsize=(8.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    styles = ["-", "--", "-.", ":"]
    for s, name in enumerate(solvers):
        # Profiles often coincide: vary the dash and width so every solver stays visible.
        ax.step(taus, rho[s], where="post", lw=3.2 - 0.25 * (s % 6), ls=styles[s % 4],
                color=f"C{s % 10}", label=f"{name} (score {scores[s]:.2f})")  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xlim(1.0, top)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of problems ρ(τ)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return fig
