"""Second order through a transformer's fused rows (issue 16): gelu (exact and tanh),
layer_norm, the attention softmax and scaled dot-product attention differentiated twice
against torch's double backward (float64), their out-of-place Tensor forms equal to the fast
array forms they replace, and the Hessian of a tiny block (layer_norm -> attention -> GELU
MLP) against torch.autograd.functional.hessian. gradgradcheck of every row is in
test_double_backward.py. One row per case."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gdlab
from gdlab.autograd import grad, gradgradcheck
from gdlab.autograd.functional import hessian
from gdlab.nn import functional as F
from gdlab.ops import attention_ops, nn_ops, norm_ops
from gdlab.ops.attention_ops import scaled_softmax

TF = torch.nn.functional


def torch_sdpa(*args, **kwargs):
    """torch's math backend: its fused CPU kernel has no double backward."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH):
        return TF.scaled_dot_product_attention(*args, **kwargs)


def _mask(shape, seed=0):
    m = np.random.default_rng(seed).random(shape) < 0.7
    m[..., 0] = True  # every query keeps a key
    return m


BOOL = _mask((3, 4))


def _mha_pair():
    """nn.MultiheadAttention(4, 2) in both libraries with torch's weights, as functions of the
    input (self-attention, need_weights=False: gdlab's packed fused path)."""
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(4, 2, batch_first=True).double()
    gm = gdlab.nn.MultiheadAttention(4, 2, batch_first=True).double()
    gm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    causal = np.triu(np.ones((3, 3), bool), 1)

    def gd(x):
        return gm(x, x, x, need_weights=False, attn_mask=causal)[0]

    def th(x):
        from torch.nn.attention import SDPBackend, sdpa_kernel

        with sdpa_kernel(SDPBackend.MATH):
            return tm(x, x, x, need_weights=False, attn_mask=torch.tensor(causal))[0]

    return gd, th


MHA_GD, MHA_TH = _mha_pair()
FLOAT_BIAS = np.random.default_rng(1).standard_normal((3, 4))

# (id, gdlab function, torch function, input shapes, domain)
ROWS = [
    ("gelu", lambda x: F.gelu(x), lambda x: TF.gelu(x), [(3, 4)], (-3, 3)),
    ("gelu_tanh", lambda x: F.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh"),
     [(3, 4)], (-3, 3)),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b),
     lambda x, w, b: TF.layer_norm(x, (4,), w, b), [(2, 3, 4), (4,), (4,)], (-2, 2)),
    ("layer_norm_2d_no_affine", lambda x: F.layer_norm(x, (3, 4)),
     lambda x: TF.layer_norm(x, (3, 4)), [(2, 3, 4)], (-2, 2)),
    ("scaled_softmax", lambda x: scaled_softmax(x, 0.7, FLOAT_BIAS),
     lambda x: torch.softmax(x * 0.7 + torch.tensor(FLOAT_BIAS), -1), [(2, 3, 4)], (-2, 2)),
    ("sdpa", F.scaled_dot_product_attention, torch_sdpa,
     [(2, 3, 2), (2, 4, 2), (2, 4, 3)], (-1.5, 1.5)),
    ("sdpa_causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
     lambda q, k, v: torch_sdpa(q, k, v, is_causal=True),
     [(2, 2, 4, 2)] * 3, (-1.5, 1.5)),
    ("sdpa_bool_mask_broadcast",
     lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=BOOL, scale=0.8),
     lambda q, k, v: torch_sdpa(q, k, v, attn_mask=torch.tensor(BOOL),
                                                     scale=0.8),
     [(2, 2, 3, 2), (1, 2, 4, 2), (2, 1, 4, 3)], (-1.5, 1.5)),
    ("sdpa_float_mask_with_grad",
     lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
     lambda q, k, v, m: torch_sdpa(q, k, v, attn_mask=m),
     [(2, 3, 2), (2, 4, 2), (2, 4, 3), (3, 4)], (-1.5, 1.5)),
    ("multihead_self_attention", MHA_GD, MHA_TH, [(2, 3, 4)], (-1.5, 1.5)),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_double_backward_matches_torch(row):
    _, fn, tfn, shapes, (lo, hi) = row
    rng = np.random.default_rng(3)
    arrays = [rng.uniform(lo, hi, s) for s in shapes]
    xs = [gdlab.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(*xs), tfn(*ts)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    v = rng.standard_normal(out.shape)
    gs = grad(out, xs, grad_outputs=v, create_graph=True)
    tgs = torch.autograd.grad(tout, ts, grad_outputs=torch.tensor(v), create_graph=True)
    for a, b in zip(gs, tgs, strict=True):
        assert isinstance(a, gdlab.Tensor)
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert any(a.grad_fn is not None for a in gs)  # gradients with a graph
    w = [rng.standard_normal(x.shape) for x in xs]
    s = sum((g * wk).sum() for g, wk in zip(gs, w, strict=True))
    ts_ = sum((g * torch.tensor(wk)).sum() for g, wk in zip(tgs, w, strict=True))
    second = grad(s, xs, allow_unused=True)  # layer_norm's bias has no second derivative
    t_second = torch.autograd.grad(ts_, ts, allow_unused=True)
    for x, a, b in zip(xs, second, t_second, strict=True):
        a = np.zeros(x.shape) if a is None else a
        b = np.zeros(x.shape) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_gradgradcheck(row):
    _, fn, _, shapes, (lo, hi) = row
    rng = np.random.default_rng(4)
    xs = [gdlab.tensor(rng.uniform(lo, hi, s), requires_grad=True) for s in shapes]
    assert gradgradcheck(fn, xs, generator=0)


# The Tensor (out-of-place) forms and the fast array forms are one formula: equal on arrays.
def _gelu_pair(approximate):
    x = np.random.default_rng(5).uniform(-4, 4, (3, 5))
    g = np.random.default_rng(6).standard_normal((3, 5))
    fast = nn_ops._gelu_vjp(g, None, x, approximate)
    return fast, g * nn_ops._gelu_derivative(x, approximate)


def _layer_norm_pair():
    rng = np.random.default_rng(7)
    x, g, w = rng.standard_normal((4, 6)), rng.standard_normal((4, 6)), rng.standard_normal(6)
    fast = norm_ops._layer_norm_vjp_x(g, None, x, w, None, 1, 1e-5)
    return fast, norm_ops._tensor_vjp_x(g, x, w, 1, 1e-5)


def _attention_pair():
    rng = np.random.default_rng(8)
    q, k, v = (
        rng.standard_normal((2, 3, 4)),
        rng.standard_normal((2, 5, 4)),
        rng.standard_normal((2, 5, 2)),
    )
    g = rng.standard_normal((2, 3, 2))
    fast = attention_ops._attention_vjp_q(g, None, q, k, v, None, 0.5)
    tq = gdlab.tensor(q, requires_grad=True)
    out = attention_ops.attention(tq, k, v, None, 0.5)
    (slow,) = grad(out, tq, grad_outputs=g, create_graph=True)
    return fast, slow.data


PAIRS = [
    ("gelu", lambda: _gelu_pair("none")),
    ("gelu_tanh", lambda: _gelu_pair("tanh")),
    ("layer_norm", _layer_norm_pair),
    ("attention", _attention_pair),
]


@pytest.mark.parametrize("pair", PAIRS, ids=[p[0] for p in PAIRS])
def test_tensor_form_equals_the_fast_form(pair):
    fast, tensor_form = pair[1]()
    np.testing.assert_allclose(fast, tensor_form, rtol=1e-13, atol=1e-14)


# ------------------------------------------------------------------------- a tiny block
D, L, HEADS, FF = 4, 3, 2, 6


def _params(rng) -> list[np.ndarray]:
    return [
        1.0 + 0.1 * rng.standard_normal(D), 0.1 * rng.standard_normal(D),  # norm γ, β
        0.5 * rng.standard_normal((3 * D, D)), 0.1 * rng.standard_normal(3 * D),  # in-proj
        0.5 * rng.standard_normal((FF, D)), 0.1 * rng.standard_normal(FF),  # MLP
        0.5 * rng.standard_normal((D, FF)),
    ]  # fmt: skip


def _block(lib, x, gamma, beta, w_in, b_in, w1, b1, w2):
    """layer_norm -> packed in-projection -> causal multi-head SDPA -> GELU MLP -> sum of
    squares; written once for both libraries (``lib`` is torch or gdlab)."""
    fn = TF if lib is torch else F
    sdpa = torch_sdpa if lib is torch else F.scaled_dot_product_attention
    h = fn.layer_norm(x, (D,), gamma, beta)
    qkv = fn.linear(h, w_in, b_in).reshape(2, L, 3, HEADS, D // HEADS).permute(2, 0, 3, 1, 4)
    a = sdpa(qkv[0], qkv[1], qkv[2], is_causal=True)
    a = a.permute(0, 2, 1, 3).reshape(2, L, D) + x
    y = fn.linear(fn.gelu(fn.linear(a, w1, b1)), w2)
    return (y * y).sum()


def test_hessian_of_a_tiny_block_matches_torch():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, L, D))
    params = _params(rng)
    n = sum(p.size for p in params)
    assert 100 <= n <= 400  # "a few hundred parameters"
    sizes = np.cumsum([p.size for p in params])[:-1]

    def unflatten(lib, flat):
        parts = np.split(np.arange(n), sizes)
        return [flat[i].reshape(p.shape) for i, p in zip(parts, params, strict=True)]

    def g_fn(flat):
        return _block(gdlab, gdlab.tensor(x), *unflatten(gdlab, flat))

    def t_fn(flat):
        return _block(torch, torch.tensor(x), *unflatten(torch, flat))

    flat = np.concatenate([p.reshape(-1) for p in params])
    h = hessian(g_fn, gdlab.tensor(flat, requires_grad=True))
    th = torch.autograd.functional.hessian(t_fn, torch.tensor(flat), vectorize=True)
    h = h.data if isinstance(h, gdlab.Tensor) else np.asarray(h)
    assert h.shape == (n, n)
    np.testing.assert_allclose(h, th.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h, h.T, rtol=1e-10, atol=1e-12)
