"""datasets.load / available, the generated problems, scikit-learn's sets and user files."""

# ruff: noqa: NPY002 -- these tests check that the legacy global random state is left alone

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from gdlab import datasets
from gdlab.datasets import bundled

OFFLINE = [
    "article_uniform", "article_six_samples", "article_three_inputs", "moons", "circles",
    "spirals", "linear_regression", "digits", "iris", "wine", "breast_cancer", "diabetes",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("GDLAB_DATA", str(tmp_path))  # never write into the user's ~/.cache
    np_state, py_state = np.random.get_state(), random.getstate()
    yield
    np.random.set_state(np_state)  # these tests seed the global state: give it back
    random.setstate(py_state)


def test_available_lists_every_set_with_a_description():
    names = datasets.available()
    for name in [*OFFLINE, "mnist1d", "mnist", "fashion_mnist", "kmnist", "cifar10"]:
        assert name in names and names[name] and "\n" not in names[name]


def test_unknown_name_lists_available():
    with pytest.raises(ValueError, match=r"Unknown dataset 'mnist2d'\. Available: .*mnist1d"):
        datasets.load("mnist2d")


@pytest.mark.parametrize("name", OFFLINE)
def test_offline_sets_are_consistent_and_keep_global_random_state(name):
    np.random.seed(1234)
    random.seed(99)
    np_state, py_state = np.random.get_state()[1].copy(), random.getstate()
    ds = datasets.load(name, seed=0)  # every loader accepts seed=
    assert np.array_equal(np.random.get_state()[1], np_state) and random.getstate() == py_state
    assert ds.task in ("classification", "regression")
    for split in ("train", "val", "test"):
        X, y = getattr(ds, f"X_{split}"), getattr(ds, f"y_{split}")
        if X is None:
            continue
        assert len(X) == len(y) and np.isfinite(X).all()
        if ds.task == "regression":
            assert y.ndim == 2 and y.dtype.kind == "f"
    if ds.task == "classification" and ds.y_train.dtype.kind == "i":
        assert ds.n_classes == len(ds.target_names) == ds.y_train.max() + 1
    assert ds.feature_names is None or len(ds.feature_names) == ds.n_features


@pytest.mark.parametrize("name", ["moons", "spirals", "digits", "linear_regression"])
def test_same_seed_same_data_different_seed_different(name):
    a, b, c = (datasets.load(name, seed=s) for s in (0, 0, 1))
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)


def test_article_problems_exact():
    six = datasets.load("article_six_samples")
    assert six.X_train.tolist() == [
        [1, 1, 1],
        [1, 2, 1],
        [2, 2, 1],
        [3, 1, 1],
        [1, 3, 1],
        [2, 4, 1],
    ]
    assert six.y_train.ravel().tolist() == [6, 8, 9, 8, 10, 13] and six.X_train.dtype == np.float64
    uni = datasets.load("article_uniform")
    assert uni.X_train.shape == (100, 8) and uni.y_train.shape == (100, 1)
    assert uni.X_train.dtype == np.float64 and uni.X_test is None
    assert 0 <= uni.X_train.min() and uni.X_train.max() < 1
    assert 0 <= uni.y_train.min() and uni.y_train.max() < 5
    three = datasets.load("article_three_inputs", n_samples=400)
    assert three.X_train.shape[1] == 3 and abs(three.y_train.mean() - 0.5) < 0.1


def test_sklearn_split_is_stratified_and_deterministic():
    ds = datasets.load("digits", seed=0, val_size=0.1)
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert len(ds.X_train) + len(ds.X_val) + len(ds.X_test) == 1797
    full = np.bincount(np.r_[ds.y_train, ds.y_val, ds.y_test]) / 1797
    np.testing.assert_allclose(np.bincount(ds.y_test) / len(ds.y_test), full, atol=0.01)
    assert datasets.load("diabetes").y_train.shape[1] == 1


def test_sklearn_missing_gives_install_hint(monkeypatch):
    def fail(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(bundled.importlib, "import_module", fail)
    with pytest.raises(ImportError, match=re.escape("pip install 'gdlab[data]'")):
        datasets.load("iris")


def test_bunch_dataset_and_repr():
    ds = datasets.load("moons", n_samples=40)
    assert len(ds.dataset("train")) == 30 and len(ds.dataset("test")) == 10
    with pytest.raises(ValueError, match="has no val split"):
        ds.dataset("val")
    assert "train=(30, 2)" in repr(ds)


# ------------------------------------------------------------------ user data
def test_from_arrays_encodes_labels_and_validates():
    X = np.arange(40.0).reshape(20, 2)
    ds = datasets.from_arrays(X, np.array(["cat", "dog"] * 10), test_size=0.5)
    assert ds.target_names == ["cat", "dog"] and ds.task == "classification"
    assert np.bincount(ds.y_test).tolist() == [5, 5]
    reg = datasets.from_arrays(X, np.linspace(0, 1, 20))
    assert reg.task == "regression" and reg.y_train.shape == (15, 1)
    with pytest.raises(ValueError, match=re.escape("[20, 19]")):
        datasets.from_arrays(X, np.arange(19.0))
    with pytest.raises(ValueError, match="Expected 2D array"):
        datasets.from_arrays(np.arange(20.0), np.arange(20.0))


def test_from_csv(tmp_path):
    path = tmp_path / "flowers.csv"
    rows = [f"{i * 0.5},{i % 3 + 0.25},{'ab'[i % 2]}" for i in range(20)]
    path.write_text("length,width,kind\n" + "\n".join(rows) + "\n")
    ds = datasets.from_csv(path, target="kind", test_size=0.2)
    assert ds.feature_names == ["length", "width"] and ds.target_names == ["a", "b"]
    assert ds.X_train.shape == (16, 2) and ds.X_train.dtype == np.float32
    noheader = tmp_path / "plain.csv"
    noheader.write_text("\n".join(f"{i},{2 * i + 0.5}" for i in range(10)))
    reg = datasets.from_csv(noheader, test_size=0, dtype="float64")
    assert reg.task == "regression" and reg.X_train.dtype == np.float64
    labelled = tmp_path / "labelled.tsv"  # no header, string labels in the first row
    labelled.write_text("\n".join(f"{i}\t{i % 4}\t{'xy'[i % 2]}" for i in range(12)))
    cls = datasets.from_csv(labelled, delimiter="\t", test_size=0)
    assert len(cls.X_train) == 12 and cls.target_names == ["x", "y"]


@pytest.mark.parametrize(
    "text, target, msg",
    [
        ("a,b\n1,2\n3,x\n", 0, "data row 2, column 'b': could not convert 'x' to float"),
        ("a,b,y\n1,,0\n2,3,1\n", -1, "bad.csv, data row 1, column 'b': empty cell (a missing"),
        ("a,y\n1,0\n2\n", -1, "data row 2 has 1 fields, expected 2 (line 3)"),
        ("a,y\n1,0\n", "z", "target column 'z' not in"),
        # issue 14.10: NaN/inf cells, non-UTF-8 bytes and ragged rows name file, row, column
        ("a,b,y\n1,2,0\n3,nan,1\n", -1, "bad.csv, data row 2, column 'b': 'nan' is not a finite"),
        ("a,b,y\n1,-inf,0\n", -1, "data row 1, column 'b': '-inf' is not a finite number (line 2)"),
        ("a,y\n1,0\n2,inf\n", -1, "bad.csv, data row 2, column 'y': 'inf' is not a finite"),
        ("a,y\n1,0\n2,\n", -1, "data row 2, column 'y': empty cell"),
        (
            b"a,y\n1,0\n2\xff,1\n",
            -1,
            "bad.csv, line 3, byte 2 in the line: b'\\xff,1\\n' is not UTF-8",
        ),
        ("a,y\n1,0\n2,1,5\n", -1, "bad.csv, data row 2 has 3 fields, expected 2 (line 3)"),
        ("", -1, "bad.csv is empty"),
    ],
)
def test_from_csv_errors(tmp_path, text, target, msg):
    path = tmp_path / "bad.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ValueError, match=re.escape(msg)):
        datasets.from_csv(path, target=target, test_size=0)


def test_from_csv_streams_into_one_array(tmp_path):
    # issue 14.10: a 73 MB CSV needed 800 MB (every cell kept as a Python string first)
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 10))
    path = tmp_path / "big.csv"
    np.savetxt(path, np.column_stack([X, rng.integers(0, 3, len(X))]), delimiter=",", fmt="%.17g")
    tracemalloc.start()
    try:
        ds = datasets.from_csv(path, test_size=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(np.sort(ds.X_train, axis=0), np.sort(X.astype(np.float32), 0))
    assert peak < 2.5 * path.stat().st_size, (peak, path.stat().st_size)  # was 5.7x
