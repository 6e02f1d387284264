"""Selecting by order, with torch's names: ``topk``, ``sort``, ``argsort``.

Composites: the order is found on the arrays (NumPy's stable argsort, so ties keep the lower
index first) and the values are a ``gather`` (a row of the op table), so the gradient flows
through the values to the positions they came from, as torch's does.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gdlab.ops.shape import gather
from gdlab.tensor import Tensor

__all__ = ["Sort", "TopK", "argsort", "sort", "topk"]


class TopK(NamedTuple):
    """``topk``'s result, torch.return_types.topk: the values and their indices."""

    values: Tensor
    indices: Tensor


class Sort(NamedTuple):
    """``sort``'s result, torch.return_types.sort: the values and their indices."""

    values: Tensor
    indices: Tensor


def _dim(x: Tensor, dim: int, where: str) -> int:
    nd = max(x.ndim, 1)
    if not isinstance(dim, int | np.integer) or not -nd <= dim < nd:
        raise IndexError(
            f"{where}: Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
            f"but got {dim})"
        )
    return int(dim) % nd


def _order(x: Tensor, d: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``d``: ascending, or descending with ties in index order."""
    key = x.data.reshape(1) if x.ndim == 0 else x.data
    if descending:
        key = -key.astype(np.float64) if key.dtype.kind in "ub" else -key
    return np.argsort(key, axis=d, kind="stable")


def _gathered(x: Tensor, d: int, idx: np.ndarray) -> Tensor:
    if x.ndim == 0:  # a 0-d tensor is its own order
        return x * 1
    return gather(x, d, idx)


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Sort:
    """The values along ``dim`` in order, and where they were (torch.sort); differentiable
    through the values. Ties keep their order (every sort here is stable)."""
    d = _dim(x, dim, "sort")
    idx = _order(x, d, descending)
    if x.ndim == 0:
        idx = idx.reshape(())
    return Sort(_gathered(x, d, idx), Tensor._wrap(idx))


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``x`` along ``dim`` (torch.argsort)."""
    return sort(x, dim, descending, stable).indices


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopK:  # noqa: A002 - torch's argument name
    """The ``k`` largest (or smallest) values along ``dim`` and their indices (torch.topk);
    the gradient flows through the values.

    ``sorted=False`` is accepted; the values come sorted anyway (torch leaves the order
    unspecified).

    Example:
        >>> gdlab.topk(gdlab.tensor([1.0, 5.0, 3.0]), 2)
        TopK(values=tensor([5., 3.]), indices=tensor([1, 2]))
    """
    d = _dim(x, dim, "topk")
    n = x.shape[d] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k <= n:
        raise RuntimeError(f"topk: k={k!r} out of range for dimension {dim} of size {n}")
    idx = np.take(_order(x, d, largest), np.arange(k), axis=d)
    if x.ndim == 0:
        idx = idx.reshape(())
    return TopK(_gathered(x, d, idx), Tensor._wrap(idx))
