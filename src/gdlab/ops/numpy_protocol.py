"""NumPy functions on Tensors: ``np.exp(t)``, ``np.where(c, t, 0)``, ``np.sum(t, axis=0)``.

The gradient rules of the op table are written with NumPy. For higher-order gradients
(``create_graph=True``) the engine runs the very same rules on Tensors, and NumPy hands the
calls back to gdlab through its protocols (``__array_ufunc__``, ``__array_function__``): each
NumPy function below is the gdlab op of the same meaning, so the gradient is itself recorded
and can be differentiated again. There is no second copy of the rules.

Ufuncs (``np.add(array, t)``, and so ``array + t``) always dispatch to the gdlab op. NumPy
functions dispatch only while the engine differentiates a rule (``STATE.differentiating``);
elsewhere they see the tensor's array, as they did before gdlab had these protocols, so
``np.allclose(t, a)`` or ``np.stack([t, u])`` keep returning arrays. A function or ufunc
that is not listed raises ``TypeError`` while differentiating (the engine reports the op
whose rule used it); masks and constants (``np.sign``, comparisons, ``np.zeros_like``) are
tensors that carry no gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.autograd.state import STATE
from gdlab.ops import elementwise as e
from gdlab.ops import linalg, reduce, shape
from gdlab.tensor import Tensor

__all__ = ["FUNCTIONS", "UFUNCS", "array_function", "array_ufunc"]


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _constant(fn: Callable[..., Any]) -> Callable[..., Tensor]:
    """A NumPy function whose result carries no gradient (a mask, a sign, a zero)."""

    def constant(*args: Any, **kwargs: Any) -> Tensor:
        return Tensor._wrap(np.asarray(fn(*[_data(a) for a in args], **kwargs)))

    return constant


def _expand_dims(x: Tensor, axis: Any) -> Tensor:
    for a in sorted(axis) if isinstance(axis, tuple | list) else (axis,):
        x = shape.unsqueeze(x, a)
    return x


def _take(x: Tensor, indices: Any, axis: int | None = None) -> Tensor:
    if axis is None:
        return shape.getitem(shape.reshape(x, -1), indices)
    return shape.getitem(x, (slice(None),) * (axis % x.ndim) + (indices,))


def _transpose(x: Tensor, axes: Any = None) -> Tensor:
    return shape.permute(x, tuple(range(x.ndim - 1, -1, -1)) if axes is None else tuple(axes))


def _where(condition: Any, x: Any, y: Any) -> Tensor:
    return e.where(Tensor._wrap(np.asarray(_data(condition), dtype=bool)), x, y)


UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: e.add, np.subtract: e.sub, np.multiply: e.mul, np.true_divide: e.div,
    np.negative: e.neg, np.power: e.pow, np.exp: e.exp, np.log: e.log, np.sqrt: e.sqrt,
    np.sin: e.sin, np.cos: e.cos, np.tanh: e.tanh, np.absolute: e.abs,
    np.sinh: e.sinh, np.cosh: e.cosh,
    np.maximum: e.maximum, np.minimum: e.minimum, np.matmul: linalg.matmul,
    np.square: lambda x: e.mul(x, x),
    np.expm1: lambda x: e.sub(e.exp(x), 1.0),
    np.log1p: lambda x: e.log(e.add(x, 1.0)),
    # no gradient: signs, comparisons and logic
    np.sign: _constant(np.sign), np.greater: _constant(np.greater),
    np.greater_equal: _constant(np.greater_equal), np.less: _constant(np.less),
    np.less_equal: _constant(np.less_equal), np.equal: _constant(np.equal),
    np.not_equal: _constant(np.not_equal), np.logical_and: _constant(np.logical_and),
    np.logical_or: _constant(np.logical_or), np.logical_not: _constant(np.logical_not),
    np.bitwise_and: _constant(np.bitwise_and), np.bitwise_or: _constant(np.bitwise_or),
    np.isfinite: _constant(np.isfinite),
}  # fmt: skip


def _sum(x: Tensor, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False):
    return reduce.sum(x, axis, keepdims)


def _mean(x: Tensor, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False):
    return reduce.mean(x, axis, keepdims)


def _max(x: Tensor, axis: Any = None, out: Any = None, keepdims: bool = False, **kwargs: Any):
    return reduce.amax(x, axis, keepdims)


FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.where: _where,
    np.sum: _sum,
    np.mean: _mean,
    np.max: _max,
    np.amax: _max,
    np.reshape: lambda x, newshape, order="C": shape.reshape(x, newshape),
    np.transpose: _transpose,
    np.swapaxes: lambda x, a, b: shape.transpose(x, a, b),
    np.broadcast_to: lambda x, shp, subok=False: shape.expand(x, tuple(shp)),
    np.expand_dims: _expand_dims,
    np.take: _take,
    np.astype: lambda x, dtype, copy=True: x.to(dtype),
    np.ndim: lambda x: _data(x).ndim if isinstance(x, Tensor) else np.ndim(x),
    np.shape: lambda x: np.shape(_data(x)),
    np.zeros_like: _constant(np.zeros_like),
    np.ones_like: _constant(np.ones_like),
}  # fmt: skip


_ndarray = np.ndarray


def array_ufunc(
    self: Tensor, ufunc: np.ufunc, method: str, *inputs: Any, out: Any = None, **kwargs: Any
) -> Any:
    """``Tensor.__array_ufunc__``: a listed ufunc called plainly is its gdlab op; one writing
    into NumPy arrays (``out=``: ``p.data -= lr * p.grad``) computes on the tensors' arrays,
    outside any graph, as torch's ``p.data`` updates are."""
    if out is not None:
        if method == "__call__" and len(inputs) == 2 and len(out) == 1 and not kwargs:
            # ``array -= tensor`` in a hand-written update, at every step for every parameter:
            # spelled out, ``out`` by position (0.9 against 1.7 µs; ``array -= array`` 0.3)
            a, b = inputs
            if type(out[0]) is _ndarray:
                a = a.data if isinstance(a, Tensor) else a
                return ufunc(a, b.data if isinstance(b, Tensor) else b, out[0])
        if not any(isinstance(o, Tensor) for o in out):
            plain = [x.data if isinstance(x, Tensor) else x for x in inputs]
            return getattr(ufunc, method)(*plain, out=out, **kwargs)
        return NotImplemented
    fn = UFUNCS.get(ufunc)
    if fn is None or method != "__call__" or kwargs:
        return NotImplemented
    return fn(*inputs)


def array_function(self: Tensor, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_function__``: a listed function is its gdlab op while the engine
    differentiates a rule; otherwise NumPy's own implementation, on the tensors' arrays."""
    if STATE.differentiating:
        fn = FUNCTIONS.get(func)
        if fn is None:
            return NotImplemented
        return fn(*args, **kwargs)
    return func._implementation(*args, **kwargs)
