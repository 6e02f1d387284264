"""compare on regression (issue 12, bug 3): standardised targets, losses in the data's units,
an R² target and the regression columns."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.lab.compare import protocol as cmp
from gdlab.lab.compare.config import DEFAULT_TARGETS, CompareConfig
from gdlab.lab.compare.report import _protocol_text, summary_rows
from gdlab.lab.tasks import load_task

pytest.importorskip("sklearn")

REGRESSION_COLUMNS = [
    "dataset", "variant", "optimizer", "batch", "lr", "train_mse", "val_mse", "val_rmse",
    "val_r2", "test_r2", "steps_to_target", "samples_to_target", "time_to_target_s", "time_s",
    "diverged",
]  # fmt: skip


@pytest.fixture(scope="module")
def diabetes():
    """SGD on diabetes at compare's default settings (one seed): it diverged on every trial
    before the targets were standardised (MSE near 3e4 at the start)."""
    return cmp.compare("diabetes", seeds=1, optimizers=["sgd"])


def test_sgd_does_not_diverge_on_diabetes_at_the_defaults(diabetes):
    rows = summary_rows(diabetes)
    assert [r["variant"] for r in rows] == [
        "sgd", "BGD (full batch)", "SGD (batch 1)", "MBGD (batch 32)"
    ]  # fmt: skip
    for row in rows:
        assert list(row) == REGRESSION_COLUMNS
        assert row["diverged"] == "0/1"
        assert 0.2 < row["val_r2"] < 0.6  # least squares: 0.45 on this split
    # The lower trials of every variant's range train (only the top of SGD's range, lr >= 1
    # at mini-batch, diverges, as it would on any standardised problem).
    for v in {t["variant"] for t in diabetes.tuning}:
        trials = sorted((t["lr"], t["diverged"]) for t in diabetes.tuning if t["variant"] == v)
        assert [d for _, d in trials[:3]] == [False] * 3, v


def test_losses_are_the_mse_in_the_targets_units(diabetes):
    """MSE = (1 − R²)·Var(y_val) in original units: the reported loss and R² agree with the
    raw targets' variance, and RMSE is its square root."""
    task = load_task("diabetes", seed=0)  # targets as loaded
    var = float(np.var(task.y_val.astype(np.float64)))
    assert var > 1000.0  # diabetes' targets are in the hundreds
    for row in summary_rows(diabetes):
        np.testing.assert_allclose(row["val_mse"], (1.0 - row["val_r2"]) * var, rtol=1e-4)
        np.testing.assert_allclose(row["val_rmse"], np.sqrt(row["val_mse"]), rtol=1e-12)


def test_the_target_is_r2_and_reached(diabetes):
    assert DEFAULT_TARGETS["r2"] == CompareConfig().target_for("r2")
    rows = {r["variant"]: r for r in summary_rows(diabetes)}
    assert np.isfinite(rows["sgd"]["steps_to_target"])
    text = _protocol_text(diabetes)
    assert f"validation R² {DEFAULT_TARGETS['r2']}" in text
    assert "accuracy" not in text


@pytest.mark.parametrize("name", ["linear_regression", "article_uniform", "article_six_samples"])
def test_every_bundled_regression_set_trains(name):
    res = cmp.compare(name, optimizers=["sgd"], batch_modes=[], epochs=3, seeds=1)
    (row,) = summary_rows(res)
    assert list(row) == REGRESSION_COLUMNS
    assert row["diverged"] == "0/1"


def test_standardised_targets_use_the_training_statistics():
    raw = load_task("diabetes", seed=1)
    std = load_task("diabetes", seed=1, standardize_target=True)
    y = raw.y_train.astype(np.float64)
    np.testing.assert_allclose(std.target_mean, y.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std.target_scale, y.std(), rtol=1e-6)
    np.testing.assert_allclose(std.y_val * std.target_scale + std.target_mean, raw.y_val,
                               rtol=1e-5)  # fmt: skip
    assert load_task("iris", standardize_target=True).target_scale == 1.0  # classification
