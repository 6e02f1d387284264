"""autograd.functional (vjp, jvp, vhp, hvp, jacobian, hessian) against
torch.autograd.functional, create_graph on backward and grad, and NumPy's protocols."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.functional as TAF

import gdlab
from gdlab.autograd import functional as F
from gdlab.autograd import grad
from gdlab.ops import Op, apply

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 3))
Y = RNG.standard_normal((6, 1))
W1, B1, W2 = RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal((4, 1))


def mlp(lib, act):
    """The loss of a 3-4-1 MLP as a function of its weights, in gdlab or torch."""
    x, y = (
        (gdlab.tensor(X), gdlab.tensor(Y)) if lib is gdlab else (torch.tensor(X), torch.tensor(Y))
    )

    def loss(w1, b1, w2):
        return ((act(x @ w1 + b1) @ w2 - y) ** 2).mean()

    return loss


ACTS = {
    "tanh": (gdlab.tanh, torch.tanh),
    "sigmoid": (gdlab.sigmoid, torch.sigmoid),
    "softplus": (gdlab.softplus, torch.nn.functional.softplus),
    "relu": (gdlab.relu, torch.relu),  # second derivative 0 almost everywhere
}
PARAMS = (W1, B1, W2)


def both(arrays):
    return tuple(gdlab.tensor(a) for a in arrays), tuple(torch.tensor(a) for a in arrays)


@pytest.mark.parametrize("act", ACTS)
def test_hessian_of_an_mlp_matches_torch(act):
    g, t = both(PARAMS)
    h = F.hessian(mlp(gdlab, ACTS[act][0]), g)
    th = TAF.hessian(mlp(torch, ACTS[act][1]), t)
    for i in range(3):
        for j in range(3):
            np.testing.assert_allclose(h[i][j].data, th[i][j].numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["vhp", "hvp"])
@pytest.mark.parametrize("act", ACTS)
def test_hessian_vector_products_match_torch(name, act):
    g, t = both(PARAMS)
    gv, tv = both([RNG.standard_normal(p.shape) for p in PARAMS])
    out, hv = getattr(F, name)(mlp(gdlab, ACTS[act][0]), g, gv)
    tout, thv = getattr(TAF, name)(mlp(torch, ACTS[act][1]), t, tv)
    np.testing.assert_allclose(out.data, tout.numpy(), rtol=1e-12)
    for a, b in zip(hv, thv, strict=True):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-10, atol=1e-12)
        assert not a.requires_grad


def elementwise(lib):
    return lambda a, b: (lib.tanh(a) * b, (a * b).sum())


@pytest.mark.parametrize("name", ["vjp", "jvp"])
def test_vector_products_match_torch(name):
    arrays = [RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))]
    g, t = both(arrays)
    if name == "vjp":
        vs = [RNG.standard_normal((2, 3)), RNG.standard_normal(())]
    else:
        vs = [RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))]
    gv, tv = both(vs)
    out, res = getattr(F, name)(elementwise(gdlab), g, gv)
    tout, tres = getattr(TAF, name)(elementwise(torch), t, tv)
    for a, b in zip((*out, *res), (*tout, *tres), strict=True):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12, atol=1e-14)


def test_jacobian_matches_torch_for_tuples_of_inputs_and_outputs():
    arrays = [RNG.standard_normal((2, 3)), RNG.standard_normal(3)]
    g, t = both(arrays)
    jac = F.jacobian(lambda a, b: (gdlab.sigmoid(a * b), (a @ b).exp()), g)
    tjac = TAF.jacobian(lambda a, b: (torch.sigmoid(a * b), (a @ b).exp()), t)
    for row, trow in zip(jac, tjac, strict=True):
        for a, b in zip(row, trow, strict=True):
            assert a.shape == tuple(b.shape)
            np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12, atol=1e-14)


def test_single_tensor_in_single_tensor_out():
    x = gdlab.tensor([1.0, 2.0], dtype="float64")
    np.testing.assert_allclose(F.hessian(lambda x: (x**3).sum(), x).data, np.diag([6.0, 12.0]))
    np.testing.assert_allclose(F.jacobian(lambda x: x**2, x).data, np.diag([2.0, 4.0]))


def test_grad_with_create_graph_returns_differentiable_tensors():
    x = gdlab.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (g,) = grad((x**3).sum(), x, create_graph=True)
    assert isinstance(g, gdlab.Tensor) and g.requires_grad
    np.testing.assert_allclose(g.data, [3.0, 12.0])
    (gg,) = grad(g.sum(), x, create_graph=True)
    np.testing.assert_allclose(gg.data, [6.0, 12.0])
    np.testing.assert_allclose(grad(gg.sum(), x)[0], [6.0, 6.0])  # third order


def test_gradient_penalty_through_backward_create_graph_matches_torch():
    """‖∇ₓ f‖² as a loss (WGAN-GP style): backward(create_graph=True), then backward again."""
    x0, w0 = RNG.standard_normal((4, 3)), RNG.standard_normal((3, 2))
    x, w = gdlab.tensor(x0, requires_grad=True), gdlab.tensor(w0, requires_grad=True)
    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    (gdlab.tanh(x @ w) ** 2).sum().backward(create_graph=True)
    (torch.tanh(tx @ tw) ** 2).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad.data, tx.grad.detach().numpy(), rtol=1e-12)
    penalty, tpenalty = (x.grad**2).sum(), (tx.grad**2).sum()
    gw = grad(penalty, w)[0]
    np.testing.assert_allclose(gw, torch.autograd.grad(tpenalty, tw)[0].numpy(), rtol=1e-10)


def test_unsupported_op_names_itself():
    """A rule that leaves the Tensors (every row of the table now runs on them): an op made
    here, outside the table."""
    op = Op("array_rule", lambda x: x * 2.0, (lambda g, out, x: np.asarray(g.data) * 2.0,))
    x = gdlab.tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    out = apply(op, x).sum()
    with pytest.raises(RuntimeError, match="'array_rule'.*not supported"):
        grad(out, x, create_graph=True)


def test_numpy_functions_on_tensors_keep_their_first_order_meaning():
    t = gdlab.tensor([1.0, 2.0])
    assert isinstance(np.exp(t), gdlab.Tensor)  # a ufunc is the gdlab op
    assert isinstance(np.ones(2) + t, gdlab.Tensor)
    assert np.allclose(t, [1.0, 2.0]) is True  # functions see the array
    assert isinstance(np.stack([t, t]), np.ndarray)
