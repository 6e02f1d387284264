"""Input validation (scikit-learn's messages), splits, scalers and one-hot encoding."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gdlab
from gdlab.data import (
    MinMaxScaler,
    NotFittedError,
    StandardScaler,
    check_array,
    check_X_y,
    one_hot,
    train_test_split,
    train_val_test_split,
)

RESHAPE = (
    "Reshape your data either using array.reshape(-1, 1) if your data has a single feature or "
    "array.reshape(1, -1) if it contains a single sample."
)

# ------------------------------------------------------------------ check_array
BAD_X = [
    (np.zeros((0, 8)), {}, "Found array with 0 sample(s) (shape=(0, 8)) while a minimum of 1 is required."),  # noqa: E501
    (np.zeros((3, 0)), {}, "Found array with 0 feature(s) (shape=(3, 0)) while a minimum of 1 is required."),  # noqa: E501
    ([[1.0, np.nan]], {}, "Input X contains NaN."),
    ([[1.0, np.inf]], {}, "Input X contains infinity or a value too large for dtype('float32')."),
    ([[1e300, 0.0]], {}, "Input X contains infinity or a value too large for dtype('float32')."),
    ([[1.0, -np.inf]], {"dtype": "float64"}, "Input X contains infinity or a value too large for dtype('float64')."),  # noqa: E501
    (np.arange(3.0), {}, "Expected 2D array, got 1D array instead:\narray=[0. 1. 2.]."),
    (np.arange(3.0), {}, RESHAPE),
    (np.float64(2.0), {}, "Expected 2D array, got scalar array instead"),
    (np.zeros((2, 2, 2)), {}, "Found array with dim 3. check_array expected <= 2."),
    ([[1.0, 2.0], [3.0]], {}, "ragged lists"),
    ([["a", "b"]], {}, "X must be numeric"),
]  # fmt: skip


@pytest.mark.parametrize("X, kwargs, msg", BAD_X)
def test_check_array_rejects(X, kwargs, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        check_array(X, **kwargs)


@pytest.mark.parametrize(
    "X, kwargs, dtype",
    [
        ([[1, 2]], {}, np.float32),  # default policy: float32
        (np.ones((2, 2)), {}, np.float32),
        (np.ones((2, 2)), {"dtype": "float64"}, np.float64),
        (np.ones((2, 2), np.int32), {"dtype": None}, np.int32),
        (np.ones((2, 2, 2)), {"allow_nd": True}, np.float32),
        (gdlab.tensor([[1.0]]), {}, np.float32),
    ],
)
def test_check_array_dtype_policy(X, kwargs, dtype):
    assert check_array(X, **kwargs).dtype == dtype


def test_check_array_does_not_copy_when_not_needed():
    X = np.ones((3, 2), np.float32)
    assert check_array(X) is X
    assert check_array(X, copy=True) is not X


@pytest.mark.parametrize(
    "X, y, msg",
    [
        (np.zeros((100, 2)), np.zeros(99), "Found input variables with inconsistent numbers of samples: [100, 99]"),  # noqa: E501
        (np.zeros((2, 2)), [0.0, np.nan], "Input y contains NaN."),
        (np.zeros((2, 2)), [0.0, np.inf], "Input y contains infinity"),
        (np.zeros((2, 2)), None, "requires y to be passed"),
    ],
)  # fmt: skip
def test_check_X_y_rejects(X, y, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        check_X_y(X, y)


def test_check_X_y_label_and_target_dtypes():
    _, y = check_X_y(np.zeros((3, 2)), np.array([0, 1, 2], np.int32))
    assert y.dtype == np.int64
    _, y = check_X_y(np.zeros((3, 2)), np.zeros((3, 1)))
    assert y.dtype == np.float32 and y.shape == (3, 1)  # (n, 1) regression targets stay 2-D
    _, y = check_X_y(np.zeros((3, 2)), np.zeros(3), dtype="float64")
    assert y.dtype == np.float64


# ------------------------------------------------------------------ splits
def test_train_test_split_sizes_and_alignment():
    X, y = np.arange(40).reshape(20, 2), np.arange(20)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, seed=0)
    assert len(X_te) == 5 and len(X_tr) == 15
    assert np.array_equal(X_tr[:, 0] // 2, y_tr) and np.array_equal(X_te[:, 0] // 2, y_te)
    assert sorted(np.r_[y_tr, y_te].tolist()) == list(range(20))
    again = train_test_split(X, y, test_size=0.25, seed=0)
    assert np.array_equal(again[3], y_te)
    other = train_test_split(X, y, test_size=0.25, seed=1)
    assert not np.array_equal(other[3], y_te)


def test_stratified_split_keeps_proportions():
    y = np.r_[np.zeros(60, int), np.ones(30, int), np.full(10, 2)]
    _, y_te = train_test_split(y, test_size=0.2, seed=3, stratify=y)
    assert np.bincount(y_te).tolist() == [12, 6, 2]


def test_train_val_test_split():
    y = np.repeat(np.arange(4), 25)
    tr, va, te = train_val_test_split(y, val_size=0.2, test_size=0.2, seed=0, stratify=y)
    assert (len(tr), len(va), len(te)) == (60, 20, 20)
    assert np.bincount(va).tolist() == [5] * 4 and np.bincount(te).tolist() == [5] * 4
    assert len(set(tr) | set(va) | set(te)) == 4
    ids = np.arange(100)
    tr, va, te = train_val_test_split(ids, val_size=10, test_size=0.3, seed=1)
    assert sorted(np.r_[tr, va, te].tolist()) == list(range(100)) and len(va) == 10


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        (dict(test_size=1.5), "test_size=1.5 should be either positive and smaller than the number of samples 10"),  # noqa: E501
        (dict(test_size=10), "test_size=10 should be"),
        (dict(test_size=2, stratify=[0] * 5 + [1] * 4 + [2]), "The least populated class in y has only 1 member"),  # noqa: E501
        (dict(test_size=2, stratify=[0, 1, 2] * 3 + [0]), "The test_size = 2 should be greater or equal to the number of classes = 3"),  # noqa: E501
    ],
)  # fmt: skip
def test_split_validation(kwargs, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        train_test_split(np.arange(10), **kwargs)


def test_split_inconsistent_lengths():
    with pytest.raises(ValueError, match=re.escape("[10, 9]")):
        train_test_split(np.arange(10), np.arange(9))


# ------------------------------------------------------------------ scalers
def test_standard_scaler_fits_train_only_and_matches_sklearn():
    sklearn = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(0)
    X_tr, X_te = rng.normal(3, 2, size=(50, 4)), rng.normal(3, 2, size=(10, 4))
    X_tr[:, 2] = 7.0  # zero variance: scale 1, no NaN
    ours = StandardScaler().fit(X_tr)
    ref = sklearn.StandardScaler().fit(X_tr)
    np.testing.assert_allclose(ours.transform(X_te), ref.transform(X_te), rtol=1e-12)
    np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X_te)), X_te, rtol=1e-12)
    assert ours.transform(X_tr.astype(np.float32)).dtype == np.float32


def test_minmax_scaler_matches_sklearn():
    sklearn = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(1)
    X_tr, X_te = rng.uniform(-5, 5, size=(30, 3)), rng.uniform(-6, 6, size=(8, 3))
    X_tr[:, 1] = 1.0
    for kw in (dict(), dict(feature_range=(-1, 1), clip=True)):
        ours, ref = MinMaxScaler(**kw).fit(X_tr), sklearn.MinMaxScaler(**kw).fit(X_tr)
        np.testing.assert_allclose(ours.transform(X_te), ref.transform(X_te), rtol=1e-12)
    back = MinMaxScaler().fit(X_tr)
    np.testing.assert_allclose(back.inverse_transform(back.transform(X_te)), X_te, rtol=1e-12)


@pytest.mark.parametrize(
    "call, exc, msg",
    [
        (lambda: StandardScaler().transform(np.ones((2, 2))), NotFittedError, "This StandardScaler instance is not fitted yet."),  # noqa: E501
        (lambda: StandardScaler().fit(np.ones((3, 4))).transform(np.ones((2, 3))), ValueError, "X has 3 features, but StandardScaler is expecting 4 features as input."),  # noqa: E501
        (lambda: MinMaxScaler((1, 0)).fit(np.ones((2, 2))), ValueError, "Minimum of desired feature range must be smaller than maximum."),  # noqa: E501
        (lambda: StandardScaler().fit(np.array([[np.nan]])), ValueError, "Input X contains NaN."),
    ],
)  # fmt: skip
def test_scaler_errors(call, exc, msg):
    with pytest.raises(exc, match=re.escape(msg)):
        call()


# ------------------------------------------------------------------ one_hot
def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    labels = np.array([[0, 3], [2, 1]])
    want = torch.nn.functional.one_hot(torch.from_numpy(labels), 5).numpy()
    got = one_hot(labels, 5)
    assert np.array_equal(got, want) and got.dtype == np.int64
    assert one_hot(np.array([0, 2])).shape == (2, 3)
    assert isinstance(one_hot(gdlab.tensor([1, 0]), 2), gdlab.Tensor)
    assert one_hot(np.array([1]), 2, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(
    "labels, num_classes, exc, msg",
    [
        (np.array([-1, 0]), 2, ValueError, "Class values must be non-negative."),
        (np.array([0, 2]), 2, ValueError, "Class values must be smaller than num_classes."),
        (np.array([0.0, 1.0]), 2, TypeError, "one_hot is only applicable to index tensor"),
        (np.array([0, 1]), 0, ValueError, "num_classes"),
    ],
)
def test_one_hot_errors(labels, num_classes, exc, msg):
    with pytest.raises(exc, match=re.escape(msg)):
        one_hot(labels, num_classes)


# ------------------------------------------------- Subset, ConcatDataset, random_split
def test_subset_and_concat_index_like_torch():
    pytest.importorskip("torch")
    from torch.utils import data as tdata

    from gdlab.data import ConcatDataset, Subset

    base = list(range(10, 20))
    for ours, theirs in (
        (Subset(base, [3, 0, 7]), tdata.Subset(base, [3, 0, 7])),
        (ConcatDataset([base[:3], base[3:]]), tdata.ConcatDataset([base[:3], base[3:]])),
    ):
        assert len(ours) == len(theirs)
        assert [ours[i] for i in range(-len(ours), len(ours))] == [
            theirs[i] for i in range(-len(theirs), len(theirs))
        ]
    assert ConcatDataset([base[:3], base[3:]]).cumulative_sizes == [3, 10]
    with pytest.raises(ValueError, match="absolute value of index"):
        ConcatDataset([base])[-11]
    with pytest.raises(ValueError, match="empty iterable"):
        ConcatDataset([])


@pytest.mark.parametrize(
    "n, lengths, sizes",
    [(10, [3, 7], [3, 7]), (10, [0.5, 0.3, 0.2], [5, 3, 2]), (11, [0.5, 0.5], [6, 5]),
     (7, [1 / 3, 1 / 3, 1 / 3], [3, 2, 2])],
)  # fmt: skip
def test_random_split_sizes_match_torch_and_partition(n, lengths, sizes):
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata

    from gdlab.data import random_split

    parts = random_split(range(n), lengths, generator=0)
    theirs = tdata.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [len(p) for p in theirs] == sizes
    assert sorted(i for p in parts for i in p) == list(range(n))
    again = random_split(range(n), lengths, generator=0)
    assert [list(p) for p in parts] == [list(p) for p in again]


@pytest.mark.parametrize(
    "lengths, msg",
    [([3, 3], "Sum of input lengths does not equal"), ([0.5, -0.5, 1.0], "not in \\[0, 1\\]"),
     ([2.5, 7.5], "non-negative ints")],
)  # fmt: skip
def test_random_split_bad_lengths(lengths, msg):
    from gdlab.data import random_split

    with pytest.raises(ValueError, match=msg):
        random_split(range(10), lengths, generator=0)


def test_subset_through_the_loader_and_utils_path():
    from gdlab.data import DataLoader, TensorDataset
    from gdlab.utils.data import Subset

    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    sub = Subset(TensorDataset(X), [5, 1, 3])
    (xb,) = next(iter(DataLoader(sub, batch_size=3)))
    assert xb.data.tolist() == X[[5, 1, 3]].tolist()
