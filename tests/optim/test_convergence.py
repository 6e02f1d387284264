"""Convergence table (CHECKLIST C19, optax's alias test): each optimizer with its tabled lr
reaches the parabola's optimum [1, -1, 1] from [-1, 10, 1] and Rosenbrock's [1, 1] from [0, 0]
within 3e-2 in a fixed budget; L-BFGS reaches scipy's Rosenbrock minimum within 1e-5."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab import optim
from gdlab.lab.optimizer_check import PARABOLA_OPT, TOL, parabola, rosenbrock
from gdlab.nn import Parameter
from gdlab.optim.lr_scheduler import CosineAnnealingLR

# the problems and the tolerance are the optimizer battery's (gdlab check-optimizer), which
# searches the lr; here each optimizer has its tabled lr and budget


# name, class, kwargs, (parabola steps, rosenbrock steps), cosine-annealed lr (or one per problem)
TABLE = [
    ("sgd", "SGD", dict(lr=2e-3), (5000, 10000), False),
    ("sgd_momentum", "SGD", dict(lr=1e-3, momentum=0.9), (1000, 5000), False),
    ("sgd_nesterov", "SGD", dict(lr=1e-3, momentum=0.9, nesterov=True), (1000, 5000), False),
    ("momentum", "Momentum", dict(lr=1e-3, momentum=0.9), (1000, 5000), False),
    ("adam", "Adam", dict(lr=0.01), (5000, 10000), False),
    ("adamw", "AdamW", dict(lr=0.01, weight_decay=0.0), (5000, 10000), False),
    ("adagrad", "Adagrad", dict(lr=0.5), (2000, 5000), False),
    ("rmsprop", "RMSprop", dict(lr=3e-3), (5000, 10000), False),
    ("adadelta", "Adadelta", dict(lr=0.3), (5000, 10000), (False, True)),
    ("adamax", "Adamax", dict(lr=0.02), (2000, 10000), False),
    ("nadam", "NAdam", dict(lr=0.01), (5000, 10000), False),
    ("radam", "RAdam", dict(lr=0.05), (2000, 10000), False),
    ("asgd", "ASGD", dict(lr=2e-3), (5000, 10000), False),
    ("rprop", "Rprop", dict(lr=1e-3), (2000, 10000), False),
    ("adafactor", "Adafactor", dict(lr=0.01), (2000, 10000), True),
    ("muon", "Muon", dict(lr=0.03, weight_decay=0.0), (3000, 3000), True),
]  # fmt: skip

PROBLEMS = [("parabola", parabola, [-1.0, 10.0, 1.0], PARABOLA_OPT),
            ("rosenbrock", rosenbrock, [0.0, 0.0], np.ones(2))]  # fmt: skip


def _minimise(cls, kwargs, fn, x0, steps, cosine):
    x0 = np.array([x0]) if cls == "Muon" else np.array(x0)  # Muon takes matrices only
    p = Parameter(x0)
    opt = getattr(optim, cls)([p], **kwargs)
    sched = CosineAnnealingLR(opt, T_max=steps) if cosine else None
    for _ in range(steps):
        _, p.grad = fn(p.data)
        opt.step()
        if sched is not None:
            sched.step()
    return p.data.reshape(-1)


@pytest.mark.parametrize("problem", range(2), ids=[p[0] for p in PROBLEMS])
@pytest.mark.parametrize("name, cls, kwargs, steps, cosine", TABLE, ids=[t[0] for t in TABLE])
def test_reaches_the_minimum(name, cls, kwargs, steps, cosine, problem):
    _, fn, x0, optimum = PROBLEMS[problem]
    cosine = cosine[problem] if isinstance(cosine, tuple) else cosine
    x = _minimise(cls, kwargs, fn, x0, steps[problem], cosine)
    np.testing.assert_allclose(x, optimum, atol=TOL, err_msg=name)


@pytest.mark.parametrize("x0", [[0.0, 0.0], [-1.2, 1.0], [1.3, 0.7]])
def test_lbfgs_matches_scipy_on_rosenbrock(x0):
    scipy_optimize = pytest.importorskip("scipy.optimize")
    ref = scipy_optimize.minimize(
        lambda x: rosenbrock(x)[0], np.array(x0), jac=lambda x: rosenbrock(x)[1],
        method="L-BFGS-B", options=dict(ftol=1e-15, gtol=1e-12),
    )  # fmt: skip
    p = Parameter(np.array(x0))
    opt = optim.LBFGS([p], max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-15,
                      line_search_fn="strong_wolfe")  # fmt: skip

    def closure():
        f, p.grad = rosenbrock(p.data)
        return f

    opt.step(closure)
    np.testing.assert_allclose(p.data, ref.x, atol=1e-5)
    np.testing.assert_allclose(p.data, [1.0, 1.0], atol=1e-5)


def test_lbfgs_without_line_search_solves_a_quadratic():
    a = np.diag([1.0, 4.0, 9.0])
    p = Parameter(np.array([3.0, -2.0, 1.0]))
    opt = optim.LBFGS([p], lr=1.0, max_iter=50, tolerance_grad=1e-12, tolerance_change=0.0)

    def closure():
        p.grad = a @ p.data
        return 0.5 * float(p.data @ a @ p.data)

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(p.data, 0.0, atol=1e-8)
