"""Newton, damped Newton and Gauss-Newton against closed forms, d2l 12.3's printed iterates,
scipy's Newton-CG and least_squares, and scikit-learn's logistic regression."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdlab
from gdlab.nn import Parameter
from gdlab.optim import DampedNewton, GaussNewton, Newton

scipy_optimize = pytest.importorskip("scipy.optimize")


def closure_for(opt, params, f):
    def closure():
        opt.zero_grad()
        loss = f(*params)
        loss.backward(create_graph=True)
        return loss

    return closure


def run(cls, f, x0, steps, **kwargs):
    """The iterates of ``cls`` on f from x0 (a list of arrays, one per parameter)."""
    params = [Parameter(np.array(x, dtype=np.float64)) for x in x0]
    opt = cls(params, **kwargs)
    closure = closure_for(opt, params, f)
    path = [np.concatenate([p.data.ravel() for p in params])]
    for _ in range(steps):
        opt.step(closure)
        path.append(np.concatenate([p.data.ravel() for p in params]))
    return np.array(path)


# ------------------------------------------------------------------ quadratics: one step
# (A, b, x0 split into parameters): f = ½ xᵀA x − bᵀx, minimum A⁻¹b
QUADRATICS = [
    ("1-d", [[2.0]], [4.0], [[7.0]]),
    ("2-d", [[3.0, 1.0], [1.0, 2.0]], [1.0, -1.0], [[5.0, -3.0]]),
    ("ill-conditioned", [[1000.0, 0.0], [0.0, 0.001]], [1.0, 1.0], [[1.0, 1.0]]),
    ("two params", [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]], [1.0, 2.0, 3.0],
     [[0.0, 1.0], [2.0]]),
]  # fmt: skip


@pytest.mark.parametrize("cls", [Newton, DampedNewton])
@pytest.mark.parametrize(("name", "a", "b", "x0"), QUADRATICS, ids=[q[0] for q in QUADRATICS])
def test_one_step_reaches_the_minimum_of_a_quadratic(cls, name, a, b, x0):
    a, b = np.array(a), np.array(b)

    def f(*ps):
        x = gdlab.cat([p.reshape(-1) for p in ps]) if len(ps) > 1 else ps[0]
        return 0.5 * (x * (gdlab.tensor(a) @ x)).sum() - (gdlab.tensor(b) * x).sum()

    path = run(cls, f, x0, 1)
    np.testing.assert_allclose(path[1], np.linalg.solve(a, b), rtol=1e-10, atol=1e-12)


def test_damping_is_levenberg():
    a, b = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, -1.0])
    x0 = np.array([5.0, -3.0])

    def f(x):
        return 0.5 * (x * (gdlab.tensor(a) @ x)).sum() - (gdlab.tensor(b) * x).sum()

    path = run(Newton, f, [x0], 1, lr=0.5, damping=2.0)
    want = x0 - 0.5 * np.linalg.solve(a + 2.0 * np.eye(2), a @ x0 - b)
    np.testing.assert_allclose(path[1], want, rtol=1e-12)


# ------------------------------------------------------------------ d2l 12.3
C_XCOS = 0.15 * math.pi
# (name, f on Tensors, f' and f'' as d2l writes them, η, d2l's printed final x, digits printed)
D2L = [
    ("x^2", lambda x: x * x, lambda x: 2 * x, lambda x: 2.0 + 0 * x, 1.0, 0.0, 6),
    ("cosh(0.5x)", lambda x: gdlab.cosh(0.5 * x), lambda x: 0.5 * np.sinh(0.5 * x),
     lambda x: 0.25 * np.cosh(0.5 * x), 1.0, 0.0, 4),
    ("x cos(cx)", lambda x: x * gdlab.cos(C_XCOS * x),
     lambda x: np.cos(C_XCOS * x) - C_XCOS * x * np.sin(C_XCOS * x),
     lambda x: -2 * C_XCOS * np.sin(C_XCOS * x) - x * C_XCOS**2 * np.cos(C_XCOS * x),
     1.0, 26.8341, 4),
    ("x cos(cx), eta=0.5", lambda x: x * gdlab.cos(C_XCOS * x),
     lambda x: np.cos(C_XCOS * x) - C_XCOS * x * np.sin(C_XCOS * x),
     lambda x: -2 * C_XCOS * np.sin(C_XCOS * x) - x * C_XCOS**2 * np.cos(C_XCOS * x),
     0.5, 7.2699, 4),
]  # fmt: skip


@pytest.mark.parametrize(("name", "f", "df", "d2f", "eta", "printed", "digits"), D2L,
                         ids=[d[0] for d in D2L])  # fmt: skip
def test_d2l_12_3_newton_iterates(name, f, df, d2f, eta, printed, digits):
    """d2l's ``newton(eta)``: x = 10, ten steps x -= η·f'(x)/f''(x), its print: epoch 10, x."""
    want = [10.0]
    for _ in range(10):
        want.append(want[-1] - eta * df(want[-1]) / d2f(want[-1]))
    path = run(Newton, lambda x: f(x).sum(), [[10.0]], 10, lr=eta)[:, 0]
    np.testing.assert_allclose(path, want, rtol=0, atol=1e-6)
    assert round(path[-1], digits) == pytest.approx(printed, abs=10.0**-digits / 2)


def test_damped_newton_descends_where_newton_climbs():
    """On d2l's x·cos(cx) from 10, pure Newton walks to a maximum (26.83, f'' < 0 there);
    damped Newton (|H| and backtracking) never raises f and stops at the nearby minimum."""
    f = D2L[2][1]
    path = run(DampedNewton, lambda x: f(x).sum(), [[10.0]], 10)[:, 0]
    values = path * np.cos(C_XCOS * path)
    assert np.all(np.diff(values) <= 1e-12)
    x = path[-1]
    assert abs(np.cos(C_XCOS * x) - C_XCOS * x * np.sin(C_XCOS * x)) < 1e-10
    assert -2 * C_XCOS * np.sin(C_XCOS * x) - x * C_XCOS**2 * np.cos(C_XCOS * x) > 0
    np.testing.assert_allclose(x, 7.269388146311475, atol=1e-9)


# ------------------------------------------------------------------ Rosenbrock vs scipy
def rosen(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


@pytest.mark.parametrize(("cls", "steps"), [(Newton, 7), (DampedNewton, 22)])
def test_rosenbrock_reaches_scipy_newton_cg_minimum(cls, steps):
    """From (−1.2, 1): pure Newton lands on (1, 1) exactly in 7 steps (errors 2.2, 2.2, 4.2,
    0.42, 0.056, 9e-6, 2e-11, 0: quadratic at the end), damped Newton in 22 (its backtracking
    shortens the steps along the valley); scipy's Newton-CG (truncated CG and a line search,
    the exact Hessian) takes 85 iterations to within 1e-9 of the same minimum."""
    path = run(cls, lambda p: rosen(p[0], p[1]), [[-1.2, 1.0]], steps)
    ref = scipy_optimize.minimize(
        scipy_optimize.rosen, [-1.2, 1.0], method="Newton-CG", jac=scipy_optimize.rosen_der,
        hess=scipy_optimize.rosen_hess, options={"xtol": 1e-12},
    )  # fmt: skip
    assert ref.success and 80 <= ref.nit <= 90
    np.testing.assert_allclose(path[-1], ref.x, atol=1e-6)
    np.testing.assert_array_equal(path[-1], [1.0, 1.0])


def test_newton_step_equals_scipy_hessian_solve_on_rosenbrock():
    """The same method, step for step: x − H⁻¹g with scipy's closed-form gradient and Hessian."""
    path = run(Newton, lambda p: rosen(p[0], p[1]), [[-1.2, 1.0]], 5)
    x = np.array([-1.2, 1.0])
    for k in range(1, 6):
        x = x - np.linalg.solve(scipy_optimize.rosen_hess(x), scipy_optimize.rosen_der(x))
        np.testing.assert_allclose(path[k], x, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ logistic regression
def test_logistic_regression_matches_scikit_learn():
    """Damped Newton on the mean log-loss + ‖w‖²/(2nC) equals scikit-learn's newton-cg fit with
    C = 1 (its objective is C·Σ log-loss + ½‖w‖², the intercept unpenalised), in 8 steps
    (sklearn: 9). Pure Newton from 0 overshoots to |w| ~ 200 here: radius, perimeter and area
    are nearly collinear, so the first step, a least-squares solve, is huge."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = datasets.load_breast_cancer(return_X_y=True)
    x = (x - x.mean(0)) / x.std(0)
    x, y = x[:, :8], y.astype(np.float64)
    n, c = len(y), 1.0
    ref = linear_model.LogisticRegression(C=c, solver="newton-cg", tol=1e-12, max_iter=1000)
    ref.fit(x, y)
    w = Parameter(np.zeros(x.shape[1]))
    b = Parameter(np.zeros(1))
    xt, yt = gdlab.tensor(x), gdlab.tensor(y)
    bce = gdlab.nn.BCEWithLogitsLoss()

    def loss(w, b):
        return bce(xt @ w + b, yt) + (w * w).sum() / (2 * n * c)

    opt = DampedNewton([w, b])
    closure = closure_for(opt, [w, b], loss)
    for _ in range(10):
        opt.step(closure)
    np.testing.assert_allclose(w.data, ref.coef_[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b.data, ref.intercept_, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ Gauss-Newton
def test_gauss_newton_solves_linear_least_squares_in_one_step():
    rng = np.random.default_rng(0)
    a, y = rng.standard_normal((20, 4)), rng.standard_normal(20)
    theta = Parameter(np.zeros(4))
    opt = GaussNewton([theta])
    loss = opt.step(lambda: gdlab.tensor(a) @ theta - gdlab.tensor(y))
    np.testing.assert_allclose(theta.data, np.linalg.lstsq(a, y, rcond=None)[0], rtol=1e-10)
    assert loss == pytest.approx(0.5 * float(y @ y))


def test_gauss_newton_iterates_and_minimum_on_an_exponential_fit():
    """y ≈ θ₀·exp(θ₁·t): each step equals the formula with the closed-form Jacobian, and the
    fit reaches scipy's least_squares minimum."""
    t = np.linspace(0, 1, 15)
    y = 2.0 * np.exp(-1.3 * t) + 0.01 * np.sin(7 * t)
    theta = Parameter(np.array([1.0, 0.0]))
    opt = GaussNewton([theta])
    tt, yt = gdlab.tensor(t), gdlab.tensor(y)
    x = np.array([1.0, 0.0])
    for _ in range(8):
        opt.step(lambda: theta[0] * gdlab.exp(theta[1] * tt) - yt)
        r = x[0] * np.exp(x[1] * t) - y
        jac = np.stack([np.exp(x[1] * t), x[0] * t * np.exp(x[1] * t)], axis=1)
        x = x - np.linalg.solve(jac.T @ jac, jac.T @ r)
        np.testing.assert_allclose(theta.data, x, rtol=1e-10)
    ref = scipy_optimize.least_squares(lambda p: p[0] * np.exp(p[1] * t) - y, [1.0, 0.0],
                                       xtol=1e-15, ftol=1e-15, gtol=1e-15)  # fmt: skip
    np.testing.assert_allclose(theta.data, ref.x, rtol=1e-8)


# ------------------------------------------------------------------ the lab
@pytest.mark.parametrize("name", ["newton", "damped_newton"])
def test_surface_runs_the_newton_family(name):
    from gdlab.lab import run_trajectory

    traj = run_trajectory("rosenbrock", name, (-1.2, 1.0), 30, lr=1.0)
    assert not traj.diverged
    np.testing.assert_allclose(traj.points[-1], [1.0, 1.0], atol=1e-8)


def test_surface_command_accepts_newton(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from gdlab import cli

    code = cli.main(["surface", "--function", "rosenbrock", "--optimizers", "newton",
                     "damped_newton", "sgd", "--steps", "20", "--tune", "0", "--out",
                     str(tmp_path)])  # fmt: skip
    assert code == 0
    assert "newton" in capsys.readouterr().out


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda p: Newton([p], lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
        (lambda p: Newton([p], damping=-1.0), ValueError, "Invalid damping value: -1.0"),
        (lambda p: DampedNewton([p], c1=1.5), ValueError, "Invalid c1 value: 1.5"),
        (lambda p: DampedNewton([p], backtrack=0.0), ValueError, "Invalid backtrack value"),
        (lambda p: DampedNewton([p], max_backtracks=-1), ValueError, "max_backtracks"),
        (lambda p: Newton([{"params": [p]}, {"params": [Parameter(np.ones(1))]}]), ValueError,
         "parameter groups"),
    ],
)  # fmt: skip
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(Parameter(np.ones(2)))


@pytest.mark.parametrize("cls", [Newton, DampedNewton, GaussNewton])
def test_step_requires_a_closure(cls):
    with pytest.raises(ValueError, match=f"{cls.__name__} requires a closure"):
        cls([Parameter(np.ones(2))]).step()


@pytest.mark.parametrize("cls", [Newton, DampedNewton])
def test_closure_without_create_graph_is_named(cls):
    p = Parameter(np.ones(2))
    opt = cls([p])

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="backward\\(create_graph=True\\)"):
        opt.step(closure)


def test_gauss_newton_wants_residuals():
    p = Parameter(np.ones(2))
    with pytest.raises(TypeError, match="residuals"):
        GaussNewton([p]).step(lambda: 3.0)
