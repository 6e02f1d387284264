"""Tensor factories with torch's names, dtypes and explicit random generators."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab


@pytest.mark.parametrize(
    "make, shape, dtype",
    [
        (lambda: gdlab.zeros(2, 3), (2, 3), np.float32),
        (lambda: gdlab.zeros((2, 3)), (2, 3), np.float32),
        (lambda: gdlab.ones(4, dtype=gdlab.float64), (4,), np.float64),
        (lambda: gdlab.full((2,), 7.0), (2,), np.float32),
        (lambda: gdlab.full((2,), 7), (2,), np.int64),  # torch infers from the value
        (lambda: gdlab.full((2,), True), (2,), np.bool_),
        (lambda: gdlab.full((2,), 7, dtype="float64"), (2,), np.float64),
        (lambda: gdlab.zeros_like(gdlab.ones(2, dtype="float64")), (2,), np.float64),
        (lambda: gdlab.ones_like(gdlab.ones(3)), (3,), np.float32),
        (lambda: gdlab.arange(5), (5,), np.int64),
        (lambda: gdlab.arange(0, 1, 0.25), (4,), np.float32),
        (lambda: gdlab.arange(1, 7, 2, dtype="float64"), (3,), np.float64),
        (lambda: gdlab.linspace(0, 1, 5), (5,), np.float32),
        (lambda: gdlab.eye(3), (3, 3), np.float32),
        (lambda: gdlab.eye(2, 3), (2, 3), np.float32),
        (lambda: gdlab.rand(2, 2), (2, 2), np.float32),
        (lambda: gdlab.randn(3, dtype="float64"), (3,), np.float64),
    ],
)
def test_factories_shape_and_dtype(make, shape, dtype):
    t = make()
    assert t.shape == shape and t.dtype == dtype and not t.requires_grad


@pytest.mark.parametrize(
    "make",
    [
        lambda: gdlab.arange(0.0, 1.0, 0.5, requires_grad=True),
        lambda: gdlab.linspace(0, 1, 3, requires_grad=True),
        lambda: gdlab.eye(2, requires_grad=True),
        lambda: gdlab.full((2,), 1.5, requires_grad=True),
    ],
)
def test_float_factories_take_requires_grad(make):
    t = make()
    assert t.requires_grad and t.is_leaf
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad, 2 * t.data)


def test_values():
    assert gdlab.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert gdlab.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    assert gdlab.full((2,), 7.0).tolist() == [7.0, 7.0]
    np.testing.assert_array_equal(gdlab.eye(2).data, np.eye(2))


def test_requires_grad_option():
    for t in (gdlab.zeros(2, requires_grad=True), gdlab.randn(2, requires_grad=True)):
        assert t.requires_grad and t.is_leaf


def test_random_is_reproducible_from_a_generator_or_seed():
    a = gdlab.randn(3, generator=np.random.default_rng(5))
    b = gdlab.randn(3, generator=np.random.default_rng(5))
    c = gdlab.randn(3, generator=5)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.data, c.data)
    gdlab.manual_seed(3)
    x = gdlab.rand(4)
    gdlab.manual_seed(3)
    np.testing.assert_array_equal(x.data, gdlab.rand(4).data)


def test_random_never_touches_numpy_global_state():
    np.random.seed(0)  # noqa: NPY002 - the global state is what is being checked
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    gdlab.manual_seed(1)
    gdlab.randn(10)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


@pytest.mark.parametrize("bad", [1.5, "seed", True])
def test_bad_generator_or_seed(bad):
    with pytest.raises(TypeError, match="generator"):
        gdlab.randn(2, generator=bad)
    if not isinstance(bad, float):
        with pytest.raises(TypeError, match="seed must be an int"):
            gdlab.manual_seed(bad)


def test_from_numpy_rejects_non_arrays():
    with pytest.raises(TypeError, match="from_numpy: expected np.ndarray"):
        gdlab.from_numpy([1.0])
