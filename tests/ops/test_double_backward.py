"""Every row of the op table differentiated twice (``create_graph=True``), float64: second
derivatives against central differences of the gradient (``gradgradcheck``) and against
torch's double backward on the same inputs, over the samples of tests/ops/op_samples.py
(hypothesis draws the shapes, broadcasting and 0-d included; several keyword cases per row).

Every row is twice differentiable and has its torch counterpart in ``TORCH`` (called with the
row's sampled keyword arguments); a row without one fails ``test_every_row_has_a_counterpart``
(the engine's error for a rule that cannot run on Tensors is tested in
tests/autograd/test_functional.py with an op made for it). The table holds no comparison or
argmax rows (those run outside the graph); ``sign`` is a row whose derivatives are zero and
checked as such.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes
from op_samples import SAMPLING

import gdlab
from gdlab.autograd import grad, gradgradcheck
from gdlab.ops import OPS, apply

torch = pytest.importorskip("torch")
F = torch.nn.functional

# The recurrences share one backward pass among their inputs' VJPs through a workspace the
# layers pass (``ws``); without it each input's VJP differentiates the whole scan again.
WORKSPACE_ROWS = {"gru_scan", "lstm_scan", "rnn_scan"}


def _dims(dim, ndim):
    return tuple(range(ndim)) if dim is None else dim


def _index(index):
    """A NumPy index (arrays, masks, tuples of them) as torch's."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    return torch.as_tensor(index) if isinstance(index, np.ndarray) else index


def _pad_widths(widths):
    """Per-dimension (before, after) pairs as torch's flat tuple, last dimension first,
    without the leading unpadded dimensions (torch's padding modes need them left out)."""
    pairs = list(widths)
    while pairs and tuple(pairs[0]) == (0, 0):
        pairs.pop(0)
    return tuple(w for pair in reversed(pairs) for w in pair)


def _index_scatter(src, index, shape):
    """torch's gradient of ``x[index]`` (zeros with src added at index), itself
    differentiable in src: the counterpart of getitem's gradient row."""
    x = torch.zeros(shape, dtype=src.dtype, requires_grad=True)
    return torch.autograd.grad(x[_index(index)], x, src, create_graph=True)[0]


def _cross_entropy(z, q, denom=None):
    losses = -(torch.as_tensor(q) * torch.log_softmax(z, 1)).sum(1)
    return losses if denom is None else losses.sum() / denom


def _cross_entropy_index(z, target, denom=None):
    losses = F.cross_entropy(z, torch.as_tensor(target), reduction="none")
    return losses if denom is None else losses.sum() / denom


def _scaled_softmax(x, scale, bias=None, safe=False):
    z = x * scale + (0 if bias is None else torch.as_tensor(bias))
    return torch.softmax(z, -1)  # the samples keep one position per row: safe is moot


def _heads(a, heads):
    """(..., L, heads·d) -> (..., heads, L, d), or ``a`` itself without heads."""
    if heads is None:
        return a
    return a.reshape(*a.shape[:-1], heads, a.shape[-1] // heads).transpose(-3, -2)


def _attention(q, k, v, bias=None, scale=1.0, safe=True, heads=None):
    qh, kh, vh = _heads(q, heads), _heads(k, heads), _heads(v, heads)
    z = qh @ kh.transpose(-1, -2) * scale + (0 if bias is None else torch.as_tensor(bias))
    out = torch.softmax(z, -1) @ vh  # the samples keep one key per row: safe is moot
    if heads is None:
        return out
    return out.transpose(-3, -2).reshape(*out.shape[:-3], out.shape[-2], -1)


def _self_attention(qkv, bias=None, scale=1.0, safe=True, heads=None):
    return _attention(*qkv.chunk(3, -1), bias, scale, safe, heads)


def _conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    t, bottom, left, right = padding
    return F.conv2d(F.pad(x, (left, right, t, bottom)), w, b, stride, 0, dilation, groups)


def _windows(x, kernel, stride, padding, dilation, value):
    """(N, C, kh·kw, oh·ow): each pooling window's entries, x padded (top, bottom, left,
    right) with ``value``."""
    t, bottom, left, right = padding
    xp = F.pad(x, (left, right, t, bottom), value=value)
    n, c = x.shape[:2]
    cols = F.unfold(xp.reshape(n * c, 1, *xp.shape[2:]), kernel, dilation, 0, stride)
    return cols.reshape(n, c, kernel[0] * kernel[1], -1)


def _max_pool2d(x, kernel, stride, padding, dilation, out_hw):
    windows = _windows(x, kernel, stride, padding, dilation, -torch.inf)
    return windows.amax(2).reshape(*x.shape[:2], *out_hw)


def _avg_pool2d(x, kernel, stride, padding, dilation, out_hw, divisor=None):
    total = _windows(x, kernel, stride, padding, dilation, 0.0).sum(2)
    d = kernel[0] * kernel[1] if divisor is None else torch.as_tensor(divisor)
    return total.reshape(*x.shape[:2], *out_hw) / d


def _input_gradient(fn, x_shape, g, dtype):
    """torch's gradient of the linear ``fn`` with respect to an input of ``x_shape`` (which
    it does not depend on), for the output gradient ``g``: differentiable in g and fn's
    other inputs."""
    x = torch.zeros(x_shape, dtype=dtype, requires_grad=True)
    return torch.autograd.grad(fn(x), x, g, create_graph=True)[0]


def _conv2d_input_grad(g, w, in_hw, stride, padding, dilation, groups):
    shape = (g.shape[0], w.shape[1] * groups, *in_hw)
    conv = lambda x: _conv2d(x, w, None, stride, padding, dilation, groups)  # noqa: E731
    return _input_gradient(conv, shape, g, g.dtype)


def _conv2d_weight_grad(x, g, kernel, stride, padding, dilation, groups):
    shape = (g.shape[1], x.shape[1] // groups, *kernel)
    conv = lambda w: _conv2d(x, w, None, stride, padding, dilation, groups)  # noqa: E731
    return _input_gradient(conv, shape, g, g.dtype)


def _max_pool2d_grad(g, x, pooled, kernel, stride, padding, dilation, out_hw):
    xt = torch.tensor(x, requires_grad=True)  # the samples have no ties: amax's rule is moot
    y = _max_pool2d(xt, kernel, stride, padding, dilation, out_hw)
    return torch.autograd.grad(y, xt, g, create_graph=True)[0]


def _max_pool2d_select(h, x, pooled, kernel, stride, padding, dilation, out_hw):
    """h at each window's maximum of x (the adjoint of the scatter above)."""
    idx = _windows(torch.as_tensor(x), kernel, stride, padding, dilation, -torch.inf).argmax(2)
    windows = _windows(h, kernel, stride, padding, dilation, 0.0)
    return windows.gather(2, idx.unsqueeze(2)).squeeze(2).reshape(*h.shape[:2], *out_hw)


def _avg_pool2d_grad(g, in_hw, kernel, stride, padding, dilation, out_hw, divisor=None):
    pool = lambda x: _avg_pool2d(x, kernel, stride, padding, dilation, out_hw, divisor)  # noqa: E731
    return _input_gradient(pool, (*g.shape[:2], *in_hw), g, g.dtype)


def _batch_norm(x, weight=None, bias=None, eps=1e-5, mean=None, var=None):
    if mean is None:
        return F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)
    mean, var = torch.as_tensor(mean), torch.as_tensor(var)
    return F.batch_norm(x, mean, var, weight, bias, training=False, eps=eps)


def _steps(t_len, reverse):
    return range(t_len - 1, -1, -1) if reverse else range(t_len)


def _hh(h, w_hh, b_hh):
    return h @ w_hh.T + (0 if b_hh is None else b_hh)


def _rnn_scan(xp, h0, w_hh, b_hh=None, nonlinearity="tanh", reverse=False):
    act = torch.tanh if nonlinearity == "tanh" else torch.relu
    hs, h = {}, h0
    for t in _steps(xp.shape[0], reverse):
        h = hs[t] = act(xp[t] + _hh(h, w_hh, b_hh))
    return torch.stack([hs[t] for t in range(len(hs))])


def _lstm_scan(xp, h0, c0, w_hh, b_hh=None, w_hr=None, reverse=False):
    """torch.nn.LSTMCell's formulas (gates i, f, g, o); the row's output is h_1..h_T padded
    to the cell width H, then c_T."""
    hs, h, c = {}, h0, c0
    for t in _steps(xp.shape[0], reverse):
        i, f, g, o = (xp[t] + _hh(h, w_hh, b_hh)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        h = hs[t] = h if w_hr is None else h @ w_hr.T
    hid = c0.shape[1]
    rows = [F.pad(hs[t], (0, hid - hs[t].shape[1])) for t in range(len(hs))]
    return torch.stack([*rows, c])


def _gru_scan(xp, h0, w_hh, b_hh=None, reverse=False):
    """torch.nn.GRUCell's formulas (gates r, z, n)."""
    hs, h = {}, h0
    for t in _steps(xp.shape[0], reverse):
        xr, xz, xn = xp[t].chunk(3, dim=1)
        hr, hz, hn = _hh(h, w_hh, b_hh).chunk(3, dim=1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        h = hs[t] = (1 - z) * n + z * h
    return torch.stack([hs[t] for t in range(len(hs))])


def _layer_norm(x, w, b, ndim, eps):
    return F.layer_norm(x, x.shape[x.ndim - ndim :], w, b, eps)


# row name -> torch's counterpart of ``apply(OPS[name], *inputs, **kwargs)``; the rows not yet
# twice differentiable have theirs ready (checked at first order below)

TORCH = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
    "pow": torch.pow, "maximum": torch.maximum, "minimum": torch.minimum,
    "neg": torch.neg, "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt,
    "abs": torch.abs, "sin": torch.sin, "cos": torch.cos, "tanh": torch.tanh,
    "sinh": torch.sinh, "cosh": torch.cosh, "square": torch.square, "sign": torch.sign,
    "sigmoid": torch.sigmoid, "relu": torch.relu, "erf": torch.erf, "clone": torch.clone,
    "matmul": torch.matmul,
    "softplus": lambda x, beta, threshold: F.softplus(x, beta=beta, threshold=threshold),
    "clamp": lambda x, min, max: torch.clamp(x, min=min, max=max),  # noqa: A006
    "where": lambda a, b, condition: torch.where(torch.as_tensor(condition), a, b),
    "to": lambda x, dtype: x.to(torch.float64 if dtype == np.float64 else torch.float32),
    "sum": lambda x, dim, keepdim: torch.sum(x, _dims(dim, x.ndim), keepdim),
    "mean": lambda x, dim, keepdim: torch.mean(x, _dims(dim, x.ndim), keepdim),
    "amax": lambda x, dim, keepdim: torch.amax(x, _dims(dim, x.ndim), keepdim),
    "amin": lambda x, dim, keepdim: torch.amin(x, _dims(dim, x.ndim), keepdim),
    "var": lambda x, dim, keepdim, correction: torch.var(
        x, _dims(dim, x.ndim), correction=correction, keepdim=keepdim
    ),
    "std": lambda x, dim, keepdim, correction: torch.std(
        x, _dims(dim, x.ndim), correction=correction, keepdim=keepdim
    ),
    "norm": lambda x, p, dim, keepdim: torch.linalg.vector_norm(x, p, dim, keepdim),
    "logsumexp": lambda x, dim, keepdim: torch.logsumexp(x, _dims(dim, x.ndim), keepdim),
    "softmax": lambda x, dim: torch.softmax(x, dim),
    "log_softmax": lambda x, dim: torch.log_softmax(x, dim),
    "reshape": lambda x, shape: x.reshape(shape),
    "permute": lambda x, dims: x.permute(dims),
    "expand": lambda x, shape: x.expand(shape),
    "getitem": lambda x, index: x[_index(index)],
    "index_scatter": _index_scatter,
    "gather": lambda x, dim, index: torch.gather(x, dim, torch.as_tensor(index)),
    "cat": lambda *xs, dim: torch.cat(xs, dim),
    "stack": lambda *xs, dim: torch.stack(xs, dim),
    "pad": lambda x, widths, value: F.pad(x, _pad_widths(widths), value=value),
    "mode_pad": lambda x, widths, mode: F.pad(x, _pad_widths(widths), mode=mode),
    "einsum": lambda *xs, equation: torch.einsum(equation, *xs),
    "linear": F.linear,
    "scaled_softmax": _scaled_softmax,
    "attention": _attention,
    "self_attention": _self_attention,
    "leaky_relu": lambda x, negative_slope: F.leaky_relu(x, negative_slope),
    "elu": lambda x, alpha: F.elu(x, alpha),
    "hardtanh": lambda x, min_val, max_val: F.hardtanh(x, min_val, max_val),
    "cross_entropy": _cross_entropy,
    "soft_cross_entropy": _cross_entropy,
    "cross_entropy_index": _cross_entropy_index,
    "binary_cross_entropy": lambda x, y: F.binary_cross_entropy(
        *torch.broadcast_tensors(x, y), reduction="none"
    ),
    "embedding": lambda w, indices: F.embedding(torch.as_tensor(indices), w),
    "conv2d": _conv2d, "max_pool2d": _max_pool2d, "avg_pool2d": _avg_pool2d,
    "conv2d_input_grad": _conv2d_input_grad, "conv2d_weight_grad": _conv2d_weight_grad,
    "max_pool2d_grad": _max_pool2d_grad, "max_pool2d_select": _max_pool2d_select,
    "avg_pool2d_grad": _avg_pool2d_grad, "batch_norm": _batch_norm,
    "gelu": lambda x, approximate: F.gelu(x, approximate=approximate),
    "layer_norm": _layer_norm,
    "rnn_scan": _rnn_scan, "lstm_scan": _lstm_scan, "gru_scan": _gru_scan,
}  # fmt: skip


def draw_cases(name: str, data) -> tuple[list, np.random.Generator]:
    """The row's (shapes, kwargs) cases around a drawn shape (its sampler), or drawn
    mutually broadcastable shapes (0-d included) for a row without one."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    row = SAMPLING[name]
    if row.cases is not None:
        shape = data.draw(array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
        return row.cases(rng, shape), rng
    n = len(OPS[name].vjps)
    shapes = data.draw(
        mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3, max_side=3)
    ).input_shapes
    return [(list(shapes), dict(row.kwargs or {}))], rng


def inputs(name: str, shapes, rng) -> list[gdlab.Tensor]:
    lo, hi = SAMPLING[name].domain
    return [gdlab.tensor(rng.uniform(lo, hi, s), requires_grad=True) for s in shapes]


def _second(outputs, xs, w, lib):
    """∇ₓ Σᵢ wᵢ·gᵢ for the first-order gradients ``outputs``; a gradient without a graph
    contributes nothing and an unused input gets zeros (torch's materialised zeros)."""
    terms = [(g * wk).sum() for g, wk in zip(outputs, w, strict=True) if g.requires_grad]
    if not terms:
        return [np.zeros(x.shape) for x in xs]
    if lib is torch:
        gs = torch.autograd.grad(sum(terms), xs, allow_unused=True, materialize_grads=True)
        return [g.numpy(force=True) for g in gs]
    gs = grad(sum(terms), xs, allow_unused=True)
    return [np.zeros(x.shape) if g is None else np.asarray(g) for g, x in zip(gs, xs, strict=True)]


def _first(out, xs, v, lib):
    if lib is torch:
        return torch.autograd.grad(out, xs, v, create_graph=True, materialize_grads=True)
    gs = grad(out, xs, grad_outputs=v, create_graph=True, allow_unused=True)
    zeros = [gdlab.zeros(x.shape, dtype=gdlab.float64) for x in xs]
    return [z if g is None else g for g, z in zip(gs, zeros, strict=True)]


@pytest.mark.parametrize("name", sorted(OPS))
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_second_derivatives_match_finite_differences_and_torch(name, data):
    op, tfn = OPS[name], TORCH[name]
    all_cases, rng = draw_cases(name, data)
    for shapes, kwargs in all_cases:
        xs = inputs(name, shapes, rng)
        ws = {"ws": {}} if name in WORKSPACE_ROWS else {}  # as the layers call them
        assert gradgradcheck(lambda *a, kw=kwargs | ws: apply(op, *a, **kw), xs, generator=0)
        ts = [torch.tensor(x.data, requires_grad=True) for x in xs]
        out, tout = apply(op, *xs, **kwargs, **ws), tfn(*ts, **kwargs)
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
        v = rng.standard_normal(out.shape)
        w = [rng.standard_normal(x.shape) for x in xs]
        gs, tgs = _first(out, xs, v, gdlab), _first(tout, ts, torch.tensor(v), torch)
        for g, tg in zip(gs, tgs, strict=True):
            np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10, atol=1e-12)
        second = _second(gs, xs, [gdlab.tensor(a) for a in w], gdlab)
        tsecond = _second(tgs, ts, [torch.tensor(a) for a in w], torch)
        for h, th in zip(second, tsecond, strict=True):
            np.testing.assert_allclose(h, th, rtol=1e-9, atol=1e-12)


def test_every_row_has_a_counterpart():
    assert set(TORCH) == set(OPS)


# (id, gdlab function, torch function, input shapes, domain): the layers' functional forms
# (conv1d, 1-D pooling, ceil mode, batch norm's modes) differentiated twice against torch
GF = gdlab.nn.functional
RM, RV = np.array([0.5, -0.2, 0.1]), np.array([1.5, 0.7, 2.0])  # running statistics
FUNCTIONAL_ROWS = [
    ("conv2d", lambda x, w, b: GF.conv2d(x, w, b, padding=1),
     lambda x, w, b: F.conv2d(x, w, b, padding=1), [(2, 2, 5, 4), (3, 2, 3, 3), (3,)], (-1, 1)),
    ("conv2d_strided_grouped", lambda x, w: GF.conv2d(x, w, stride=2, dilation=(1, 2), groups=2),
     lambda x, w: F.conv2d(x, w, stride=2, dilation=(1, 2), groups=2),
     [(1, 4, 7, 7), (4, 2, 2, 3)], (-1, 1)),
    ("conv1d", lambda x, w, b: GF.conv1d(x, w, b, stride=2, padding=1),
     lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), [(2, 3, 9), (2, 3, 3), (2,)],
     (-1, 1)),
    ("max_pool2d", lambda x: GF.max_pool2d(x, 2), lambda x: F.max_pool2d(x, 2), [(2, 3, 4, 5)],
     (-2, 2)),
    ("max_pool2d_overlapping", lambda x: GF.max_pool2d(x, 3, 2, padding=1, ceil_mode=True),
     lambda x: F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True), [(1, 2, 6, 7)], (-2, 2)),
    ("max_pool1d", lambda x: GF.max_pool1d(x, 3, 2), lambda x: F.max_pool1d(x, 3, 2),
     [(2, 3, 9)], (-2, 2)),
    ("avg_pool2d_padded", lambda x: GF.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
     lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [(1, 2, 6, 5)], (-2, 2)),
    ("avg_pool1d", lambda x: GF.avg_pool1d(x, 2), lambda x: F.avg_pool1d(x, 2), [(2, 3, 6)],
     (-2, 2)),
    ("batch_norm_2d", lambda x, w, b: GF.batch_norm(x, None, None, w, b, training=True),
     lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     [(4, 3, 2, 3), (3,), (3,)], (-2, 2)),
    ("batch_norm_1d_no_affine", lambda x: GF.batch_norm(x, None, None, training=True, eps=1e-3),
     lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3), [(6, 4)], (-2, 2)),
    ("batch_norm_eval", lambda x, w: GF.batch_norm(x, RM, RV, w, training=False),
     lambda x, w: F.batch_norm(x, torch.tensor(RM), torch.tensor(RV), w, training=False),
     [(3, 3, 4), (3,)], (-2, 2)),
]  # fmt: skip


@pytest.mark.parametrize("row", FUNCTIONAL_ROWS, ids=[r[0] for r in FUNCTIONAL_ROWS])
def test_functional_double_backward_matches_torch(row):
    _, fn, tfn, shapes, (lo, hi) = row
    rng = np.random.default_rng(3)
    arrays = [rng.uniform(lo, hi, s) for s in shapes]
    xs = [gdlab.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(*xs), tfn(*ts)
    v = rng.standard_normal(out.shape)
    gs, tgs = _first(out, xs, v, gdlab), _first(tout, ts, torch.tensor(v), torch)
    for g, tg in zip(gs, tgs, strict=True):
        np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = [rng.standard_normal(x.shape) for x in xs]
    second = _second(gs, xs, [gdlab.tensor(a) for a in w], gdlab)
    tsecond = _second(tgs, ts, [torch.tensor(a) for a in w], torch)
    for h, th in zip(second, tsecond, strict=True):
        np.testing.assert_allclose(h, th, rtol=1e-9, atol=1e-12)
