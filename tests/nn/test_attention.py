"""Attention and transformer layers against torch (float64, copied weights: outputs and every
gradient to rtol 1e-6), against finite differences, and their masks, dropout and errors.
The plain module rows live in test_layers_vs_torch.py; these tables cover what needs masks,
keyword arguments or a layer to copy. One row per case."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nn_helpers import compare_forward_backward, randomise, to_gdlab, twin  # noqa: E402

import gdlab  # noqa: E402
import gdlab.nn as gnn  # noqa: E402
from gdlab.autograd import gradcheck  # noqa: E402
from gdlab.nn import functional as F  # noqa: E402

TF = torch.nn.functional


def _bool(rng, shape, p=0.3):
    return rng.random(shape) < p


def _to_torch_mask(m):
    return None if m is None else torch.tensor(m)


# ------------------------------------------------------------------------- scaled_dot_product
# (id, q shape, k shape, v shape, mask maker or None, kwargs)
SDPA_CASES = [
    ("plain", (2, 5, 4), (2, 6, 4), (2, 6, 3), None, {}),
    ("heads", (2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4), None, {}),
    ("causal", (2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4), None, {"is_causal": True}),
    ("causal_rect", (2, 4, 4), (2, 6, 4), (2, 6, 4), None, {"is_causal": True}),
    ("scale", (2, 5, 4), (2, 5, 4), (2, 5, 4), None, {"scale": 0.3}),
    ("bool_mask", (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), lambda r: ~_bool(r, (5, 6)), {}),
    ("bool_mask_4d", (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4),
     lambda r: ~_bool(r, (2, 1, 5, 6)), {}),
    ("float_mask", (2, 5, 4), (2, 6, 4), (2, 6, 4), lambda r: r.standard_normal((5, 6)), {}),
    ("masked_row", (1, 3, 4), (1, 4, 4), (1, 4, 4),
     lambda r: np.array([[True] * 4, [False] * 4, [True, False, True, False]]), {}),
    ("broadcast_batch", (2, 3, 5, 4), (1, 3, 5, 4), (1, 3, 5, 4), None, {}),
    ("gqa", (2, 4, 5, 4), (2, 2, 5, 4), (2, 2, 5, 4), None, {"enable_gqa": True}),
    ("unbatched", (5, 4), (6, 4), (6, 2), None, {}),
]  # fmt: skip


@pytest.mark.parametrize("case", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_sdpa_matches_torch(case):
    _, qs, ks, vs, make_mask, kwargs = case
    rng = np.random.default_rng(0)
    mask = make_mask(rng) if make_mask else None
    args = (rng.standard_normal(qs), rng.standard_normal(ks), rng.standard_normal(vs))

    def gd(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kwargs)

    def th(q, k, v):
        return TF.scaled_dot_product_attention(q, k, v, attn_mask=_to_torch_mask(mask), **kwargs)

    compare_forward_backward(gd, th, args, {}, {}, rng)


@pytest.mark.parametrize("case", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_sdpa_float32_matches_torch(case):
    """The fused row in float32: output and every gradient within float32 rounding."""
    _, qs, ks, vs, make_mask, kwargs = case
    rng = np.random.default_rng(0)
    mask = make_mask(rng) if make_mask else None
    if mask is not None and mask.dtype.kind == "f":
        mask = mask.astype(np.float32)  # torch wants a float mask of the query's dtype
    arrays = [rng.standard_normal(s).astype(np.float32) for s in (qs, ks, vs)]
    g_in = [gdlab.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = F.scaled_dot_product_attention(*g_in, attn_mask=mask, **kwargs)
    tout = TF.scaled_dot_product_attention(*t_in, attn_mask=_to_torch_mask(mask), **kwargs)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    w = rng.standard_normal(out.shape).astype(np.float32)
    (out * gdlab.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for a, b in zip(g_in, t_in, strict=True):
        assert a.grad.dtype == np.float32
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_sdpa_float_mask_gradient_matches_torch():
    """A float mask that requires grad is differentiated (a learned attention bias)."""
    rng = np.random.default_rng(1)
    args = tuple(rng.standard_normal(s) for s in ((2, 5, 4), (2, 6, 4), (2, 6, 3), (5, 6)))
    compare_forward_backward(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
        args, {}, {}, rng,
    )  # fmt: skip


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"scale": 2.0}], ids=str)
def test_sdpa_gradients_match_finite_differences(kwargs):
    rng = np.random.default_rng(2)
    xs = [gdlab.tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 3, 2)] * 3]
    w = rng.standard_normal((2, 3, 2))
    assert gradcheck(lambda q, k, v: (F.scaled_dot_product_attention(q, k, v, **kwargs) * w)
                     .sum(), xs)  # fmt: skip


def test_sdpa_dropout_is_reproducible_and_unbiased():
    rng = np.random.default_rng(3)
    q, k, v = (gdlab.tensor(rng.standard_normal((4, 6, 3))) for _ in range(3))
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=7).data
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=7).data
    c = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=8).data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # the expectation over masks is the dropout-free output (inverted dropout)
    gen = np.random.default_rng(0)
    mean = np.mean(
        [F.scaled_dot_product_attention(q, k, v, 0.0 + 0.3, generator=gen).data
         for _ in range(2000)], axis=0,
    )  # fmt: skip
    exact = F.scaled_dot_product_attention(q, k, v).data
    np.testing.assert_allclose(mean, exact, atol=0.08)


# ------------------------------------------------------------------------- MultiheadAttention
def _qkv(q_shape, k_shape=None, v_shape=None):
    def make(rng):
        ks = k_shape or q_shape
        return (rng.standard_normal(q_shape), rng.standard_normal(ks),
                rng.standard_normal(v_shape or ks))  # fmt: skip

    return make


# (id, constructor kwargs, inputs, forward kwargs maker (rng -> numpy kwargs))
MHA_CASES = [
    ("self_weights", {}, _qkv((4, 3, 8)), lambda r: {}),
    ("no_weights", {}, _qkv((4, 3, 8), (6, 3, 8)), lambda r: {"need_weights": False}),
    ("per_head_weights", {"batch_first": True}, _qkv((3, 4, 8), (3, 6, 8)),
     lambda r: {"average_attn_weights": False}),
    ("bool_attn_mask", {}, _qkv((4, 3, 8), (5, 3, 8)),
     lambda r: {"attn_mask": _bool(r, (4, 5))}),
    ("float_attn_mask_3d", {"batch_first": True}, _qkv((3, 4, 8), (3, 5, 8)),
     lambda r: {"attn_mask": r.standard_normal((6, 4, 5))}),
    ("key_padding_mask", {}, _qkv((4, 3, 8), (5, 3, 8)),
     lambda r: {"key_padding_mask": np.array([[0, 0, 0, 1, 1], [0] * 5, [0, 1, 0, 1, 0]], bool)}),
    ("float_kpm_and_mask_no_weights", {}, _qkv((4, 3, 8), (5, 3, 8)),
     lambda r: {"key_padding_mask": r.standard_normal((3, 5)),
                "attn_mask": r.standard_normal((4, 5)), "need_weights": False}),
    ("causal_hint", {"batch_first": True}, _qkv((2, 5, 8)),
     lambda r: {"attn_mask": np.triu(np.ones((5, 5), bool), 1), "is_causal": True,
                "need_weights": False}),
    ("bias_kv_zero_attn_masks", {"add_bias_kv": True, "add_zero_attn": True},
     _qkv((4, 3, 8), (5, 3, 8)),
     lambda r: {"key_padding_mask": _bool(r, (3, 5), 0.2), "attn_mask": _bool(r, (4, 5), 0.2)}),
    ("kdim_vdim_no_bias", {"kdim": 3, "vdim": 5, "bias": False}, _qkv((4, 2, 8), (6, 2, 3),
                                                                      (6, 2, 5)), lambda r: {}),
    ("unbatched_masks", {}, _qkv((4, 8), (5, 8)),
     lambda r: {"key_padding_mask": np.array([0, 0, 1, 0, 1], bool),
                "attn_mask": _bool(r, (2, 4, 5), 0.2)}),
]  # fmt: skip


@pytest.mark.parametrize("case", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_matches_torch(case):
    _, ctor, make_inputs, make_kwargs = case
    rng = np.random.default_rng(0)
    tm = torch.nn.MultiheadAttention(8, 2, **ctor).double()
    randomise(tm)
    gm = twin(tm, gnn.MultiheadAttention(8, 2, **ctor))
    kwargs = make_kwargs(rng)
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}

    def gd(q, k, v):
        out, w = gm(q, k, v, **kwargs)
        return (out,) if w is None else (out, w)

    def th(q, k, v):
        out, w = tm(q, k, v, **tkw)
        return (out,) if w is None else (out, w)

    compare_forward_backward(
        gd, th, make_inputs(rng), dict(gm.named_parameters()), dict(tm.named_parameters()), rng
    )


def test_fully_masked_rows_as_torch():
    """torch: the weights path (softmax) gives NaN rows, the SDPA path gives zeros."""
    rng = np.random.default_rng(4)
    tm = torch.nn.MultiheadAttention(4, 2).double()
    gm = twin(tm, gnn.MultiheadAttention(4, 2))
    x = rng.standard_normal((3, 2, 4))
    mask = np.zeros((3, 3), bool)
    mask[1] = True
    for need_weights in (True, False):
        g = gm(*to_gdlab((x, x, x)), attn_mask=mask, need_weights=need_weights)[0]
        t = tm(*(torch.tensor(x),) * 3, attn_mask=torch.tensor(mask), need_weights=need_weights)
        np.testing.assert_allclose(g.data, t[0].detach().numpy(), rtol=1e-6, atol=1e-12)


def test_multihead_attention_gradients_match_finite_differences():
    rng = np.random.default_rng(5)
    mha = gnn.MultiheadAttention(4, 2, add_bias_kv=True, batch_first=True, generator=0).double()
    x = gdlab.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = rng.standard_normal((2, 3, 4))
    kpm = np.array([[0, 0, 1], [0, 0, 0]], bool)
    params = [x, *mha.parameters()]

    def f(*_):
        return (mha(x, x, x, key_padding_mask=kpm)[0] * w).sum()

    assert gradcheck(f, params)


def test_multihead_attention_dropout_train_and_eval():
    rng = np.random.default_rng(6)
    mha = gnn.MultiheadAttention(8, 2, dropout=0.5, generator=0)
    x = gdlab.tensor(rng.standard_normal((4, 3, 8)).astype(np.float32))
    a, wa = mha(x, x, x)
    b, wb = mha(x, x, x)
    assert not np.allclose(a.data, b.data)  # a new mask per call
    assert np.any(wa.data == 0)  # the returned weights are the dropped-out ones (torch)
    mha.eval()
    np.testing.assert_array_equal(mha(x, x, x)[0].data, mha(x, x, x)[0].data)
    again = gnn.MultiheadAttention(8, 2, dropout=0.5, generator=0)
    np.testing.assert_array_equal(again(x, x, x)[0].data, a.data)  # same seed, same run


def test_multihead_attention_init_matches_torch_distributions():
    mha = gnn.MultiheadAttention(64, 4, add_bias_kv=True, generator=0)
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform on (3E, E)
    w = mha.in_proj_weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert not mha.in_proj_bias.data.any() and not mha.out_proj.bias.data.any()
    assert mha.bias_k.shape == (1, 1, 64) and mha.in_proj_weight.dtype == np.float32


# ------------------------------------------------------------------------- TransformerEncoder
# (id, layer kwargs, num_layers, final norm, input shape, forward kwargs maker)
ENCODER_CASES = [
    ("post_norm", {}, 2, False, (5, 3, 8), lambda r: {}),
    ("pre_norm_gelu_bf", {"norm_first": True, "activation": "gelu", "batch_first": True}, 2,
     True, (3, 5, 8), lambda r: {"mask": np.triu(np.full((5, 5), -np.inf), 1)}),
    ("padding_causal", {"batch_first": True}, 3, False, (3, 5, 8),
     lambda r: {"src_key_padding_mask": np.array([[0, 0, 0, 1, 1], [0] * 5, [0] * 4 + [1]], bool),
                "mask": np.triu(np.ones((5, 5), bool), 1), "is_causal": True}),
    ("no_bias_unbatched", {"bias": False}, 1, False, (5, 8), lambda r: {}),
]  # fmt: skip


@pytest.mark.parametrize("case", ENCODER_CASES, ids=[c[0] for c in ENCODER_CASES])
def test_transformer_encoder_matches_torch(case):
    _, layer_kw, num_layers, with_norm, shape, make_kwargs = case
    rng = np.random.default_rng(0)
    kw = dict(dim_feedforward=16, dropout=0.0, **layer_kw)
    tnorm = torch.nn.LayerNorm(8) if with_norm else None
    tm = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, **kw), num_layers, norm=tnorm,
        enable_nested_tensor=False,
    ).double()  # fmt: skip
    randomise(tm)
    gnorm = gnn.LayerNorm(8) if with_norm else None
    gm = twin(tm, gnn.TransformerEncoder(gnn.TransformerEncoderLayer(8, 2, **kw), num_layers,
                                         norm=gnorm))  # fmt: skip
    assert list(gm.state_dict()) == list(tm.state_dict())
    kwargs = make_kwargs(rng)
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    compare_forward_backward(
        lambda x: gm(x, **kwargs), lambda x: tm(x, **tkw), (rng.standard_normal(shape),),
        dict(gm.named_parameters()), dict(tm.named_parameters()), rng,
    )  # fmt: skip


def test_encoder_layers_are_independent_copies_sharing_one_random_stream():
    layer = gnn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, generator=0)
    enc = gnn.TransformerEncoder(layer, 2)
    w0, w1 = (enc.layers[i].linear1.weight for i in range(2))
    assert w0 is not w1 and np.array_equal(w0.data, w1.data)
    w0.data[0, 0] += 1.0
    assert w0.data[0, 0] != w1.data[0, 0]
    g0, g1 = (enc.layers[i].dropout.generator for i in range(2))
    assert g0 is g1 is enc.layers[0].self_attn.generator


def test_generate_square_subsequent_mask_is_torch():
    from gdlab.nn.transformer import generate_square_subsequent_mask

    t = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64).numpy()
    np.testing.assert_array_equal(generate_square_subsequent_mask(4, np.float64), t)


# ------------------------------------------------------------------------- bad arguments
def _sdpa_bad(**kw):
    x = gdlab.randn(2, 3, 4)
    return lambda: F.scaled_dot_product_attention(x, kw.get("k", x), x, **{
        k: v for k, v in kw.items() if k != "k"})  # fmt: skip


def _mha_call(embed=8, **kw):
    x = gdlab.randn(3, 2, embed)
    return lambda: gnn.MultiheadAttention(8, 2)(x, x, x, **kw)


BAD = [
    (lambda: gnn.MultiheadAttention(10, 3), ValueError, "embed_dim must be divisible by num_heads"),
    (lambda: gnn.MultiheadAttention(0, 3), ValueError,
     "embed_dim and num_heads must be greater than 0, got embed_dim=0 and num_heads=3 instead"),
    (lambda: gnn.TransformerEncoderLayer(8, 2, activation="tanh"), ValueError,
     "activation should be relu/gelu, not tanh"),
    (_sdpa_bad(attn_mask=np.ones((3, 3), bool), is_causal=True), ValueError,
     "Explicit attn_mask should not be set when is_causal=True"),
    (_sdpa_bad(k=gdlab.randn(2, 3, 5)), ValueError, "do not fit"),
    (_sdpa_bad(dropout_p=1.5), ValueError, "dropout probability has to be between 0 and 1"),
    (_sdpa_bad(attn_mask=np.ones((3, 3), np.int64)), TypeError,
     "only bool and floating types of attn_mask are supported"),
    (_mha_call(attn_mask=np.zeros((2, 2))), ValueError,
     r"The shape of the 2D attn_mask is \(2, 2\), but should be \(3, 3\)."),
    (_mha_call(key_padding_mask=np.zeros((3, 2), bool)), ValueError,
     r"Expected key_padded_mask.shape\[0\] to be 2, but got 3"),
    (_mha_call(embed=6), ValueError, "was expecting embedding dimension of 8, but got 6"),
    (_mha_call(is_causal=True), ValueError, "Need attn_mask if specifying the is_causal hint"),
    (lambda: gnn.TransformerEncoder(gnn.TransformerEncoderLayer(8, 2), 0), ValueError,
     "num_layers must be >= 1, got 0"),
]  # fmt: skip


@pytest.mark.parametrize("call, error, message", BAD, ids=[b[2][:40] for b in BAD])
def test_bad_arguments_raise_torch_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attention_softmax_rows_far_below_the_largest(dtype):
    """The attention softmax shifts by the global maximum; rows far below it are redone with
    their own maximum, so every row is as exact as a row-wise softmax."""
    from gdlab.ops.attention_ops import scaled_softmax

    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 6)) + np.array([0.0, -100.0, -2000.0, 50.0, -1e5])[:, None]
    bias = np.zeros((5, 6))
    bias[1, 1:] = -np.inf  # one position left in a row far below the maximum
    x = x.astype(dtype)
    out = scaled_softmax(gdlab.tensor(x), 1.0, bias.astype(dtype)).data
    z = x.astype(np.float64) + bias
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=1e-5 if dtype == np.float32 else 1e-13)


def test_pre_norm_gelu_layer_float32_matches_torch():
    """The benchmark's layer in float32 (packed self-attention, exact GELU, LayerNorm): output
    and every parameter gradient within float32 rounding of torch's."""
    kwargs = dict(dim_feedforward=32, dropout=0.0, activation="gelu", batch_first=True,
                  norm_first=True)  # fmt: skip
    torch.manual_seed(0)
    tm = torch.nn.TransformerEncoderLayer(16, 4, **kwargs)
    gm = gnn.TransformerEncoderLayer(16, 4, **kwargs)
    gm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 6, 16)).astype(np.float32)
    kpm = np.array([[0] * 6, [0, 0, 0, 0, 1, 1], [0] * 5 + [1]], bool)
    w = rng.standard_normal((3, 6, 16)).astype(np.float32)
    out = gm(gdlab.tensor(x), src_key_padding_mask=kpm)
    tout = tm(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-5, atol=1e-5)
    (out * gdlab.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    grads = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(
            p.grad.data, grads[name].grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name
        )
