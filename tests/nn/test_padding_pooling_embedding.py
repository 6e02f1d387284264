"""F.pad's reflect / replicate / circular modes, max pooling's return_indices and Embedding's
max_norm against torch (float64): values, indices, input gradients, renormalised weights."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nn_helpers import compare_forward_backward  # noqa: E402

import gdlab  # noqa: E402
import gdlab.nn as gnn  # noqa: E402
import gdlab.nn.functional as GF  # noqa: E402

TF = torch.nn.functional

# (id, input shape, pad, mode)
PADS = [
    ("reflect_1d", (2, 3, 5), (2, 4), "reflect"),
    ("reflect_1d_unbatched", (3, 5), (1, 0), "reflect"),
    ("reflect_2d", (2, 2, 4, 5), (1, 2, 3, 0), "reflect"),
    ("reflect_3d", (1, 2, 3, 4, 3), (1, 1, 2, 0, 1, 2), "reflect"),
    ("replicate_1d_wide", (2, 2, 3), (5, 4), "replicate"),
    ("replicate_2d_unbatched", (2, 3, 4), (0, 3, 2, 1), "replicate"),
    ("replicate_3d", (1, 1, 2, 3, 2), (1, 2, 0, 1, 3, 1), "replicate"),
    ("circular_1d_full", (2, 2, 4), (4, 3), "circular"),
    ("circular_2d", (2, 3, 3, 4), (1, 2, 3, 1), "circular"),
    ("circular_3d_unbatched", (2, 3, 2, 3), (1, 1, 1, 0, 2, 2), "circular"),
]  # fmt: skip


@pytest.mark.parametrize("case", PADS, ids=[c[0] for c in PADS])
def test_pad_modes_match_torch(case):
    _, shape, pad, mode = case
    rng = np.random.default_rng(0)
    compare_forward_backward(
        lambda x: GF.pad(x, pad, mode=mode),
        lambda x: TF.pad(x, pad, mode=mode),
        (rng.standard_normal(shape),),
        {},
        {},
        rng,
    )


# (id, input shape, pad, mode, error, message fragment)
PAD_ERRORS = [
    ("reflect_too_wide", (2, 3, 4), (4, 0), "reflect", ValueError, "should be less than"),
    ("circular_twice", (2, 3, 4), (5, 0), "circular", ValueError, "more than once"),
    ("odd_length", (2, 3, 4), (1, 1, 1), "reflect", ValueError, "divisible by 2"),
    ("too_many_dims", (2, 2, 2, 2, 2, 2), (1, 1), "replicate", NotImplementedError, "6D"),
    ("one_d_input", (4,), (1, 1), "reflect", NotImplementedError, "1D"),
    ("unknown_mode", (2, 3, 4), (1, 1), "mirror", NotImplementedError, "mirror"),
]  # fmt: skip


@pytest.mark.parametrize("case", PAD_ERRORS, ids=[c[0] for c in PAD_ERRORS])
def test_pad_mode_errors(case):
    _, shape, pad, mode, error, fragment = case
    with pytest.raises(error, match=fragment):
        GF.pad(gdlab.zeros(*shape), pad, mode=mode)


def test_pad_mode_rejects_a_value():
    x = gdlab.zeros(2, 3, 4)
    assert GF.pad(x, (1, 1), mode="reflect", value=0.0).shape == (2, 3, 6)
    with pytest.raises(ValueError, match="doesn't take in value"):
        GF.pad(x, (1, 1), mode="reflect", value=1.0)


def test_conv_padding_mode_repr_and_errors():
    conv = gnn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
    tconv = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
    assert repr(conv) == repr(tconv)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        gnn.Conv1d(2, 3, 3, padding_mode="mirror")


# (id, function, input shape, kwargs); ties are made on purpose by rounding the input
POOLS = [
    ("mp2d", "max_pool2d", (2, 3, 6, 6), {"kernel_size": 2}),
    ("mp2d_pad_stride_dil", "max_pool2d", (2, 2, 7, 8),
     {"kernel_size": (3, 2), "stride": (2, 1), "padding": 1, "dilation": (1, 2)}),
    ("mp2d_ceil_unbatched", "max_pool2d", (2, 8, 7), {"kernel_size": 3, "stride": 2,
                                                      "ceil_mode": True}),
    ("mp1d", "max_pool1d", (2, 3, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("mp1d_unbatched_ceil", "max_pool1d", (3, 8), {"kernel_size": 3, "ceil_mode": True}),
]  # fmt: skip


@pytest.mark.parametrize("case", POOLS, ids=[c[0] for c in POOLS])
def test_max_pool_return_indices_match_torch(case):
    _, fn, shape, kwargs = case
    x = np.round(np.random.default_rng(0).standard_normal(shape), 0)  # ties
    out, idx = getattr(GF, fn)(gdlab.tensor(x), return_indices=True, **kwargs)
    tout, tidx = getattr(TF, fn)(torch.tensor(x), return_indices=True, **kwargs)
    np.testing.assert_array_equal(out.data, tout.numpy())
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.data, tidx.numpy())
    module = getattr(gnn, "MaxPool2d" if fn == "max_pool2d" else "MaxPool1d")
    m_out, m_idx = module(return_indices=True, **kwargs)(gdlab.tensor(x))
    np.testing.assert_array_equal(m_idx.data, tidx.numpy())


# (id, num rows, dim, indices, max_norm, norm_type)
RENORMS = [
    ("l2", 6, 3, [[0, 2, 2], [5, 0, 1]], 1.0, 2.0),
    ("l1_loose", 5, 4, [4, 1, 1, 3], 2.5, 1.0),
    ("inf_none_exceed", 4, 2, [0, 3], 100.0, float("inf")),
]  # fmt: skip


@pytest.mark.parametrize("case", RENORMS, ids=[c[0] for c in RENORMS])
def test_embedding_max_norm_matches_torch(case):
    _, rows, dim, indices, max_norm, norm_type = case
    w0 = np.random.default_rng(0).standard_normal((rows, dim)) * 2
    idx = np.array(indices)
    g = gnn.Embedding(rows, dim, max_norm=max_norm, norm_type=norm_type).double()
    t = torch.nn.Embedding(rows, dim, max_norm=max_norm, norm_type=norm_type).double()
    g.weight.data[...] = w0
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w0))
    weights = np.random.default_rng(1).standard_normal((*idx.shape, dim))
    out, tout = g(idx), t(torch.tensor(idx))
    (out * gdlab.tensor(weights)).sum().backward()
    (tout * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.weight.data, t.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.weight.grad, t.weight.grad.numpy(), rtol=1e-12)
    assert repr(g) == repr(t)


@pytest.mark.parametrize("padding_idx", [None, 2], ids=["no_padding", "padding_2"])
def test_embedding_scale_grad_by_freq_matches_torch(padding_idx):
    w0 = np.random.default_rng(0).standard_normal((5, 3))
    idx = np.array([[0, 2, 2], [4, 0, 0]])
    weights = np.random.default_rng(1).standard_normal((*idx.shape, 3))
    kw = {"padding_idx": padding_idx, "scale_grad_by_freq": True}
    g = gnn.Embedding.from_pretrained(gdlab.tensor(w0), freeze=False, **kw)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w0), freeze=False, **kw)
    (g(idx) * gdlab.tensor(weights)).sum().backward()
    (t(torch.tensor(idx)) * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(g.weight.grad, t.weight.grad.numpy(), rtol=1e-12)
    assert repr(g) == repr(t)


def test_embedding_from_pretrained_like_torch():
    w0 = np.arange(6.0).reshape(3, 2)
    source = gdlab.tensor(w0)
    g = gnn.Embedding.from_pretrained(source)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w0))
    assert not g.weight.requires_grad and not t.weight.requires_grad
    assert g.weight.dtype == np.float64 and np.shares_memory(g.weight.data, source.data)
    np.testing.assert_array_equal(g(np.array([2, 0])).data, t(torch.tensor([2, 0])).numpy())
    with pytest.raises(ValueError, match="2-dimensional"):
        gnn.Embedding.from_pretrained(gdlab.tensor([1.0, 2.0]))
    sparse = gnn.Embedding.from_pretrained(source, freeze=False, sparse=True)
    assert repr(sparse) == repr(torch.nn.Embedding.from_pretrained(torch.tensor(w0), sparse=True))


# (class, args, input shape)
PAD_MODULES = [
    ("ReflectionPad1d", (2,), (2, 3, 4)),
    ("ReflectionPad2d", ((1, 2, 0, 3),), (1, 2, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 1, 2, 3, 3)),
    ("ReplicationPad1d", ((3, 0),), (3, 2)),
    ("ReplicationPad2d", (2,), (1, 2, 3, 3)),
    ("ReplicationPad3d", ((1, 0, 0, 1, 2, 0),), (1, 2, 2, 2, 2)),
    ("CircularPad1d", (1,), (2, 2, 3)),
    ("CircularPad2d", ((1, 2, 2, 1),), (1, 2, 3, 4)),
    ("CircularPad3d", (1,), (1, 1, 2, 2, 2)),
    ("ConstantPad1d", (2, 3.5), (2, 3, 4)),
    ("ConstantPad2d", ((1, 0, 2, 0), -1.0), (1, 2, 3, 3)),
    ("ConstantPad3d", (1, 0.5), (1, 2, 2, 2)),
    ("ZeroPad1d", ((1, 2),), (2, 3, 4)),
    ("ZeroPad2d", (1,), (1, 2, 3, 3)),
    ("ZeroPad3d", ((0, 1, 1, 0, 2, 1),), (1, 1, 2, 2, 2)),
]  # fmt: skip


@pytest.mark.parametrize("case", PAD_MODULES, ids=[c[0] for c in PAD_MODULES])
def test_padding_modules_match_torch(case):
    name, args, shape = case
    rng = np.random.default_rng(0)
    g, t = getattr(gnn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(g) == repr(t)
    compare_forward_backward(g, t, (rng.standard_normal(shape),), {}, {}, rng)
