"""AlgoPerf's score: a performance profile of steps to target over the workloads.

For workloads w and optimizers o with cost t[w, o] (the fewest steps any of o's trials needed
to reach w's target; ``inf`` when none did), r[w, o] = t[w, o] / min_o' t[w, o'],
ρ_o(τ) = |{w : r[w, o] ≤ τ}| / n_workloads, and the score is ∫_1^4 ρ_o(τ) dτ / 3: 1 when o is
the fastest on every workload, 0 when it is never within 4x of the fastest. The integral of a
step function is exact: a workload solved at ratio r ≤ 4 adds (4 − r) / 3 / n_workloads.
The arithmetic is :mod:`gdlab.lab.compare.profiles`' (Dolan & Moré; Dahl et al. 2023).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gdlab.lab.compare.profiles import performance_profile, performance_ratios, profile_scores

__all__ = ["TAU_MAX", "best_costs", "profile", "ratios", "scores"]

#: AlgoPerf integrates the profile over τ in [1, TAU_MAX].
TAU_MAX = 4.0


def best_costs(costs: Sequence[Sequence[float]]) -> list[float]:
    """The fastest trial of each list of trial costs (``inf`` for an empty or all-missed one)."""
    return [min(trials, default=math.inf) for trials in costs]


def _safe(costs: np.ndarray) -> np.ndarray:
    # A workload nobody solved has no best; it counts as unsolved for everyone.
    return np.where(np.isfinite(costs).any(axis=1, keepdims=True), costs, np.inf)


def scores(costs: Sequence[Sequence[float]]) -> np.ndarray:
    """Score per optimizer of a (workloads, optimizers) table of steps to target."""
    return profile_scores(_safe(np.asarray(costs, dtype=np.float64)), tau_max=TAU_MAX)


def profile(costs: Sequence[Sequence[float]], taus: Sequence[float]) -> np.ndarray:
    """ρ[o, k], the share of workloads optimizer o solves within taus[k] of the fastest."""
    return performance_profile(_safe(np.asarray(costs, dtype=np.float64)), taus)


def ratios(costs: Sequence[Sequence[float]]) -> np.ndarray:
    """r[w, o], steps to target over the fastest optimizer's (``inf``: missed)."""
    return performance_ratios(_safe(np.asarray(costs, dtype=np.float64)))
