"""DataLoader: batch / stochastic / mini-batch semantics, shuffling, resume, validation.

Invariants C23 (every sample once per epoch, batch counts, reproducible and per-epoch
different shuffles) and C24 (batch N == full batch; batch 1 == a per-sample loop) of
CHECKLIST.md, and the mid-epoch state_dict resume.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import gdlab
from gdlab.data import DataLoader, Dataset, TensorDataset, default_collate

N = 23  # not a multiple of the batch sizes below: exercises the ragged last batch


@pytest.fixture
def xy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, 3)).astype(np.float32), np.arange(N, dtype=np.int64)


def _ids(loader: DataLoader) -> list[np.ndarray]:
    """The sample ids of one epoch's batches (the second array holds 0..N-1)."""
    return [yb.data.copy() for _, yb in loader]


# ------------------------------------------------------------------ C23: one epoch
CONFIGS = [  # batch_size, shuffle, drop_last, expected number of batches
    (None, False, False, 1),
    (None, True, False, 1),
    (1, False, False, N),
    (1, True, True, N),
    (5, False, False, math.ceil(N / 5)),
    (5, True, False, math.ceil(N / 5)),
    (5, True, True, N // 5),
    (N, True, True, 1),
    (64, False, False, 1),
]


@pytest.mark.parametrize("batch_size, shuffle, drop_last, n_batches", CONFIGS)
def test_epoch_visits_every_sample_once(xy, batch_size, shuffle, drop_last, n_batches):
    loader = DataLoader(
        TensorDataset(*xy), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=0
    )
    assert len(loader) == n_batches
    for _ in range(2):
        ids = _ids(loader)
        assert len(ids) == n_batches
        seen = np.concatenate(ids)
        if drop_last:
            b = batch_size or N
            assert len(seen) == (N // b) * b and len(set(seen.tolist())) == len(seen)
        else:
            assert np.array_equal(np.sort(seen), np.arange(N))  # a permutation: each once


@pytest.mark.parametrize("batch_size, last", [(5, N % 5), (4, N % 4), (1, 1), (None, N)])
def test_last_batch_size(xy, batch_size, last):
    sizes = [len(yb) for _, yb in DataLoader(TensorDataset(*xy), batch_size=batch_size)]
    assert sizes[-1] == last and sum(sizes) == N


def test_shuffle_reproducible_from_seed_and_different_across_epochs(xy):
    a = DataLoader(TensorDataset(*xy), batch_size=4, shuffle=True, seed=7)
    b = DataLoader(TensorDataset(*xy), batch_size=4, shuffle=True, seed=7)
    c = DataLoader(TensorDataset(*xy), batch_size=4, shuffle=True, seed=8)
    epochs_a = [np.concatenate(_ids(a)) for _ in range(3)]
    epochs_b = [np.concatenate(_ids(b)) for _ in range(3)]
    for ea, eb in zip(epochs_a, epochs_b, strict=True):
        assert np.array_equal(ea, eb)
    assert not np.array_equal(epochs_a[0], epochs_a[1])
    assert not np.array_equal(epochs_a[0], np.concatenate(_ids(c)))


def test_epoch_order_does_not_depend_on_history(xy):
    fresh = DataLoader(TensorDataset(*xy), batch_size=4, shuffle=True, seed=3)
    fresh.set_epoch(5)
    walked = DataLoader(TensorDataset(*xy), batch_size=4, shuffle=True, seed=3)
    for _ in range(5):
        _ids(walked)
    assert walked.epoch == 5
    assert np.array_equal(np.concatenate(_ids(fresh)), np.concatenate(_ids(walked)))


def test_generator_and_manual_seed_reproducible(xy):
    gdlab.manual_seed(0)
    a = DataLoader(TensorDataset(*xy), shuffle=True, batch_size=4)
    gdlab.manual_seed(0)
    b = DataLoader(TensorDataset(*xy), shuffle=True, batch_size=4)
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    c = DataLoader(TensorDataset(*xy), shuffle=True, batch_size=4, generator=g1)
    d = DataLoader(TensorDataset(*xy), shuffle=True, batch_size=4, generator=g2)
    assert a.seed == b.seed and c.seed == d.seed
    assert np.array_equal(np.concatenate(_ids(c)), np.concatenate(_ids(d)))


def test_attributes_epoch_and_samples_seen(xy):
    loader = DataLoader(TensorDataset(*xy), batch_size=5)
    for _ in loader:
        pass
    _ids(loader)
    assert loader.epoch == 2 and loader.samples_seen == 2 * N


# ------------------------------------------------------------------ fast path
def test_fast_path_dtype_views_and_no_collate(xy):
    X, y = xy
    loader = DataLoader(TensorDataset(X, y), batch_size=8)
    xb, yb = next(iter(loader))
    assert isinstance(xb, gdlab.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
    assert np.shares_memory(xb.data, X)  # unshuffled batches are slice views, not copies
    with pytest.raises(ValueError):
        xb.data[0, 0] = 1.0  # read-only: editing a batch must not corrupt the data set
    xb, _ = next(iter(DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, seed=0)))
    assert not np.shares_memory(xb.data, X) and xb.dtype == np.float32


class _Squares(Dataset):
    def __len__(self) -> int:
        return 7

    def __getitem__(self, i: int):
        return np.array([i, i], dtype=np.float32), i * i


def test_generic_dataset_is_collated():
    batches = list(DataLoader(_Squares(), batch_size=3))
    xb, yb = batches[0]
    assert [len(b[1]) for b in batches] == [3, 3, 1]
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    assert yb.data.tolist() == [0, 1, 4]


def test_collate_fn_and_default_collate_dict():
    loader = DataLoader(_Squares(), batch_size=2, collate_fn=lambda s: len(s))
    assert list(loader) == [2, 2, 2, 1]
    out = default_collate([{"a": 1.0}, {"a": 2.0}])
    assert out["a"].dtype == np.float64  # Python floats -> float64, as torch


def test_no_copy_of_the_dataset_per_epoch(xy):
    X, y = xy
    ds = TensorDataset(X, y)
    assert ds.arrays[0] is X  # the data set keeps the caller's arrays
    loader = DataLoader(ds, batch_size=None)
    (xb, _), = list(loader)  # fmt: skip
    assert np.shares_memory(xb.data, X)  # the full batch is a view, not a copy


# ------------------------------------------------------------------ C24
def _grad(w: gdlab.Tensor, xb: gdlab.Tensor, yb: gdlab.Tensor) -> np.ndarray:
    w.grad = None
    ((xb @ w - yb) ** 2).mean().backward()
    return w.grad.data.copy()


@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_n_equals_full_batch_gradient(shuffle):
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(20, 4)), rng.normal(size=(20, 1))
    w = gdlab.tensor(rng.normal(size=(4, 1)), requires_grad=True)
    full = _grad(w, gdlab.tensor(X), gdlab.tensor(Y))
    for batch_size in (None, 20):
        (xb, yb), = DataLoader(TensorDataset(X, Y), batch_size=batch_size, shuffle=shuffle, seed=0)  # fmt: skip  # noqa: E501
        np.testing.assert_allclose(_grad(w, xb, yb), full, rtol=1e-12, atol=1e-14)


def test_batch_one_equals_per_sample_loop():
    """Article 003: per-sample updates on the six-sample regression (SGD form of the loop)."""
    X = np.array([(1, 1, 1), (1, 2, 1), (2, 2, 1), (3, 1, 1), (1, 3, 1), (2, 4, 1)], float)
    Y = np.array([6, 8, 9, 8, 10, 13], float).reshape(-1, 1)
    lr = 0.01
    w_ref = np.zeros((3, 1))
    for _ in range(3):
        for x_i, y_i in zip(X, Y, strict=True):
            grad = 2 * x_i[:, None] * (x_i @ w_ref - y_i)
            w_ref -= lr * grad
    w = gdlab.tensor(np.zeros((3, 1)), requires_grad=True)
    loader = DataLoader(TensorDataset(X, Y), batch_size=1)
    for _ in range(3):
        for xb, yb in loader:
            g = _grad(w, xb, yb)
            w.data -= lr * g
    np.testing.assert_allclose(w.data, w_ref, rtol=1e-12)


# ------------------------------------------------------------------ resume
@pytest.mark.parametrize("stop_after", [0, 1, 4, 5, 6, 11])  # 5 batches per epoch
@pytest.mark.parametrize("shuffle", [False, True])
def test_state_dict_resume_mid_epoch(xy, stop_after, shuffle):
    def make() -> DataLoader:
        return DataLoader(TensorDataset(*xy), batch_size=5, shuffle=shuffle, seed=11)

    reference = make()
    stream = [yb.data.copy() for _ in range(4) for _, yb in reference]
    interrupted = make()
    taken, state = 0, interrupted.state_dict()
    while taken < stop_after:
        for _, yb in interrupted:
            assert np.array_equal(yb.data, stream[taken])
            taken += 1
            if taken == stop_after:
                state = json.loads(json.dumps(interrupted.state_dict()))  # JSON-safe
                break
    resumed = DataLoader(TensorDataset(*xy), batch_size=5, shuffle=shuffle, seed=999)
    resumed.load_state_dict(state)  # also restores the shuffle seed
    rest = []
    while len(rest) < len(stream) - stop_after:
        rest.extend(yb.data.copy() for _, yb in resumed)
    for got, want in zip(rest, stream[stop_after:], strict=True):
        assert np.array_equal(got, want)
    assert resumed.samples_seen == reference.samples_seen


def test_break_then_iterate_starts_a_new_epoch(xy):
    loader = DataLoader(TensorDataset(*xy), batch_size=5)
    for _ in loader:
        break
    assert loader.state_dict()["cursor"] == 1
    assert len(list(loader)) == 5 and loader.epoch == 2


@pytest.mark.parametrize("shuffle", [False, True])
def test_iterators_are_independent_passes(xy, shuffle):
    """torch: ``a = iter(dl); b = iter(dl)`` each start at the first batch of their own pass."""
    loader = DataLoader(TensorDataset(*xy), batch_size=5, shuffle=shuffle, seed=2)
    a, b = iter(loader), iter(loader)
    first_a, first_b, second_a = next(a)[1].data, next(b)[1].data, next(a)[1].data
    assert np.array_equal(first_a, loader.batch_indices(0)[0])
    assert np.array_equal(first_b, loader.batch_indices(1)[0])
    assert np.array_equal(second_a, loader.batch_indices(0)[1])
    assert np.array_equal(first_a, first_b) == (not shuffle)


def test_nested_loop_over_the_same_loader_ends(xy):
    """d2l's ``train_ch11`` evaluates on the loader it is training from, inside the loop."""
    loader = DataLoader(TensorDataset(*xy), batch_size=5)
    outer = inner = 0
    for _ in loader:
        outer += 1
        inner += sum(1 for _ in loader)
    assert (outer, inner) == (5, 25) and loader.samples_seen == 6 * N


@pytest.mark.parametrize(
    "key, value, msg",
    [
        ("batch_size", 4, "saved batch_size=4 does not match"),
        ("num_samples", 10, "saved num_samples=10"),
        ("shuffle", False, "saved shuffle=False"),
        ("cursor", 99, "cursor 99 not in [0, 5]"),
    ],
)
def test_load_state_dict_mismatch(xy, key, value, msg):
    loader = DataLoader(TensorDataset(*xy), batch_size=5, shuffle=True, seed=0)
    state = {**loader.state_dict(), key: value}
    with pytest.raises(ValueError, match=re.escape(msg)):
        loader.load_state_dict(state)


# ------------------------------------------------------------------ validation
BAD = [
    (dict(batch_size=0), ValueError, "batch_size=0"),
    (dict(batch_size=-1), ValueError, "batch_size=-1"),
    (dict(batch_size=2.5), TypeError, "batch_size=2.5"),
    (dict(batch_size=True), TypeError, "batch_size=True"),
    (dict(batch_size="4"), TypeError, "batch_size='4'"),
    (dict(batch_size=64, drop_last=True), ValueError, "leaves no batch"),
    (dict(shuffle="yes"), TypeError, "shuffle"),
    (dict(shuffle=True, seed=1, generator=np.random.default_rng()), ValueError, "not both"),
    (dict(shuffle=True, seed=-1), ValueError, "seed must be a non-negative int, got -1"),
    (dict(shuffle=True, seed=1.5), TypeError, "seed must be a non-negative int, got 1.5"),
]


@pytest.mark.parametrize("kwargs, exc, msg", BAD)
def test_bad_arguments(xy, kwargs, exc, msg):
    with pytest.raises(exc, match=re.escape(msg)):
        DataLoader(TensorDataset(*xy), **kwargs)


def test_empty_dataset():
    msg = "Found array with 0 sample(s) (shape=(0, 8)) while a minimum of 1 is required."
    with pytest.raises(ValueError, match=re.escape(msg)):
        DataLoader(TensorDataset(np.zeros((0, 8)), np.zeros(0)))


def test_tensor_dataset_inconsistent_lengths():
    msg = "Found input variables with inconsistent numbers of samples: [100, 99]"
    with pytest.raises(ValueError, match=re.escape(msg)):
        TensorDataset(np.zeros((100, 8)), np.zeros(99))


@pytest.mark.parametrize("bad", [[[1.0, 2.0], [3.0]], 5.0])
def test_tensor_dataset_bad_inputs(bad):
    with pytest.raises(ValueError, match="TensorDataset"):
        TensorDataset(bad)


def test_tensor_dataset_accepts_tensors_and_lists():
    ds = TensorDataset(gdlab.tensor([[1.0, 2.0], [3.0, 4.0]]), [0, 1])
    x0, y0 = ds[0]
    assert x0.dtype == np.float32 and y0.dtype == np.int64 and len(ds) == 2
    assert isinstance(ds, Dataset)
