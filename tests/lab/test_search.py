"""The lab's one learning-rate search protocol (compare and surface both use it)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdlab.lab.search import LR_RANGE, at_edge, best_lr, lr_candidates, lr_grid, trial_score

GRIDS = [
    (3, (1e-3, 1e-1), "low", [1e-3, 1e-2, 1e-1]),
    (3, (1e-3, 1e-1), "middle", [1e-3, 1e-2, 1e-1]),
    (1, (1e-4, 1.0), "low", [1e-4]),  # one candidate: surface's, the low end
    (1, (1e-4, 1.0), "middle", [1e-2]),  # compare's: the geometric middle
    (2, (0.5, 0.5), "low", [0.5, 0.5]),
    (5, LR_RANGE, "low", [1e-4, 10**-2.75, 10**-1.5, 10**-0.25, 10.0]),
]


@pytest.mark.parametrize("budget, lr_range, single, want", GRIDS)
def test_grid_candidates(budget, lr_range, single, want):
    got = lr_candidates(budget, lr_range, single=single)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_random_candidates_are_sorted_in_range_and_seeded():
    a, b = lr_candidates(6, (1e-3, 1.0), "random", 7), lr_candidates(6, (1e-3, 1.0), "random", 7)
    np.testing.assert_array_equal(a, b)
    assert np.all(np.diff(a) >= 0) and a[0] >= 1e-3 and a[-1] <= 1.0


@pytest.mark.parametrize(
    "kwargs", [{"budget": 0}, {"budget": 2.0}, {"budget": True}, {"budget": 2, "lr_range": (0, 1)},
               {"budget": 2, "lr_range": (1, 0.1)}, {"budget": 2, "search": "halving"},
               {"budget": 1, "single": "high"}],
)  # fmt: skip
def test_bad_candidates_are_named(kwargs):
    with pytest.raises(ValueError, match="lr_candidates"):
        lr_candidates(**kwargs)


@pytest.mark.parametrize(
    "value, diverged, want",
    [(0.5, False, 0.5), (0.5, True, math.inf), (math.nan, False, math.inf),
     (math.inf, False, math.inf), (-1.0, False, -1.0)],
)  # fmt: skip
def test_trial_score(value, diverged, want):
    assert trial_score(value, diverged) == want


@pytest.mark.parametrize(
    "scores, want",
    [({0.1: (2.0,), 0.01: (1.0,), 1.0: (3.0,)}, 0.01),
     ({0.1: (1.0,), 0.01: (1.0,)}, 0.01),  # tie: the smaller lr
     ({0.1: (1.0, 5.0), 0.01: (1.0, 6.0)}, 0.1),  # tie broken by the second score
     ({0.1: (math.inf,), 1.0: (math.inf,)}, 0.1)],  # all diverged: the smallest
)  # fmt: skip
def test_best_lr(scores, want):
    assert best_lr(scores) == want


@pytest.mark.parametrize(
    "lr, candidates, want",
    [(1e-3, [1e-3, 1e-2, 1e-1], True), (1e-1, [1e-3, 1e-2, 1e-1], True),
     (1e-2, [1e-3, 1e-2, 1e-1], False), (1e-2, [1e-2], False)],
)  # fmt: skip
def test_at_edge(lr, candidates, want):
    assert at_edge(lr, candidates) is want


def test_compare_grid_is_the_candidates_of_the_family_range():
    np.testing.assert_allclose(lr_grid("adam", 4), lr_candidates(4, (1e-4, 1e-1)))
    np.testing.assert_allclose(lr_grid("sgd", 4, "sgd"), lr_candidates(4, (1e-3, 1.0)))
    np.testing.assert_allclose(lr_grid("adam", 1), [np.sqrt(1e-4 * 1e-1)], rtol=1e-12)
