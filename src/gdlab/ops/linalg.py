"""Matrix product with NumPy's batch broadcasting and torch's 1-D rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.ops.dispatch import apply
from gdlab.ops.elementwise import _operands
from gdlab.ops.registry import defop
from gdlab.tensor import Tensor

__all__ = ["bmm", "dot", "matmul", "mm", "mv"]


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


def _ndims(name: str, arrays: tuple[Any, ...], want: tuple[int, ...]) -> None:
    shapes = tuple(np.shape(x.data if isinstance(x, Tensor) else x) for x in arrays)
    if tuple(len(s) for s in shapes) != want:
        dims = " and ".join(f"{d}-D" for d in want)
        got = " and ".join(str(s) for s in shapes)
        raise ValueError(f"{name}: expected {dims} tensors, got shapes {got}")


def dot(a: Any, b: Any) -> Tensor:
    """Inner product of two 1-D tensors of the same length (torch.dot; no broadcasting)."""
    _ndims("dot", (a, b), (1, 1))
    return matmul(a, b)


def mv(mat: Any, vec: Any) -> Tensor:
    """Matrix (n, m) times vector (m,) (torch.mv; no broadcasting)."""
    _ndims("mv", (mat, vec), (2, 1))
    return matmul(mat, vec)


def mm(a: Any, b: Any) -> Tensor:
    """Matrix product of two 2-D tensors (torch.mm; no broadcasting)."""
    _ndims("mm", (a, b), (2, 2))
    return matmul(a, b)


def bmm(a: Any, b: Any) -> Tensor:
    """Batched matrix product (b, n, m) @ (b, m, p) -> (b, n, p) (torch.bmm; equal batches)."""
    _ndims("bmm", (a, b), (3, 3))
    sa, sb = (np.shape(x.data if isinstance(x, Tensor) else x) for x in (a, b))
    if sa[0] != sb[0]:
        raise ValueError(f"bmm: batch sizes differ, got shapes {sa} and {sb}")
    return matmul(a, b)
