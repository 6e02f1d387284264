"""Invariants of losses and layers (CHECKLIST.md C7-C10) and gradchecks of small instances
of every layer in float64 (central differences, gdlab.autograd.gradcheck)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdlab
import gdlab.nn as nn
import gdlab.nn.functional as F
from gdlab.autograd import gradcheck
from gdlab.serialization import load, save

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


def f64(a):
    return gdlab.tensor(np.asarray(a, dtype=np.float64))


# ------------------------------------------------------------------------- C7: cross-entropy
@SETTINGS
@given(c=st.floats(-1e3, 1e3), seed=st.integers(0, 1000))
def test_cross_entropy_shift_invariant(c, seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((4, 5)) * 3
    t = rng.integers(0, 5, 4)
    a = F.cross_entropy(f64(z), t).item()
    b = F.cross_entropy(f64(z + c), t).item()
    assert b == pytest.approx(a, rel=1e-9, abs=1e-9)


def test_softmax_rows_sum_to_one_and_log_softmax_nonpositive_for_huge_logits():
    z = f64(np.array([[1e4, -1e4, 0.0], [3.0, 2.0, 1.0]]))
    np.testing.assert_allclose(F.softmax(z, dim=1).data.sum(axis=1), 1.0)
    assert (F.log_softmax(z, dim=1).data <= 0).all()
    loss = F.cross_entropy(z, np.array([1, 0]))
    assert np.isfinite(loss.item())


# ------------------------------------------------------------------------- C8: BCE, MSE, reductions
@SETTINGS
@given(seed=st.integers(0, 1000))
def test_bce_with_logits_equals_bce_of_sigmoid(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-6, 6, 10), rng.uniform(0, 1, 10)
    a = F.binary_cross_entropy_with_logits(f64(x), y).item()
    b = F.binary_cross_entropy(F.sigmoid(f64(x)), y).item()
    assert a == pytest.approx(b, rel=1e-9)


def test_mse_nonnegative_and_zero_iff_equal():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(6)
    assert F.mse_loss(f64(x), x).item() == 0.0
    assert F.mse_loss(f64(x), x + 1e-3).item() > 0


REDUCTION_CASES = [
    ("mse_loss", lambda rng: (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))), 12),
    ("l1_loss", lambda rng: (rng.standard_normal((4, 3)), rng.standard_normal((4, 3))), 12),
    ("huber_loss", lambda rng: (rng.standard_normal(7), rng.standard_normal(7)), 7),
    ("smooth_l1_loss", lambda rng: (rng.standard_normal(7), rng.standard_normal(7)), 7),
    ("binary_cross_entropy", lambda rng: (rng.uniform(0.1, 0.9, 5), rng.uniform(0, 1, 5)), 5),
    ("binary_cross_entropy_with_logits", lambda rng: (rng.standard_normal(5), rng.uniform(0, 1, 5)), 5),  # noqa: E501
    ("cross_entropy", lambda rng: (rng.standard_normal((6, 3)), rng.integers(0, 3, 6)), 6),
    ("nll_loss", lambda rng: (-rng.uniform(0.1, 3, (6, 3)), rng.integers(0, 3, 6)), 6),
    ("kl_div", lambda rng: (rng.standard_normal((2, 3)), rng.uniform(0, 1, (2, 3))), 6),
]  # fmt: skip


@pytest.mark.parametrize("case", REDUCTION_CASES, ids=[c[0] for c in REDUCTION_CASES])
def test_reductions_sum_is_mean_times_n(case):
    name, make, n = case
    x, y = make(np.random.default_rng(0))
    fn = getattr(F, name)
    mean = fn(f64(x), y, reduction="mean").item()
    total = fn(f64(x), y, reduction="sum").item()
    none = fn(f64(x), y, reduction="none").data
    assert total == pytest.approx(mean * n, rel=1e-12)
    assert none.mean() == pytest.approx(mean, rel=1e-12)


# ------------------------------------------------------------------------- C9: dropout
def test_dropout_eval_identity_p0_identity_and_expectation():
    x = gdlab.tensor(np.ones((200, 200)))
    d = nn.Dropout(0.3, generator=0)
    d.eval()
    assert d(x) is x
    assert F.dropout(x, 0.0) is x
    d.train()
    y = d(x).data
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    assert abs(y.mean() - 1.0) < 0.02
    assert not np.array_equal(d(x).data, y)  # a new mask each call
    assert not F.dropout(x, 1.0).data.any()


def test_dropout_masks_reproducible_from_generator_and_float32_preserved():
    x = gdlab.ones(50, 50)
    a = F.dropout(x, 0.5, generator=np.random.default_rng(3)).data
    b = F.dropout(x, 0.5, generator=np.random.default_rng(3)).data
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32


def test_train_eval_differ_only_for_stochastic_or_normalising_layers():
    x = gdlab.randn(8, 4, generator=np.random.default_rng(0))
    for layer, differs in [(nn.Linear(4, 4), False), (nn.Dropout(0.5), True),
                           (nn.BatchNorm1d(4), True), (nn.LayerNorm(4), False)]:  # fmt: skip
        train_out = layer.train()(x).data
        eval_out = layer.eval()(x).data
        assert (not np.allclose(train_out, eval_out)) == differs, type(layer).__name__


# ------------------------------------------------------------------------- C10: state round trip
def _cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(36, 3),
    )  # fmt: skip


def test_state_dict_round_trip_gives_identical_outputs(tmp_path):
    a = _cnn()
    x = gdlab.randn(4, 1, 8, 8, generator=np.random.default_rng(0))
    a(x)  # moves the running statistics
    a.eval()
    b = _cnn()
    b.load_state_dict(a.state_dict())
    b.eval()
    np.testing.assert_array_equal(a(x).data, b(x).data)
    save(a.state_dict(), tmp_path / "w.npz")
    c = _cnn()
    c.load_state_dict(load(tmp_path / "w.npz"))
    c.eval()
    np.testing.assert_array_equal(a(x).data, c(x).data)
    save(load(tmp_path / "w.npz"), tmp_path / "w2.npz")
    assert (tmp_path / "w.npz").read_bytes() == (tmp_path / "w2.npz").read_bytes()


# ------------------------------------------------------------------------- gradcheck per layer
GRADCHECK_LAYERS = [
    ("linear", lambda: nn.Linear(3, 2), (2, 3)),
    ("conv1d", lambda: nn.Conv1d(2, 2, 2, stride=2, padding=1), (1, 2, 5)),
    ("conv2d", lambda: nn.Conv2d(2, 2, 2, padding=1, dilation=(1, 2), groups=2), (1, 2, 3, 4)),
    ("maxpool2d", lambda: nn.MaxPool2d(2, stride=1), (1, 1, 3, 3)),
    ("avgpool1d", lambda: nn.AvgPool1d(2, padding=1, count_include_pad=False), (1, 2, 4)),
    ("adaptive_avgpool2d", lambda: nn.AdaptiveAvgPool2d((2, 3)), (1, 1, 3, 4)),
    ("batchnorm1d", lambda: nn.BatchNorm1d(2), (4, 2)),
    ("batchnorm2d_eval", lambda: nn.BatchNorm2d(2).eval(), (2, 2, 2, 2)),
    ("layernorm", lambda: nn.LayerNorm(3), (2, 3)),
    ("rnn", lambda: nn.RNN(2, 2, bidirectional=True), (3, 1, 2)),
    ("lstm", lambda: nn.LSTM(2, 2), (3, 1, 2)),
    ("gru", lambda: nn.GRU(2, 2, num_layers=2), (3, 1, 2)),
    ("prelu", lambda: nn.PReLU(2), (2, 2, 2)),
    ("gelu", lambda: nn.GELU(), (2, 3)),
    ("elu", lambda: nn.ELU(), (2, 3)),
    ("softplus", lambda: nn.Softplus(beta=2), (2, 3)),
    ("log_softmax", lambda: nn.LogSoftmax(dim=1), (2, 3)),
    ("conv1d_same", lambda: nn.Conv1d(2, 3, 4, padding="same"), (1, 2, 5)),
    ("maxpool1d_ceil", lambda: nn.MaxPool1d(2, ceil_mode=True), (1, 2, 5)),
    ("avgpool2d_ceil", lambda: nn.AvgPool2d(2, padding=1, ceil_mode=True), (1, 1, 4, 3)),
    ("adaptive_avgpool1d", lambda: nn.AdaptiveAvgPool1d(2), (1, 2, 5)),
    ("batchnorm1d_3d", lambda: nn.BatchNorm1d(2, momentum=None), (3, 2, 2)),
    ("embedding", lambda: nn.Embedding(4, 2, padding_idx=None), None),
    ("sigmoid", lambda: nn.Sigmoid(), (2, 3)),
    ("tanh", lambda: nn.Tanh(), (2, 3)),
    ("relu", lambda: nn.ReLU(), (2, 3)),
    ("leaky_relu", lambda: nn.LeakyReLU(0.1), (2, 3)),
    ("hardtanh", lambda: nn.Hardtanh(-0.5, 0.5), (2, 3)),
    ("silu", lambda: nn.SiLU(), (2, 3)),
    ("gelu_tanh", lambda: nn.GELU("tanh"), (2, 3)),
    ("softmax", lambda: nn.Softmax(dim=0), (2, 3)),
    ("flatten", lambda: nn.Flatten(), (2, 3, 2)),
]  # fmt: skip


@pytest.mark.parametrize("case", GRADCHECK_LAYERS, ids=[c[0] for c in GRADCHECK_LAYERS])
def test_gradcheck_layer(case):
    from tolerances import GRADCHECK

    _, make, shape = case
    layer = make().double()
    with gdlab.no_grad():
        for p in layer.parameters():
            p.copy_(np.random.default_rng(1).uniform(-0.9, 0.9, p.shape))
    if shape is None:  # integer input (Embedding): only the weight is checked
        x = gdlab.tensor(np.array([[0, 3], [3, 1]]))
    else:
        x = gdlab.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)

    def f(x, *params):
        out = layer(x)
        return out[0] if isinstance(out, tuple) else out

    w = gdlab.tensor(np.random.default_rng(2).standard_normal(f(x).shape))
    assert gradcheck(lambda *a: f(*a) * w, (x, *layer.parameters()), **GRADCHECK)


def test_gradcheck_losses():
    from tolerances import GRADCHECK

    rng = np.random.default_rng(0)
    x = gdlab.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    t = rng.integers(0, 4, 3)
    assert gradcheck(lambda x: F.cross_entropy(x, t, label_smoothing=0.1), (x,), **GRADCHECK)
    y = rng.uniform(0, 1, (3, 4))
    assert gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, y), (x,), **GRADCHECK)
    assert gradcheck(lambda x: F.huber_loss(x, y, delta=0.5), (x,), **GRADCHECK)
