"""The Tensor methods that mirror ``gdlab.*`` functions: ``x.exp()`` is ``gdlab.exp(x)``.

One table, so a function and its method can never drift apart.
"""

from __future__ import annotations

from typing import Any

__all__ = ["install"]


def _view(x: Any, *shape: Any) -> Any:
    from gdlab.ops.shape import reshape

    return reshape(x, *shape)


def install(cls: type) -> None:
    from gdlab.ops import elementwise as e
    from gdlab.ops import linalg, reduce, shape

    table = {
        "exp": e.exp, "log": e.log, "sqrt": e.sqrt, "abs": e.abs, "sin": e.sin, "cos": e.cos,
        "tanh": e.tanh, "sigmoid": e.sigmoid, "relu": e.relu, "clamp": e.clamp,
        "clip": e.clamp, "pow": e.pow, "maximum": e.maximum, "minimum": e.minimum,
        "add": e.add, "sub": e.sub, "mul": e.mul, "div": e.div, "neg": e.neg,
        "softplus": e.softplus, "sinh": e.sinh, "cosh": e.cosh, "square": e.square,
        "sign": e.sign, "dot": linalg.dot, "mv": linalg.mv, "mm": linalg.mm, "bmm": linalg.bmm,
        "where": lambda x, condition, other: e.where(condition, x, other),
        "sum": reduce.sum, "mean": reduce.mean, "amax": reduce.amax, "amin": reduce.amin,
        "max": reduce.max, "min": reduce.min, "argmax": reduce.argmax, "argmin": reduce.argmin,
        "var": reduce.var, "std": reduce.std, "logsumexp": reduce.logsumexp,
        "softmax": reduce.softmax, "log_softmax": reduce.log_softmax,
        "reshape": shape.reshape, "view": _view, "permute": shape.permute,
        "transpose": shape.transpose, "unsqueeze": shape.unsqueeze, "squeeze": shape.squeeze,
        "flatten": shape.flatten, "expand": shape.expand, "gather": shape.gather,
        "split": shape.split, "chunk": shape.chunk, "clone": shape.clone,
        "contiguous": shape.clone, "matmul": linalg.matmul,
        "expand_as": lambda x, other: shape.expand(x, other.shape),
        "reshape_as": lambda x, other: shape.reshape(x, other.shape),
        "view_as": lambda x, other: shape.reshape(x, other.shape),
    }  # fmt: skip
    for name, fn in table.items():
        setattr(cls, name, fn)
