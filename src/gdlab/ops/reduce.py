"""Reductions and normalising primitives over dimensions: sum, mean, amax/amin, var,
logsumexp, softmax, log_softmax.

``dim`` is an int, a tuple of ints or None (all dimensions); NumPy's ``axis`` and
``keepdims`` are accepted as aliases, as torch accepts them.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab._compiled import CompiledKernels
from gdlab.ops.dispatch import apply
from gdlab.ops.registry import Op, defop
from gdlab.tensor import Tensor

__all__ = [
    "amax",
    "amin",
    "argmax",
    "argmin",
    "log_softmax",
    "logsumexp",
    "max",
    "mean",
    "min",
    "softmax",
    "std",
    "sum",
    "var",
]


def normalize_dims(dim: Any, ndim: int, name: str = "dim") -> tuple[int, ...] | None:
    """``dim`` as a sorted tuple of non-negative axes, or None for every axis."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    if len(dims) == 0:
        return None
    n = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
        out.append(int(d) % n)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} {dim} contains a repeated dimension")
    return tuple(sorted(out)) if ndim else None


def _alias(dim: Any, keepdim: bool, kwargs: dict) -> tuple[Any, bool]:
    if "axis" in kwargs:
        dim = kwargs.pop("axis")
    if "keepdims" in kwargs:
        keepdim = kwargs.pop("keepdims")
    if kwargs:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(kwargs)}")
    return dim, bool(keepdim)


def expand_reduced(g: np.ndarray, shape: tuple[int, ...], dim: Any, keepdim: bool) -> np.ndarray:
    """Broadcast a reduced gradient back over the input's shape (a read-only view)."""
    if type(g) is np.ndarray and g.ndim == 0:
        # A full reduction (loss.sum(), .mean()): a zero-stride view built directly, several
        # times cheaper than np.broadcast_to's Python layers.
        view = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    if dim is not None and not keepdim:
        g = np.expand_dims(g, dim)
    return np.broadcast_to(g, shape)


def _count(shape: tuple[int, ...], dim: tuple[int, ...] | None) -> int:
    if dim is None:
        return int(np.prod(shape))
    return int(np.prod([shape[d] for d in dim]))


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


_KERNELS = CompiledKernels("gdlab.ops._reduce_kernels")


def _middle_axis_sum(x: np.ndarray, dim: tuple[int, ...] | None) -> np.ndarray | None:
    """``x.sum(axis=dim)`` for one axis followed by a short contiguous block, or None.

    NumPy's reduction walks such an axis one block at a time, ~20 ns of loop overhead per
    block (the (256, 20, 64) mean of an embedding bag: 110 µs, torch 33). ``einsum`` walks
    it in the same order (each output block adds the input's blocks one after another, as
    the reduction does: the same sums, bit for bit) at a third of the overhead, and once
    numba is loaded in the process a compiled loop (``ops/_reduce_kernels.py``) does the
    same additions faster still (an embedding bag's SGD step 4-5 % faster than with
    einsum). A last axis (a block of 1) is summed pairwise by the reduction, so it stays
    there.
    """
    if dim is None or len(dim) != 1 or x.dtype.char not in "fd" or not x.flags.c_contiguous:
        return None
    axis = dim[0]
    block = math.prod(x.shape[axis + 1 :])
    if not 1 < block < 1024 or x.size < 4096 or x.ndim > len(_LETTERS):
        return None
    kernels = _KERNELS.get(only_if_numba_loaded=True)
    if kernels is not None:
        out = np.empty(x.shape[:axis] + x.shape[axis + 1 :], dtype=x.dtype)
        kernels.middle_axis_sum(x.reshape(-1, x.shape[axis], block), out.reshape(-1, block))
        return out
    axes = _LETTERS[: x.ndim]
    return np.einsum(f"{axes}->{axes.replace(axes[axis], '')}", x)


def _sum(x: np.ndarray, dim: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
    out = _middle_axis_sum(x, dim)
    if out is None:
        return x.sum(axis=dim, keepdims=keepdim)  # the method: no Python layer
    return np.expand_dims(out, dim) if keepdim else out


def _mean(x: np.ndarray, dim: tuple[int, ...] | None, keepdim: bool) -> np.ndarray:
    out = _middle_axis_sum(x, dim)
    if out is None:
        return x.mean(axis=dim, keepdims=keepdim)
    # NumPy's mean: the sum divided in place by the count, an intp
    np.true_divide(out, np.intp(x.shape[dim[0]]), out=out, casting="unsafe")
    return np.expand_dims(out, dim) if keepdim else out


SUM = defop(
    "sum",
    _sum,
    lambda g, out, x, dim, keepdim: expand_reduced(g, x.shape, dim, keepdim),
)
MEAN = defop(
    "mean",
    _mean,
    # divided on the reduced shape, then broadcast (a view): the same quotients, no
    # full-size array
    lambda g, out, x, dim, keepdim: expand_reduced(g / _count(x.shape, dim), x.shape, dim, keepdim),
)


def _extreme_vjp(g, out, x, dim, keepdim):
    """amax/amin: the gradient is shared evenly among tied extremes (torch)."""
    hit = x == expand_reduced(out, x.shape, dim, keepdim)
    # g / count on the reduced shape, then the mask (torch's order): no full-size division,
    # and under create_graph no bool mask over an int count divided in the default float32
    kept = np.expand_dims(g, dim) if dim is not None and not keepdim else g
    return hit * (kept / np.sum(hit, axis=dim, keepdims=True))


AMAX = defop(
    "amax",
    lambda x, dim, keepdim: np.amax(x, axis=dim, keepdims=keepdim),
    _extreme_vjp,
)
AMIN = defop(
    "amin",
    lambda x, dim, keepdim: np.amin(x, axis=dim, keepdims=keepdim),
    _extreme_vjp,
)


def _var(x, dim, keepdim, correction):
    centred = x - np.mean(x, axis=dim, keepdims=True)
    ss = np.sum(centred * centred, axis=dim, keepdims=keepdim)
    with np.errstate(divide="ignore", invalid="ignore"):  # N <= correction: inf/NaN as torch
        return ss / ss.dtype.type(builtins.max(_count(x.shape, dim) - correction, 0))


def _var_vjp(g, out, x, dim, keepdim, correction):
    centred = x - np.mean(x, axis=dim, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # N <= correction: inf/NaN as torch
        scale = 2.0 / np.float64(builtins.max(_count(x.shape, dim) - correction, 0))
        return expand_reduced(g, x.shape, dim, keepdim) * centred * scale.astype(x.dtype)


VAR = defop(
    "var",
    lambda x, dim, keepdim, correction: _var(x, dim, keepdim, correction),
    _var_vjp,
)


def _kept(a: Any, shape: tuple[int, ...], dim: tuple[int, ...] | None) -> Any:
    """A reduced array (or Tensor) with the reduced dimensions put back as size 1."""
    kept = tuple(1 if dim is None or i in dim else n for i, n in enumerate(shape))
    return np.reshape(a, kept)


def _masked_zero(num: Any, den: Any, zero: Any) -> Any:
    """num/den where den ≠ 0, else 0: torch's subgradient at a kink. The divisor is made safe
    first, so a second derivative through the masked positions is 0, not 0·inf = NaN."""
    return np.where(zero, 0, num / np.where(zero, 1, den))


def _std_vjp(g, out, x, dim, keepdim, correction):
    """torch's std_backward: var's rule with g/(2·std), 0 where std = 0 (a constant slice)."""
    zero = out == 0
    return _var_vjp(_masked_zero(g, 2 * out, zero), None, x, dim, keepdim, correction)


STD = defop(
    "std",
    lambda x, dim, keepdim, correction: np.sqrt(_var(x, dim, keepdim, correction)),
    _std_vjp,
)


def _norm(x, p, dim, keepdim):
    if p == 2:
        return np.sqrt(np.sum(x * x, axis=dim, keepdims=keepdim))
    if p == 1:
        return np.sum(np.abs(x), axis=dim, keepdims=keepdim)
    if p == np.inf:
        return np.amax(np.abs(x), axis=dim, keepdims=keepdim)
    return np.sum(np.abs(x) ** p, axis=dim, keepdims=keepdim) ** (1.0 / p)


def _norm_vjp(g, out, x, p, dim, keepdim):
    """torch's norm_backward, case by case: at a zero norm the gradient is 0 (the subgradient
    torch picks) where √Σx² or (Σ|x|ᵖ)^(1/p) would give 0/0; p = inf shares the gradient
    among tied maxima; p < 1 takes |x|^(p−1) as 0 at x = 0."""
    g, out = _kept(g, x.shape, dim), _kept(out, x.shape, dim)
    if p == 1:
        return np.sign(x) * g
    if p == np.inf:
        hit = np.abs(x) == out
        return np.sign(x) * (g / np.sum(hit, axis=dim, keepdims=True)) * hit
    if p == 2:
        return g * _masked_zero(x, out, out == 0)
    if p < 1:
        at_zero = x == 0
        scaled = np.where(at_zero, 0, np.where(at_zero, 1, np.abs(x)) ** (p - 1))
        return np.sign(x) * scaled * g * out ** (1 - p)
    scale = _masked_zero(g, out ** (p - 1), out == 0)
    if p < 2:
        return np.sign(x) * np.abs(x) ** (p - 1) * scale
    return x * np.abs(x) ** (p - 2) * scale


NORM = defop("norm", _norm, _norm_vjp)


def _logsumexp(x, dim, keepdim):
    m = np.amax(x, axis=dim, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # all -inf rows give -inf, not NaN
    out = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=dim)


LOGSUMEXP = defop(
    "logsumexp",
    _logsumexp,
    lambda g, out, x, dim, keepdim: (
        expand_reduced(g, x.shape, dim, keepdim)
        * np.exp(x - expand_reduced(out, x.shape, dim, keepdim))
    ),
)


def _softmax(x, dim):
    e = np.exp(x - np.amax(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _log_softmax(x, dim):
    # (x − m) − log Σ exp(x − m): subtracting the max first keeps float32 exact at logits ~1e5,
    # where x − logsumexp(x) loses the small differences to the rounding of logsumexp (torch's
    # order of operations)
    m = np.amax(x, axis=dim, keepdims=True)
    shifted = x - np.where(np.isfinite(m), m, 0)  # all -inf rows give -inf, not NaN
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


SOFTMAX = defop(
    "softmax",
    _softmax,
    lambda g, out, x, dim: out * (g - np.sum(g * out, axis=dim, keepdims=True)),
)
LOG_SOFTMAX = defop(
    "log_softmax",
    _log_softmax,
    lambda g, out, x, dim: g - np.exp(out) * np.sum(g, axis=dim, keepdims=True),
)


def _float(x: Tensor, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    if x.data.dtype.kind != "f":
        from gdlab.dtypes import get_default_dtype

        return Tensor._wrap(x.data.astype(get_default_dtype()))
    return x


def sum(x: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (all dimensions when None)."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    return apply(SUM, x, dim=normalize_dims(dim, x.ndim), keepdim=keepdim)


def mean(x: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    """Mean over ``dim`` (all dimensions when None); integer tensors give the default float."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    return apply(MEAN, _float(x, "mean"), dim=normalize_dims(dim, x.ndim), keepdim=keepdim)


def amax(x: Tensor, dim: Any = (), keepdim: bool = False, **kwargs: Any) -> Tensor:
    """Largest value over ``dim``; ties share the gradient evenly."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    return apply(AMAX, x, dim=normalize_dims(dim, x.ndim), keepdim=keepdim)


def amin(x: Tensor, dim: Any = (), keepdim: bool = False, **kwargs: Any) -> Tensor:
    """Smallest value over ``dim``; ties share the gradient evenly."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    return apply(AMIN, x, dim=normalize_dims(dim, x.ndim), keepdim=keepdim)


def _correction(correction: float | None, unbiased: bool | None) -> float:
    if correction is not None and unbiased is not None:
        raise ValueError("var: pass either 'correction' or 'unbiased', not both")
    if unbiased is not None:
        return 1 if unbiased else 0
    return 1 if correction is None else correction


def _spread(op: Op, doc: str) -> Callable[..., Tensor]:
    """``var`` and ``std``: torch's arguments, the same checks, one primitive each."""

    def function(
        x: Tensor,
        dim: Any = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: float | None = None,
        **kwargs: Any,
    ) -> Tensor:
        dim, keepdim = _alias(dim, keepdim, kwargs)
        c = _correction(correction, unbiased)
        x = _float(x, op.name)
        return apply(op, x, dim=normalize_dims(dim, x.ndim), keepdim=keepdim, correction=c)

    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = doc
    return function


var = _spread(VAR, "Variance over ``dim`` with Bessel's ``correction`` (1 by default, as torch).")
std = _spread(
    STD,
    """√var over ``dim`` with Bessel's ``correction`` (1 by default, as torch); its gradient
    is 0 where the standard deviation is 0 (torch's choice; √'s own would be 0·inf).""",
)


def all(x: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:  # noqa: A001
    """Whether every element (over ``dim``) is nonzero: a bool Tensor, outside any graph."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    axis = normalize_dims(dim, x.ndim)
    return Tensor._wrap(np.asarray(np.all(x.data, axis=axis, keepdims=keepdim)))


def any(x: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:  # noqa: A001
    """Whether some element (over ``dim``) is nonzero: a bool Tensor, outside any graph."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    axis = normalize_dims(dim, x.ndim)
    return Tensor._wrap(np.asarray(np.any(x.data, axis=axis, keepdims=keepdim)))


def norm(
    x: Tensor, p: float | str = "fro", dim: Any = None, keepdim: bool = False, **kwargs: Any
) -> Tensor:
    """The p-norm over ``dim`` (all elements by default), as ``torch.norm``: ``p`` = 2 or
    ``"fro"`` is √Σx², 1 is Σ|x|, ``inf`` is max|x|, another p > 0 is (Σ|x|ᵖ)^(1/p).

    One row of the op table with torch's gradient, differentiable to any order: at a zero
    norm the gradient is 0 (the subgradient torch picks; the composite √Σx² gives NaN)."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    x = _float(x, "norm")
    if p == "fro":
        p = 2
    if isinstance(p, str) or not (isinstance(p, int | float) and p > 0):
        raise ValueError(f"norm: p must be a positive number, inf or 'fro', got {p!r}")
    p = float(p)
    return apply(NORM, x, p=p, dim=normalize_dims(dim, x.ndim), keepdim=keepdim)


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    """log Σ exp(x) over ``dim``, shifted by the maximum so it never overflows."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    _require_dim(dim, "logsumexp")
    return apply(LOGSUMEXP, x, dim=normalize_dims(dim, x.ndim), keepdim=keepdim)


def _require_dim(dim: Any, name: str) -> None:
    if dim is None:
        raise TypeError(f"{name}() missing required argument 'dim'")


def _one_dim(dim: Any, ndim: int) -> int:
    if not isinstance(dim, int | np.integer):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    return normalize_dims(dim, ndim)[0] if ndim else 0


def softmax(x: Tensor, dim: int | None = None, **kwargs: Any) -> Tensor:
    """exp(x) / Σ exp(x) along ``dim``, shifted by the maximum so it never overflows."""
    dim, _ = _alias(dim, False, kwargs)
    _require_dim(dim, "softmax")
    return apply(SOFTMAX, x, dim=_one_dim(dim, x.ndim))


def log_softmax(x: Tensor, dim: int | None = None, **kwargs: Any) -> Tensor:
    """x − logsumexp(x): finite for logits of any size (never the log of a softmax)."""
    dim, _ = _alias(dim, False, kwargs)
    _require_dim(dim, "log_softmax")
    return apply(LOG_SOFTMAX, x, dim=_one_dim(dim, x.ndim))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    """Index of the largest value (of the flattened tensor when ``dim`` is None)."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    return Tensor._wrap(_arg(np.argmax, x, dim, keepdim))


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    """Index of the smallest value (of the flattened tensor when ``dim`` is None)."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    return Tensor._wrap(_arg(np.argmin, x, dim, keepdim))


def _arg(fn: Any, x: Tensor, dim: int | None, keepdim: bool) -> np.ndarray:
    if dim is None:
        return np.asarray(fn(x.data))
    return fn(x.data, axis=_one_dim(dim, x.ndim), keepdims=keepdim)


def _extreme(reduce_all, take, x: Tensor, dim: int | None, keepdim: bool) -> Any:
    """torch's max/min: over everything, or (values, indices) along ``dim``."""
    if dim is None:
        return reduce_all(x)
    from gdlab.ops.shape import gather

    d = _one_dim(dim, x.ndim)
    if x.ndim == 0:  # torch: a 0-d tensor is its own extreme, at index 0
        return MinMax(x * 1, Tensor._wrap(np.zeros((), dtype=np.int64)))
    idx = take(x.data, axis=d, keepdims=True)
    values = gather(x, d, idx)
    if not keepdim:
        values = values.squeeze(d)
        idx = np.squeeze(idx, axis=d)
    return MinMax(values, Tensor._wrap(idx))


class MinMax(tuple):
    """(values, indices), as torch's named tuple."""

    def __new__(cls, values: Tensor, indices: Tensor) -> MinMax:
        return super().__new__(cls, (values, indices))

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])


def max(x: Tensor, dim: int | None = None, keepdim: bool = False, **kwargs: Any) -> Any:  # noqa: A001
    """The largest value, or ``(values, indices)`` along ``dim`` (torch.max)."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    return _extreme(amax, np.argmax, x, dim, keepdim)


def min(x: Tensor, dim: int | None = None, keepdim: bool = False, **kwargs: Any) -> Any:  # noqa: A001
    """The smallest value, or ``(values, indices)`` along ``dim`` (torch.min)."""
    dim, keepdim = _alias(dim, keepdim, kwargs)
    return _extreme(amin, np.argmin, x, dim, keepdim)
