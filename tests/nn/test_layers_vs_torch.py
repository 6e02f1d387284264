"""Every layer and activation, with its options, against its torch twin (float64): the torch
weights are loaded through ``load_state_dict``, then outputs, input gradients and all
parameter gradients must agree to rtol 1e-6. One row per case."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nn_helpers import compare_forward_backward, randomise, twin  # noqa: E402

import gdlab.nn as gnn  # noqa: E402

tnn = torch.nn


def x(*shape):
    return lambda rng: (rng.standard_normal(shape),)


def seq_h0(shape, h_shape, lstm=False):
    def make(rng):
        h = rng.standard_normal(h_shape) * 0.5
        if lstm:
            return rng.standard_normal(shape), (h, rng.standard_normal(h_shape) * 0.5)
        return rng.standard_normal(shape), h

    return make


def qkv(q_shape, kv_shape, k_dim=None, v_dim=None):
    def make(rng):
        k_shape = (*kv_shape[:-1], k_dim or kv_shape[-1])
        v_shape = (*kv_shape[:-1], v_dim or kv_shape[-1])
        return tuple(rng.standard_normal(s) for s in (q_shape, k_shape, v_shape))

    return make


def ints(high, *shape):
    return lambda rng: (rng.integers(0, high, shape),)


# (id, constructor name, args, kwargs, inputs, train mode)
CASES = [
    ("linear", "Linear", (5, 3), {}, x(4, 5), True),
    ("linear_nobias_3d", "Linear", (5, 3), {"bias": False}, x(2, 4, 5), True),
    ("conv1d", "Conv1d", (3, 4, 3), {}, x(2, 3, 9), True),
    ("conv1d_options", "Conv1d", (4, 6, 3),
     {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}, x(2, 4, 11), True),
    ("conv1d_same", "Conv1d", (2, 3, 4), {"padding": "same", "bias": False}, x(2, 2, 7), True),
    ("conv2d", "Conv2d", (3, 4, 3), {}, x(2, 3, 7, 6), True),
    ("conv2d_options", "Conv2d", (4, 6, (3, 2)),
     {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2, "bias": False},
     x(2, 4, 8, 7), True),
    ("conv2d_same_even", "Conv2d", (2, 3, 4), {"padding": "same"}, x(1, 2, 6, 5), True),
    ("conv2d_valid_unbatched", "Conv2d", (2, 3, 3), {"padding": "valid"}, x(2, 5, 5), True),
    ("conv2d_depthwise", "Conv2d", (3, 6, 3), {"groups": 3, "padding": 1}, x(2, 3, 5, 5), True),
    ("conv2d_reflect", "Conv2d", (2, 3, 3), {"padding": (1, 2), "padding_mode": "reflect"},
     x(2, 2, 5, 6), True),
    ("conv2d_replicate_same", "Conv2d", (2, 3, (3, 4)),
     {"padding": "same", "padding_mode": "replicate"}, x(1, 2, 5, 6), True),
    ("conv2d_circular_strided", "Conv2d", (2, 3, 3),
     {"padding": 2, "stride": 2, "padding_mode": "circular"}, x(2, 2, 5, 5), True),
    ("conv1d_circular_unbatched", "Conv1d", (2, 3, 3), {"padding": 1, "padding_mode": "circular"},
     x(2, 7), True),
    ("conv1d_reflect_same_dilated", "Conv1d", (2, 2, 3),
     {"padding": "same", "dilation": 2, "padding_mode": "reflect"}, x(2, 2, 8), True),
    ("maxpool1d", "MaxPool1d", (2,), {}, x(2, 3, 8), True),
    ("maxpool1d_ceil", "MaxPool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True},
     x(2, 3, 8), True),
    ("maxpool2d", "MaxPool2d", (2,), {}, x(2, 3, 6, 6), True),
    ("maxpool2d_options", "MaxPool2d", ((3, 2),), {"stride": (2, 1), "padding": 1,
                                                    "dilation": (1, 2)}, x(2, 2, 7, 8), True),
    ("maxpool2d_ceil", "MaxPool2d", (3,), {"stride": 2, "ceil_mode": True}, x(1, 2, 8, 7), True),
    ("avgpool1d", "AvgPool1d", (3,), {"stride": 2, "padding": 1}, x(2, 3, 8), True),
    ("avgpool2d", "AvgPool2d", (2,), {}, x(2, 3, 6, 6), True),
    ("avgpool2d_exclude_pad", "AvgPool2d", (3,),
     {"stride": 2, "padding": 1, "count_include_pad": False}, x(2, 2, 7, 6), True),
    ("avgpool2d_ceil", "AvgPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True},
     x(1, 2, 8, 7), True),
    ("avgpool2d_divisor", "AvgPool2d", (2,), {"divisor_override": 3}, x(1, 2, 4, 6), True),
    ("adaptive_avgpool2d", "AdaptiveAvgPool2d", ((3, 2),), {}, x(2, 3, 7, 5), True),
    ("adaptive_avgpool2d_1", "AdaptiveAvgPool2d", (1,), {}, x(2, 3, 4, 5), True),
    ("adaptive_avgpool1d", "AdaptiveAvgPool1d", (3,), {}, x(2, 3, 7), True),
    ("batchnorm1d", "BatchNorm1d", (4,), {}, x(6, 4), True),
    ("batchnorm1d_3d", "BatchNorm1d", (4,), {"momentum": None}, x(5, 4, 3), True),
    ("batchnorm1d_eval", "BatchNorm1d", (4,), {}, x(6, 4), False),
    ("batchnorm2d", "BatchNorm2d", (3,), {"momentum": 0.3}, x(4, 3, 3, 2), True),
    ("batchnorm2d_no_bias", "BatchNorm2d", (3,), {"bias": False}, x(4, 3, 3, 2), True),
    ("batchnorm2d_no_affine", "BatchNorm2d", (3,), {"affine": False}, x(4, 3, 3, 2), True),
    ("batchnorm2d_untracked", "BatchNorm2d", (3,), {"track_running_stats": False},
     x(4, 3, 3, 2), True),
    ("batchnorm2d_eval", "BatchNorm2d", (3,), {}, x(4, 3, 3, 2), False),
    ("layernorm", "LayerNorm", (4,), {}, x(3, 4), True),
    ("layernorm_2d", "LayerNorm", ((3, 4),), {"eps": 1e-3}, x(2, 3, 4), True),
    ("layernorm_no_affine", "LayerNorm", (4,), {"elementwise_affine": False}, x(3, 4), True),
    ("layernorm_no_bias", "LayerNorm", (4,), {"bias": False}, x(3, 4), True),
    ("embedding", "Embedding", (10, 3), {}, ints(10, 4, 5), True),
    ("embedding_padding", "Embedding", (10, 3), {"padding_idx": 0}, ints(3, 4, 5), True),
    ("rnn", "RNN", (3, 4), {}, x(5, 2, 3), True),
    ("rnn_relu_2layer_bf", "RNN", (3, 4, 2), {"nonlinearity": "relu", "batch_first": True},
     x(2, 5, 3), True),
    ("rnn_bidir_h0", "RNN", (3, 4), {"bidirectional": True}, seq_h0((5, 2, 3), (2, 2, 4)), True),
    ("rnn_unbatched", "RNN", (3, 4), {"bias": False}, x(5, 3), True),
    ("lstm", "LSTM", (3, 4), {}, x(5, 2, 3), True),
    ("lstm_2layer_bidir_bf", "LSTM", (3, 4, 2), {"bidirectional": True, "batch_first": True},
     x(2, 4, 3), True),
    ("lstm_h0c0", "LSTM", (3, 4), {}, seq_h0((4, 2, 3), (1, 2, 4), lstm=True), True),
    ("gru", "GRU", (3, 4), {}, x(5, 2, 3), True),
    ("gru_2layer_bidir", "GRU", (3, 4, 2), {"bidirectional": True}, x(4, 2, 3), True),
    ("gru_h0_bf_unbatched", "GRU", (3, 4), {"batch_first": True},
     seq_h0((5, 3), (1, 4)), True),
    ("multihead_attention", "MultiheadAttention", (8, 2), {}, qkv((4, 3, 8), (6, 3, 8)), True),
    ("multihead_attention_options", "MultiheadAttention", (8, 4),
     {"batch_first": True, "add_bias_kv": True, "add_zero_attn": True, "kdim": 3, "vdim": 5,
      "bias": False}, qkv((2, 4, 8), (2, 6, 8), 3, 5), True),
    ("multihead_attention_eval_dropout", "MultiheadAttention", (8, 2), {"dropout": 0.5},
     qkv((4, 3, 8), (4, 3, 8)), False),
    ("transformer_encoder_layer", "TransformerEncoderLayer", (8, 2, 16), {"dropout": 0.0},
     x(5, 3, 8), True),
    ("transformer_encoder_layer_pre_norm_gelu", "TransformerEncoderLayer", (8, 2, 16),
     {"dropout": 0.0, "norm_first": True, "activation": "gelu", "batch_first": True},
     x(3, 5, 8), True),
    ("transformer_encoder_layer_eval", "TransformerEncoderLayer", (8, 4), {"bias": False},
     x(5, 2, 8), False),
    # activations and shape modules
    ("sigmoid", "Sigmoid", (), {}, x(3, 4), True),
    ("tanh", "Tanh", (), {}, x(3, 4), True),
    ("relu", "ReLU", (), {}, x(3, 4), True),
    ("relu6", "ReLU6", (), {}, lambda rng: (rng.standard_normal((3, 4)) * 5,), True),
    ("leaky_relu", "LeakyReLU", (0.2,), {}, x(3, 4), True),
    ("elu", "ELU", (0.7,), {}, x(3, 4), True),
    ("prelu", "PReLU", (), {}, x(3, 4), True),
    ("prelu_channels", "PReLU", (3,), {"init": 0.1}, x(2, 3, 4), True),
    ("gelu", "GELU", (), {}, x(3, 4), True),
    ("gelu_tanh", "GELU", (), {"approximate": "tanh"}, x(3, 4), True),
    ("silu", "SiLU", (), {}, x(3, 4), True),
    ("softplus", "Softplus", (), {}, x(3, 4), True),
    ("softplus_beta", "Softplus", (), {"beta": 2.0, "threshold": 1.0}, x(3, 4), True),
    ("softmax", "Softmax", (1,), {}, x(3, 4), True),
    ("softmax_dim0", "Softmax", (0,), {}, x(3, 4), True),
    ("log_softmax", "LogSoftmax", (-1,), {}, x(2, 3, 4), True),
    ("hardtanh", "Hardtanh", (), {}, lambda rng: (rng.standard_normal((3, 4)) * 2,), True),
    ("hardtanh_range", "Hardtanh", (-0.5, 2.0), {}, x(3, 4), True),
    ("flatten", "Flatten", (), {}, x(2, 3, 4), True),
    ("flatten_dims", "Flatten", (0, 1), {}, x(2, 3, 4), True),
    ("unflatten", "Unflatten", (1, (2, 3)), {}, x(4, 6), True),
    ("identity", "Identity", (), {}, x(3, 4), True),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_layer_matches_torch(case):
    _, name, args, kwargs, make_inputs, training = case
    rng = np.random.default_rng(0)
    tm = getattr(tnn, name)(*args, **kwargs).double()
    randomise(tm)
    gm = twin(tm, getattr(gnn, name)(*args, **kwargs))
    tm.train(training)
    gm.train(training)
    compare_forward_backward(
        gm, tm, make_inputs(rng), dict(gm.named_parameters()), dict(tm.named_parameters()), rng
    )
    # running statistics (BatchNorm) are updated identically
    for (gname, gbuf), (tname, tbuf) in zip(gm.named_buffers(), tm.named_buffers(), strict=True):
        assert gname == tname
        np.testing.assert_allclose(gbuf.data, tbuf.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_state_dict_names_and_shapes_match_torch(case):
    _, name, args, kwargs, _, _ = case
    tsd = getattr(tnn, name)(*args, **kwargs).state_dict()
    gsd = getattr(gnn, name)(*args, **kwargs).state_dict()
    assert list(gsd) == list(tsd)
    for k in tsd:
        assert gsd[k].shape == tuple(tsd[k].shape), k
        assert gsd[k].dtype == tsd[k].numpy().dtype, k


def test_default_init_distributions_match_torch():
    """Linear/Conv: U(±1/√fan_in) for weight and bias; RNN: U(±1/√hidden)."""
    gen = np.random.default_rng(0)
    lin = gnn.Linear(400, 300, generator=gen)
    bound = 1 / np.sqrt(400)
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.bias.data).max() <= bound
    assert abs(lin.weight.data.std() - bound / np.sqrt(3)) < 0.01 * bound
    conv = gnn.Conv2d(8, 16, 3, generator=gen)
    assert np.abs(conv.weight.data).max() <= 1 / np.sqrt(72)
    assert np.abs(conv.weight.data).max() > 0.9 / np.sqrt(72)
    lstm = gnn.LSTM(5, 16, generator=gen)
    assert all(np.abs(p.data).max() <= 0.25 for p in lstm.parameters())
    emb = gnn.Embedding(1000, 10, padding_idx=3, generator=gen)
    assert abs(emb.weight.data.std() - 1) < 0.05 and not emb.weight.data[3].any()
    assert lin.weight.dtype == np.float32
