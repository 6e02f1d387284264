"""MNIST-1D: generated offline, equal to the mnist1d package's data, cached, global RNG intact."""

# ruff: noqa: NPY002 -- these tests check that the legacy global random state is left alone

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from gdlab import datasets
from gdlab.datasets import mnist1d as mnist1d_module

pytest.importorskip("mnist1d")


@pytest.fixture(autouse=True)
def _keep_global_random_state():
    np_state, py_state = np.random.get_state(), random.getstate()
    yield
    np.random.set_state(np_state)  # make_dataset and the tests below reseed the global state
    random.setstate(py_state)


@pytest.fixture(scope="session")
def mnist1d_cache(tmp_path_factory) -> Path:
    """Generate once per session (about 1-2 s) into a temporary cache directory."""
    folder = tmp_path_factory.mktemp("gdlab_data")
    datasets.load("mnist1d", data_dir=folder)
    return folder


def test_shapes_split_and_dtypes(mnist1d_cache):
    ds = datasets.load("mnist1d", data_dir=mnist1d_cache)
    assert ds.X_train.shape == (4000, 40) and ds.X_test.shape == (1000, 40)
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.n_classes == 10 and set(np.unique(ds.y_test)) == set(range(10))
    val = datasets.load("mnist1d", data_dir=mnist1d_cache, val_size=0.1, seed=3)
    assert (len(val.X_train), len(val.X_val), len(val.X_test)) == (3600, 400, 1000)
    assert np.array_equal(val.X_test, ds.X_test)  # seed splits; it never changes the data


def test_equals_the_packages_make_dataset(mnist1d_cache):
    from mnist1d.data import get_dataset_args, make_dataset

    ref = make_dataset(get_dataset_args())  # reseeds the global state: this test restores it
    ds = datasets.load("mnist1d", data_dir=mnist1d_cache, dtype=np.float64)
    assert np.array_equal(ds.X_train, ref["x"]) and np.array_equal(ds.y_test, ref["y_test"])


def test_global_random_state_untouched(tmp_path):
    """C27: generating MNIST-1D (which calls np.random.seed and random.seed) leaves the
    caller's global NumPy and Python random states as they were."""
    np.random.seed(2024)
    random.seed(7)
    np_before, py_before = np.random.get_state(), random.getstate()
    datasets.load("mnist1d", data_dir=tmp_path, num_samples=200, cache=False)
    np_after = np.random.get_state()
    assert np_before[0] == np_after[0] and np.array_equal(np_before[1], np_after[1])
    assert np_before[2:] == np_after[2:] and random.getstate() == py_before


def test_cache_is_npz_reused_and_regenerated_when_corrupt(mnist1d_cache, monkeypatch):
    files = list((mnist1d_cache / "mnist1d").glob("*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as z:  # loads without pickle
        assert z["x"].shape == (4000, 40)
    calls = []
    real = mnist1d_module._generate
    monkeypatch.setattr(mnist1d_module, "_generate", lambda o: calls.append(o) or real(o))
    datasets.load("mnist1d", data_dir=mnist1d_cache)
    assert calls == []  # served from the cache
    corrupt = mnist1d_cache / "corrupt"
    target = corrupt / "mnist1d" / files[0].name
    target.parent.mkdir(parents=True)
    target.write_bytes(b"PK\x03\x04 not a zip")
    ds = datasets.load("mnist1d", data_dir=corrupt)
    assert len(calls) == 1 and ds.X_train.shape == (4000, 40)
    assert not list(target.parent.glob("*.part"))  # atomic write left no temporary file


def test_different_arguments_get_their_own_cache(tmp_path):
    a = datasets.load("mnist1d", data_dir=tmp_path, num_samples=100, train_split=0.5)
    b = datasets.load("mnist1d", data_dir=tmp_path, num_samples=100, train_split=0.5, data_seed=1)
    assert a.X_train.shape == (50, 40) and not np.array_equal(a.X_train, b.X_train)
    assert len(list((tmp_path / "mnist1d").glob("*.npz"))) == 2
    with pytest.raises(ValueError, match="unknown generation argument 'bogus'"):
        datasets.load("mnist1d", data_dir=tmp_path, bogus=1)


def test_an_altered_cache_fails_its_sha256_and_is_regenerated(mnist1d_cache, tmp_path):
    # issue 14.15: the cache was not hashed: a valid .npz with other numbers was served
    original = next((mnist1d_cache / "mnist1d").glob("*.npz"))
    with np.load(original, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    assert set(arrays) == {"x", "y", "x_test", "y_test", "t", "sha256"}
    arrays["x"] = arrays["x"] * 2  # still a valid file, same stored digest
    target = tmp_path / "mnist1d" / original.name
    target.parent.mkdir()
    np.savez(target, **arrays)
    ds = datasets.load("mnist1d", data_dir=tmp_path, dtype=np.float64)
    fresh = datasets.load("mnist1d", data_dir=mnist1d_cache, dtype=np.float64)
    assert np.array_equal(ds.X_train, fresh.X_train)
    with np.load(target, allow_pickle=False) as z:  # rewritten with the right arrays
        assert np.array_equal(z["x"], arrays["x"] / 2)
