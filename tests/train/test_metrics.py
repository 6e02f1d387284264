"""Metrics: the functions against scikit-learn, the streaming accumulators against the functions."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.train import metrics as M

sk = pytest.importorskip("sklearn.metrics")


def _clf(rng: np.random.Generator, n: int = 50, c: int = 4) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=(n, c)), rng.integers(0, c, size=n)


def _reg(rng: np.random.Generator, n: int = 50, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    t = rng.normal(size=(n, k))
    return t + 0.5 * rng.normal(size=(n, k)), t


FUNCTIONS = [
    ("accuracy", _clf, M.accuracy, lambda o, t: sk.accuracy_score(t, o.argmax(1))),
    (
        "top_2",
        _clf,
        lambda o, t: M.top_k_accuracy(o, t, k=2),
        lambda o, t: sk.top_k_accuracy_score(t, o, k=2, labels=np.arange(4)),
    ),
    ("mse", _reg, M.mean_squared_error, lambda o, t: sk.mean_squared_error(t, o)),
    ("mae", _reg, M.mean_absolute_error, lambda o, t: sk.mean_absolute_error(t, o)),
    ("r2", _reg, M.r2_score, lambda o, t: sk.r2_score(t, o)),
    ("r2_multi", lambda r: _reg(r, k=3), M.r2_score, lambda o, t: sk.r2_score(t, o)),
]


@pytest.mark.parametrize("name, data, ours, theirs", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_function_matches_sklearn(name, data, ours, theirs, rng):
    out, target = data(rng)
    assert ours(out, target) == pytest.approx(theirs(out, target), rel=1e-12)


def test_confusion_matrix_matches_sklearn(rng):
    out, target = _clf(rng)
    expected = sk.confusion_matrix(target, out.argmax(1), labels=np.arange(4))
    np.testing.assert_array_equal(M.confusion_matrix(out, target, num_classes=4), expected)


STREAMING = [
    (M.Accuracy, _clf, M.accuracy),
    (lambda: M.TopKAccuracy(2), _clf, lambda o, t: M.top_k_accuracy(o, t, 2)),
    (M.MSE, _reg, M.mean_squared_error),
    (M.MAE, _reg, M.mean_absolute_error),
    (M.R2, _reg, M.r2_score),
    (lambda: M.ConfusionMatrix(4), _clf, lambda o, t: M.confusion_matrix(o, t, 4)),
]


@pytest.mark.parametrize("make, data, function", STREAMING)
def test_streaming_equals_function_on_concatenation(make, data, function, rng):
    out, target = data(rng)
    metric = make()
    for i in range(0, len(out), 7):  # ragged batches
        metric.update(out[i : i + 7], target[i : i + 7])
    np.testing.assert_allclose(metric.compute(), function(out, target), rtol=1e-12)
    clone = make()
    clone.load_state_dict(metric.state_dict())
    np.testing.assert_array_equal(clone.compute(), metric.compute())
    metric.reset()
    after = np.asarray(metric.compute())
    assert np.isnan(after).all() or not after.any()


BINARY = [
    ("probabilities", np.array([0.2, 0.7, 0.6, 0.1]), 0.5),
    ("logits", np.array([-2.0, 1.5, 0.3, -0.1]), 0.5),
    ("column", np.array([[-2.0], [1.5], [0.3], [-0.1]]), 0.5),
]


@pytest.mark.parametrize("name, out, expected", BINARY, ids=[b[0] for b in BINARY])
def test_binary_accuracy_thresholds(name, out, expected):
    assert M.accuracy(out, np.array([0, 1, 0, 1])) == expected


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: M.accuracy(np.zeros((3, 2)), np.zeros(4)), r"inconsistent numbers of samples"),
        (lambda: M.top_k_accuracy(np.zeros(3), np.zeros(3)), r"expected scores of shape"),
        (lambda: M.get_metric("f1"), r"unknown metric 'f1'"),
        (lambda: M.mean_squared_error(np.zeros(3), np.zeros(2)), r"inconsistent"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_get_metric_names():
    assert M.get_metric("top_3_accuracy").k == 3
    assert isinstance(M.get_metric("acc"), M.Accuracy)
