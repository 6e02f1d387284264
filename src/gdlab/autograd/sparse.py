"""Row-sparse gradients: the gradient of an ``Embedding(sparse=True)`` table.

A batch touches a few rows of a large table; its gradient is those rows' indices and their
gradient rows, never a dense table of zeros. ``RowSparseGrad`` is that pair (torch's
coalesced sparse COO tensor with one sparse dimension). It is what ``weight.grad`` holds after
a backward through ``embedding(..., sparse=True)``; ``to_dense()`` gives exactly the array the
dense path computes. Sums with another row-sparse gradient stay sparse; a sum with a dense
array is dense (torch's rules).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.autograd.scatter import coalesce_rows

__all__ = ["RowSparseGrad", "stored_values"]


class RowSparseGrad:
    """Rows ``indices`` (unique, ascending) of a gradient of ``shape``; every other row is 0.

    Attributes:
        indices: int64 array (k,), the rows present, unique and ascending.
        values: array (k, *shape[1:]), their gradient rows.
        shape: the dense gradient's shape.

    Example:
        >>> g = RowSparseGrad.from_rows(np.array([3, 0, 3]), np.ones((3, 2)), (5, 2))
        >>> g.indices, g.values[:, 0]
        (array([0, 3]), array([1., 2.]))
        >>> g.to_dense()[:, 0]
        array([1., 0., 0., 2., 0.])
    """

    __slots__ = ("indices", "shape", "values")
    __array_ufunc__ = None  # ndarray + RowSparseGrad defers to __radd__ (no object arrays)

    def __init__(self, indices: np.ndarray, values: np.ndarray, shape: tuple[int, ...]) -> None:
        self.indices = indices
        self.values = values
        self.shape = tuple(shape)

    @classmethod
    def from_rows(
        cls, rows: np.ndarray, values: np.ndarray, shape: tuple[int, ...]
    ) -> RowSparseGrad:
        """Coalesce: the rows of equal index summed one after another in their order of
        appearance, as ``np.add.at`` sums them into a dense table, so ``to_dense()`` equals
        that bit for bit; but on the touched rows only, and much faster than
        ``np.add.at`` (which loops in C per element): see :mod:`gdlab.autograd.scatter`.
        ``rows`` may have any shape, ``values`` is then ``rows.shape + shape[1:]``."""
        rows = np.asarray(rows, dtype=np.int64)
        values = values.reshape(*rows.shape, *shape[1:])  # a broadcast one stays a view
        if rows.size == 0:
            return cls(rows.reshape(-1), values.reshape(0, *shape[1:]).copy(), shape)
        return cls(*coalesce_rows(rows, values, shape[0]), shape)

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def to_dense(self) -> np.ndarray:
        """The dense gradient (zeros outside the rows present)."""
        out = np.zeros(self.shape, dtype=self.values.dtype)
        out[self.indices] = self.values
        return out

    def astype(self, dtype: Any) -> RowSparseGrad:
        return RowSparseGrad(self.indices, self.values.astype(dtype), self.shape)

    def copy(self) -> RowSparseGrad:
        return RowSparseGrad(self.indices.copy(), self.values.copy(), self.shape)

    def fill(self, value: float) -> None:
        """``fill(0)`` empties the gradient (``zero_grad(set_to_none=False)``, as torch's
        ``zero_()`` of a sparse gradient); other values have no row-sparse meaning."""
        if value != 0:
            raise ValueError(f"RowSparseGrad.fill: only 0 empties a sparse gradient, got {value}")
        self.indices = self.indices[:0]
        self.values = self.values[:0]

    def __add__(self, other: Any) -> Any:
        if isinstance(other, RowSparseGrad):
            if other.shape != self.shape:
                raise ValueError(
                    f"RowSparseGrad: shapes {self.shape} and {other.shape} do not match"
                )
            rows = np.concatenate([self.indices, other.indices])
            values = np.concatenate([self.values, other.values.astype(self.dtype, copy=False)])
            return RowSparseGrad.from_rows(rows, values, self.shape)
        dense = np.array(other, copy=True)
        if dense.shape != self.shape:
            raise ValueError(f"RowSparseGrad: shapes {self.shape} and {dense.shape} do not match")
        dense[self.indices] += self.values
        return dense

    __radd__ = __add__

    def __repr__(self) -> str:
        return f"RowSparseGrad(shape={self.shape}, rows={len(self.indices)}, dtype={self.dtype})"


def stored_values(grad: Any) -> np.ndarray:
    """The array that holds a gradient's numbers: a RowSparseGrad's rows, else the gradient.

    Norms, clipping and finiteness checks read (and scale in place) this array: the rows a
    sparse gradient leaves out are zeros, which change no norm and need no clipping.
    """
    return grad.values if type(grad) is RowSparseGrad else grad
