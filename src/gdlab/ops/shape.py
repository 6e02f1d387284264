"""Shape primitives: views, indexing, gather, concatenation and padding.

Forward passes return NumPy views wherever NumPy can; the VJPs put the gradient back where the
values came from (indexing scatters and accumulates repeated indices).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from gdlab.ops.dispatch import apply
from gdlab.ops.reduce import normalize_dims
from gdlab.ops.registry import defop, passthrough
from gdlab.tensor import Tensor, _index_data

__all__ = [
    "cat",
    "chunk",
    "clone",
    "expand",
    "flatten",
    "gather",
    "getitem",
    "pad",
    "permute",
    "reshape",
    "split",
    "squeeze",
    "stack",
    "transpose",
    "unsqueeze",
]


def _shape_args(shape: tuple) -> tuple[int, ...]:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``, as torch does."""
    if len(shape) == 1 and isinstance(shape[0], Sequence | np.ndarray):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


RESHAPE = defop(
    "reshape",
    lambda x, shape: np.reshape(x, shape),
    lambda g, out, x, shape: np.reshape(g, x.shape),
)
PERMUTE = defop(
    "permute",
    lambda x, dims: np.transpose(x, dims),
    lambda g, out, x, dims: np.transpose(g, np.argsort(dims)),
)
EXPAND = defop(
    "expand",
    lambda x, shape: np.broadcast_to(x, shape),
    passthrough,  # the engine sums the broadcast axes away
)
CLONE = defop("clone", np.array, passthrough)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """The same values in a new shape (a view when NumPy can); one size may be −1."""
    shape = _shape_args(shape)
    try:
        return apply(RESHAPE, x, shape=shape)
    except ValueError:
        msg = f"reshape: shape {shape} is invalid for input of shape {x.shape}"
        raise ValueError(msg) from None


def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder the dimensions: ``x.permute(2, 0, 1)``."""
    dims = _shape_args(dims)
    norm = normalize_dims(dims, x.ndim, "permute dims")
    if len(dims) != x.ndim or (x.ndim and norm != tuple(range(x.ndim))):
        raise ValueError(f"permute: dims {dims} are not a permutation of {x.ndim} dimensions")
    return apply(PERMUTE, x, dims=tuple(d % builtins.max(x.ndim, 1) for d in dims))


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    dims = list(range(x.ndim))
    a, b = (normalize_dims(d, x.ndim)[0] for d in (dim0, dim1))
    dims[a], dims[b] = dims[b], dims[a]
    return apply(PERMUTE, x, dims=tuple(dims))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (−1 appends one)."""
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-x.ndim - 1}, {x.ndim}], "
            f"but got {dim})"
        )
    shape = list(x.shape)
    shape.insert(dim % (x.ndim + 1), 1)
    return apply(RESHAPE, x, shape=tuple(shape))


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or those in ``dim`` that have size 1)."""
    dims = normalize_dims(dim, x.ndim)
    dims = range(x.ndim) if dims is None else dims
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return apply(RESHAPE, x, shape=shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` .. ``end_dim`` into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = (normalize_dims(d, x.ndim)[0] for d in (start_dim, end_dim))
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return reshape(x, (*x.shape[:s], -1, *x.shape[e + 1 :]))


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to ``sizes`` without copying; -1 keeps a dimension."""
    sizes = _shape_args(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes given for a tensor of shape {x.shape}")
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    try:
        return apply(EXPAND, x, shape=shape)
    except ValueError:
        raise ValueError(f"expand: shape {x.shape} cannot be expanded to {sizes}") from None


def clone(x: Tensor) -> Tensor:
    """A copy that stays in the graph (the gradient passes through unchanged)."""
    return apply(CLONE, x)


# ------------------------------------------------------------------------- indexing
def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, int | slice | np.integer) or i is None or i is Ellipsis for i in items)


def _scatter(g, index, shape):
    """Zeros of ``shape`` with ``g`` placed at ``index``: getitem's gradient."""
    gx = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        gx[index] = g
    else:
        np.add.at(gx, index, g)  # repeated indices accumulate
    return gx


# getitem's gradient as an op of its own, so that it is differentiable again (create_graph):
# its gradient is getitem, and the two rows share ``_scatter``
INDEX_SCATTER = defop("index_scatter", _scatter, lambda g, out, src, index, shape: g[index])


def scatter_add(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeats accumulate): the gradient of
    every indexing op (getitem, gather, embedding, padding modes). An array gives an array;
    a Tensor (create_graph) gives the ``index_scatter`` op, differentiable again."""
    if isinstance(g, np.ndarray):
        return _scatter(g, index, shape)
    return apply(INDEX_SCATTER, g, index=index, shape=tuple(shape))


def _getitem_vjp(g, out, x, index):
    return scatter_add(g, index, x.shape)


GETITEM = defop("getitem", lambda x, index: x[index], _getitem_vjp)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with ints, slices, None, Ellipsis, integer arrays and boolean masks;
    the gradient is scattered back and repeated indices accumulate."""
    index = _index_data(index)
    try:
        return apply(GETITEM, x, index=index)
    except IndexError as e:
        msg = f"index {index!r} is invalid for a tensor of shape {x.shape}: {e}"
        raise IndexError(msg) from None


def _leading_block(x: np.ndarray, shape: tuple[int, ...], dim: int) -> np.ndarray:
    """x[:shape[0], :shape[1], ...] except along ``dim``: torch's gather reads only the
    leading block when the index is smaller than the input in the other dimensions."""
    block = tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(shape))
    return x[block]


def _gather_vjp(g, out, x, dim, index):
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return scatter_add(g, tuple(grid), x.shape)


GATHER = defop(
    "gather",
    lambda x, dim, index: np.take_along_axis(_leading_block(x, index.shape, dim), index, axis=dim),
    _gather_vjp,
)


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j] = x[index[i][j]][j] for dim 0 (``torch.gather``)."""
    idx = np.asarray(index.data if isinstance(index, Tensor) else index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"gather: index must be an integer tensor, got dtype {idx.dtype}")
    if idx.ndim != x.ndim:
        raise ValueError(
            f"gather: index of shape {idx.shape} must have as many dimensions as the input "
            f"of shape {x.shape}"
        )
    d = _positive_dim(dim, x, "gather")
    for k, (i, n) in enumerate(zip(idx.shape, x.shape, strict=True)):
        if k != d and i > n:
            raise ValueError(
                f"gather: Size does not match at dimension {k}: expected index {idx.shape} to "
                f"be smaller than self {x.shape} apart from dimension {d}"
            )
    if idx.size and (idx.min() < -x.shape[d] or idx.max() >= x.shape[d]):
        raise IndexError(f"gather: index out of range for dimension {dim} of size {x.shape[d]}")
    return apply(GATHER, x, dim=d, index=idx)


# ------------------------------------------------------------------------- joining, padding
def _cat_vjp(i, g, out, *xs, dim):
    start = builtins.sum(x.shape[dim] for x in xs[:i])
    return np.take(g, np.arange(start, start + xs[i].shape[dim]), axis=dim)


CAT = defop(
    "cat",
    lambda *xs, dim: np.concatenate(xs, axis=dim),
    variadic=_cat_vjp,
)
STACK = defop(
    "stack",
    lambda *xs, dim: np.stack(xs, axis=dim),
    variadic=lambda i, g, out, *xs, dim: np.take(g, i, axis=dim),
)


def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dimension (``axis`` is NumPy's name for ``dim``)."""
    dim = dim if axis is None else axis
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise ValueError(
                f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated"
            )
    d = normalize_dims(dim, tensors[0].ndim)[0]
    shapes = [t.shape for t in tensors]
    for s in shapes:
        if len(s) != len(shapes[0]) or s[:d] + s[d + 1 :] != shapes[0][:d] + shapes[0][d + 1 :]:
            raise ValueError(f"cat: shapes {shapes} do not match except in dimension {dim}")
    return apply(CAT, *tensors, dim=d)


def stack(tensors: Sequence[Tensor], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    dim = dim if axis is None else axis
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of Tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: expects each tensor to be equal size, got shapes {shapes}")
    ndim = tensors[0].ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"stack: dim {dim} is out of range for {ndim} dimensions")
    return apply(STACK, *tensors, dim=dim % ndim)


def _positive_dim(dim: int, x: Tensor, name: str) -> int:
    """``dim`` as a non-negative axis of ``x``, which must have at least one dimension."""
    if x.ndim == 0:
        raise ValueError(f"{name} expects at least a 1-dimensional tensor")
    return normalize_dims(dim, x.ndim)[0]


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
    """Split into chunks of a given size (the last may be smaller) or of given sizes."""
    d = _positive_dim(dim, x, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [builtins.min(size, n - s) for s in range(0, n, size)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n:
            raise ValueError(
                f"split: sections {sizes} do not add up to {n} (the size of dimension {dim})"
            )
    starts = np.cumsum([0, *sizes[:-1]])
    lead = (slice(None),) * d
    return tuple(getitem(x, (*lead, slice(s, s + k))) for s, k in zip(starts, sizes, strict=True))


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of ceil(n / chunks) (the last may be smaller), as torch."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[_positive_dim(dim, x, "chunk")]
    return split(x, builtins.max(1, -(-n // chunks)), dim)


def _pad_widths(pad: Sequence[int], ndim: int) -> list[tuple[int, int]]:
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(f"pad: padding {tuple(pad)} must have an even length <= 2·{ndim}")
    widths = [(0, 0)] * ndim
    for k in range(len(pad) // 2):  # torch order: the last dimension first
        widths[ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    if any(a < 0 or b < 0 for a, b in widths):
        raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
    return widths


PAD = defop(
    "pad",
    lambda x, widths, value: np.pad(x, widths, constant_values=value),
    lambda g, out, x, widths, value: g[
        tuple(slice(a, a + n) for (a, _), n in zip(widths, x.shape, strict=True))
    ],
)


def pad(x: Tensor, pad: Sequence[int], value: float = 0.0) -> Tensor:
    """Constant padding; ``pad`` lists (left, right) pairs from the last dimension backwards,
    as ``torch.nn.functional.pad``."""
    return apply(PAD, x, widths=_pad_widths(pad, x.ndim), value=value)
