"""Convolution and pooling functions (torch.nn.functional signatures).

1-D versions run the 2-D primitives with a height of 1; unbatched inputs get a batch
dimension of 1 and lose it again, as in torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.ops import conv, pool
from gdlab.ops.dispatch import apply
from gdlab.ops.linalg import matmul
from gdlab.ops.shape import reshape
from gdlab.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "max_pool1d",
    "max_pool2d",
]


def _pair(v: Any, name: str) -> tuple[int, int]:
    t = (v, v) if isinstance(v, int | np.integer) else tuple(v)
    if len(t) == 1:
        t = (t[0], t[0])
    if len(t) != 2 or any(int(a) != a for a in t):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}")
    return int(t[0]), int(t[1])


def _batched(input: Tensor, ndim: int, name: str) -> tuple[Tensor, bool]:  # noqa: A002
    if input.ndim == ndim - 1:
        return reshape(input, (1, *input.shape)), True
    if input.ndim != ndim:
        raise ValueError(
            f"{name}: expected {ndim - 1}D (unbatched) or {ndim}D (batched) input, got input "
            f"of shape {input.shape}"
        )
    return input, False


def _unbatch(out: Tensor, squeeze: bool) -> Tensor:
    return reshape(out, out.shape[1:]) if squeeze else out


def _conv_padding(padding: Any, kernel: tuple, dilation: tuple, stride: tuple, name: str):
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of 'valid', 'same'"
            )
        if stride != (1, 1):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        return (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
    ph, pw = _pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"{name}: negative padding is not supported, got {padding!r}")
    return (ph, ph, pw, pw)


def conv2d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    _name: str = "conv2d",
) -> Tensor:
    """Cross-correlation of (N, C, H, W) input with (O, C/groups, kh, kw) weights.

    Implemented as im2col (a strided window view copied a few samples at a time) and one
    matrix product per sample; ``padding`` is an int, a pair, 'valid' or 'same'.
    """
    x, squeeze = _batched(input, 4, _name)
    _check_weight_ndim(weight, 4, _name)
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{_name}: stride and dilation must be positive, got {stride}, {dilation}")
    kernel = weight.shape[2:]
    pads = _conv_padding(padding, kernel, dilation, stride, _name)
    _check_conv(x, weight, bias, groups, kernel, pads, dilation, _name)
    args = (x, weight) if bias is None else (x, weight, bias)
    out = apply(conv.CONV2D, *args, stride=stride, padding=pads, dilation=dilation, groups=groups)
    return _unbatch(out, squeeze)


def _check_weight_ndim(weight: Tensor, ndim: int, name: str) -> None:
    if weight.ndim != ndim:
        raise ValueError(
            f"{name}: expected a {ndim}-D weight (out_channels, in_channels/groups, kernel...), "
            f"got weight of shape {tuple(weight.shape)}"
        )


def _check_conv(x, weight, bias, groups, kernel, pads, dilation, name) -> None:
    c, o = x.shape[1], weight.shape[0]
    if groups < 1 or c % groups or o % groups:
        raise ValueError(
            f"{name}: groups={groups} must divide in_channels {c} and out_channels {o}"
        )
    if weight.shape[1] * groups != c:
        raise ValueError(
            f"{name}: expected input with {weight.shape[1] * groups} channels (weight of shape "
            f"{weight.shape}, groups={groups}), got input of shape {x.shape}"
        )
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"{name}: bias of shape {bias.shape} does not match {o} out_channels")
    padded = (x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3])
    eff = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
    if eff[0] > padded[0] or eff[1] > padded[1]:
        raise ValueError(
            f"{name}: kernel size {eff} (dilated) can't be greater than the padded input size "
            f"{padded} (input of shape {x.shape}, padding {pads})"
        )


def conv1d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """Cross-correlation of (N, C, L) input with (O, C/groups, k) weights (conv2d with H = 1)."""
    x, squeeze = _batched(input, 3, "conv1d")
    _check_weight_ndim(weight, 3, "conv1d")
    x4, w4 = _with_height_1(x), _with_height_1(weight)
    pad = padding if isinstance(padding, str) else (0, _single(padding))
    out = conv2d(x4, w4, bias, (1, _single(stride)), pad, (1, _single(dilation)), groups, "conv1d")
    return _from_2d(out, squeeze)


def _single(v: Any) -> int:
    return int(v if isinstance(v, int | np.integer) else v[0])


def _with_height_1(t: Tensor) -> Tensor:
    """(A, B, L) as (A, B, 1, L): a 1-D input or weight for the 2-D primitives."""
    return reshape(t, (t.shape[0], t.shape[1], 1, t.shape[2]))


def _from_2d(y: Tensor, squeeze: bool) -> Tensor:
    """A 2-D primitive's (N, C, 1, L) output as (N, C, L), unbatched again if it was."""
    return _unbatch(reshape(y, (y.shape[0], y.shape[1], y.shape[3])), squeeze)


# ------------------------------------------------------------------------- pooling
def _pool_geometry(x, kernel, stride, padding, dilation, ceil_mode, name):
    kernel = _pair(kernel, "kernel_size")
    stride = kernel if stride is None or stride == () else _pair(stride, "stride")
    padding, dilation = _pair(padding, "padding"), _pair(dilation, "dilation")
    for p, k, d in zip(padding, kernel, dilation, strict=True):
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(
                f"{name}: pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
    sizes = x.shape[2:]
    out = tuple(
        pool.pool_output_size(s, k, st, p, d, ceil_mode)
        for s, k, st, p, d in zip(sizes, kernel, stride, padding, dilation, strict=True)
    )
    if min(out) < 1:
        raise ValueError(
            f"{name}: output size {out} is too small (input of shape {x.shape}, kernel_size "
            f"{kernel}, padding {padding})"
        )
    # ceil_mode windows may run past the padded input: pad more on the bottom/right
    extra = [
        max(0, (o - 1) * st + d * (k - 1) + 1 - (s + 2 * p))
        for o, st, d, k, s, p in zip(out, stride, dilation, kernel, sizes, padding, strict=True)
    ]
    pads = (padding[0], padding[0] + extra[0], padding[1], padding[1] + extra[1])
    return kernel, stride, padding, dilation, out, pads


def max_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    _name: str = "max_pool2d",
) -> Tensor:
    """Maximum over each (dilated) window; the gradient goes to the first maximum.

    With ``return_indices``, returns ``(output, indices)``: the int64 flat position
    (row·W + column) of each window's first maximum in its input plane, as torch.
    """
    x, squeeze = _batched(input, 4, _name)
    k, s, _, d, out, pads = _pool_geometry(
        x, kernel_size, stride, padding, dilation, ceil_mode, _name
    )
    y = apply(pool.MAX_POOL2D, x, kernel=k, stride=s, padding=pads, dilation=d, out_hw=out)
    if return_indices:
        idx = pool.max_pool2d_indices(x.data, y.data, k, s, pads, d, out)
        return _unbatch(y, squeeze), _unbatch(Tensor._wrap(idx), squeeze)
    return _unbatch(y, squeeze)


def _avg_counts(size: int, k: int, s: int, p: int, out: int, include_pad: bool) -> np.ndarray:
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
    _name: str = "avg_pool2d",
) -> Tensor:
    """Mean over each window; padding counts in the divisor when ``count_include_pad``."""
    x, squeeze = _batched(input, 4, _name)
    k, s, p, d, out, pads = _pool_geometry(x, kernel_size, stride, padding, 1, ceil_mode, _name)
    if divisor_override is not None:
        divisor = float(divisor_override)
    else:
        ch, cw = (
            _avg_counts(x.shape[2 + i], k[i], s[i], p[i], out[i], count_include_pad)
            for i in range(2)
        )
        divisor = np.outer(ch, cw).astype(x.dtype)
        if np.all(divisor == k[0] * k[1]):
            divisor = None  # the common case: a constant divisor
    y = apply(
        pool.AVG_POOL2D,
        x,
        kernel=k,
        stride=s,
        padding=pads,
        dilation=d,
        out_hw=out,
        divisor=divisor,
    )
    return _unbatch(y, squeeze)


def _as_2d(input: Tensor, name: str, kernel_size: Any, stride: Any, padding: Any):  # noqa: A002
    """(N, C, L) or (C, L) input as (N, C, 1, L), whether to squeeze the batch again, and the
    window's kernel, stride and padding as 2-D pairs (H = 1)."""
    x, squeeze = _batched(input, 3, name)
    s = None if stride is None else (1, _single(stride))
    return _with_height_1(x), squeeze, (1, _single(kernel_size)), s, (0, _single(padding))


def max_pool1d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """Maximum over each window of (N, C, L) or (C, L) input: ``max_pool2d`` with H = 1."""
    x, squeeze, k, s, p = _as_2d(input, "max_pool1d", kernel_size, stride, padding)
    d = (1, _single(dilation))
    y = max_pool2d(x, k, s, p, d, ceil_mode, return_indices, "max_pool1d")
    if return_indices:
        return _from_2d(y[0], squeeze), _from_2d(y[1], squeeze)
    return _from_2d(y, squeeze)


def avg_pool1d(
    input: Tensor,  # noqa: A002
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Mean over each window of (N, C, L) or (C, L) input: ``avg_pool2d`` with H = 1."""
    x, squeeze, k, s, p = _as_2d(input, "avg_pool1d", kernel_size, stride, padding)
    y = avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, None, "avg_pool1d")
    return _from_2d(y, squeeze)


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) averaging matrix: row i averages [⌊i·size/out⌋, ⌈(i+1)·size/out⌉)."""
    m = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, end = (i * size) // out, -((-(i + 1) * size) // out)
        m[i, start:end] = 1.0 / (end - start)
    return m


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size: two products with averaging matrices."""
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected 3D or 4D input, got {input.shape}")
    h, w = input.shape[-2:]
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    oh, ow = oh or h, ow or w
    ph = _adaptive_matrix(h, oh, input.dtype)
    pw = _adaptive_matrix(w, ow, input.dtype)
    return matmul(matmul(ph, input), pw.T.copy())


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling of (N, C, L) or (C, L) input to ``output_size``: one product with
    an averaging matrix."""
    if input.ndim not in (2, 3):
        raise ValueError(f"adaptive_avg_pool1d: expected 2D or 3D input, got {input.shape}")
    out = _single(output_size)
    return matmul(input, _adaptive_matrix(input.shape[-1], out, input.dtype).T.copy())
