"""Layer normalisation as one primitive: forward and a fused backward in one table row.

Composed from mean, var, sub, sqrt, div, mul and add, LayerNorm writes about twenty arrays
of the input's size per step and the engine adds the partial gradients together; here the
forward writes x̂ and the output, and each VJP is the closed form (Ba et al., 2016):

    x̂ = (x − μ)·r,  r = 1/√(σ² + eps)  (biased variance over the normalised dims)
    y = x̂·γ + β
    ∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  ĝ = g·γ
    ∂γ = Σ_rows g·x̂,  ∂β = Σ_rows g

With numba (``pip install gdlab[fast]``), float32 and float64 inputs of ``MIN_SIZE``
elements or more run as compiled loops over rows (``gdlab.ops._norm_kernels``): the forward
keeps μ and r per row instead of x̂, and the first VJP the engine calls computes all three
gradients in one pass and leaves the other two for their rules (``_compiled_grad``).

When the engine differentiates these rules (``create_graph=True``, Tensors in place of
arrays), the same closed forms run out of place on Tensors, with x̂ and r recomputed from x
so that they carry its graph (``_tensor_rules``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlab._compiled import CompiledKernels
from gdlab.ops.registry import defop
from gdlab.tensor import Tensor

__all__ = ["LAYER_NORM", "MIN_SIZE", "LayerNormSaved"]

MIN_SIZE = 1 << 14  # elements; smaller inputs take the NumPy path (no numba import for them)

_KERNELS = CompiledKernels("gdlab.ops._norm_kernels")


@dataclass(eq=False)
class LayerNormSaved:
    """The statistics of one forward call (held by its graph node), so the VJPs do not
    recompute them; ``out`` identifies the forward result they belong to. The NumPy path
    keeps x̂ and r, the compiled one μ and r per row, and the gradients its backward computed
    for ``g`` that no rule has taken yet (``grads``: ∂x, ∂γ, ∂β)."""

    out: np.ndarray | None = None
    xhat: np.ndarray | None = None
    rstd: np.ndarray | None = None
    mean: np.ndarray | None = None
    g: np.ndarray | None = None
    grads: list[np.ndarray | None] | None = None


def _rows(x: np.ndarray, ndim: int) -> np.ndarray:
    """x as (rows, features) with the last ``ndim`` dimensions as the features."""
    features = math.prod(x.shape[x.ndim - ndim :])
    return x.reshape(-1, features)


def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    return np.ones(n, dtype=dtype)


def _row_means(a: np.ndarray) -> np.ndarray:
    """Mean of each row as a (rows, 1) array: a BLAS matrix-vector product, several times
    faster than NumPy's reduction over short rows."""
    return (a @ _ones(a.shape[1], a.dtype))[:, None] / a.dtype.type(a.shape[1])


def _statistics(x: np.ndarray, ndim: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(x̂, r) as (rows, features) and (rows, 1) arrays."""
    xr = _rows(x, ndim)
    xhat = xr - _row_means(xr)
    var = np.einsum("ij,ij->i", xhat, xhat)[:, None]
    var /= xr.shape[1]
    var += x.dtype.type(eps)
    rstd = np.sqrt(var, out=var)
    np.reciprocal(rstd, out=rstd)
    xhat *= rstd
    return xhat, rstd


def _affine(p: np.ndarray | None, n: int, dtype: np.dtype, fill: float) -> np.ndarray:
    """γ or β as a contiguous (features,) array; ``fill`` (1 or 0) where there is none."""
    return np.full(n, fill, dtype) if p is None else np.ascontiguousarray(p.reshape(-1))


def _layer_norm(
    x: np.ndarray,
    weight: np.ndarray | None,
    bias: np.ndarray | None,
    ndim: int,
    eps: float,
    saved: LayerNormSaved | None = None,
) -> np.ndarray:
    kernels = _KERNELS.for_arrays(MIN_SIZE, x, weight, bias)
    if kernels is not None:
        xr = np.ascontiguousarray(_rows(x, ndim))
        n = xr.shape[1]
        w, b = _affine(weight, n, x.dtype, 1.0), _affine(bias, n, x.dtype, 0.0)
        out, mean, rstd = kernels.layer_norm_forward(xr, w, b, eps)
        out = out.reshape(x.shape)
        if saved is not None:
            saved.out, saved.mean, saved.rstd = out, mean, rstd
        return out
    xhat, rstd = _statistics(x, ndim, eps)
    out = xhat * weight.reshape(-1) if weight is not None else xhat.copy()
    if bias is not None:
        out += bias.reshape(-1)
    out = out.reshape(x.shape)
    if saved is not None:
        saved.out, saved.xhat, saved.rstd = out, xhat, rstd
    return out


def _saved(out, x, ndim, eps, saved) -> tuple[np.ndarray, np.ndarray]:
    if saved is not None and saved.out is out and saved.xhat is not None:
        return saved.xhat, saved.rstd
    return _statistics(x, ndim, eps)  # a second backward, or the op table's tests


def _compiled(g: Any, out: Any, saved: LayerNormSaved | None) -> bool:
    """Whether the compiled forward made ``out`` (then the compiled backward runs)."""
    return (
        saved is not None
        and saved.out is out
        and saved.mean is not None
        and isinstance(g, np.ndarray)
        and g.dtype == out.dtype
    )


def _compiled_grad(i, g, x, weight, ndim, saved) -> np.ndarray:
    """∂x, ∂γ or ∂β (``i`` = 0, 1, 2) as (rows, features) or (features,): the compiled
    backward computes all three in one pass, so the first rule to ask runs it for ``g``
    and the others take what it left (each value once: a second backward runs it again)."""
    grads = saved.grads if saved.g is g else None
    if grads is None or grads[i] is None:
        gr = np.ascontiguousarray(_rows(g, ndim))
        xr = np.ascontiguousarray(_rows(x, ndim))
        w = _affine(weight, xr.shape[1], x.dtype, 1.0)
        grads = list(_KERNELS.get().layer_norm_backward(gr, xr, w, saved.mean, saved.rstd))
        saved.g, saved.grads = g, grads
    result, grads[i] = grads[i], None
    return result


def _differentiated(*arrays: Any) -> bool:
    return any(isinstance(a, Tensor) for a in arrays)


def _tensor_statistics(x: Any, ndim: int, eps: float) -> tuple[Any, Any, tuple[int, ...]]:
    """(x̂, r, the normalised axes) out of place, for Tensors (or arrays), keeping x's shape."""
    axes = tuple(range(-ndim, 0))
    xc = x - np.mean(x, axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(np.mean(xc * xc, axis=axes, keepdims=True) + eps)
    return xc * rstd, rstd, axes


def _tensor_vjp_x(g: Any, x: Any, weight: Any, ndim: int, eps: float) -> Any:
    """∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) out of place (create_graph=True)."""
    xhat, rstd, axes = _tensor_statistics(x, ndim, eps)
    gh = g * weight if weight is not None else g
    mean_gh = np.mean(gh, axis=axes, keepdims=True)
    mean_ghx = np.mean(gh * xhat, axis=axes, keepdims=True)
    return (gh - mean_gh - xhat * mean_ghx) * rstd


def _rows_sum(a: Any, ndim: int) -> Any:
    """Σ over the leading (non-normalised) dimensions."""
    lead = tuple(range(np.ndim(a) - ndim))
    return np.sum(a, axis=lead) if lead else a * 1.0


def _layer_norm_vjp_x(g, out, x, weight, bias, ndim, eps, saved=None):
    if _differentiated(g, x, weight):
        return _tensor_vjp_x(g, x, weight, ndim, eps)
    if _compiled(g, out, saved):
        return _compiled_grad(0, g, x, weight, ndim, saved).reshape(x.shape)
    xhat, rstd = _saved(out, x, ndim, eps, saved)
    gr = _rows(g, ndim)
    gh = gr * weight.reshape(-1) if weight is not None else gr.copy()
    n = xhat.shape[1]
    dot = np.einsum("ij,ij->i", gh, xhat)[:, None]
    dot /= n
    gh -= _row_means(gh)
    gh -= xhat * dot
    gh *= rstd
    return gh.reshape(x.shape)


def _layer_norm_vjp_weight(g, out, x, weight, bias, ndim, eps, saved=None):
    if _differentiated(g, x):
        return _rows_sum(g * _tensor_statistics(x, ndim, eps)[0], ndim)
    if _compiled(g, out, saved):
        return _compiled_grad(1, g, x, weight, ndim, saved).reshape(weight.shape)
    xhat, _ = _saved(out, x, ndim, eps, saved)
    return np.einsum("ij,ij->j", _rows(g, ndim), xhat).reshape(weight.shape)


def _layer_norm_vjp_bias(g, out, x, weight, bias, ndim, eps, saved=None):
    if _differentiated(g):
        return _rows_sum(g, ndim)
    if _compiled(g, out, saved):
        return _compiled_grad(2, g, x, weight, ndim, saved).reshape(bias.shape)
    gr = _rows(g, ndim)
    return (_ones(gr.shape[0], gr.dtype) @ gr).reshape(bias.shape)


LAYER_NORM = defop(
    "layer_norm",
    _layer_norm,
    _layer_norm_vjp_x,
    _layer_norm_vjp_weight,
    _layer_norm_vjp_bias,
)
