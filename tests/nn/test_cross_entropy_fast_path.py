"""cross_entropy's class-index fast path (gather, softmax reused by the VJP): bit-identical
to the general one-hot path, against torch, and its dispatch edges (in-range ignore_index,
unsigned and int32 targets, out-of-range targets, a second backward with retain_graph)."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab.nn import _loss_functional as L
from gdlab.ops import nn_ops

torch = pytest.importorskip("torch")


def _logits(n: int, c: int, dtype=np.float64, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((n, c)) * 3).astype(dtype)


def _grad(z: np.ndarray, t, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    x = gdlab.tensor(z, requires_grad=True)
    loss = gdlab.nn.functional.cross_entropy(x, t, **kwargs)
    loss.sum().backward() if loss.ndim else loss.backward()
    return loss.data, x.grad


def _torch(z: np.ndarray, t: np.ndarray, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    x = torch.tensor(z, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(x, torch.as_tensor(t.astype(np.int64)), **kwargs)
    loss.sum().backward()
    return loss.detach().numpy(), x.grad.numpy()


CASES = [  # (id, target dtype, kwargs)
    ("mean", np.int64, {}),
    ("sum", np.int64, {"reduction": "sum"}),
    ("none", np.int64, {"reduction": "none"}),
    ("int32", np.int32, {}),
    ("uint8", np.uint8, {}),
    ("ignore_index_is_a_class_unused", np.int64, {"ignore_index": 3}),
]


@pytest.mark.parametrize("dtype, kwargs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fast_path_matches_torch(dtype, kwargs):
    z = _logits(7, 5)
    t = np.array([0, 1, 2, 4, 0, 1, 2], dtype=dtype)
    loss, grad = _grad(z, gdlab.tensor(t), **kwargs)
    tl, tg = _torch(z, t, **kwargs)
    np.testing.assert_allclose(loss, tl, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, tg, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fast_path_is_bit_identical_to_one_hot_path(reduction, monkeypatch):
    z = _logits(33, 10, np.float32, seed=1)
    t = gdlab.tensor(np.random.default_rng(2).integers(0, 10, 33))
    fast = _grad(z, t, reduction=reduction)
    monkeypatch.setattr(L, "_plain_indices", lambda *a: False)  # force the one-hot path
    slow = _grad(z, t, reduction=reduction)
    for a, b in zip(fast, slow, strict=True):
        assert a.dtype == b.dtype == np.float32
        assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "target, kwargs, uses_fast",
    [
        ([0, 1, 2], {}, True),
        ([0, 1, 2], {"ignore_index": 1}, False),  # an ignored class is present
        ([0, 1, 2], {"weight": np.ones(4)}, False),
        ([0, 1, 2], {"label_smoothing": 0.1}, False),
        ([], {}, False),  # no rows: torch's NaN mean comes from the general path
    ],
)
def test_dispatch(target, kwargs, uses_fast, monkeypatch):
    calls = []
    original = L._index_cross_entropy
    monkeypatch.setattr(L, "_index_cross_entropy", lambda *a: calls.append(1) or original(*a))
    n = len(target)
    x = gdlab.tensor(_logits(max(n, 1), 4)[:n])
    gdlab.nn.functional.cross_entropy(x, gdlab.tensor(np.array(target, dtype=np.int64)), **kwargs)
    assert bool(calls) == uses_fast


@pytest.mark.parametrize("bad", [-1, 4, -100])
def test_out_of_range_target_still_raises(bad):
    x = gdlab.tensor(_logits(3, 4))
    with pytest.raises(IndexError, match="out of bounds"):
        gdlab.nn.functional.cross_entropy(x, gdlab.tensor(np.array([0, bad, 1])), ignore_index=7)


def test_second_backward_recomputes_softmax():
    z = _logits(6, 3)
    x = gdlab.tensor(z, requires_grad=True)
    loss = gdlab.nn.functional.cross_entropy(x, gdlab.tensor(np.array([0, 1, 2, 2, 1, 0])))
    loss.backward(retain_graph=True)
    first = x.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-12)


def test_vjp_without_workspace_matches_workspace():
    z, t = _logits(5, 4), np.array([3, 0, 1, 2, 3])
    g = np.asarray(1.5)
    ws: dict = {}
    out = nn_ops._cross_entropy_index(z, t, 5.0, ws)
    with_ws = nn_ops._cross_entropy_index_vjp(g, out, z, t, 5.0, ws)
    without = nn_ops._cross_entropy_index_vjp(g, out, z, t, 5.0)
    np.testing.assert_array_equal(with_ws, without)
    assert "shifted" not in ws  # taken by the first VJP, not shared with its result
