"""The networks view's computation: training lowers the loss on every data set, runs are
reproducible, A and B start from the same weights, batch modes, divergence and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdlab.playground.data2d import DATASETS, DataSettings, make_data
from gdlab.playground.network import (
    BOUNDARY_GRID,
    ModelSettings,
    NetworkRun,
    NetworkSession,
    NetworkSettings,
)
from gdlab.playground.settings import SettingsError


def session(models=({},), steps_per_frame=3, **data):
    raw = {"data": data, "models": list(models), "steps_per_frame": steps_per_frame}
    return NetworkSession(NetworkSettings.from_json(raw))


@pytest.mark.parametrize("dataset", DATASETS)
def test_training_lowers_train_and_test_loss(dataset):
    s = session(dataset=dataset)
    before = s.frame()["runs"][0]
    s.advance(150)
    after = s.frame()["runs"][0]
    assert after["step"] == 150
    assert after["train_loss"] < 0.6 * before["train_loss"]
    assert after["test_loss"] < 0.8 * before["test_loss"]
    assert after["train_acc"] > 0.8
    assert np.shape(after["boundary"]) == (BOUNDARY_GRID, BOUNDARY_GRID)


def test_data_is_reproducible_split_and_stratified():
    settings = DataSettings("xor", 400, 0.1, 0.25, 7)
    a, b = make_data(settings), make_data(settings)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert len(a.X_test) == 100
    assert abs(a.y_test.mean() - a.y_train.mean()) < 0.01  # both parts keep the class balance
    assert a.X_train.dtype == np.float32 and a.y_train.shape == (300, 1)


def test_same_settings_give_identical_frames():
    one, two = session(), session()
    one.advance(20)
    two.advance(20)
    assert one.frame() == two.frame()


def test_a_and_b_with_equal_settings_train_identically_and_differ_when_changed():
    same = session(models=({}, {}))
    same.advance(30)
    a, b = same.frame()["runs"]
    assert a == b
    other = session(models=({}, {"optimizer": "sgd", "lr": 0.3}))
    np.testing.assert_array_equal(other.runs[0].linears[0].weight.data,
                                  other.runs[1].linears[0].weight.data)  # fmt: skip
    other.advance(30)
    a, b = other.frame()["runs"]
    assert a["train_loss"] != b["train_loss"]


@pytest.mark.parametrize(
    "mode, batch_size, steps, epochs",
    [("full", 32, 10, 10), ("mini", 125, 10, 4), ("single", 32, 400, 2)],
)
def test_batch_modes_count_epochs(mode, batch_size, steps, epochs):
    """375 training points: full batch = one epoch per step; 125 → 3 steps; 1 → 375 steps."""
    s = session(models=({"batch_mode": mode, "batch_size": batch_size},), n_samples=500)
    s.advance(steps)
    assert s.runs[0].epoch == epochs


def test_mini_batches_visit_every_point_once_per_epoch():
    s = session(models=({"batch_mode": "mini", "batch_size": 100},), n_samples=500)
    run = s.runs[0]
    seen = np.concatenate([run._next_batch() for _ in range(4)])  # 100+100+100+75
    assert sorted(seen.tolist()) == list(range(375))


def test_gradient_norms_per_layer_and_vanishing_with_deep_sigmoid():
    s = session(models=({"hidden": "8,8,8,8,8", "activation": "sigmoid", "optimizer": "sgd",
                         "lr": 0.1},))  # fmt: skip
    s.advance(1)
    norms = s.frame()["runs"][0]["grad_norms"]
    assert len(norms) == 6
    assert norms[0] < 1e-2 * norms[-1]  # the first layer's gradient has all but vanished


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "rmsprop"])
def test_huge_lr_is_reported_as_divergence_and_training_stops(optimizer):
    s = session(models=({"optimizer": optimizer, "lr": 1e9},))
    s.advance(5)
    run = s.frame()["runs"][0]
    assert run["diverged"].startswith("diverged at step 1: ")
    assert "lr 1e+09 is too large" in run["diverged"]
    assert run["step"] == 1 and s.finished


def test_penalties_and_dropout_change_the_run_and_lr_changes_live():
    plain, reg = session(), session(models=({"l2": 0.01, "dropout": 0.2},))
    plain.advance(20)
    reg.advance(20)
    assert plain.frame()["runs"][0]["train_loss"] != reg.frame()["runs"][0]["train_loss"]
    faster = NetworkSettings.from_json({"models": [{"lr": 0.1}]})
    same = plain.configure(faster)
    assert same is plain and plain.runs[0].optimizer.param_groups[0]["lr"] == 0.1
    assert plain.runs[0].step == 20
    rebuilt = plain.configure(NetworkSettings.from_json({"models": [{"hidden": "4"}]}))
    assert rebuilt is not plain and rebuilt.runs[0].step == 0


def test_a_diverged_run_starts_again_when_its_lr_is_lowered():
    s = session(models=({"optimizer": "sgd", "lr": 1e9},))
    s.advance(2)
    assert s.finished
    lowered = s.configure(NetworkSettings.from_json({"models": [{"optimizer": "sgd", "lr": 0.1}]}))
    assert lowered is not s and not lowered.finished and lowered.runs[0].step == 0


BAD = [
    ({"models": [{"hidden": [10000]}]}, "hidden layer 1 must lie in [1, 256], got 10000"),
    ({"models": [{"hidden": "8,x"}]}, "hidden layer 2 must be a number, got 'x'"),
    ({"models": [{"hidden": "1,1,1,1,1,1,1"}]}, "at most 6 hidden layers, got 7"),
    ({"models": [{"lr": "nan"}]}, "lr must be a finite number, got 'nan'"),
    ({"models": [{"lr": "1e12"}]}, "lr must lie in [1e-06, 1e+09], got 1e+12"),
    ({"models": [{"activation": "swish2"}]}, "activation must be one of"),
    ({"models": [{"optimizer": "lbfgs"}]}, "optimizer must be one of"),
    ({"models": [{"batch_mode": "half"}]}, "batch mode must be one of full, mini, single"),
    ({"models": [{"dropout": 1}]}, "dropout must lie in [0, 0.9], got 1"),
    ({"models": [{"momentum": 1}]}, "momentum must lie in [0, 1), got 1"),
    ({"models": [{"beta1": -0.1}]}, "beta1 must lie in [0, 1), got -0.1"),
    ({"models": [{"beta2": "x"}]}, "beta2 must be a number, got 'x'"),
    ({"models": [[0.1]]}, "model settings must be an object, got list"),
    ({"data": "spirals"}, "data settings must be an object, got str"),
    ({"models": [{}, {}, {}]}, "give one or two configurations"),
    ({"data": {"dataset": "mnist"}}, "dataset must be one of spirals, moons"),
    ({"data": {"n_samples": 1e6}}, "points must lie in [20, 5000], got 1000000"),
    ({"data": {"noise": -1}}, "noise must lie in [0, 1], got -1"),
    ({"steps_per_frame": 0}, "steps per frame must lie in [1, 200], got 0"),
]


@pytest.mark.parametrize("raw, message", BAD, ids=[m for _, m in BAD])
def test_bad_settings_are_refused_with_their_name_and_value(raw, message):
    with pytest.raises(SettingsError) as info:
        NetworkSettings.from_json(raw)
    assert message in str(info.value)


def test_settings_that_are_not_an_object_are_refused():
    with pytest.raises(SettingsError, match="network settings must be an object, got list"):
        NetworkSettings.from_json([])


def test_frame_is_json_ready_even_after_divergence():
    import json

    s = session(models=({"optimizer": "sgd", "lr": 1e9}, {}))
    s.advance(3)
    text = json.dumps(s.frame(), allow_nan=False)
    assert "diverged at step 1" in text
    assert json.dumps(s.data_message(), allow_nan=False)


def test_run_starts_untrained_with_nan_free_history():
    run = NetworkRun(make_data(DataSettings()), ModelSettings(), seed=0)
    assert run.step == 0 and run.diverged is None
    assert all(math.isnan(g) for g in run.grad_norms)
