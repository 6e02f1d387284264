"""Hand-computed graphs for the backward engine (CHECKLIST C1-C6): fan-out, reuse, no_grad,
detach, deep chains, broadcasting, retain_graph, error messages; micrograd's examples."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gdlab
from gdlab.autograd import grad


def t(x, requires_grad=True, dtype="float64"):
    return gdlab.tensor(x, dtype=dtype, requires_grad=requires_grad)


def test_fan_out_accumulates():
    x = t(3.0)
    y = x * x + x * 2 + x  # x used four times
    y.backward()
    assert x.grad == pytest.approx(2 * 3.0 + 2 + 1)


def test_reused_intermediate_node():
    x = t([1.0, 2.0])
    h = x.exp()
    y = (h * h + h).sum()  # h feeds three edges
    y.backward()
    e = np.exp([1.0, 2.0])
    np.testing.assert_allclose(x.grad, 2 * e * e + e)


def test_diamond_graph():
    x = t(2.0)
    a, b = x * 3, x**2
    (a * b).backward()  # d(3x^3)/dx = 9x^2
    assert x.grad == pytest.approx(36.0)


def test_no_grad_records_nothing_and_restores():
    x = t([1.0, 2.0])
    with gdlab.no_grad():
        y = x * 2
        assert not gdlab.autograd.is_grad_enabled()
    assert gdlab.autograd.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf

    @gdlab.no_grad()
    def f(z):
        return z * 3

    assert not f(x).requires_grad
    with gdlab.no_grad(), gdlab.enable_grad():
        assert (x * 2).requires_grad
    with gdlab.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert gdlab.autograd.is_grad_enabled()


@pytest.mark.parametrize(
    "make, mode",
    [
        (lambda: gdlab.no_grad(), False),
        (lambda: gdlab.enable_grad(), True),
        (lambda: gdlab.set_grad_enabled(False), False),
        (lambda: gdlab.set_grad_enabled(True), True),
    ],
    ids=["no_grad", "enable_grad", "set_grad_enabled(False)", "set_grad_enabled(True)"],
)
@pytest.mark.parametrize("outside", [True, False], ids=["grad_on", "grad_off"])
def test_grad_mode_decorators_apply_inside_calls_only(make, mode, outside):
    """Decorating changes nothing outside the calls, and a recursive decorated function
    (nested uses of one decorator) restores the caller's mode."""
    with gdlab.set_grad_enabled(outside):
        seen = []

        @make()
        def f(n):
            if n:
                f(n - 1)
            seen.append(gdlab.autograd.is_grad_enabled())

        assert gdlab.autograd.is_grad_enabled() is outside  # decorating is not calling
        f(2)
        assert seen == [mode] * 3
        assert gdlab.autograd.is_grad_enabled() is outside
    assert gdlab.autograd.is_grad_enabled()


@pytest.mark.parametrize("context, mode", [(gdlab.no_grad, False), (gdlab.enable_grad, True)])
def test_no_grad_and_enable_grad_decorate_without_parentheses(context, mode):
    @context
    def f():
        return gdlab.autograd.is_grad_enabled()

    with gdlab.set_grad_enabled(not mode):
        assert f() is mode
        assert gdlab.autograd.is_grad_enabled() is (not mode)


def test_set_grad_enabled_as_a_plain_call():
    gdlab.set_grad_enabled(False)
    try:
        assert not gdlab.autograd.is_grad_enabled()
    finally:
        gdlab.set_grad_enabled(True)
    assert gdlab.autograd.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_data():
    x = t([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = (x * d).sum()  # d is a constant here
    y.backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0])
    x2 = t([1.0])
    assert np.shares_memory(x2.detach().data, x2.data)


def test_requires_grad_propagates():
    a, b = t([1.0]), t([1.0], requires_grad=False)
    assert (a + b).requires_grad and not (b * 2).requires_grad
    assert (a + b).grad_fn is not None and not (a + b).is_leaf


def test_ten_thousand_op_chain_has_no_recursion_limit():
    x = t(0.5)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0001**10_000)


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (2, 3)), ((1,), (5,))],
)
def test_broadcast_gradients_are_summed_back(shape_a, shape_b, rng):
    a = t(rng.standard_normal(shape_a))
    b = t(rng.standard_normal(shape_b))
    (a * b).sum().backward()
    full = np.broadcast_shapes(shape_a, shape_b)
    want_a = np.broadcast_to(b.data, full)
    want_b = np.broadcast_to(a.data, full)
    for x, want in ((a, want_a), (b, want_b)):
        lead = len(full) - x.ndim
        s = want.sum(axis=tuple(range(lead)))
        s = s.sum(axis=tuple(i for i, n in enumerate(x.shape) if n == 1), keepdims=True)
        assert x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad, s.reshape(x.shape))


def test_backward_twice_without_retain_graph_raises():
    x = t(2.0)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = t(2.0)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == pytest.approx(8.0)  # C4: 2 x 4
    x.grad = None
    (x * 3).backward()
    assert x.grad == pytest.approx(3.0)


def test_non_scalar_backward_needs_a_gradient():
    y = t([1.0, 2.0]) * 2
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        y.backward()


def test_wrong_shaped_gradient_names_both_shapes():
    y = t([1.0, 2.0]) * 2
    with pytest.raises(ValueError, match=re.escape("(3,)") + ".*" + re.escape("(2,)")):
        y.backward(np.ones(3))


def test_backward_with_explicit_gradient():
    x = t([1.0, 2.0])
    (x * 3).backward(gdlab.tensor([1.0, -1.0]))
    np.testing.assert_allclose(x.grad, [3.0, -3.0])


def test_inplace_modification_after_use_is_detected():
    x = t([1.0, 2.0])
    w = t([3.0, 4.0], requires_grad=False)
    y = (x * w).sum()
    w.mul_(2)  # w was saved for mul's backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_modification_of_a_saved_output_is_detected():
    x = t([1.0, 2.0])
    h = x.exp()  # exp's backward reads its output
    y = h.sum()
    with gdlab.no_grad():
        h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_on_leaf_requiring_grad_needs_no_grad():
    x = t([1.0])
    with pytest.raises(RuntimeError, match="in-place"):
        x.add_(1)
    with gdlab.no_grad():
        x.add_(1)
    assert x.data[0] == 2.0


@pytest.mark.parametrize("data", [[1, 2], [True, False]])
def test_integer_tensor_cannot_require_grad(data):
    with pytest.raises(TypeError, match="floating point"):
        gdlab.tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="floating point"):
        gdlab.tensor(data).requires_grad_()


@pytest.mark.parametrize("a_dtype, b_dtype", [("float32", "float64"), ("float64", "float32")])
def test_float32_and_float64_promote_never_downcast(a_dtype, b_dtype):
    a = t([1.0, 2.0], dtype=a_dtype)
    b = t([3.0, 4.0], dtype=b_dtype)
    y = a * b + a @ b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.dtype(a_dtype) and b.grad.dtype == np.dtype(b_dtype)


@pytest.mark.parametrize(
    "make, dtype",
    [
        (lambda: gdlab.tensor([1, 2]) * 1.5, np.float32),
        (lambda: 1.5 + gdlab.tensor([1, 2]), np.float32),
        (lambda: gdlab.tensor([1, 2]) / gdlab.tensor([2, 2]), np.float32),
        (lambda: gdlab.tensor([1, 2]) / 2, np.float32),
        (lambda: gdlab.tensor([1, 2]).exp(), np.float32),
        (lambda: gdlab.tensor([1, 2]) * 2, np.int64),
        (lambda: gdlab.tensor([1, 2]) + t([1.0, 1.0]), np.float64),
        (lambda: gdlab.tensor([1.0, 2.0]) + gdlab.tensor([1, 2]), np.float32),
        (lambda: gdlab.tensor([1.0]) * np.float64(2.0), np.float32),
        (lambda: gdlab.tensor([True, False]).sum(), np.int64),
        (lambda: gdlab.where(gdlab.tensor([True]), gdlab.tensor([1]), 0.5), np.float32),
    ],
)
def test_type_promotion_matches_torch(make, dtype):
    assert make().dtype == dtype


def test_grad_dtype_equals_input_dtype_for_float32():
    x = gdlab.tensor([1.0, 2.0], requires_grad=True)
    (x * t([2.0, 2.0])).sum().backward()
    assert x.grad.dtype == np.float32


def test_backward_is_linear_in_the_output_gradient(rng):
    x = t(rng.standard_normal((3, 4)))
    y = (x.tanh() @ t(rng.standard_normal((4, 2)), requires_grad=False)).sigmoid()
    g = rng.standard_normal(y.shape)
    (g1,) = grad(y, x, g, retain_graph=True)
    (g2,) = grad(y, x, 2.5 * g, retain_graph=True)
    (g0,) = grad(y, x, np.zeros_like(g), retain_graph=True)
    (again,) = grad(y, x, g)
    np.testing.assert_allclose(g2, 2.5 * g1, rtol=1e-13)
    np.testing.assert_array_equal(g0, 0)
    np.testing.assert_array_equal(again, g1)


def test_autograd_grad_leaves_dot_grad_alone():
    x = t([1.0, 2.0])
    (gx,) = grad((x * x).sum(), x)
    np.testing.assert_allclose(gx, [2.0, 4.0])
    assert x.grad is None


def test_grad_of_unused_input():
    x, z = t([1.0]), t([1.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        grad((x * 2).sum(), [x, z])
    assert grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        t([1.0], requires_grad=False).sum().backward()


def test_retain_grad_on_non_leaf():
    x = t([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, [4.0, 8.0])


def test_graph_is_freed_after_backward():
    x = t([1.0])
    y = (x * 2).exp().sum()
    assert y.grad_fn.arrays is not None
    y.backward()
    assert y.grad_fn.arrays is None and y.grad_fn.parents == ()
    assert repr(y.grad_fn) == "<FreedBackward>"


# ------------------------------------------------------------------ micrograd (REFERENCES.md)
def _micrograd_readme(m, a, b):
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + m.relu(b + a)
    d = d + 3 * d + m.relu(b - a)
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return g


def test_micrograd_readme_expression():
    a, b = t(-4.0), t(2.0)
    g = _micrograd_readme(gdlab, a, b)
    g.backward()
    assert g.item() == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


def _micrograd_sanity(m, x):
    z = 2 * x + 2 + x
    q = m.relu(z) + z * x
    h = m.relu(z * z)
    return h + q + q * x


def test_micrograd_expressions_match_torch():
    torch = pytest.importorskip("torch")
    a, b, x = t(-4.0), t(2.0), t(-4.0)
    ta, tb, tx = (
        torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (-4.0, 2.0, -4.0)
    )
    for ours, theirs, ins, tins in (
        (_micrograd_readme(gdlab, a, b), _micrograd_readme(torch, ta, tb), (a, b), (ta, tb)),
        (_micrograd_sanity(gdlab, x), _micrograd_sanity(torch, tx), (x,), (tx,)),
    ):
        ours.backward()
        theirs.backward()
        assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
        for p, q in zip(ins, tins, strict=True):
            assert p.grad == pytest.approx(q.grad.item(), rel=1e-12)


def test_autograd_grad_results_do_not_alias_each_other_or_the_output_gradient():
    a, b = t([1.0, 2.0]), t([3.0, 4.0])
    g = np.array([1.0, 1.0])
    ga, gb = grad(a + b, [a, b], g)
    ga[0] = 100.0
    assert gb[0] == 1.0 and g[0] == 1.0


def test_leaf_grad_is_owned_by_the_leaf():
    a, b = t([1.0, 2.0]), t([3.0, 4.0])
    (a + b).backward(np.array([1.0, 1.0]))
    a.grad[0] = 100.0
    assert b.grad[0] == 1.0
