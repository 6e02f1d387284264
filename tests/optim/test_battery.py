"""The jettify/torch-optimizer convergence battery (its tests/test_basic.py), a coarser second
table after the step-exact references: from (1.5, 1.5), Rosenbrock with b = 1, the quadratic
x² + y² and Beale reach their minima (1, 1), (0, 0) and (3, 0.5) within 1e-3, as there.

Every optimizer of the registry beyond torch.optim has a row, at jettify's published
hyper-parameters and budget where it has them ("jettify"), else at gdlab's ("gdlab": the
largest lr of a log grid that passes, the smallest budget of 500/1000/2000 steps, cosine
annealing only where a constant lr cannot settle). The parameter is a 1 x 2 matrix, so the
layer-wise rules (LARS) take their matrix path.
"""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.nn import Parameter
from gdlab.optim.lr_scheduler import CosineAnnealingLR
from gdlab.optim.registry import OPTIMIZERS, TORCH_OPTIMIZERS

ATOL = 1e-3
START = (1.5, 1.5)


def rosenbrock(x: float, y: float) -> tuple[float, float]:  # (1 − x)² + (y − x²)²
    return -2 * (1 - x) - 4 * x * (y - x * x), 2 * (y - x * x)


def quadratic(x: float, y: float) -> tuple[float, float]:  # x² + y²
    return 2 * x, 2 * y


def beale(x: float, y: float) -> tuple[float, float]:
    a, b, c = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    dx = 2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y**3 - 1)
    return dx, 2 * a * x + 4 * b * x * y + 6 * c * x * y * y


PROBLEMS = [(rosenbrock, (1.0, 1.0)), (quadratic, (0.0, 0.0)), (beale, (3.0, 0.5))]

# registry name, kwargs on top of the registry's defaults, steps, cosine-annealed lr, source.
# jettify's NovoGrad row (lr 2.9, betas (0.9, 0.999), grad_averaging, 900 steps) ends 1.4 from
# Beale's minimum here: its NovoGrad scales the first moment by (1 − β1) at step 1 too, the
# paper's (and pytorch_optimizer's) m_1 = g_1/‖g_1‖ takes a 10x larger first step.
BATTERY = [
    ("lion", dict(lr=0.005), 2000, False, "gdlab"),
    ("adabelief", dict(lr=2.0, rectify=False, eps=1e-8), 500, False, "gdlab"),
    ("yogi", dict(lr=1.0), 500, False, "jettify"),
    ("adan", dict(lr=0.02), 2000, False, "gdlab"),
    ("lamb", dict(lr=0.05), 1000, True, "gdlab"),
    ("lars", dict(lr=0.1, trust_coefficient=1.0), 500, True, "gdlab"),
    ("novograd", dict(lr=0.5), 500, True, "gdlab"),
    ("madgrad", dict(lr=0.5), 500, False, "gdlab"),
    ("adabound", dict(lr=1.0), 800, False, "jettify"),
    ("amsbound", dict(lr=3.0), 500, False, "gdlab"),
    ("adopt", dict(lr=3.0), 500, False, "gdlab"),
    ("ademamix", dict(lr=0.3, betas=(0.9, 0.999, 0.999), alpha_warmup=2000, beta3_warmup=2000),
     2000, True, "gdlab"),
]  # fmt: skip


def _minimise(name: str, kwargs: dict, grad, steps: int, cosine: bool) -> np.ndarray:
    spec = OPTIMIZERS[name]
    p = Parameter(np.array([START]))
    opt = spec.cls([p], **{**spec.defaults, **kwargs})
    sched = CosineAnnealingLR(opt, T_max=steps) if cosine else None
    for _ in range(steps):
        p.grad = np.array([grad(*p.data[0])])
        opt.step()
        if sched is not None:
            sched.step()
    return p.data[0]


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p[0].__name__ for p in PROBLEMS])
@pytest.mark.parametrize("name, kwargs, steps, cosine, source", BATTERY,
                         ids=[row[0] for row in BATTERY])  # fmt: skip
def test_reaches_the_minimum(name, kwargs, steps, cosine, source, problem):
    grad, minimum = problem
    x = _minimise(name, kwargs, grad, steps, cosine)
    np.testing.assert_allclose(x, minimum, rtol=0, atol=ATOL, err_msg=f"{name} ({source})")


def test_every_optimizer_beyond_torch_has_a_row():
    """A new registry optimizer joins the battery with a row here."""
    beyond = {n for n in OPTIMIZERS if n not in TORCH_OPTIMIZERS}
    assert beyond - {row[0] for row in BATTERY} == set()
