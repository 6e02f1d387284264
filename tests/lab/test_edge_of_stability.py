"""``gdlab reproduce edge_of_stability``: the pieces it is made of, against independent
computations (the whole experiment and its checks run in tests/lab/test_claims.py)."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab.autograd.spectrum import hvp_operator, power_iteration
from gdlab.lab.articles import edge_of_stability as eos

pytest.importorskip("matplotlib")


def test_gd_steps_are_plain_full_batch_gd():
    """Two steps of ``train_full_batch`` equal θ − η·∇L written out with autograd.grad."""
    run = eos.train_full_batch(0.5, 2, every=1, seed=3)
    x, onehot = eos._data()
    model = eos._model(3)
    params = list(model.parameters())
    for k in range(2):
        loss = 0.5 * ((model(x) - onehot) ** 2).sum() / eos.N_SAMPLES
        assert loss.item() == pytest.approx(run.losses[k], rel=1e-6)
        grads = gdlab.autograd.grad(loss, params)
        with gdlab.no_grad():
            for p, g in zip(params, grads, strict=True):
                p.data -= np.float32(0.5) * g


def test_adam_threshold_and_preconditioned_sharpness():
    """38/η for β₁ = 0.9 (Cohen et al. 2022); a short run measures from step ``every`` on."""
    assert eos.adam_threshold(1e-3) == pytest.approx(38000.0)
    run = eos.train_adam(1e-3, 3, every=2, seed=0)
    assert run.threshold == pytest.approx(38000.0) and len(run.sharpness) == 1
    assert run.sharpness[0] > 0 and np.isfinite(run.losses).all()


def test_sharpness_is_the_top_hessian_eigenvalue():
    """Lanczos (12 HVPs) agrees with 200 power iterations on the same Hessian."""
    run = eos.train_full_batch(0.5, 1, every=1, seed=0)
    x, onehot = eos._data()
    model = eos._model(0)
    op = hvp_operator(lambda: 0.5 * ((model(x) - onehot) ** 2).sum() / eos.N_SAMPLES,
                      list(model.parameters()))  # fmt: skip
    top, _ = power_iteration(op, op.size, iters=200, tol=1e-7)
    assert run.sharpness[0] == pytest.approx(top, rel=1e-3)


def test_edge_start_and_median():
    run = eos.Run(lr=0.5, losses=np.ones(5), sharpness=np.array([2.0, 3.0, 3.7, 4.2, 3.9]),
                  every=10, threshold=4.0)  # fmt: skip
    assert run.threshold == 4.0 and run.edge_start() == 2  # 3.7 ≥ 0.9 · 4
    assert run.edge_median() == pytest.approx(3.9)
    never = eos.Run(0.5, np.ones(2), np.array([1.0, 2.0]), 10, 4.0)
    assert never.edge_start() is None and np.isnan(never.edge_median())
