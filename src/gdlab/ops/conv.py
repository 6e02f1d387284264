"""2-D convolution as one primitive: im2col by stride tricks and one matrix product per sample
(batched over groups); the backward pass is two more products and a col2im over kernel
positions.

Layout: ``x`` (N, C, H, W), ``w`` (O, C/groups, kh, kw), ``b`` (O,), as torch. ``padding`` is
(top, bottom, left, right) so that 'same' padding with an even kernel can be asymmetric.
Conv1d is this op with H = 1 (``gdlab.nn.functional.conv1d``).

The batch is processed a few samples at a time (``CHUNK_ELEMENTS``): each chunk's columns
are used while they are still in cache, and the whole batch's columns never exist at once
(the weight gradient rebuilds them, which costs less than writing them all to memory and
reading them back).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gdlab._compiled import CompiledKernels
from gdlab.ops.dispatch import apply_or_forward
from gdlab.ops.registry import defop
from gdlab.tensor import Tensor

__all__ = [
    "CONV2D",
    "CONV2D_INPUT_GRAD",
    "CONV2D_WEIGHT_GRAD",
    "conv_output_size",
    "kernel_positions",
]

CHUNK_ELEMENTS = 1 << 19  # column elements per batch chunk of im2col (2 MB in float32)
COL2IM_CHUNK_ELEMENTS = 1 << 17  # and of the stride-1 col2im (512 kB: in L2 for its adds)
MIN_SIZE = 1 << 16  # gradient elements; smaller inputs take the NumPy col2im (no numba import)

_KERNELS = CompiledKernels("gdlab.ops._conv_kernels")

Pair = tuple[int, int]
Pad4 = tuple[int, int, int, int]


def conv_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """floor((size + pad − dilation·(kernel − 1) − 1) / stride) + 1 (pad = both sides)."""
    return (size + pad - dilation * (kernel - 1) - 1) // stride + 1


def kernel_positions(
    xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair
) -> list[tuple[int, int, np.ndarray]]:
    """(i, j, view) for each kernel tap: the strided view of the padded input it touches."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    return [
        (
            i,
            j,
            xp[
                ...,
                i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                j * dw : j * dw + sw * (ow - 1) + 1 : sw,
            ],
        )
        for i in range(kh)
        for j in range(kw)
    ]


def _geometry(shape, kernel, stride, padding, dilation):
    n, c, h, wd = shape
    kh, kw = kernel
    oh = conv_output_size(h, kh, stride[0], padding[0] + padding[1], dilation[0])
    ow = conv_output_size(wd, kw, stride[1], padding[2] + padding[3], dilation[1])
    return n, c, kh, kw, oh, ow


def _column_chunks(x, kernel, stride, padding, dilation, groups, ones=False):
    """(n0, n1, columns (G, C/G·kh·kw, n1 − n0, OH·OW) of samples n0 .. n1 − 1), chunk by
    chunk, in buffers reused from chunk to chunk (the padded samples' borders stay zero).
    ``ones``: each group's columns end with a row of ones (a bias column multiplies it)."""
    n, c, kh, kw, oh, ow = _geometry(x.shape, kernel, stride, padding, dilation)
    k = c // groups * kh * kw
    chunk = max(1, min(n, CHUNK_ELEMENTS // (groups * k * oh * ow)))
    buf = np.empty((groups, k + ones, chunk, oh, ow), dtype=x.dtype)
    buf[:, k:] = 1
    t, b, l, r = padding
    h, w = x.shape[2:]
    padded = np.zeros((chunk, c, h + t + b, w + l + r), dtype=x.dtype) if any(padding) else None
    for n0 in range(0, n, chunk):
        n1 = min(n, n0 + chunk)
        xp = x[n0:n1]
        if padded is not None:
            xp = padded[: n1 - n0]
            xp[:, :, t : t + h, l : l + w] = x[n0:n1]
        _im2col_into(buf[:, :k, : n1 - n0], xp, (kh, kw), stride, dilation)
        yield n0, n1, buf[:, :, : n1 - n0].reshape(groups, k + ones, n1 - n0, oh * ow)


def _im2col_into(cols, xp, kernel, stride, dilation) -> None:
    """cols (G, C/G·kh·kw, N, OH, OW) = the columns of the padded input ``xp``: one copy
    through a strided window view."""
    (n, c), (kh, kw), (groups, _, _, oh, ow) = xp.shape[:2], kernel, cols.shape
    sn, sc, sh, sw = xp.strides
    win = as_strided(
        xp,
        (groups, c // groups, kh, kw, n, oh, ow),
        (
            sc * (c // groups),
            sc,
            sh * dilation[0],
            sw * dilation[1],
            sn,
            sh * stride[0],
            sw * stride[1],
        ),
        writeable=False,
    )
    np.copyto(cols.reshape(win.shape), win)


def _by_group(a: np.ndarray, groups: int) -> np.ndarray:
    """(N, O, OH, OW) as (G, N, O/G, OH·OW): each sample's (O/G, OH·OW) matrix per group."""
    n, o = a.shape[:2]
    return a.reshape(n, groups, o // groups, -1).transpose(1, 0, 2, 3)


def _grad_matrix(g: np.ndarray, groups: int) -> np.ndarray:
    """g (N, O, OH, OW) as (G, O/G, N·OH·OW), matching a product over the whole batch."""
    n, o = g.shape[:2]
    return g.transpose(1, 0, 2, 3).reshape(groups, o // groups, -1)


def _conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """One product per sample, W (O/G, K) by its columns (K, OH·OW), written straight into
    the output's (N, O, OH, OW) layout (no transpose pass). The bias is a last column of W
    against a row of ones in the columns: the product adds it (no pass over the output)."""
    n, _, _, _, oh, ow = _geometry(x.shape, w.shape[2:], stride, padding, dilation)
    o = w.shape[0]
    wmat = w.reshape(groups, 1, o // groups, -1)
    if b is not None:
        wmat = np.concatenate([wmat, b.reshape(groups, 1, o // groups, 1)], axis=-1)
    out = np.empty((n, o, oh, ow), dtype=np.result_type(x, wmat))
    chunks = _column_chunks(x, w.shape[2:], stride, padding, dilation, groups, b is not None)
    for n0, n1, cols in chunks:
        np.matmul(wmat, cols.transpose(0, 2, 1, 3), out=_by_group(out[n0:n1], groups))
    return out


def _input_grad(g, w, in_hw, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """The gradient of conv2d's input (a transposed convolution of g by w), for an input of
    spatial size ``in_hw``: the forward of the row CONV2D_INPUT_GRAD."""
    n, o = g.shape[:2]
    c = w.shape[1] * groups
    n, c, kh, kw, oh, ow = _geometry((n, c, *in_hw), w.shape[2:], stride, padding, dilation)
    t, bt, l, r = padding
    hp, wp = in_hw[0] + t + bt, in_hw[1] + l + r
    if tuple(stride) == (1, 1):
        return _col2im_stride1(g, w, groups, (c, kh, kw, n, oh, ow), padding, in_hw, dilation)
    wmat = w.reshape(groups, o // groups, -1)
    gcols = np.matmul(wmat.transpose(0, 2, 1), _grad_matrix(g, groups))  # (G, K, N·OH·OW)
    gcols = gcols.reshape(c, kh, kw, n, oh, ow)
    gxp = np.zeros((n, c, hp, wp), dtype=g.dtype)
    # col2im: one strided accumulation per kernel tap (kh·kw iterations, no pixel loops)
    for i, j, view in kernel_positions(gxp, (kh, kw), stride, dilation, (oh, ow)):
        np.add(view, gcols[:, i, j].transpose(1, 0, 2, 3), out=view)
    return gxp[:, :, t : t + in_hw[0], l : l + in_hw[1]]


def _col2im_stride1(g, w, groups, dims, padding, in_hw, dilation) -> np.ndarray:
    """Stride-1 col2im on the flattened padded image: computing the columns on a full-width
    (OH, Wp) grid (g padded with zero columns) turns each tap's accumulation into one add
    over contiguous runs of OH·Wp elements, shifted by i·dh·Wp + j·dw.

    A few samples at a time (``COL2IM_CHUNK_ELEMENTS``), so the columns are added while they
    are still in cache; each sample's sums are the same, in the same order. The adds are one
    compiled loop when numba runs (``_conv_kernels``: the same sums, 3.5x faster than the
    NumPy adds at the benchmark CNN's second layer), else one NumPy add per tap."""
    c, kh, kw, n, oh, ow = dims
    t, bt, l, r = padding
    hp, wp = in_hw[0] + t + bt, in_hw[1] + l + r
    o = w.shape[0]
    length = oh * wp
    wt = w.reshape(groups, o // groups, -1).transpose(0, 2, 1)  # (G, K, O/G)
    chunk = max(1, min(n, COL2IM_CHUNK_ELEMENTS // (c * kh * kw * length)))
    g_full = np.zeros((chunk, o, oh, wp), dtype=g.dtype)
    kernels = _KERNELS.get() if g.size >= MIN_SIZE else None
    if kernels is not None:
        out = np.empty((n, c, *in_hw), dtype=g.dtype)
        plane = np.empty((hp + 1) * wp, dtype=g.dtype)
    else:
        flat = np.zeros((n, c, (hp + 1) * wp), dtype=g.dtype)  # a spare row for the last taps
    for n0 in range(0, n, chunk):
        b = min(n, n0 + chunk) - n0
        g_full[:b, ..., :ow] = g[n0 : n0 + b]
        gcols = np.matmul(wt, g_full[:b].reshape(b, groups, o // groups, length))
        gcols = gcols.reshape(b, c, kh, kw, length)  # (b, G, K, L) with K = C/G·kh·kw
        if kernels is not None:
            kernels.col2im_full_width(gcols, out, n0, wp, *dilation, t, l, plane)
            continue
        for i in range(kh):
            for j in range(kw):
                shift = i * dilation[0] * wp + j * dilation[1]
                view = flat[n0 : n0 + b, :, shift : shift + length]
                np.add(view, gcols[:, :, i, j], out=view)
    if kernels is not None:
        return out
    gxp = flat[:, :, : hp * wp].reshape(n, c, hp, wp)
    return gxp[:, :, t : t + in_hw[0], l : l + in_hw[1]]


def _weight_grad(x, g, kernel, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """The gradient of conv2d's weight (a correlation of x with g): the forward of the row
    CONV2D_WEIGHT_GRAD. Σ over samples and positions of g · columns, chunk by chunk.

    When a sample's (O/G, K) product is smaller than its gradient (K < OH·OW: few input
    channels, large images) one product per sample on g as it lies, summed over samples,
    moves the least memory; else one product per chunk on a transposed copy of its g."""
    o, length = g.shape[1], g.shape[2] * g.shape[3]
    gw = np.empty((o, x.shape[1] // groups, *kernel), dtype=np.result_type(x, g))
    k = gw[0].size
    parts = []
    for n0, n1, cols in _column_chunks(x, kernel, stride, padding, dilation, groups):
        if k < length:  # (G, b, K, L) by (G, b, L, O/G), summed over the b samples
            per_sample = np.matmul(
                cols.transpose(0, 2, 1, 3), _by_group(g[n0:n1], groups).transpose(0, 1, 3, 2)
            )
            parts.append(per_sample.sum(axis=1))
        else:
            gmat = _grad_matrix(g[n0:n1], groups)
            parts.append(np.matmul(cols.reshape(groups, k, -1), gmat.transpose(0, 2, 1)))
    # (G, K, O/G) partial sums, added straight into a (G, O/G, K) view of a fresh array: the
    # leaf keeps it, no copy
    np.sum(parts, axis=0, out=gw.reshape(groups, o // groups, k).transpose(0, 2, 1))
    return gw


def _conv2d_vjp_x(
    g, out, x, w, b=None, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1
):
    geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return apply_or_forward(CONV2D_INPUT_GRAD, g, w, in_hw=tuple(x.shape[2:]), **geometry)


def _conv2d_vjp_w(
    g, out, x, w, b=None, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1
):
    geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return apply_or_forward(CONV2D_WEIGHT_GRAD, x, g, kernel=tuple(w.shape[2:]), **geometry)


def _conv2d_vjp_b(g, out, x, w, b=None, **kwargs):
    if isinstance(g, Tensor):
        return np.sum(g, axis=(0, 2, 3))
    return g.sum(axis=(0, 2, 3))


CONV2D = defop("conv2d", _conv2d, _conv2d_vjp_x, _conv2d_vjp_w, _conv2d_vjp_b)


# The two gradients as rows of their own, each bilinear; their VJPs are the three rows again
# (⟨h, T(g, w)⟩ = ⟨conv(h, w), g⟩ = ⟨W(h, g), w⟩), so conv2d is differentiable to any order.
def _input_grad_vjp_g(h, out, g, w, in_hw, stride, padding, dilation, groups):
    geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return apply_or_forward(CONV2D, h, w, **geometry)


def _input_grad_vjp_w(h, out, g, w, in_hw, stride, padding, dilation, groups):
    geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return apply_or_forward(CONV2D_WEIGHT_GRAD, h, g, kernel=tuple(w.shape[2:]), **geometry)


def _weight_grad_vjp_x(k, out, x, g, kernel, stride, padding, dilation, groups):
    geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return apply_or_forward(CONV2D_INPUT_GRAD, g, k, in_hw=tuple(x.shape[2:]), **geometry)


def _weight_grad_vjp_g(k, out, x, g, kernel, stride, padding, dilation, groups):
    geometry = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return apply_or_forward(CONV2D, x, k, **geometry)


CONV2D_INPUT_GRAD = defop("conv2d_input_grad", _input_grad, _input_grad_vjp_g, _input_grad_vjp_w)
CONV2D_WEIGHT_GRAD = defop(
    "conv2d_weight_grad", _weight_grad, _weight_grad_vjp_x, _weight_grad_vjp_g
)
