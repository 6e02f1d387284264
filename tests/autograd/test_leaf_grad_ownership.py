"""A leaf's ``.grad`` takes the engine's array without a copy only when nothing else can see
it: it never aliases another leaf's gradient, a caller's output gradient, a forward array or
a view of any of them. Each row builds a graph, runs backward, then modifies every leaf's
gradient in place (as an optimizer does) and checks nothing else changed."""

from __future__ import annotations

import types

import numpy as np
import pytest

import gdlab
from gdlab.autograd import engine

W = np.array([[1.0, -2.0], [3.0, 0.5]])
G = np.array([[1.0, 2.0], [3.0, 4.0]])


def _leaves():
    a = gdlab.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64", requires_grad=True)
    b = gdlab.tensor([[5.0, 6.0], [7.0, 8.0]], dtype="float64", requires_grad=True)
    return a, b


# name -> (a, b) -> (output, output gradient or None, expected grad of a, expected grad of b)
CASES = {
    "add feeds two leaves": lambda a, b: (((a + b) * W).sum(), None, W, W),
    "add of the caller's gradient": lambda a, b: (a + b, G, G, G),
    "add of the caller's gradient tensor": lambda a, b: (a + b, gdlab.tensor(G), G, G),
    "sub: same array, negated copy": lambda a, b: (((a - b) * W).sum(), None, W, -W),
    "reshape view of the gradient": lambda a, b: (
        (a.reshape(4) * W.reshape(4)).sum() + (b * W).sum(),
        None,
        W,
        W,
    ),
    "leaf used twice": lambda a, b: ((a * W + a + b).sum(), None, W + 1, np.ones((2, 2))),
    "expand then sum back": lambda a, b: (
        (a[0].expand(2, 2) * W).sum() + (b * 1.0).sum(),
        None,
        np.array([[4.0, -1.5], [0.0, 0.0]]),
        np.ones((2, 2)),
    ),
    "clone and add": lambda a, b: ((a.clone() + b.clone()).sum(), None, np.ones((2, 2)), 1.0),
    "gradient is a forward array": lambda a, b: ((a * b).sum(), None, b.data.copy(), None),
    "to another dtype": lambda a, b: (
        (a.float() * W.astype(np.float32)).sum(),
        None,
        W,
        None,
    ),
}


@pytest.mark.parametrize("retain_graph", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_leaf_grads_alias_nothing(name, retain_graph):
    a, b = _leaves()
    forward = (a.data.copy(), b.data.copy())
    out, g, want_a, want_b = CASES[name](a, b)
    g_before = None if g is None else np.array(g, copy=True)
    out.backward(g, retain_graph=retain_graph)
    used = [(x, w) for x, w in ((a, want_a), (b, want_b)) if w is not None]
    for x, w in used:
        np.testing.assert_allclose(x.grad, np.broadcast_to(w, x.shape))
        assert x.grad.dtype == x.dtype and x.grad.data.flags.writeable
    for i, (x, _) in enumerate(used):  # an optimizer modifies one gradient in place...
        x.grad *= 100.0
        for y, w in used[i + 1 :]:  # ...the others are untouched
            np.testing.assert_allclose(y.grad, np.broadcast_to(w, y.shape))
    np.testing.assert_array_equal(a.data, forward[0])
    np.testing.assert_array_equal(b.data, forward[1])
    if g is not None:
        np.testing.assert_array_equal(getattr(g, "data", g), g_before)


def test_leaf_that_is_the_root_copies_the_callers_gradient():
    a, _ = _leaves()
    a.backward(G)
    a.grad[0, 0] = -1.0
    assert G[0, 0] == 1.0


def test_second_backward_accumulates_into_the_owned_array():
    a, b = _leaves()
    y = ((a + b) * W).sum()
    y.backward(retain_graph=True)
    first = a.grad.data
    y.backward()
    assert a.grad.data is first  # accumulated in place
    np.testing.assert_allclose(a.grad, 2 * W)
    np.testing.assert_allclose(b.grad, 2 * W)


def _count_copies(monkeypatch) -> list:
    calls = []

    def array(*args, **kwargs):
        calls.append(args[0].shape)
        return np.array(*args, **kwargs)

    proxy = types.SimpleNamespace(**vars(np))  # the engine's NumPy, with array() counted
    proxy.array = array
    monkeypatch.setattr(engine, "np", proxy)
    return calls


def test_fresh_vjp_results_are_not_copied(monkeypatch):
    """The nn engineer's case: a parameter gradient a VJP just made goes to .grad as is."""
    a, b = _leaves()
    y = ((a * W) + (b @ W)).sum()
    calls = _count_copies(monkeypatch)
    y.backward()
    assert calls == []
    np.testing.assert_allclose(a.grad, W)


def test_shared_array_is_copied_once(monkeypatch):
    a, b = _leaves()
    y = ((a + b) * W).sum()
    calls = _count_copies(monkeypatch)
    y.backward()
    assert calls == [(2, 2)]  # the second leaf of the add; the first takes the array


def test_retained_graph_keeps_vjp_caches_away_from_leaf_grads():
    """rnn_scan's VJPs share one backward through a cache in the node (``ws``): with
    retain_graph the node, and so the cache, outlives backward, so leaves take copies."""
    from gdlab.ops import apply
    from gdlab.ops.rnn_ops import RNN_SCAN

    rng = np.random.default_rng(0)
    shapes = [(3, 2, 4), (2, 4), (4, 4), (4,)]  # xp (T, N, H), h0, w_hh, b_hh
    xs = [gdlab.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    out = apply(RNN_SCAN, *xs, nonlinearity="tanh", ws={})
    g = gdlab.tensor(rng.standard_normal(out.shape))  # the same array reaches the node each time
    out.backward(g, retain_graph=True)
    once = [x.grad.data.copy() for x in xs]
    for _ in range(2):
        out.backward(g, retain_graph=True)
    for x, g1 in zip(xs, once, strict=True):
        np.testing.assert_allclose(x.grad, 3 * g1)
