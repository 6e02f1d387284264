"""Tensor factories with torch's names: zeros, ones, full, arange, linspace, eye, rand, randn."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.devices import as_device
from gdlab.dtypes import get_default_dtype, resolve_dtype
from gdlab.ops.shape import _shape_args, expand, reshape
from gdlab.random import get_generator
from gdlab.tensor import Tensor, tensor

__all__ = [
    "arange",
    "as_tensor",
    "empty",
    "meshgrid",
    "normal",
    "eye",
    "from_numpy",
    "full",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "randint",
    "randn",
    "randperm",
    "zeros",
    "zeros_like",
]


def _make(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(data)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _dtype(dtype: object, where: str, device: Any = None) -> np.dtype:
    """The dtype to make (the default one for None), after checking ``device`` (CPU only)."""
    as_device(device, f"{where}: device")
    return get_default_dtype() if dtype is None else resolve_dtype(dtype, f"{where}: dtype")


def _sample(
    draw: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray],
    where: str,
    size: tuple,
    generator: Any,
    dtype: object,
    device: Any,
    requires_grad: bool,
) -> Tensor:
    """``draw(rng, shape)`` from ``generator``'s NumPy generator, as a tensor of ``dtype``."""
    rng = get_generator(generator)
    d = _dtype(dtype, where, device)
    return _make(draw(rng, _shape_args(size)).astype(d), requires_grad)


def _like_dtype(x: Tensor, dtype: object, where: str, device: Any) -> np.dtype:
    return x.data.dtype if dtype is None else _dtype(dtype, where, device)


def zeros(
    *size: Any, dtype: object = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of zeros, ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(np.zeros(_shape_args(size), dtype=_dtype(dtype, "zeros", device)), requires_grad)


def ones(
    *size: Any, dtype: object = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of ones, ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _make(np.ones(_shape_args(size), dtype=_dtype(dtype, "ones", device)), requires_grad)


def full(
    size: Any,
    fill_value: float,
    dtype: object = None,
    requires_grad: bool = False,
    *,
    device: Any = None,
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; without ``dtype``, the dtype follows
    the value as torch's: bool for a bool, int64 for an int, the default dtype for a float."""
    if dtype is None and isinstance(fill_value, bool | int | np.integer | np.bool_):
        dtype = np.bool_ if isinstance(fill_value, bool | np.bool_) else np.int64
    return _make(
        np.full(_shape_args((size,)), fill_value, dtype=_dtype(dtype, "full", device)),
        requires_grad,
    )


def zeros_like(
    x: Tensor, dtype: object = None, requires_grad: bool = False, *, device: Any = None
) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``x``."""
    return _make(
        np.zeros_like(x.data, dtype=_like_dtype(x, dtype, "zeros_like", device)), requires_grad
    )


def ones_like(
    x: Tensor, dtype: object = None, requires_grad: bool = False, *, device: Any = None
) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``x``."""
    return _make(
        np.ones_like(x.data, dtype=_like_dtype(x, dtype, "ones_like", device)), requires_grad
    )


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: object = None,
    requires_grad: bool = False,
    *,
    device: Any = None,
) -> Tensor:
    """Like torch.arange: integers give int64 unless a dtype is given, floats the default."""
    if end is None:
        start, end = 0, start
    is_int = all(isinstance(v, int | np.integer) for v in (start, end, step))
    d = _dtype(dtype, "arange", device)
    if dtype is None and is_int:
        d = np.dtype(np.int64)
    return _make(np.arange(start, end, step, dtype=d), requires_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: object = None,
    requires_grad: bool = False,
    *,
    device: Any = None,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _make(
        np.linspace(start, end, steps, dtype=_dtype(dtype, "linspace", device)), requires_grad
    )


def eye(
    n: int,
    m: int | None = None,
    dtype: object = None,
    requires_grad: bool = False,
    *,
    device: Any = None,
) -> Tensor:
    """The n × m identity matrix (m = n when None)."""
    return _make(np.eye(n, m, dtype=_dtype(dtype, "eye", device)), requires_grad)


def rand(
    *size: Any,
    generator: Any = None,
    dtype: object = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform [0, 1) samples from ``generator`` (gdlab's default generator when None)."""
    draw = np.random.Generator.random
    return _sample(draw, "rand", size, generator, dtype, device, requires_grad)


def randn(
    *size: Any,
    generator: Any = None,
    dtype: object = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal samples from ``generator`` (gdlab's default generator when None)."""
    draw = np.random.Generator.standard_normal
    return _sample(draw, "randn", size, generator, dtype, device, requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (no copy), as torch.from_numpy."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    return Tensor(array) if array.dtype.kind not in "fiub" else Tensor._wrap(array)


def as_tensor(data: Any, dtype: object = None, device: Any = None) -> Tensor:
    """``data`` as a Tensor without copying when it already is one (or an ndarray) of ``dtype``
    (torch.as_tensor); anything else is copied as by :func:`gdlab.tensor`."""
    as_device(device, "as_tensor: device")
    if isinstance(data, Tensor):
        return data if dtype is None or resolve_dtype(dtype) == data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or resolve_dtype(dtype) == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def empty(
    *size: Any, dtype: object = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """An uninitialised tensor (torch.empty): its values are whatever the memory held."""
    return _make(np.empty(_shape_args(size), dtype=_dtype(dtype, "empty", device)), requires_grad)


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: Any = None,
    dtype: object = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Normal samples (torch.normal): float ``mean``/``std`` with a ``size``, or tensors of
    means and standard deviations (broadcast together) giving one sample each.

    Example:
        >>> gdlab.normal(0.0, 0.01, size=(3, 1), generator=np.random.default_rng(0)).shape
        (3, 1)
    """
    rng = get_generator(generator)
    m = mean.data if isinstance(mean, Tensor) else mean
    sd = std.data if isinstance(std, Tensor) else std
    if size is not None:
        if isinstance(mean, Tensor) or isinstance(std, Tensor):
            raise TypeError("normal: size is given with float mean and std only (torch)")
        shape = _shape_args((size,))
    else:
        if not (isinstance(mean, Tensor) or isinstance(std, Tensor)):
            raise TypeError("normal: without size, mean or std must be a Tensor")
        shape = np.broadcast_shapes(np.shape(m), np.shape(sd))
    if np.any(np.asarray(sd) < 0):
        raise ValueError(f"normal: std must be >= 0, got {std}")
    if dtype is None:
        dtype = next((x.dtype for x in (mean, std) if isinstance(x, Tensor)), None)
    sample = rng.normal(np.asarray(m, np.float64), np.asarray(sd, np.float64), shape)
    return _make(np.asarray(sample, dtype=_dtype(dtype, "normal", device)), requires_grad)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors (torch.meshgrid); differentiable (reshape + expand).

    ``indexing="ij"`` gives shape (len(t0), len(t1), ...); ``"xy"`` swaps the first two
    axes (NumPy's default). Without ``indexing``, "ij" with torch's warning.
    """
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    for i, t in enumerate(ts):
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expected 0-D or 1-D tensors, tensor {i} has {t.shape}")
    swap = indexing == "xy" and len(ts) >= 2
    order = [1, 0, *range(2, len(ts))] if swap else list(range(len(ts)))
    shape = tuple(ts[i].numel() for i in order)
    grids = []
    for i, t in enumerate(ts):
        axis = order.index(i)
        view = [1] * len(ts)
        view[axis] = -1
        grids.append(expand(reshape(t, tuple(view)), shape))
    return tuple(grids)


def randint(
    low: int,
    high: int | None = None,
    size: Any = None,
    *,
    generator: Any = None,
    dtype: object = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Integers uniform in [low, high) (torch.randint: ``randint(high, size)`` or
    ``randint(low, high, size)``); int64 unless a dtype is given."""
    if size is None:  # randint(high, size)
        if high is None:
            raise TypeError("randint: missing the size argument")
        low, high, size = 0, low, high
    elif high is None:
        raise TypeError("randint: give randint(high, size) or randint(low, high, size)")
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    d = _dtype(np.int64 if dtype is None else dtype, "randint", device)
    sample = get_generator(generator).integers(low, high, _shape_args((size,)))
    return _make(sample.astype(d), requires_grad)


def randperm(
    n: int,
    *,
    generator: Any = None,
    dtype: object = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A random permutation of 0..n-1 (torch.randperm); int64 unless a dtype is given."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    d = _dtype(np.int64 if dtype is None else dtype, "randperm", device)
    return _make(get_generator(generator).permutation(int(n)).astype(d), requires_grad)
