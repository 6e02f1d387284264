"""The Tensor methods that mirror ``gdlab.*`` functions: ``x.exp()`` is ``gdlab.exp(x)``.

One table (``METHODS``), bound onto ``Tensor`` by ``install`` when ``gdlab.ops`` is imported,
so a function and its method can never drift apart. ``Tensor`` declares every name here as a
typed stub (gdlab/tensor.py), for readers and type checkers. ``+``, ``-`` and ``*`` are the
operators of hand-written models, so they are ``dispatch.binary`` closures of their op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.ops import conversion, linalg, numpy_protocol, reduce, selection, shape
from gdlab.ops import elementwise as e
from gdlab.ops.dispatch import binary
from gdlab.tensor import Tensor

__all__ = ["METHODS", "install"]


def _reflected(fn: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    def method(a: Tensor, b: Any) -> Tensor:
        return fn(b, a)

    method.__name__ = method.__qualname__ = f"r{fn.__name__}"
    return method


METHODS: dict[str, Any] = {
    # operators
    "__add__": binary(e.ADD), "__radd__": _reflected(e.add),
    "__sub__": binary(e.SUB), "__rsub__": _reflected(e.sub),
    "__mul__": binary(e.MUL), "__rmul__": _reflected(e.mul),
    "__truediv__": e.div, "__rtruediv__": _reflected(e.div),
    "__pow__": e.pow, "__rpow__": _reflected(e.pow),
    "__matmul__": linalg.matmul, "__rmatmul__": _reflected(linalg.matmul),
    "__array_ufunc__": numpy_protocol.array_ufunc,
    "__array_function__": numpy_protocol.array_function,
    "__neg__": e.neg, "__pos__": lambda x: x, "__abs__": e.abs, "__getitem__": shape.getitem,
    # elementwise
    "add": e.add, "sub": e.sub, "mul": e.mul, "div": e.div, "neg": e.neg, "pow": e.pow,
    "exp": e.exp, "log": e.log, "sqrt": e.sqrt, "abs": e.abs, "sin": e.sin, "cos": e.cos,
    "tanh": e.tanh, "sigmoid": e.sigmoid, "relu": e.relu, "softplus": e.softplus,
    "sinh": e.sinh, "cosh": e.cosh, "square": e.square, "sign": e.sign,
    "clamp": e.clamp, "clip": e.clamp, "maximum": e.maximum, "minimum": e.minimum,
    "where": lambda x, condition, other: e.where(condition, x, other),
    # dtype and device conversions (``to`` returns the tensor itself when nothing changes)
    "to": conversion.to, "cpu": conversion.cpu, "cuda": conversion.cuda,
    "pin_memory": conversion.pin_memory,
    "type": conversion.type_,
    "half": lambda x: e.to_dtype(x, np.dtype(np.float16)),
    "float": lambda x: e.to_dtype(x, np.dtype(np.float32)),
    "double": lambda x: e.to_dtype(x, np.dtype(np.float64)),
    "long": lambda x: e.to_dtype(x, np.dtype(np.int64)),
    "int": lambda x: e.to_dtype(x, np.dtype(np.int32)),
    "bool": lambda x: e.to_dtype(x, np.dtype(np.bool_)),
    # reductions
    "sum": reduce.sum, "mean": reduce.mean, "amax": reduce.amax, "amin": reduce.amin,
    "max": reduce.max, "min": reduce.min, "argmax": reduce.argmax, "argmin": reduce.argmin,
    "var": reduce.var, "std": reduce.std, "norm": reduce.norm, "logsumexp": reduce.logsumexp,
    "all": reduce.all, "any": reduce.any,
    "softmax": reduce.softmax, "log_softmax": reduce.log_softmax,
    # ordering
    "topk": selection.topk, "sort": selection.sort, "argsort": selection.argsort,
    # shape
    "T": property(lambda x: shape.permute(x, tuple(range(x.ndim - 1, -1, -1)))),
    "mT": property(lambda x: shape.transpose(x, -2, -1)),
    "reshape": shape.reshape, "view": shape.reshape, "permute": shape.permute,
    "transpose": shape.transpose, "unsqueeze": shape.unsqueeze, "squeeze": shape.squeeze,
    "flatten": shape.flatten, "expand": shape.expand, "gather": shape.gather,
    "split": shape.split, "chunk": shape.chunk, "clone": shape.clone,
    "contiguous": shape.clone, "matmul": linalg.matmul,
    "dot": linalg.dot, "mv": linalg.mv, "mm": linalg.mm, "bmm": linalg.bmm,
    "expand_as": lambda x, other: shape.expand(x, other.shape),
    "reshape_as": lambda x, other: shape.reshape(x, other.shape),
    "view_as": lambda x, other: shape.reshape(x, other.shape),
}  # fmt: skip


def install(cls: type = Tensor) -> None:
    """Bind every entry of ``METHODS`` onto ``cls``."""
    for name, fn in METHODS.items():
        setattr(cls, name, fn)
