"""Batch normalisation as one primitive: forward and a fused backward in one table row.

Composed from mean, var, sub, sqrt, div, mul and add, BatchNorm wrote about fifteen arrays of
the input's size per step and reduced over the non-contiguous axes (0, 2, 3) several times;
here the forward writes x − μ and the output, and the VJPs are the closed form (Ioffe & Szegedy,
2015, arXiv:1502.03167), per channel c over its m = N·H·W values:

    training: x̂ = (x − μ)·r, r = 1/√(σ² + eps)  (batch mean μ, biased variance σ²)
              ∂x = γ·r·(g − Σg/m − x̂·Σ(g·x̂)/m)
    eval:     x̂ = (x − μ)·r with the given (running) μ and σ², constants: ∂x = γ·r·g
    both:     y = x̂·γ + β,  ∂γ = Σ g·x̂,  ∂β = Σ g

``mean`` and ``var`` (keyword constants) select eval mode; the caller updates its running
statistics from ``BatchNormSaved.mean``/``var`` after the call. Channel sums are products
with a ones vector on the (N, C, L) view (BLAS, several times faster than NumPy's reduction
over axes 0 and 2), and the x VJP keeps Σg and Σg·x̂ in the saved record for the γ and β
VJPs of the same backward step.

With numba, inputs of ``MIN_SIZE`` elements or more (in rows of ``MIN_ROW`` or more values
per sample and channel) take compiled loops instead (``ops/_batch_norm_kernels.py``: two
passes each way, x − μ never written; 2.5-3x faster at the BN CNN's shapes); they agree with
this NumPy path within a few ulps (tests/ops/test_batch_norm_kernels.py).

Under ``create_graph=True`` the VJPs receive Tensors and compute the same closed form with
the ops of the table (statistics recomputed from the input tensor), so the gradient is
differentiable again; tests/ops/test_double_backward.py checks both forms agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import NamedTuple

import numpy as np

from gdlab._compiled import _UNSET, CompiledKernels
from gdlab.ops.registry import defop
from gdlab.tensor import Tensor

__all__ = ["BATCH_NORM", "MIN_ROW", "MIN_SIZE", "BatchNormSaved", "reset"]

MIN_SIZE = 1 << 16  # input elements; smaller inputs take the NumPy path (no numba import)
# values per (sample, channel) row: with shorter rows each channel's values are spread over
# the cache lines of all the others, and loops channel by channel read the input once per
# channel (BatchNorm1d on (4096, 256): 3x slower than NumPy; even at 2-4, faster from 8)
MIN_ROW = 8

_KERNELS = CompiledKernels("gdlab.ops._batch_norm_kernels")


@dataclass(eq=False)
class BatchNormSaved:
    """What one forward call leaves for its graph node and its caller: x − μ (N, C, L), r (C,),
    the batch statistics (training) and, during backward, Σg and Σg·x̂ for the output
    gradient ``g``; ``out`` identifies the forward result they belong to."""

    out: np.ndarray | None = None
    centred: np.ndarray | None = None
    rstd: np.ndarray | None = None
    mean: np.ndarray | None = None
    var: np.ndarray | None = None
    g: np.ndarray | None = None
    sum_g: np.ndarray | None = None
    sum_gx: np.ndarray | None = None


def _view(x: np.ndarray) -> np.ndarray:
    """x as (N, C, L): the channel axis between the batch and the flattened rest."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def _channel_sums(a3: np.ndarray) -> np.ndarray:
    """Σ over axes 0 and 2 of (N, C, L): a matrix-vector product, then a sum over N."""
    ones = np.ones(a3.shape[2], dtype=a3.dtype)
    return (a3 @ ones).sum(axis=0)


def _channel_dots(a3: np.ndarray, b3: np.ndarray) -> np.ndarray:
    """Σ over axes 0 and 2 of a·b, (C,)."""
    return np.einsum("ncl,ncl->c", a3, b3)


def _compiled(*arrays) -> ModuleType | None:
    """The compiled kernels (``gdlab.ops._batch_norm_kernels``) for these arrays, or None:
    the NumPy path."""
    return _KERNELS.for_arrays(MIN_SIZE, *arrays)


def reset(module: object = _UNSET) -> None:
    """Forget the import attempt, or force ``module`` (None: the NumPy path) for tests."""
    _KERNELS.reset(module)


def _statistics(x3: np.ndarray, eps: float, mean, var):
    """(x − μ, r, μ, σ²); μ and σ² are the batch's when ``mean`` is None. x̂ = (x − μ)·r is
    never written out: the output and the VJPs fold r into their per-channel factors."""
    dt = x3.dtype.type
    if mean is None:
        m = x3.shape[0] * x3.shape[2]
        mean = _channel_sums(x3) / dt(m)
        xc = x3 - mean[:, None]
        var = _channel_dots(xc, xc) / dt(m)
    else:
        mean, var = np.asarray(mean, dtype=x3.dtype), np.asarray(var, dtype=x3.dtype)
        xc = x3 - mean[:, None]
    rstd = 1 / np.sqrt(var + dt(eps))
    return xc, rstd, mean, var


def _compiled_forward(fast, x3, weight, bias, eps, mean, var):
    """(output, r, μ, σ²) from the kernels: training computes the statistics on the way."""
    dtype, c = x3.dtype, x3.shape[1]
    out = np.empty(x3.shape, dtype=dtype)
    shift = np.zeros(c, dtype=dtype) if bias is None else bias
    if mean is None:
        mean, var, rstd = (np.empty(c, dtype=dtype) for _ in range(3))
        scale = np.ones(c, dtype=dtype) if weight is None else weight  # r·1 = r exactly
        fast.batch_normalise(x3, dtype.type(eps), scale, shift, mean, var, rstd, out)
    else:
        mean, var = np.asarray(mean, dtype=dtype), np.asarray(var, dtype=dtype)
        rstd = 1 / np.sqrt(var + dtype.type(eps))
        fast.normalise(x3, mean, rstd if weight is None else rstd * weight, shift, out)
    return out, rstd, mean, var


def _batch_norm(x, weight=None, bias=None, eps=1e-5, mean=None, var=None, saved=None):
    x3 = _view(x)
    fast = _compiled(x3, weight, bias) if x3.shape[2] >= MIN_ROW else None
    if fast is not None:  # x − μ is not written: None in the saved record
        xc = None
        out, rstd, mu, sigma2 = _compiled_forward(fast, x3, weight, bias, eps, mean, var)
    else:
        xc, rstd, mu, sigma2 = _statistics(x3, eps, mean, var)
        out = xc * (rstd if weight is None else rstd * weight)[:, None]  # x̂·γ in one pass
        if bias is not None:
            out += bias[:, None]
    out = out.reshape(x.shape)
    if saved is not None:
        saved.out, saved.centred, saved.rstd, saved.mean, saved.var = out, xc, rstd, mu, sigma2
    return out


def _saved(out, x3, eps, mean, var, saved):
    """x − μ and r of this output: the saved ones, or recomputed (a second backward, the op
    table's tests, or kernels turned off since their forward, which saved no x − μ)."""
    if saved is not None and saved.out is out and saved.centred is not None:
        return saved.centred, saved.rstd
    xc, rstd, _, _ = _statistics(x3, eps, mean, var)
    return xc, rstd


def _from_kernels(g, out, saved) -> ModuleType | None:
    """The kernels when the forward of ``out`` ran on them (no x − μ saved), else None."""
    if saved is None or saved.out is not out or saved.centred is not None:
        return None
    return _compiled(g)


class _Sums(NamedTuple):
    """What the three VJPs of one backward step share."""

    g3: np.ndarray  # g as (N, C, L)
    centred: np.ndarray | None  # x − μ, None after the kernels' forward
    rstd: np.ndarray
    sum_g: np.ndarray  # Σg
    sum_gx: np.ndarray  # Σg·x̂


def _sums(g, out, x, eps, mean, var, saved) -> _Sums:
    """The shared values, computed once per backward step: from the saved record, or
    recomputed with the NumPy path (a second backward, the op table's tests)."""
    g3 = _view(g)
    if saved is not None and saved.out is out and saved.g is g:
        return _Sums(g3, saved.centred, saved.rstd, saved.sum_g, saved.sum_gx)
    x3 = _view(x)
    fast = _from_kernels(g, out, saved)
    if fast is not None:
        xc, rstd = None, saved.rstd
        sum_g, sum_gxc = np.empty(len(rstd)), np.empty(len(rstd))
        fast.grad_sums(g3, x3, saved.mean, sum_g, sum_gxc)
        sum_g, sum_gx = sum_g.astype(g3.dtype), sum_gxc.astype(g3.dtype) * rstd
    else:
        xc, rstd = _saved(out, x3, eps, mean, var, saved)
        sum_g, sum_gx = _channel_sums(g3), _channel_dots(g3, xc) * rstd
    if saved is not None and saved.out is out:
        saved.g, saved.centred, saved.sum_g, saved.sum_gx = g, xc, sum_g, sum_gx
    return _Sums(g3, xc, rstd, sum_g, sum_gx)


def _vjp_x(g, out, x, weight=None, bias=None, eps=1e-5, mean=None, var=None, saved=None):
    if isinstance(g, Tensor):
        return _differentiable_x(g, x, weight, eps, mean, var)
    g3, xc, rstd, sum_g, sum_gx = _sums(g, out, x, eps, mean, var, saved)
    scale = rstd if weight is None else rstd * weight
    if mean is not None:  # eval: the statistics are constants
        return (g3 * scale[:, None]).reshape(x.shape)
    m = g3.dtype.type(g3.shape[0] * g3.shape[2])
    k_xc, k_g = rstd * sum_gx / m, sum_g / m  # x̂·Σg·x̂/m = (x − μ)·k_xc
    if xc is None:  # the kernels' forward and sums
        gx = np.empty(g3.shape, dtype=g3.dtype)
        _KERNELS.get().input_grad(g3, _view(x), saved.mean, k_xc, k_g, scale, gx)
        return gx.reshape(x.shape)
    gx = xc * k_xc[:, None]
    np.subtract(g3, gx, out=gx)
    gx -= k_g[:, None]
    gx *= scale[:, None]
    return gx.reshape(x.shape)


def _vjp_weight(g, out, x, weight=None, bias=None, eps=1e-5, mean=None, var=None, saved=None):
    if isinstance(g, Tensor):
        return np.sum(g * _differentiable_xhat(x, eps, mean, var), axis=_axes(x))
    return _sums(g, out, x, eps, mean, var, saved).sum_gx.copy()


def _vjp_bias(g, out, x, weight=None, bias=None, eps=1e-5, mean=None, var=None, saved=None):
    if isinstance(g, Tensor):
        return np.sum(g, axis=_axes(x))
    return _sums(g, out, x, eps, mean, var, saved).sum_g.copy()


# ----------------------------------------------------------- the same VJPs on Tensors
def _axes(x) -> tuple[int, ...]:
    return (0, *range(2, x.ndim))


def _per_channel(a, ndim: int):
    """A (C,) vector shaped to broadcast against (N, C, ...)."""
    return np.reshape(a, (1, -1) + (1,) * (ndim - 2))


def _differentiable_xhat(x, eps, mean, var):
    """x̂ from ops of the table (differentiable in x when x is a Tensor)."""
    axes = _axes(x)
    if mean is None:
        mu = np.mean(x, axis=axes, keepdims=True)
        xc = x - mu
        sigma2 = np.mean(xc * xc, axis=axes, keepdims=True)
        return xc / np.sqrt(sigma2 + eps)
    xc = x - _per_channel(np.asarray(mean, dtype=x.dtype), x.ndim)
    return xc * _per_channel((1 / np.sqrt(np.asarray(var, dtype=x.dtype) + eps)), x.ndim)


def _differentiable_x(g, x, weight, eps, mean, var):
    """∂x of the module docstring from ops of the table: differentiable in g, x and γ."""
    axes, nd = _axes(x), x.ndim
    gh = g if weight is None else g * _per_channel(weight, nd)
    if mean is not None:
        r = 1 / np.sqrt(np.asarray(var, dtype=g.dtype) + eps)
        return gh * _per_channel(r, nd)
    mu = np.mean(x, axis=axes, keepdims=True)
    xc = x - mu
    rstd = 1 / np.sqrt(np.mean(xc * xc, axis=axes, keepdims=True) + eps)
    xhat = xc * rstd
    centred = gh - np.mean(gh, axis=axes, keepdims=True)
    return (centred - xhat * np.mean(gh * xhat, axis=axes, keepdims=True)) * rstd


BATCH_NORM = defop("batch_norm", _batch_norm, _vjp_x, _vjp_weight, _vjp_bias)
