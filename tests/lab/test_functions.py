"""The function zoo: engine gradients vs finite differences, known minima, grids, registry."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import gdlab
from gdlab.autograd.gradcheck import gradcheck
from gdlab.lab.surface.functions import (
    FUNCTIONS,
    FUNCTIONS_1D,
    get_function,
    get_function_1d,
    noisy,
)

NAMES = sorted(FUNCTIONS)
MINIMA = [(n, m) for n in NAMES for m in FUNCTIONS[n].minima]


def _random_points(name: str, k: int = 3) -> np.ndarray:
    fn = FUNCTIONS[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    (x0, x1), (y0, y1) = fn.domain
    return np.stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)], axis=1)


def test_zoo_has_the_issue_functions():
    wanted = {"bowl", "ravine", "ravine_dlfs", "rosenbrock", "rosenbrock_b1", "beale", "booth",
              "matyas", "himmelblau", "rastrigin", "ackley", "goldstein_price", "six_hump_camel",
              "saddle", "monkey_saddle", "plateau"}  # fmt: skip
    assert wanted <= set(FUNCTIONS)
    assert len([n for n in FUNCTIONS if not n.endswith("_noisy")]) >= 17
    assert any(fn.noise_std > 0 for fn in FUNCTIONS.values())
    assert len(FUNCTIONS["himmelblau"].minima) == 4


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    fn = FUNCTIONS[name]
    for point in _random_points(name):
        p = gdlab.tensor(point, dtype="float64", requires_grad=True)
        scale = max(1.0, abs(float(fn(p.detach()).item())))
        # Goldstein-Price reaches 1e6: the difference quotient's round-off scales with |f|.
        assert gradcheck(fn, (p,), eps=1e-6, atol=1e-6 * scale, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_vectorised_gradient_equals_per_point_backward(name):
    fn = FUNCTIONS[name]
    pts = _random_points(name)
    many = fn.gradient(pts[:, 0], pts[:, 1])
    for point, g in zip(pts, many, strict=True):
        p = gdlab.tensor(point, dtype="float64", requires_grad=True)
        fn(p).backward()
        np.testing.assert_allclose(g, p.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "minimum"), MINIMA)
def test_value_and_gradient_at_known_minima(name, minimum):
    fn = FUNCTIONS[name]
    assert fn.grid(*minimum) == pytest.approx(fn.f_star, abs=1e-12)
    if fn.smooth_at_minima:
        assert np.abs(fn.gradient(*minimum)).max() < 1e-9


@pytest.mark.parametrize("name", [n for n in NAMES if FUNCTIONS[n].f_star is not None])
def test_f_star_is_a_lower_bound_on_the_domain(name):
    fn = FUNCTIONS[name]
    (x0, x1), (y0, y1) = fn.domain
    X, Y = np.meshgrid(np.linspace(x0, x1, 101), np.linspace(y0, y1, 101))
    Z = fn.grid(X, Y)
    assert Z.shape == X.shape and np.isfinite(Z).all()
    assert Z.min() >= fn.f_star - 1e-9


@pytest.mark.parametrize("name", NAMES)
def test_grid_uses_the_same_code_path_as_tensors(name):
    fn = FUNCTIONS[name]
    pts = _random_points(name)
    on_grid = fn.grid(pts[:, 0], pts[:, 1])
    on_tensors = [fn(gdlab.tensor(p, dtype="float64")).item() for p in pts]
    np.testing.assert_allclose(on_grid, on_tensors, rtol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_record_is_complete(name):
    fn = FUNCTIONS[name]
    (x0, x1), (y0, y1) = fn.domain
    assert x0 < x1 and y0 < y1 and fn.description
    assert x0 <= fn.start[0] <= x1 and y0 <= fn.start[1] <= y1
    assert (fn.f_star is None) == (len(fn.minima) == 0)


def test_saddles_have_zero_gradient_at_the_origin():
    for name in ("saddle", "monkey_saddle"):
        assert np.abs(FUNCTIONS[name].gradient(0.0, 0.0)).max() == 0.0


@pytest.mark.parametrize(("name", "x", "expected"), [("square", 3.0, 9.0), ("xcos", 0.0, 0.0),
                                                      ("cosh", 0.0, 1.0)])  # fmt: skip
def test_functions_1d(name, x, expected):
    fn = get_function_1d(name)
    assert fn.grid(np.array(x)) == pytest.approx(expected)
    for m in fn.minima:
        t = gdlab.tensor(m, dtype="float64", requires_grad=True)
        fn(t).backward()
        assert abs(t.grad) < 1e-9
        assert fn.grid(np.array(m)) == pytest.approx(fn.f_star, abs=1e-12)
    assert set(FUNCTIONS_1D) >= {"square", "xcos"}


@pytest.mark.parametrize(("getter", "bad"), [(get_function, "rosenbrok"), (get_function_1d, "x3")])
def test_unknown_name_lists_the_valid_ones(getter, bad):
    with pytest.raises(ValueError, match=r"unknown function .*choose from .*'"):
        getter(bad)


def test_noisy_variant_keeps_the_surface():
    base = get_function("booth")
    n = noisy(base, 0.5)
    assert n.name == "booth_noisy" and n.noise_std == 0.5
    assert n.grid(1.0, 2.0) == base.grid(1.0, 2.0)
    with pytest.raises(ValueError, match="noise_std"):
        noisy(base, -1.0)
