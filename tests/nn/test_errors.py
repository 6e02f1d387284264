"""Bad inputs give clear errors naming the argument and the value or shapes
(issue 3 and CHECKLIST.md section A, "Layers and losses"). One row per case."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gdlab
import gdlab.nn as nn
import gdlab.nn.functional as F


def t(*shape, dtype=np.float32):
    return gdlab.tensor(np.random.default_rng(0).uniform(0.1, 0.9, shape).astype(dtype))


def idx(*values):
    return np.array(values, dtype=np.int64)


CASES = [
    ("linear_in_features", lambda: nn.Linear(8, 1)(t(100, 7)), ValueError,
     "Linear expected last dim 8, got input of shape (100, 7)"),
    ("mse_broadcast", lambda: nn.MSELoss()(t(64), t(64, 1)), ValueError, "(64,) and target of shape (64, 1)"),  # noqa: E501
    ("l1_broadcast", lambda: F.l1_loss(t(64, 1), t(64)), ValueError, "(64, 1) and target of shape (64,)"),  # noqa: E501
    ("bce_broadcast", lambda: nn.BCELoss()(t(64), t(64, 1)), ValueError, "(64,) and target of shape (64, 1)"),  # noqa: E501
    ("one_hot_negative", lambda: F.one_hot(idx(2, -1, 5), num_classes=6), ValueError,
     "class values must be in [0, 6), got -1"),
    ("one_hot_too_large", lambda: F.one_hot(idx(2, 6), num_classes=6), ValueError, "got 6"),
    ("mse_weight_shape", lambda: F.mse_loss(t(4, 3), t(4, 3), weight=t(3)), ValueError,
     "mse_loss: Weights and input must have the same size, got weight of shape (3,)"),
    ("ce_target_too_large", lambda: nn.CrossEntropyLoss()(t(3, 10), idx(1, 10, 2)), IndexError,
     "Target 10 is out of bounds"),
    ("ce_target_negative", lambda: F.cross_entropy(t(3, 10), idx(1, -3, 2)), IndexError,
     "Target -3 is out of bounds"),
    ("nll_target_too_large", lambda: F.nll_loss(t(2, 3), idx(0, 3)), IndexError, "Target 3"),
    ("ce_float_class_indices", lambda: F.cross_entropy(t(3, 4), np.array([0.0, 1.0, 2.0])),
     TypeError, "integer dtype"),
    ("ce_wrong_target_shape", lambda: F.cross_entropy(t(5,), idx(0, 1, 2, 3, 4)), ValueError,
     "expected target of shape ()"),
    ("bce_out_of_range", lambda: nn.BCELoss()(gdlab.tensor([0.5, 1.5]), gdlab.tensor([0.0, 1.0])),
     ValueError, "all elements of input should be between 0 and 1"),
    ("reduction_avg", lambda: nn.MSELoss(reduction="avg"), ValueError, "'mean' | 'sum' | 'none'"),
    ("reduction_avg_functional", lambda: F.cross_entropy(t(2, 3), idx(0, 1), reduction="avg"),
     ValueError, "'avg' is not a valid value for reduction"),
    ("dropout_p_high", lambda: nn.Dropout(p=1.5), ValueError,
     "dropout probability has to be between 0 and 1, but got 1.5"),
    ("dropout_p_negative", lambda: F.dropout(t(3), p=-0.1), ValueError, "but got -0.1"),
    ("batchnorm_batch_1", lambda: nn.BatchNorm1d(4)(t(1, 4)), ValueError,
     "Expected more than 1 value per channel when training, got input size (1, 4)"),
    ("batchnorm2d_batch_1", lambda: nn.BatchNorm2d(3)(t(1, 3, 1, 1)), ValueError,
     "got input size (1, 3, 1, 1)"),
    ("batchnorm_channels", lambda: nn.BatchNorm1d(4)(t(5, 3)), ValueError, "expected 4 channels"),
    ("conv_kernel_too_big", lambda: nn.Conv2d(1, 2, 5)(t(1, 1, 4, 4)), ValueError,
     "kernel size (5, 5) (dilated) can't be greater than the padded input size (4, 4)"),
    ("conv_channels", lambda: nn.Conv2d(3, 2, 3)(t(1, 2, 5, 5)), ValueError,
     "expected 3D or 4D input with 3 channels, got input of shape (1, 2, 5, 5)"),
    ("conv_groups", lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, "groups=2"),
    ("conv_same_strided", lambda: nn.Conv2d(1, 1, 3, stride=2, padding="same"), ValueError,
     "padding='same' is not supported for strided convolutions"),
    ("conv_bad_padding", lambda: nn.Conv1d(1, 1, 3, padding="full"), ValueError, "'full'"),
    ("maxpool_padding", lambda: F.max_pool2d(t(1, 1, 4, 4), 2, padding=2), ValueError,
     "pad should be at most half of effective kernel size"),
    ("embedding_index", lambda: nn.Embedding(5, 2)(idx(0, 5)), IndexError, "index 5 is out of range"),  # noqa: E501
    ("embedding_float_index", lambda: nn.Embedding(5, 2)(t(3)), TypeError, "integers"),
    ("rnn_input_size", lambda: nn.LSTM(3, 4)(t(5, 2, 2)), ValueError,
     "input.size(-1) must be equal to input_size. Expected 3, got 2"),
    ("rnn_hidden_shape", lambda: nn.GRU(3, 4)(t(5, 2, 3), t(1, 3, 4)), ValueError,
     "Expected hidden size (1, 2, 4), got (1, 3, 4)"),
    ("rnn_nonlinearity", lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError,
     "Unknown nonlinearity 'sigmoid'"),
    ("layernorm_shape", lambda: nn.LayerNorm(4)(t(2, 3)), ValueError, "normalized_shape (4,)"),
    ("gelu_approximate", lambda: F.gelu(t(2), approximate="fast"), ValueError, "none or tanh"),
    ("huber_delta", lambda: F.huber_loss(t(2), t(2), delta=0.0), ValueError, "delta"),
    ("init_fan_1d", lambda: nn.init.xavier_uniform_(t(3)), ValueError, "fewer than 2 dimensions"),
    ("init_gain", lambda: nn.init.calculate_gain("swish"), ValueError, "Unsupported nonlinearity"),
    ("kaiming_mode", lambda: nn.init.kaiming_normal_(t(3, 3), mode="fan_avg"), ValueError,
     "Mode fan_avg not supported"),
    ("batch_norm_running_shape",
     lambda: F.batch_norm(t(4, 3), gdlab.zeros(5), gdlab.ones(5), training=True), ValueError,
     "batch_norm: running_mean of shape (5,) does not match the 3 channels"),
    ("batch_norm_weight_shape",
     lambda: F.batch_norm(t(4, 3), None, None, gdlab.ones(2), training=True), ValueError,
     "weight of shape (2,)"),
    ("layer_norm_weight_shape", lambda: F.layer_norm(t(4, 3), (3,), gdlab.ones(4)), ValueError,
     "Expected weight to be of same shape as normalized_shape, but got weight of shape (4,)"),
    ("embedding_1d_weight", lambda: F.embedding(idx(0), t(3)), ValueError, "weight must be 2-D"),
    ("conv1d_weight_ndim", lambda: F.conv1d(t(1, 2, 5), t(3, 2, 2, 2)), ValueError,
     "conv1d: expected a 3-D weight"),
    ("conv2d_weight_ndim", lambda: F.conv2d(t(1, 2, 5, 5), t(3, 2, 2)), ValueError,
     "conv2d: expected a 4-D weight"),
    ("kl_div_broadcast", lambda: F.kl_div(t(2, 3), t(3)), ValueError,
     "input of shape (2, 3) and target of shape (3,)"),
]  # fmt: skip


def test_bad_running_statistics_leave_them_unchanged():
    """The shapes are checked before the in-place update of the running statistics."""
    mean, var = gdlab.zeros(5), gdlab.ones(5)
    with pytest.raises(ValueError):
        F.batch_norm(t(4, 3), mean, var, training=True)
    assert mean.tolist() == [0.0] * 5 and var.tolist() == [1.0] * 5


def test_zero_sized_layers_can_be_built_as_in_torch():
    layer = nn.Linear(0, 2)  # kaiming init of a zero-element weight is a no-op
    assert layer(t(3, 0)).shape == (3, 2)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_clear_error(case):
    _, fn, exc, message = case
    with pytest.raises(exc, match=re.escape(message)):
        fn()


def test_load_state_dict_reports_keys_and_shapes_by_name():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    sd = net.state_dict()
    sd["1.weight"] = np.zeros((2, 4), dtype=np.float32)
    sd["extra.bias"] = np.zeros(1, dtype=np.float32)
    del sd["0.bias"]
    with pytest.raises(nn.StateDictError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert 'Unexpected key(s) in state_dict: "extra.bias"' in msg
    assert 'Missing key(s) in state_dict: "0.bias"' in msg
    assert "size mismatch for 1.weight: copying a param with shape (2, 4)" in msg
    assert "the shape in current model is (1, 4)" in msg
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    del sd["1.weight"]
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["0.bias", "1.weight"]
    assert result.unexpected_keys == ["extra.bias"]


def test_module_assignment_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'ndarray' as parameter 'weight'"):
        m.weight = np.zeros((2, 2))
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", gdlab.zeros(1))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        m.nope  # noqa: B018
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)
