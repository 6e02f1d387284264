"""Sharpness tools: power iteration and Lanczos on Hessian-vector products against
numpy.linalg.eigvalsh of the full Hessian of small networks."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab.autograd import functional as F
from gdlab.autograd.spectrum import hessian_eigenvalues, hvp_operator, lanczos, power_iteration

RNG = np.random.default_rng(1)
X, Y = RNG.standard_normal((20, 3)), RNG.standard_normal((20, 1))
SHAPES = [(3, 5), (5,), (5, 1), (1,)]


def setup(act):
    params = [gdlab.tensor(RNG.standard_normal(s) * 0.8, requires_grad=True) for s in SHAPES]
    x, y = gdlab.tensor(X), gdlab.tensor(Y)

    def loss(*ps):
        w1, b1, w2, b2 = ps or params
        return ((act(x @ w1 + b1) @ w2 + b2 - y) ** 2).mean()

    h = F.hessian(loss, tuple(p.detach() for p in params))
    n = sum(p.data.size for p in params)
    full = np.block(
        [[h[i][j].data.reshape(params[i].data.size, -1) for j in range(4)] for i in range(4)]
    )
    assert full.shape == (n, n)
    return loss, params, full


@pytest.mark.parametrize(
    "act", [gdlab.tanh, gdlab.sigmoid, gdlab.softplus], ids=["tanh", "sigmoid", "softplus"]
)
def test_lanczos_and_power_iteration_match_eigvalsh(act):
    loss, params, full = setup(act)
    exact = np.linalg.eigvalsh(full)[::-1]
    top = hessian_eigenvalues(loss, params, k=3, iters=len(exact))
    np.testing.assert_allclose(top, exact[:3], rtol=1e-8, atol=1e-10)
    few = hessian_eigenvalues(loss, params, k=1, iters=15)
    np.testing.assert_allclose(few, exact[:1], rtol=1e-4)
    (power,) = hessian_eigenvalues(loss, params, method="power", iters=500)
    magnitude = exact[np.argmax(np.abs(exact))]
    np.testing.assert_allclose(power, magnitude, rtol=1e-3)


def test_hvp_operator_is_the_hessian_times_v():
    loss, params, full = setup(gdlab.tanh)
    hv = hvp_operator(loss, params)
    v = RNG.standard_normal(hv.size)
    np.testing.assert_allclose(hv(v), full @ v, rtol=1e-10, atol=1e-12)


def test_quadratic_closed_form():
    a = np.diag([5.0, 2.0, -1.0, 0.5])
    q = np.linalg.qr(RNG.standard_normal((4, 4)))[0]
    m = q @ a @ q.T
    np.testing.assert_allclose(lanczos(lambda v: m @ v, 4, k=2, iters=4), [5.0, 2.0], rtol=1e-12)
    value, vec = power_iteration(lambda v: m @ v, 4, iters=2000, tol=1e-14)
    np.testing.assert_allclose(value, 5.0, rtol=1e-10)
    np.testing.assert_allclose(abs(vec @ q[:, 0]), 1.0, rtol=1e-8)
    with pytest.raises(ValueError, match="k must be"):
        lanczos(lambda v: m @ v, 4, k=5)
