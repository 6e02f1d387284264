"""Every row of the op table, checked generically: VJP vs central finite differences (float64),
grad shape and dtype, linearity in the output gradient. Shapes are drawn by Hypothesis
(broadcasting, size-1 dimensions, 0-d) and values come from each op's ``domain``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes
from op_samples import SAMPLING

import gdlab
from gdlab.autograd import grad, gradcheck
from gdlab.ops import OPS, apply
from gdlab.ops.registry import VariadicVjps

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ALL_OPS = sorted(OPS.values(), key=lambda op: op.name)


# gradcheck's defaults are the suite's tolerances (conftest.GRADCHECK): eps 1e-6, atol 1e-5,
# rtol 1e-3; they are not imported because several test folders define a conftest module.


def test_every_op_has_a_sampling_row():
    assert sorted(SAMPLING) == sorted(OPS)


def default_kwargs(op) -> dict:
    return dict(SAMPLING[op.name].kwargs or {})


def draw_cases(op, data) -> tuple[list, np.random.Generator]:
    """(input_shapes, kwargs) cases for ``op`` and the rng its values come from."""
    seed = data.draw(st.integers(0, 2**16), label="seed")
    rng = np.random.default_rng(seed)
    cases = SAMPLING[op.name].cases
    if cases is not None:
        shape = data.draw(array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
        return cases(rng, shape), rng
    assert not isinstance(op.vjps, VariadicVjps), f"variadic op {op.name} needs cases"
    shapes = data.draw(
        mutually_broadcastable_shapes(num_shapes=len(op.vjps), min_dims=0, max_dims=3, max_side=3)
    ).input_shapes
    return [(shapes, default_kwargs(op))], rng


def first_case(op, rng) -> tuple[list, dict]:
    """One fixed case: the first of ``cases`` around (2, 3), or (2, 3) for every input."""
    cases = SAMPLING[op.name].cases
    if cases is not None:
        return cases(rng, (2, 3))[0]
    return [(2, 3)] * len(op.vjps), default_kwargs(op)


def make_inputs(op, shapes, rng) -> list[gdlab.Tensor]:
    lo, hi = SAMPLING[op.name].domain
    return [gdlab.tensor(rng.uniform(lo, hi, s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("op", ALL_OPS, ids=lambda op: op.name)
@SETTINGS
@given(data=st.data())
def test_vjp_matches_finite_differences(op, data):
    cases, rng = draw_cases(op, data)
    for shapes, kwargs in cases:
        xs = make_inputs(op, shapes, rng)
        out = apply(op, *xs, **kwargs)
        # A random weighting, not ones: sum(softmax) has a zero gradient and would hide bugs.
        w = rng.standard_normal(out.shape)
        assert gradcheck(lambda *a, w=w, kw=kwargs: (apply(op, *a, **kw) * w).sum(), xs)


@pytest.mark.parametrize("op", ALL_OPS, ids=lambda op: op.name)
@SETTINGS
@given(data=st.data())
def test_grad_shape_dtype_and_linearity(op, data):
    """CHECKLIST C2/C3: grad shape and dtype equal the input's; backward is linear in g."""
    cases, rng = draw_cases(op, data)
    for shapes, kwargs in cases:
        xs = make_inputs(op, shapes, rng)
        out = apply(op, *xs, **kwargs)
        g = rng.standard_normal(out.shape)
        g1 = grad(out, xs, grad_outputs=g, retain_graph=True)
        g3 = grad(out, xs, grad_outputs=3 * g, retain_graph=True)
        g0 = grad(out, xs, grad_outputs=np.zeros_like(g), retain_graph=True)
        again = grad(out, xs, grad_outputs=g)
        for x, a, b, z, r in zip(xs, g1, g3, g0, again, strict=True):
            assert a.shape == x.shape and a.dtype == x.dtype
            np.testing.assert_allclose(b, 3 * a, rtol=1e-12, atol=1e-12)
            np.testing.assert_array_equal(z, 0)
            np.testing.assert_array_equal(r, a)


@pytest.mark.parametrize("op", ALL_OPS, ids=lambda op: op.name)
def test_no_graph_under_no_grad(op):
    rng = np.random.default_rng(0)
    shapes, kwargs = first_case(op, rng)
    xs = make_inputs(op, shapes, rng)
    with gdlab.no_grad():
        out = apply(op, *xs, **kwargs)
    assert not out.requires_grad and out.grad_fn is None


@pytest.mark.parametrize("op", ALL_OPS, ids=lambda op: op.name)
def test_float32_stays_float32(op):
    rng = np.random.default_rng(1)
    shapes, kwargs = first_case(op, rng)
    if op.name == "to":
        kwargs = {"dtype": np.dtype(np.float32)}
    lo, hi = SAMPLING[op.name].domain
    xs = [
        gdlab.tensor(rng.uniform(lo, hi, s).astype(np.float32), requires_grad=True) for s in shapes
    ]
    out = apply(op, *xs, **kwargs)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    for x in xs:
        assert x.grad.dtype == np.float32 and x.grad.shape == x.shape


DEFAULT_SAMPLED = [op for op in ALL_OPS if SAMPLING[op.name].cases is None]


@pytest.mark.parametrize("op", DEFAULT_SAMPLED, ids=lambda op: op.name)
def test_empty_arrays_flow_through(op):
    """CHECKLIST C1: size-0 inputs give size-0 outputs and size-0 gradients of the right shape."""
    shapes = [(0, 3)] + [(3,)] * (len(op.vjps) - 1)
    xs = [gdlab.tensor(np.ones(s), requires_grad=True) for s in shapes]
    out = apply(op, *xs, **default_kwargs(op))
    assert out.shape == (0, 3)
    out.sum().backward()
    for x in xs:
        assert x.grad.shape == x.shape
        np.testing.assert_array_equal(x.grad, 0)


@pytest.mark.parametrize("op", ALL_OPS, ids=lambda op: op.name)
@settings(SETTINGS, max_examples=4)
@given(data=st.data())
def test_vjp_results_share_no_memory_with_forward_arrays(op, data):
    """The engine lets a leaf keep a VJP's result without a copy (autograd.engine), so a VJP
    returns a new array or a view of ``g``, never an input or the output (or a view of one)."""
    cases, rng = draw_cases(op, data)
    for shapes, kwargs in cases:
        xs = make_inputs(op, shapes, rng)
        out = apply(op, *xs, **kwargs)
        node = out.grad_fn
        arrays, kw, parents = node.arrays, node.kwargs, node.parents
        g = rng.standard_normal(out.shape)
        forward = [a for a in (*arrays, out.data) if isinstance(a, np.ndarray)]
        for i, _, _ in parents:
            r = op.vjps[i](g, out.data, *arrays, **kw)
            assert not any(np.may_share_memory(r, a) for a in forward), (op.name, i)
