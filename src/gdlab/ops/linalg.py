"""Matrix product with NumPy's batch broadcasting and torch's 1-D rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.ops.dispatch import apply
from gdlab.ops.elementwise import _operands
from gdlab.ops.registry import defop
from gdlab.tensor import Tensor

__all__ = ["matmul"]


def _matmul_vjp_a(g, out, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if b.ndim == 1:  # out (..., n) = a (..., n, k) @ b (k,)
        return g[..., None] * b
    if a.ndim == 1:  # out (..., m) = a (k,) @ b (..., k, m); summed to (k,) by the engine
        return (b @ g[..., None])[..., 0]
    return g @ np.swapaxes(b, -1, -2)


def _matmul_vjp_b(g, out, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:
        return a[:, None] * g[..., None, :]
    if b.ndim == 1:
        return (np.swapaxes(a, -1, -2) @ g[..., None])[..., 0]
    return np.swapaxes(a, -1, -2) @ g


MATMUL = defop("matmul", np.matmul, _matmul_vjp_a, _matmul_vjp_b)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product; leading dimensions broadcast, 1-D operands as torch.matmul."""
    a, b = _operands(a, b)
    sa, sb = (x.data.shape if isinstance(x, Tensor) else np.shape(x) for x in (a, b))
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dimension, got {sa} and {sb}")
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if sa[-1] != k_b:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned ({sa[-1]} != {k_b})")
    return apply(MATMUL, a, b)
