"""The compiled LSTM and GRU cells (ops/_rnn_kernels.py, chosen in ops/rnn_ops.py) against the
NumPy cells: their tanh is within 2.5 float32 ulp of the exact value, the scans' outputs and
gradients agree with the NumPy path's to float rounding, and the backward, given the same
activations, is the NumPy path's bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.ops import rnn_ops

kernels = pytest.importorskip("gdlab.ops._rnn_kernels")

TANH_MAX_ULP = 2.5  # every float32 in [0, 10.5] checked once; NumPy's own float32 tanh: 1.4


def test_tanh_is_within_its_ulp_bound():
    top = np.float32(10.5).view(np.int32)
    x = np.arange(0, top, 997, dtype=np.int32).view(np.float32)  # every 997th float32
    x = np.concatenate([x, -x])
    got = x.copy()
    kernels._tanh_(got)
    exact = np.tanh(x.astype(np.float64))
    ulps = np.abs(got - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert ulps.max() <= TANH_MAX_ULP
    special = np.array([0.0, -0.0, 11.0, -11.0, np.inf, -np.inf, np.nan, 1e-40], np.float32)
    kernels._tanh_(special)
    np.testing.assert_array_equal(special[:6], [0.0, -0.0, 1.0, -1.0, 1.0, -1.0])
    assert np.signbit(special[1]) and np.isnan(special[6]) and special[7] == np.float32(1e-40)


def _scan_inputs(kind, rng, t_len=6, n=3, hid=5, proj=0, bias=True):
    """xp, states and weights of one layer, float32, at the scales a layer produces."""
    gates = {"lstm": 4, "gru": 3}[kind]
    p = proj or hid

    def arr(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    xp, h0, w_hh = arr(t_len, n, gates * hid), arr(n, p, scale=0.5), arr(gates * hid, p, scale=0.4)
    b_hh = arr(gates * hid) if bias else None
    if kind == "gru":
        return (xp, h0, w_hh, b_hh), {}
    w_hr = arr(proj, hid, scale=0.4) if proj else None
    return (xp, h0, arr(n, hid, scale=0.5), w_hh, b_hh), {"w_hr": w_hr}


def _run(kind, compiled, args, kwargs, reverse, monkeypatch):
    """Forward, and backward for a random output gradient, with the chosen cells."""
    monkeypatch.setattr(rnn_ops, "MIN_KERNEL_SIZE", 0 if compiled else 1 << 62)
    forward = {"lstm": rnn_ops._lstm, "gru": rnn_ops._gru}[kind]
    backward = {"lstm": rnn_ops._lstm_backward, "gru": rnn_ops._gru_backward}[kind]
    ws = {}
    out = forward(*args, reverse=reverse, ws=ws, **kwargs)
    assert (ws["kernels"] is not None) == compiled
    g = np.random.default_rng(7).standard_normal(out.shape).astype(np.float32)
    grads = backward(g, out, *args, reverse=reverse, ws=ws, **kwargs)
    return out, [x for x in grads if x is not None], ws, g


CASES = [
    ("lstm", {}),
    ("lstm", {"proj": 2}),
    ("lstm", {"bias": False}),
    ("gru", {}),
    ("gru", {"bias": False}),
]


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("kind, options", CASES, ids=[f"{k}-{o}" for k, o in CASES])
def test_compiled_scan_agrees_with_the_numpy_scan(kind, options, reverse, monkeypatch):
    args, kwargs = _scan_inputs(kind, np.random.default_rng(0), **options)
    out_np, grads_np, _, _ = _run(kind, False, args, kwargs, reverse, monkeypatch)
    out_c, grads_c, _, _ = _run(kind, True, args, kwargs, reverse, monkeypatch)
    assert out_c.dtype == np.float32
    np.testing.assert_allclose(out_c, out_np, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads_c, grads_np, strict=True):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def _numpy_layout(kind, ws):
    """The compiled forward's saved activations in the NumPy cells' layout: gate-major
    (T, G, N, H), the LSTM's gates as i, f, o, g."""
    act = ws["act"]
    t_len, n, width = act.shape
    order = [0, 1, 3, 2] if kind == "lstm" else [0, 1, 2]
    by_gate = act.reshape(t_len, n, len(order), width // len(order))[:, :, order]
    return {**ws, "act": np.ascontiguousarray(by_gate.transpose(0, 2, 1, 3)), "kernels": None}


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
@pytest.mark.parametrize("kind, options", CASES, ids=[f"{k}-{o}" for k, o in CASES])
def test_compiled_backward_is_the_numpy_backward_bit_for_bit(kind, options, reverse, monkeypatch):
    args, kwargs = _scan_inputs(kind, np.random.default_rng(1), **options)
    out, grads_c, ws, g = _run(kind, True, args, kwargs, reverse, monkeypatch)
    backward = {"lstm": rnn_ops._lstm_backward, "gru": rnn_ops._gru_backward}[kind]
    ws_np = _numpy_layout(kind, ws)
    grads_np = backward(g, out, *args, reverse=reverse, ws=ws_np, **kwargs)
    for a, b in zip(grads_c, [x for x in grads_np if x is not None], strict=True):
        np.testing.assert_array_equal(a, b)


def test_compiled_cells_only_for_large_float32_sequences():
    big = np.zeros((rnn_ops.MIN_KERNEL_SIZE,), np.float32)
    assert rnn_ops._cell_kernels(big) is kernels
    assert rnn_ops._cell_kernels(big[:-1]) is None
    assert rnn_ops._cell_kernels(big.astype(np.float64)) is None
    rnn_ops._KERNELS.reset(None)  # as without numba or with NUMBA_DISABLE_JIT=1
    try:
        assert rnn_ops._cell_kernels(big) is None
    finally:
        rnn_ops._KERNELS.reset()
