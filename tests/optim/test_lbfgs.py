"""L-BFGS pieces: the two-loop recursion equals dense BFGS; strong-Wolfe steps satisfy the
conditions; closures returning floats or Tensors; state survives a state_dict round trip."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gdlab
from gdlab import optim
from gdlab.nn import Parameter
from gdlab.optim.lbfgs import two_loop_direction
from gdlab.optim.linesearch import cubic_interpolate, strong_wolfe


def _dense_bfgs_direction(g, ys, ss, h_diag):
    n = g.size
    h = h_diag * np.eye(n)
    for y, s in zip(ys, ss, strict=True):
        rho = 1.0 / (y @ s)
        v = np.eye(n) - rho * np.outer(s, y)
        h = v @ h @ v.T + rho * np.outer(s, s)
    return -h @ g


@pytest.mark.parametrize("pairs", [0, 1, 4])
def test_two_loop_recursion_equals_dense_bfgs(pairs):
    rng = np.random.default_rng(pairs)
    m = rng.normal(size=(5, 5))
    a = m @ m.T + 5 * np.eye(5)
    ss = [rng.normal(size=5) for _ in range(pairs)]
    ys = [a @ s for s in ss]
    h_diag = float(ys[-1] @ ss[-1] / (ys[-1] @ ys[-1])) if pairs else 1.0
    g = rng.normal(size=5)
    ro = [1.0 / float(y @ s) for y, s in zip(ys, ss, strict=True)]
    d = two_loop_direction(g, ys, ss, ro, h_diag)
    np.testing.assert_allclose(d, _dense_bfgs_direction(g, ys, ss, h_diag), rtol=1e-10)


def _rosen(x):
    a, b = x
    f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
    return f, np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])


@pytest.mark.parametrize("x0, t0", [([-1.2, 1.0], 1.0), ([0.0, 0.0], 0.01), ([2.0, 2.0], 5.0)])
def test_strong_wolfe_conditions_hold(x0, t0):
    x = np.array(x0)
    f, g = _rosen(x)
    d = -g
    gtd = float(g @ d)

    def obj(xs, t, d):
        return _rosen(xs[0] + t * d)

    f_new, g_new, t, evals = strong_wolfe(obj, [x], t0, d, f, g, gtd)
    assert evals >= 1 and t > 0
    assert f_new <= f + 1e-4 * t * gtd  # sufficient decrease
    assert abs(float(g_new @ d)) <= 0.9 * abs(gtd)  # curvature
    np.testing.assert_allclose(g_new, _rosen(x + t * d)[1])


def test_cubic_interpolation_finds_the_minimum_of_a_cubic():
    def f(x):
        return x**3 - 3 * x  # minimum at 1

    def df(x):
        return 3 * x**2 - 3

    assert cubic_interpolate(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0)) == pytest.approx(1.0)
    no_real_root = cubic_interpolate(0.0, 0.0, 1.0, 1.0, 2.0 / 3.0, 1.0, bounds=(0.2, 0.6))
    assert no_real_root == pytest.approx(0.4)  # the middle of the bounds


@pytest.mark.parametrize("as_tensor", [True, False])
def test_closure_may_return_tensor_or_float_and_state_round_trips(as_tensor):
    target = gdlab.tensor(np.array([1.0, -2.0, 3.0]))
    p = Parameter(np.zeros(3))

    def closure():
        p.grad = None
        loss = ((p - target) ** 2).sum() + (p**4).sum() * 0.01
        loss.backward()
        return loss if as_tensor else float(loss)

    opt = optim.LBFGS([p], max_iter=3, history_size=2, line_search_fn="strong_wolfe")
    first = opt.step(closure)
    assert isinstance(first, gdlab.Tensor) == as_tensor
    saved = copy.deepcopy(opt.state_dict())
    q = Parameter(p.data.copy())

    def closure_q():
        q.grad = None
        loss = ((q - target) ** 2).sum() + (q**4).sum() * 0.01
        loss.backward()
        return loss

    clone = optim.LBFGS([q], max_iter=3, history_size=2, line_search_fn="strong_wolfe")
    clone.load_state_dict(saved)
    for _ in range(3):
        opt.step(closure)
        clone.step(closure_q)
        np.testing.assert_array_equal(p.data, q.data)
    assert opt.state[p]["n_iter"] == clone.state[q]["n_iter"] > 3
