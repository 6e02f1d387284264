"""The public gradient checker is itself tested: it passes correct rules, catches a
deliberately wrong VJP with a readable report, and checks the articles' 3-4-1 network."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gdlab
from gdlab.autograd import (
    GradcheckError,
    gradcheck,
    gradcheck_direction,
    numerical_grad,
)
from gdlab.ops import Op, apply

# Not registered in OPS (so the op-table tests do not see them): each is wrong on purpose.
WRONG_EXP = Op("wrong_exp", np.exp, (lambda g, out, x: g * out * 1.01,))
WRONG_SECOND_INPUT = Op(
    "wrong_mul", np.multiply, (lambda g, out, a, b: g * b, lambda g, out, a, b: -g * a)
)
FORGETS_BROADCAST = Op(
    "wrong_add", np.add, (lambda g, out, a, b: g, lambda g, out, a, b: g[..., :1])
)


def t(x, requires_grad=True):
    return gdlab.tensor(np.asarray(x, dtype=np.float64), requires_grad=requires_grad)


def test_numerical_grad_signature_and_values():
    x, y = t([1.0, 2.0, 3.0]), t([0.5])
    gx, gy = numerical_grad(lambda a, b: (a**2 * b).sum(), x, y, eps=1e-6)
    np.testing.assert_allclose(gx, [1.0, 2.0, 3.0], rtol=1e-8)
    np.testing.assert_allclose(gy, [14.0], rtol=1e-8)
    assert gx.dtype == np.float64
    np.testing.assert_array_equal(x.data, [1.0, 2.0, 3.0])  # perturbations undone


def test_numerical_grad_accepts_plain_arrays():
    a = np.array([1.0, 2.0])
    (ga,) = numerical_grad(lambda x: (x**2).sum(), a)
    np.testing.assert_allclose(ga, [2.0, 4.0], rtol=1e-8)
    np.testing.assert_array_equal(a, [1.0, 2.0])


@pytest.mark.parametrize(
    "f, shapes",
    [
        (lambda x: x.tanh().sum(), [(3, 4)]),
        (lambda a, b: (a @ b).sigmoid(), [(2, 3), (3, 4)]),
        (lambda a, b: (a * b).logsumexp(1), [(3, 4), (4,)]),
    ],
)
def test_gradcheck_passes_correct_rules(f, shapes, rng):
    assert gradcheck(f, [t(rng.standard_normal(s)) for s in shapes])


def test_gradcheck_catches_a_wrong_vjp_with_a_readable_report(rng):
    x = t(rng.standard_normal((2, 3)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: apply(WRONG_EXP, x), (x,))
    msg = str(info.value)
    assert "input 0" in msg and "6 of 6 elements" in msg
    assert re.search(r"index \(\d, \d\): analytic [-\d.e]+ vs numeric [-\d.e]+", msg)
    assert "relative error 0.01" in msg
    assert gradcheck(lambda x: apply(WRONG_EXP, x), (x,), raise_exception=False) is False


def test_gradcheck_names_the_wrong_input(rng):
    a, b = t(rng.standard_normal(3)), t(rng.standard_normal(3))
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: apply(WRONG_SECOND_INPUT, a, b), (a, b))


def test_gradcheck_catches_a_rule_that_ignores_broadcasting(rng):
    a, b = t(rng.standard_normal((2, 3))), t(rng.standard_normal((2, 1)))
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: apply(FORGETS_BROADCAST, a, b) * a, (a, b))


def test_gradcheck_skips_inputs_without_grad_and_constants(rng):
    a, c = t(rng.standard_normal(3)), t(rng.standard_normal(3), requires_grad=False)
    assert gradcheck(lambda a, c, k: (a * c * k).sum(), (a, c, 2.0))


def test_gradcheck_warns_on_float32():
    x = gdlab.tensor([0.5, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        gradcheck(lambda x: x * 2, (x,), eps=1e-2, atol=1e-2, rtol=1e-2)


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(lambda x: x * 2, (t([1.0], requires_grad=False),))


def test_gradcheck_needs_a_tensor_output():
    with pytest.raises(TypeError, match="must return a Tensor"):
        gradcheck(lambda x: 1.0, (t([1.0]),))


def test_gradcheck_direction(rng):
    x = t(rng.standard_normal((20, 30)))
    assert gradcheck_direction(lambda x: (x.tanh() ** 2).sum(), x, generator=rng)
    with pytest.raises(GradcheckError, match="directional derivative mismatch"):
        gradcheck_direction(lambda x: apply(WRONG_EXP, x).sum(), x, generator=rng)


# ------------------------------------------------------------------ the articles' network
XOR_X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float64)


def three_four_one_loss(w1, b1, w2, b2, x=XOR_X, y=XOR_Y):
    """3 inputs + bias -> 4 sigmoid hidden units -> 1 sigmoid output, squared error."""
    hidden = (gdlab.tensor(x) @ w1 + b1).sigmoid()
    out = (hidden @ w2 + b2).sigmoid()
    return ((out - gdlab.tensor(y)) ** 2).sum() * 0.5


def test_three_four_one_network_end_to_end(rng):
    params = [t(rng.standard_normal(s)) for s in [(3, 4), (4,), (4, 1), (1,)]]
    assert gradcheck(three_four_one_loss, params)


def test_three_four_one_network_matches_torch(rng):
    torch = pytest.importorskip("torch")
    arrays = [rng.standard_normal(s) for s in [(3, 4), (4,), (4, 1), (1,)]]
    ours = [t(a) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    loss = three_four_one_loss(*ours)
    w1, b1, w2, b2 = theirs
    x, y = torch.tensor(XOR_X), torch.tensor(XOR_Y)
    tloss = (((torch.sigmoid(torch.sigmoid(x @ w1 + b1) @ w2 + b2) - y) ** 2).sum()) * 0.5
    loss.backward()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a.T,  # transposed: no flat view of its elements
        lambda a: a[:, ::2],  # strided slice
    ],
    ids=["transposed", "strided"],
)
def test_gradcheck_handles_non_contiguous_inputs(make, rng):
    x = gdlab.tensor(make(rng.standard_normal((4, 6))), requires_grad=True)
    before = x.data.copy()
    assert gradcheck(lambda x: (x.tanh() * x).sum(), (x,))
    np.testing.assert_array_equal(x.data, before)  # perturbations undone


def test_numerical_grad_rejects_read_only_inputs():
    a = np.broadcast_to(np.array([1.0, 2.0]), (3, 2))
    with pytest.raises(ValueError, match="writeable"):
        numerical_grad(lambda x: (x**2).sum(), a)


def test_gradcheck_direction_options(rng):
    x = t(rng.standard_normal((5, 7)))
    assert gradcheck_direction(lambda x: x.sin().sum(), x, generator=3)  # an int seed
    assert gradcheck_direction(lambda x: apply(WRONG_EXP, x).sum(), x, raise_exception=False) is (
        False
    )
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck_direction(lambda x: x * 2, (t([1.0], requires_grad=False),))
