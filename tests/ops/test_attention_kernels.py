"""The attention softmax's compiled kernels (ops/_attention_kernels.py, through
ops/attention_ops.py) against its NumPy path, float32: the scaled_softmax row and the fused
attention and self-attention rows, forward and every gradient, with masks (fully masked
rows, safe or not), a negative scale, rows far below the global maximum and NaN.

The kernels round the exponential's argument once (a fused multiply-add) and sum rows in
another order, so they agree with the NumPy path within a few float32 ulps of the largest
magnitude, not bit for bit; masked entries are exact zeros in both.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab.ops import attention_ops

pytest.importorskip("numba")

ULPS = 8  # of the largest magnitude of each result (measured: at most 4)


def _both(fn, monkeypatch):
    """fn() on the NumPy path, then on the kernels (for any size)."""
    monkeypatch.setattr(attention_ops, "MIN_SIZE", 1 << 62)
    slow = fn()
    monkeypatch.setattr(attention_ops, "MIN_SIZE", 0)
    if attention_ops._KERNELS.get() is None:
        pytest.skip("numba cannot run the kernels here (NUMBA_DISABLE_JIT?)")
    return slow, fn()


def _close(fast, slow):
    for f, s in zip(fast, slow, strict=True):
        assert f.dtype == s.dtype == np.float32 and f.shape == s.shape
        np.testing.assert_array_equal(np.isnan(f), np.isnan(s))
        np.testing.assert_array_equal(f == 0, s == 0)  # masked and underflowed entries
        scale = np.abs(np.nan_to_num(s)).max()
        np.testing.assert_allclose(f, s, rtol=0, atol=ULPS * np.spacing(np.float32(scale)))


def _scores(rng):
    """(4, 3, 16, 24) scores: one row far below the global maximum, one at −20·scale."""
    x = rng.standard_normal((4, 3, 16, 24)).astype(np.float32) * 3
    x[0, 0, 0] -= 300.0  # e^(−300·scale) underflows against the global shift: redone
    x[1, 2, 5] = -20.0
    return x


def _mask(safe_rows: bool):
    bias = np.zeros((16, 24), np.float32)
    bias[np.triu_indices(16, 1, 24)] = -np.inf
    if safe_rows:
        bias[3] = -np.inf  # a row masked everywhere
    return bias


SOFTMAX_CASES = [
    ("plain", dict(scale=0.4)),
    ("negative_scale", dict(scale=-0.7)),
    ("causal", dict(scale=0.4, bias=_mask(False))),
    ("masked_row_safe", dict(scale=0.4, bias=_mask(True), safe=True)),
    ("masked_row_nan", dict(scale=0.4, bias=_mask(True), safe=False)),
]


@pytest.mark.parametrize("kwargs", [c[1] for c in SOFTMAX_CASES], ids=[c[0] for c in SOFTMAX_CASES])
def test_scaled_softmax_kernels_agree_with_numpy(kwargs, monkeypatch):
    rng = np.random.default_rng(0)
    x = _scores(rng)
    g = rng.standard_normal(x.shape).astype(np.float32)

    def run():
        t = gdlab.tensor(x, requires_grad=True)
        out = attention_ops.scaled_softmax(t, **kwargs)
        out.backward(g)
        return out.data, t.grad.data

    slow, fast = _both(run, monkeypatch)
    _close(fast, slow)


def test_a_nan_gives_nan_rows_on_both_paths(monkeypatch):
    x = _scores(np.random.default_rng(1))
    x[2, 1, 7, 3] = np.nan
    slow, fast = _both(lambda: attention_ops._scaled_softmax(x, 0.5), monkeypatch)
    _close([fast], [slow])
    assert np.isnan(fast[2, 1, 7]).all() and not np.isnan(fast[2, 1, 6]).any()


@pytest.mark.parametrize("bias", ["none", "causal", "differentiated"])
def test_attention_kernels_agree_with_numpy(bias, monkeypatch):
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((3, 16, 8 * 4)).astype(np.float32) for _ in range(3))
    g = rng.standard_normal((3, 16, 8 * 4)).astype(np.float32)
    b = {"none": None, "causal": _mask(False)[:, :16],
         "differentiated": rng.standard_normal((4, 16, 16)).astype(np.float32)}[bias]  # fmt: skip

    def run():
        ts = [gdlab.tensor(a, requires_grad=True) for a in (q, k, v)]
        ts.append(gdlab.tensor(b, requires_grad=True) if bias == "differentiated" else b)
        out = attention_ops.attention(*ts, scale=0.35, heads=4)
        out.backward(g)
        grads = [t.grad.data for t in ts if t is not None and not isinstance(t, np.ndarray)]
        return [out.data, *grads]

    slow, fast = _both(run, monkeypatch)
    _close(fast, slow)


@pytest.mark.parametrize("spread", ["typical", "rows_to_redo"])
def test_self_attention_kernels_agree_with_numpy(spread, monkeypatch):
    rng = np.random.default_rng(3)
    qkv = rng.standard_normal((4, 32, 3 * 64)).astype(np.float32)
    if spread == "rows_to_redo":  # one query's scores ~80 above the rest: theirs underflow
        qkv[0, 0, :64] *= 40
    g = rng.standard_normal((4, 32, 64)).astype(np.float32)

    def run():
        t = gdlab.tensor(qkv, requires_grad=True)
        out = attention_ops.self_attention(t, scale=0.25, heads=4)
        out.backward(g)
        return out.data, t.grad.data

    slow, fast = _both(run, monkeypatch)
    _close(fast, slow)
