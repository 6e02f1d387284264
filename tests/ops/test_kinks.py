"""Gradients at kinks and zeros (|x| at 0, √ at 0, xᵖ with p < 1, norms and std of zeros,
ties of max/min, clamp's bounds), first and second order, against torch's values (float64).

Where a formula would give 0/0, torch picks a subgradient (0 for a zero norm or std, 1/k
shared among k tied maxima); gdlab's rows pick the same. A row is (id, call, input): ``call(m,
x)`` runs with ``m = gdlab`` and ``m = torch``; the input mixes zeros, ties and bound values.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab.autograd import grad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:.*degrees of freedom")

ZEROS = [[0.0, 0.0, 0.0], [0.0, 1.5, -2.0]]  # a zero row, and a zero inside a nonzero row
TIES = [[1.0, 1.0, -1.0], [0.0, 0.0, 0.0]]
BOUNDS = [[-1.0, 1.0, 0.0], [0.5, -0.5, 2.0]]
UNIT = [[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]]  # a probability's ends
THRESHOLD = [[0.0, 1.0, -0.5], [2.0, 0.25, 20.0]]  # softplus: β·x = 20 is its threshold

ROWS = [
    ("abs", lambda m, x: m.abs(x), ZEROS),
    ("sqrt at 0", lambda m, x: m.sqrt(x * x), ZEROS),
    ("pow 0.5 at 0", lambda m, x: (x * x) ** 0.5, ZEROS),
    ("pow 1.5 at 0", lambda m, x: (x * x) ** 1.5, ZEROS),
    ("pow 0", lambda m, x: x**0, ZEROS),
    ("pow -1 at 0", lambda m, x: x**-1.0, ZEROS),
    ("relu", lambda m, x: m.relu(x), ZEROS),
    ("leaky_relu", lambda m, x: m.nn.functional.leaky_relu(x, 0.1), ZEROS),
    ("elu", lambda m, x: m.nn.functional.elu(x, 0.7), ZEROS),
    ("hardtanh", lambda m, x: m.nn.functional.hardtanh(x), BOUNDS),
    ("clamp", lambda m, x: m.clamp(x, -1.0, 1.0), BOUNDS),
    ("sign", lambda m, x: m.sign(x), ZEROS),
    ("maximum tie", lambda m, x: m.maximum(x, x[:, [1, 0, 2]]), TIES),
    ("minimum tie", lambda m, x: m.minimum(x, x * 0), ZEROS),
    ("amax ties", lambda m, x: m.amax(x, 1), TIES),
    ("amin ties", lambda m, x: x.amin(), TIES),
    ("max ties", lambda m, x: x.max(), TIES),
    ("norm 2", lambda m, x: m.norm(x, dim=1), ZEROS),
    ("norm 2 all zero", lambda m, x: (x * 0).norm(), ZEROS),
    ("norm 1", lambda m, x: m.norm(x, 1, 1), ZEROS),
    ("norm inf", lambda m, x: m.norm(x, float("inf"), 1), TIES),
    ("norm 0.5", lambda m, x: m.norm(x, 0.5, 1), ZEROS),
    ("norm 1.5", lambda m, x: m.norm(x, 1.5, 1), ZEROS),
    ("norm 3", lambda m, x: m.norm(x, 3, 1, keepdim=True), ZEROS),
    ("std of a constant", lambda m, x: x.std(1), ZEROS),
    ("std of one element", lambda m, x: x[:, :1].std(1), ZEROS),
    ("std correction 0 of one", lambda m, x: x[:, :1].std(1, correction=0), ZEROS),
    ("var of one element", lambda m, x: x[:, :1].var(1), ZEROS),
    ("grad norm", lambda m, x: (x * x).sum(1).sqrt(), ZEROS),
    ("softplus at 0 and the threshold", lambda m, x: m.nn.functional.softplus(x), THRESHOLD),
    ("bce input at 0 and 1", lambda m, x: m.nn.functional.binary_cross_entropy(
        x, m.tensor(np.full((2, 3), 0.3)), reduction="none"), UNIT),
    ("bce target at 0 and 1", lambda m, x: m.nn.functional.binary_cross_entropy(
        m.tensor(np.array(UNIT)), x, reduction="none"), [[0.3, 0.7, 0.5], [0.1, 0.9, 0.2]]),
]  # fmt: skip

# Where torch's double backward gives NaN and gdlab 0: torch's rule masks the 0/0 of the
# first derivative (``(x / norm).masked_fill_(norm == 0, 0)``) but differentiates the
# division again, 0·(0/0); gdlab's rule makes the divisor safe before masking.
SECOND_ORDER_ZERO_WHERE_TORCH_NAN = {"norm 2", "norm 2 all zero", "norm 0.5"}


def _derivatives(m, call, a: np.ndarray, v: np.ndarray, w: np.ndarray):
    """(value, ∇(v·f), ∇(w·∇(v·f))): the gradient and a Hessian-vector product; a missing
    second derivative (no graph) counts as zeros, as torch's zero tensors."""
    if m is gdlab:
        x = gdlab.tensor(a, requires_grad=True)
        out = call(m, x)
        (g,) = grad((out * gdlab.tensor(v)).sum(), [x], create_graph=True)
        hv = None
        if g.requires_grad:
            (hv,) = grad((g * gdlab.tensor(w)).sum(), [x], allow_unused=True)
        hv = np.zeros_like(a) if hv is None else np.asarray(hv)
        return out.data, g.data, hv
    x = torch.tensor(a, requires_grad=True)
    out = call(m, x)
    (g,) = torch.autograd.grad((out * torch.tensor(v)).sum(), [x], create_graph=True)
    hv = None
    if g.requires_grad:
        (hv,) = torch.autograd.grad((g * torch.tensor(w)).sum(), [x], allow_unused=True)
    hv = np.zeros_like(a) if hv is None else hv.numpy(force=True)
    return out.detach().numpy(), g.detach().numpy(), hv


@pytest.mark.parametrize("name, call, values", ROWS, ids=[r[0] for r in ROWS])
def test_kinks_match_torch(name, call, values):
    a = np.array(values)
    rng = np.random.default_rng(0)
    shape = tuple(call(torch, torch.tensor(a)).shape)
    v, w = rng.uniform(0.5, 1.5, shape), rng.uniform(0.5, 1.5, a.shape)
    with np.errstate(all="ignore"):
        ours = _derivatives(gdlab, call, a, v, w)
    theirs = _derivatives(torch, call, a, v, w)
    for o, t in zip(ours[:2], theirs[:2], strict=True):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-14)  # NaN and inf where torch's
    hv, thv = ours[2], theirs[2]
    if name in SECOND_ORDER_ZERO_WHERE_TORCH_NAN:
        assert np.isnan(thv).any()
        assert np.all(hv[np.isnan(thv) & ~np.isnan(hv)] == 0)
        thv = np.where(np.isnan(thv) & ~np.isnan(hv), 0.0, thv)
    if name == "elu":
        # torch's double backward takes elu'' at 0 from the right (0) while its backward
        # takes elu' from the left (alpha); gdlab's one rule takes the left side for both
        thv = np.where(a == 0, 0.7 * v * w, thv)
    if name.startswith("softplus"):
        # the same at softplus's threshold (β·x = 20, not above it): torch's backward takes
        # the log1p(eˣ) side, its double backward the linear side (0); gdlab the log side
        sig = 1 / (1 + np.exp(-20.0))
        thv = np.where(a == 20, sig * (1 - sig) * v * w, thv)
    if name == "bce input at 0 and 1":
        # BCE's second derivative is infinite at 0 and 1; both clamp a denominator at eps
        # (torch's formula divides by eps², gdlab differentiates its clamp: 1/eps): only
        # "huge and of the same sign" is common ground
        ends = (a == 0) | (a == 1)
        assert np.all(np.abs(hv[ends]) > 1e11) and np.all(np.sign(hv) == np.sign(thv))
        thv = np.where(ends, hv, thv)
    np.testing.assert_allclose(hv, thv, rtol=1e-10, atol=1e-14)


def test_zero_norm_gradient_is_zero_by_hand():
    """‖x‖ at x = 0: gradient 0 (torch's subgradient), its derivative 0; at x = (3, 4) the
    gradient is x/5 and the Hessian (I − x̂x̂ᵀ)/‖x‖."""
    x = gdlab.tensor(np.zeros(2), requires_grad=True)
    (g,) = grad(x.norm(), [x], create_graph=True)
    assert np.array_equal(g.data, [0.0, 0.0])
    assert np.array_equal(np.asarray(grad(g.sum(), [x])[0]), [0.0, 0.0])
    x = gdlab.tensor(np.array([3.0, 4.0]), requires_grad=True)
    (g,) = grad(x.norm(), [x], create_graph=True)
    np.testing.assert_allclose(g.data, [0.6, 0.8], rtol=1e-15)
    unit = np.array([0.6, 0.8])
    hessian = (np.eye(2) - np.outer(unit, unit)) / 5
    for k in range(2):
        np.testing.assert_allclose(grad(g[k], [x], retain_graph=True)[0], hessian[k], rtol=1e-14)
