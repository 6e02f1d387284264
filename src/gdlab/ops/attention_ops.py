"""The attention softmax as one primitive: softmax(x·scale + bias) over the last dimension.

Attention scores are the largest arrays of a transformer step ((N, heads, L, S)); composed
from mul, add and softmax they would be written five times forward and four times backward.
One row computes the weights in place on one new array, and its VJP
``scale·p·(g − Σ g·p)`` reuses them. ``bias`` is a constant (an attention mask as 0/−inf or
a float mask that needs no gradient); a mask that requires grad is added before the call.
"""

from __future__ import annotations

import numpy as np

from gdlab.ops.registry import apply, defop
from gdlab.tensor import Tensor

__all__ = ["SCALED_SOFTMAX", "scaled_softmax"]


def _scaled_softmax(
    x: np.ndarray, scale: float, bias: np.ndarray | None = None, safe: bool = False
) -> np.ndarray:
    z = x * x.dtype.type(scale)
    if bias is not None:
        z += bias
    m = z.max(axis=-1, keepdims=True)
    empty = None
    if safe:
        empty = m == -np.inf
        if empty.any():
            m[empty] = 0.0  # a row masked everywhere: exp gives zeros, not NaN
        else:
            empty = None
    with np.errstate(invalid="ignore"):  # a fully masked row: −inf − (−inf) is torch's NaN
        z -= m
    np.exp(z, out=z)
    total = z.sum(axis=-1, keepdims=True)
    if empty is not None:
        total[empty] = 1.0
    z /= total
    return z


def _scaled_softmax_vjp(g, out, x, scale, bias=None, safe=False):
    gp = g * out
    gp -= out * gp.sum(axis=-1, keepdims=True)
    if scale != 1.0:
        gp *= gp.dtype.type(scale)
    return gp


def _sample_scaled_softmax(rng: np.random.Generator, shape: tuple[int, ...]) -> list:
    shape = shape or (3,)
    mask = np.where(rng.random(shape) < 0.3, -np.inf, 0.0)
    mask[..., 0] = 0.0  # every row keeps one position (a fully masked row is NaN, as torch)
    masked = np.where(np.arange(shape[-1]) < 1, -np.inf, 0.0)
    return [
        ((shape,), {"scale": 0.7}),
        ((shape,), {"scale": 0.9, "bias": masked, "safe": True}),
        ((shape,), {"scale": 1.3, "bias": rng.standard_normal(shape[-1:])}),
        ((shape,), {"scale": 0.5, "bias": mask}),
    ]


SCALED_SOFTMAX = defop(
    "scaled_softmax", _scaled_softmax, _scaled_softmax_vjp, sample=_sample_scaled_softmax
)


def scaled_softmax(
    x: Tensor, scale: float, bias: np.ndarray | None = None, safe: bool = False
) -> Tensor:
    """softmax(x·scale + bias, dim=-1); ``bias`` broadcasts against ``x`` (an array, or None).

    With ``safe``, a row whose every entry is −inf gives zeros (torch's
    scaled_dot_product_attention); otherwise NaN (torch's softmax, MultiheadAttention's
    weights path).

    Example:
        >>> scaled_softmax(gdlab.zeros(2, 3), 0.5).tolist()[0]
        [0.3333333432674408, 0.3333333432674408, 0.3333333432674408]
    """
    if bias is None:
        return apply(SCALED_SOFTMAX, x, scale=float(scale))
    return apply(SCALED_SOFTMAX, x, scale=float(scale), bias=bias, safe=safe)
