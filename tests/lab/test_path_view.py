"""The contour plot's frame: a path that stays finite is drawn whole (issue 11: the Goh momentum
path left the picture), a diverged one is cut at the edge."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.lab.articles.registry import reproduce
from gdlab.lab.output.plots import path_view
from gdlab.lab.surface.functions import get_function
from gdlab.lab.surface.trajectories import run_trajectory

pytest.importorskip("matplotlib")


def test_goh_momentum_path_stays_in_the_frame():
    res = reproduce("goh_quadratic")
    ax = res.plot().axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for t in res.trajectories:
        pts = t.valid_points
        assert (pts[:, 0] >= x0).all() and (pts[:, 0] <= x1).all(), t.label
        assert (pts[:, 1] >= y0).all() and (pts[:, 1] <= y1).all(), t.label
    assert max(t.valid_points[:, 1].max() for t in res.trajectories) > 3.0  # beyond the domain


def test_a_diverged_path_is_cut_at_a_quarter_of_the_domain():
    fn = get_function("ravine")
    blown = run_trajectory(fn, "sgd", (-5, -2), 50, 3.0)
    assert blown.diverged
    (x0, x1), (y0, y1) = path_view(fn.domain, [blown])
    (dx0, dx1), (dy0, dy1) = fn.domain
    assert y1 <= dy1 + 0.25 * (dy1 - dy0) + 0.03 * 1.5 * (dy1 - dy0)
    assert y0 >= dy0 - 0.25 * (dy1 - dy0) - 0.03 * 1.5 * (dy1 - dy0)
    assert np.abs(blown.valid_points).max() > 10 * max(abs(y0), abs(y1))


def test_a_finite_path_that_leaves_for_good_is_cut_at_twice_the_domain():
    fn = get_function("saddle")
    away = run_trajectory(fn, "momentum", (-1.8, 0.01), 30, 0.1)
    assert not away.diverged and away.valid_points[:, 1].max() > 100  # it leaves the saddle
    (x0, x1), (y0, y1) = path_view(fn.domain, [away])
    (dx0, dx1), (dy0, dy1) = fn.domain
    edge = dy1 + 2.0 * (dy1 - dy0)  # reach: twice the domain's height above it
    assert edge < y1 <= edge + 0.03 * (y1 - y0)  # plus the frame's 3 % margin
