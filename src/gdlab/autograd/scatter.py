"""Scatter-add of rows in ``np.add.at``'s order, without ``np.add.at``'s per-row cost.

The embedding's gradient adds the gradient row of every looked-up index into its table row:
``np.add.at(out, index, rows)``, which sums each table row's contributions one after another
in their order of appearance, but walks the rows in C one element at a time (73 % of an
embedding training step, issue 20). Both functions here give exactly those sums, bit for bit
(``tests/autograd/test_scatter.py`` holds them to ``np.add.at``):

- with numba already loaded in the process (by the optimizer's fused kernels, the GELU kernels
  or the user), one compiled loop that is ``np.add.at``'s loop (``autograd/_scatter_kernels.py``),
  reading a gradient broadcast over the lookups (an embedding bag's mean) without copying it;
  this module never imports numba itself, so an embedding alone costs no numba load;
- else NumPy in passes: a stable sort gives every occurrence its rank among the occurrences
  of its index, and pass r adds all rank-r rows at once (their targets are distinct, so a
  fancy-indexed add is exact and in order); the few indices repeated more often than passes
  pay off are finished each with one ``np.add.accumulate`` (sequential by definition).
"""

from __future__ import annotations

from types import ModuleType
from typing import NamedTuple

import numpy as np

from gdlab._compiled import _UNSET, CompiledKernels

__all__ = ["coalesce_rows", "reset", "scatter_add_rows"]

_MARKS_PER_ROW = 8  # the compiled coalesce counts over a table of up to 8 rows per index
_MIN_PASS = 8  # a pass adds at least this many rows; rarer long repeats go to accumulate

_KERNELS = CompiledKernels("gdlab.autograd._scatter_kernels")


def _compiled() -> ModuleType | None:
    """The compiled loop if numba is already imported in this process, else None."""
    return _KERNELS.get(only_if_numba_loaded=True)


def reset(module: object = _UNSET) -> None:
    """Forget the import attempt, or force ``module`` (None: the NumPy passes) for tests."""
    _KERNELS.reset(module)


def _blocks(index: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``index`` as (n, m) and ``rows`` as (n, m, d), or (n, 1, d) where each block of m rows
    is one row broadcast (a mean's or sum's gradient: no copy of it), for the compiled loops;
    None for what they do not take (not float32/float64 rows of ``index.shape + (d,)``)."""
    if rows.ndim != index.ndim + 1 or rows.shape[:-1] != index.shape or rows.dtype.char not in "fd":
        return None
    m = index.shape[-1] if index.ndim else 1
    blocks = rows.reshape(-1, m, rows.shape[-1])  # a view wherever the layout allows one
    if m > 1 and blocks.strides[1] == 0:
        blocks = blocks[:, :1]
    where = index.reshape(-1, m).astype(np.intp, copy=False)
    return where, np.ascontiguousarray(blocks)


def _flat(index: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(k,) indices and their (k, ...) rows, for the NumPy passes."""
    return index.reshape(-1), rows.reshape(index.size, *rows.shape[index.ndim :])


class _Runs(NamedTuple):
    """The occurrences of ``index`` grouped by value, each group in order of appearance."""

    order: np.ndarray  # positions in index, sorted by value, stable
    target: np.ndarray  # index[order]
    starts: np.ndarray  # where each run of one value begins in ``order``
    rank: np.ndarray  # rank of order[i] among the occurrences of its value


def _runs(index: np.ndarray, n: int) -> _Runs:
    # a narrow key sorts by radix (10x faster than a stable sort of int64)
    key = index.astype(np.uint16) if n <= 1 << 16 else index
    order = np.argsort(key, kind="stable")
    target = index[order]
    first = np.empty(len(target), dtype=bool)
    first[:1] = True
    np.not_equal(target[1:], target[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    run = np.cumsum(first) - 1
    rank = np.arange(len(target)) - starts[run]
    return _Runs(order, target, starts, rank)


def _sum_by_rank(out: np.ndarray, where: np.ndarray, rows: np.ndarray, runs: _Runs) -> None:
    """out[where[i]] += rows[order[i]] for all i, in order within each run; ``out`` is zeros.

    ``where`` is in sorted order. When ``out`` has one row per run, ``where[starts]`` (the
    runs' distinct, ascending targets) can only be 0, 1, 2, ...: the first rows are taken
    straight into it (always so for the coalesced sums).
    """
    counts = np.bincount(runs.rank)  # counts[r]: how many runs reach rank r
    passes = max(1, int(np.searchsorted(-counts, -_MIN_PASS, side="right")))
    firsts = runs.order[runs.starts]  # rank 0: each run's first row
    if len(firsts) == len(out):
        np.take(rows, firsts, axis=0, out=out)
        out += 0.0  # 0 + x is x, except that -0.0 becomes +0.0 (as np.add.at leaves it)
    else:
        first = np.take(rows, firsts, axis=0)
        first += 0.0
        out[where[runs.starts]] = first
    for r in range(1, min(passes, len(counts))):
        at = runs.rank == r
        out[where[at]] += rows[runs.order[at]]
    if passes >= len(counts):
        return
    ends = np.r_[runs.starts[1:], len(runs.order)]
    for j in np.flatnonzero(ends - runs.starts > passes):  # fewer than _MIN_PASS runs
        start, end = runs.starts[j], ends[j]
        tail = rows[runs.order[start + passes : end]]
        row = where[start]
        out[row] = np.add.accumulate(np.concatenate([out[row : row + 1], tail]), axis=0)[-1]


def scatter_add_rows(index: np.ndarray, rows: np.ndarray, num_rows: int) -> np.ndarray:
    """``out = zeros((num_rows, d)); np.add.at(out, index, rows)``, bit for bit.

    Args:
        index: integers in [0, num_rows), of any shape.
        rows: float array of shape ``index.shape + (d,)`` (may be a broadcast view); the
            result has its dtype.
        num_rows: the number of rows of the result.

    Example:
        >>> scatter_add_rows(np.array([2, 0, 2]), np.ones((3, 2)), 3)[:, 0]
        array([1., 0., 2.])
    """
    out = np.zeros((num_rows, *rows.shape[index.ndim :]), dtype=rows.dtype)
    if index.size == 0:
        return out
    kernels = _compiled()
    blocks = None if kernels is None else _blocks(index, rows)
    if blocks is not None:
        kernels.index_add_rows(out, *blocks)
        return out
    index, rows = _flat(index, rows)
    runs = _runs(index, num_rows)
    _sum_by_rank(out, runs.target, rows, runs)
    return out


def coalesce_rows(
    index: np.ndarray, rows: np.ndarray, num_rows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``index`` (ascending) and, for each, the sum of its ``rows`` in
    order of appearance: the rows ``np.add.at`` would leave non-zero, with its exact sums.

    ``index`` has any shape and ``rows`` the shape ``index.shape + (d,)``, as in
    :func:`scatter_add_rows`. ``num_rows`` (the table's rows, above ``index.max()``) lets the
    compiled path sort the occurrences by counting them per table row instead of a sort.

    Example:
        >>> coalesce_rows(np.array([3, 0, 3]), np.array([[1.0], [2.0], [4.0]]))
        (array([0, 3]), array([[2.],
               [5.]]))
    """
    kernels = _compiled()
    blocks = None if kernels is None or index.size == 0 else _blocks(index, rows)
    if blocks is not None:
        n = int(index.max()) + 1 if num_rows is None else num_rows
        if n <= _MARKS_PER_ROW * index.size:
            return kernels.coalesce_rows(*blocks, n)
    index, rows = _flat(index, rows)
    runs = _runs(index, int(index.max()) + 1 if len(index) else 0)
    unique = runs.target[runs.starts]
    sums = np.zeros((len(unique), *rows.shape[1:]), dtype=rows.dtype)
    if blocks is not None:
        where = np.empty(len(index), dtype=np.intp)
        where[runs.order] = np.cumsum(runs.rank == 0) - 1
        kernels.index_add_rows(sums, where[:, None], np.ascontiguousarray(rows)[:, None])
    else:
        _sum_by_rank(sums, np.cumsum(runs.rank == 0) - 1, rows, runs)
    return unique, sums
