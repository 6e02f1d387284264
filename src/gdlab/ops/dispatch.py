"""Applying an op: run its forward on the inputs' arrays and, when a gradient is needed,
record a graph node on the output.

This is the hot path of every operation, so it has three entry points that share one
recorder (``record``) and one output constructor (``gdlab.tensor.from_op``); the two
elementwise ones are closures per op that make their commonest nodes themselves, as
``record`` would (a call and its generic checks cost about a third of a small op's forward):

- ``apply(op, *inputs, **kwargs)``: any op, any inputs (tensors or constants);
- ``unary(op)``: the function ``x -> op(x)`` of a one-input op without keyword arguments
  (exp, tanh, relu...);
- ``binary(op)``: the function ``(a, b) -> op(a, b)`` of a two-input op without keyword
  arguments (+ - * ** maximum...), with torch's type promotion (``promote``) and Python
  numbers as cached 0-d arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.autograd.node import RawNode
from gdlab.autograd.state import STATE
from gdlab.dtypes import get_default_dtype
from gdlab.ops.constants import CONSTANTS
from gdlab.ops.registry import Op
from gdlab.tensor import Tensor, from_op

__all__ = ["apply", "apply_or_forward", "as_floating", "binary", "promote", "record", "unary"]

_NO_KWARGS: dict = {}  # shared by nodes of ops called without keyword arguments (never mutated)
# looked up inline: a hit (a number already met beside a tensor of a float dtype) costs one
# dict access; ``_number_operand`` makes the entries
_SCALARS = CONSTANTS.scalars
_NUMBERS = frozenset({float, int})  # the Python number types (not bool) of the cache's keys


def record(
    op: Op, inputs: tuple, arrays: tuple, kwargs: dict = _NO_KWARGS, exact: bool = False
) -> RawNode | None:
    """The node of ``op`` applied to ``inputs`` (whose arrays are ``arrays``), or None when no
    input needs a gradient. Call it only while grad mode is on (``STATE.grad_enabled``).

    The node is the plain tuple of ``Node``'s fields (``gdlab.autograd.node``: why not the
    NamedTuple itself). ``exact`` says every VJP's result already has its input's shape.
    """
    n = len(inputs)
    if n == 1:
        x = inputs[0]
        if not (isinstance(x, Tensor) and x.requires_grad):
            return None
        parents = ((0, x, x._version),)
        saved = ()
    elif n == 2:
        a, b = inputs
        ta = isinstance(a, Tensor)
        tb = isinstance(b, Tensor)
        if ta and a.requires_grad:
            if tb and b.requires_grad:
                parents = ((0, a, a._version), (1, b, b._version))
                saved = ()
            else:
                parents = ((0, a, a._version),)
                saved = ((b, b._version),) if tb else ()
        elif tb and b.requires_grad:
            parents = ((1, b, b._version),)
            saved = ((a, a._version),) if ta else ()
        else:
            return None
    else:
        edges = []
        kept = []
        for i, x in enumerate(inputs):
            if isinstance(x, Tensor):
                if x.requires_grad:
                    edges.append((i, x, x._version))
                else:
                    kept.append((x, x._version))
        if not edges:
            return None
        parents = tuple(edges)
        saved = tuple(kept)
    return (op, arrays, kwargs, parents, saved, STATE.next_seq(), exact)  # Node's field order


def apply(op: Op, *inputs: object, **kwargs: object) -> Tensor:
    """Run ``op`` on tensors or constants and, if a gradient is needed, record it."""
    n = len(inputs)
    if n == 2:
        a, b = inputs
        arrays = (a.data if isinstance(a, Tensor) else a, b.data if isinstance(b, Tensor) else b)
    elif n == 1:
        a = inputs[0]
        arrays = (a.data,) if isinstance(a, Tensor) else inputs
    elif n == 3:  # linear's (x, weight, bias): no list comprehension (a function call in 3.11)
        a, b, c = inputs
        arrays = (
            a.data if isinstance(a, Tensor) else a,
            b.data if isinstance(b, Tensor) else b,
            c.data if isinstance(c, Tensor) else c,
        )
    else:
        arrays = tuple([x.data if isinstance(x, Tensor) else x for x in inputs])
    try:
        data = op.forward(*arrays, **kwargs) if kwargs else op.forward(*arrays)
    except ValueError as e:
        raise ValueError(_describe(op, arrays, e)) from None
    return from_op(data, record(op, inputs, arrays, kwargs) if STATE.grad_enabled else None)


def apply_or_forward(op: Op, *args: Any, **kwargs: Any) -> Any:
    """``op`` applied and recorded when an argument is a Tensor (a VJP under
    ``create_graph=True``), else its NumPy forward: the same function either way."""
    if any(isinstance(a, Tensor) for a in args):
        return apply(op, *args, **kwargs)
    return op.forward(*args, **kwargs)


def unary(op: Op, floating: bool = False) -> Callable[[Any], Tensor]:
    """``op(x)`` for a one-input op without keyword arguments (exp, tanh, relu...): the
    function ``gdlab.exp`` is. With ``floating``, integer inputs first become the default
    float dtype, as torch's exp or sin do. Elementwise: the gradient has the input's shape
    (an exact node). A closure per op, as ``binary``'s, so that ``gdlab.tanh(x)`` runs with
    one Python call less than through a shared ``apply_unary(op, x)``.

    Example:
        >>> tanh = unary(TANH, floating=True)
        >>> tanh(x)
    """
    forward = op.forward

    def apply_op(x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            return apply(op, as_floating(x) if floating else x)
        xd = x.data
        if floating and xd.dtype.kind != "f":
            return apply(op, as_floating(x))
        data = forward(xd)
        if x.requires_grad and STATE.grad_enabled:  # the node ``record`` makes, without checks
            node = (op, (xd,), _NO_KWARGS, ((0, x, x._version),), (), STATE.next_seq(), True)
            return from_op(data, node)
        return from_op(data, None)

    apply_op.__name__ = apply_op.__qualname__ = op.name
    return apply_op


def binary(op: Op) -> Callable[[Any, Any], Tensor]:
    """``op(a, b)`` for a two-input op without keyword arguments (+ - * ** maximum...), with
    torch's type promotion: the function ``gdlab.add`` and ``Tensor.__add__`` call.

    Tensor with tensor of the same dtype, or a float tensor with a Python number, take a
    straight-line path; the rest goes through ``promote`` and ``apply``. A Python number
    beside a float tensor becomes a cached 0-d array of the tensor's dtype (``CONSTANTS``):
    the value NumPy would compute with anyway (NEP 50 casts it to the array's dtype), but
    NumPy takes a few hundred ns longer over a Python scalar operand, in the forward and
    again in the VJP that multiplies by it. A closure per op, not ``apply_binary(op, a, b)``:
    the operators of hand-written models run it with one Python call less.

    Example:
        >>> add = binary(ADD)
        >>> add(x, 1.0)
    """
    forward = op.forward

    def apply_op(a: Any, b: Any) -> Tensor:
        ta = isinstance(a, Tensor)
        tb = isinstance(b, Tensor)
        if ta:
            ad = a.data
            if tb:
                bd = b.data
                fast = bd.dtype is ad.dtype
            else:
                bd = _SCALARS.get((b, ad.dtype)) if type(b) in _NUMBERS else None
                fast = bd is not None
                if not fast:
                    bd, fast = _number_operand(b, ad.dtype)
        elif tb:
            bd = b.data
            ad = _SCALARS.get((a, bd.dtype)) if type(a) in _NUMBERS else None
            fast = ad is not None
            if not fast:
                ad, fast = _number_operand(a, bd.dtype)
        else:
            fast = False
        if not fast:
            return apply(op, *promote(a, b))
        try:
            data = forward(ad, bd)
        except ValueError as e:
            raise ValueError(_describe(op, (ad, bd), e)) from None
        if not STATE.grad_enabled:
            return from_op(data, None)
        # The two commonest nodes (tensor with number, two tensors needing gradients) are made
        # here as ``record`` would make them, without its checks: they are most of the nodes
        # of a model. exact: no broadcasting (a number, or equal shapes).
        if not tb:  # a tensor with a number
            if not a.requires_grad:
                return from_op(data, None)
            parents = ((0, a, a._version),)
            exact = True
        elif ta and a.requires_grad and b.requires_grad:
            parents = ((0, a, a._version), (1, b, b._version))
            exact = ad.shape == bd.shape
        elif (ta and a.requires_grad) or b.requires_grad:
            exact = not ta or ad.shape == bd.shape
            return from_op(data, record(op, (a, b), (ad, bd), _NO_KWARGS, exact))
        else:
            return from_op(data, None)
        return from_op(data, (op, (ad, bd), _NO_KWARGS, parents, (), STATE.next_seq(), exact))

    apply_op.__name__ = apply_op.__qualname__ = op.name
    return apply_op


def _number_operand(x: Any, dtype: np.dtype) -> tuple[Any, bool]:
    """``binary``'s operand for ``x`` (not a Tensor) beside a tensor of ``dtype``, when
    ``CONSTANTS.scalars`` has none yet, and whether the straight-line path takes it: a Python
    number beside a float tensor becomes a cached 0-d array of that dtype (the cache holds
    float dtypes only, so a hit there needs no dtype test); a Python int beside an integer
    tensor stays as it is; anything else goes through ``promote``."""
    kind = type(x)
    if (kind is float or kind is int) and dtype.kind == "f":
        return CONSTANTS.scalar(x, dtype), True
    return x, kind is int


# ------------------------------------------------------------------------- type promotion
def _const(x: Any) -> Any:
    """Tensors, arrays and Python scalars pass through (NumPy keeps a float32 tensor float32
    with a Python scalar); NumPy scalars become Python scalars (torch treats them so); lists
    become arrays of the default dtype."""
    if isinstance(x, np.generic):  # before float: np.float64 is a float subclass
        return x.item()
    if isinstance(x, Tensor | int | float | np.ndarray):
        return x
    return Tensor(x).data


def _as_float(x: Any, dtype: np.dtype) -> Any:
    """An integer or bool operand as ``dtype`` (it cannot carry a gradient, so no node)."""
    data = x.data if isinstance(x, Tensor) else x
    return data.astype(dtype)


def promote(a: Any, b: Any) -> tuple[Any, Any]:
    """The two operands with torch's type promotion where it differs from NumPy's.

    torch: an integer tensor with a float (tensor or Python scalar) becomes that float dtype
    (the default dtype for a Python float), where NumPy would pick float64; floating dtypes
    promote to the wider one (float32 + float64 -> float64, never a silent downcast).
    """
    if isinstance(a, Tensor):  # the common cases first: this runs for every + - * /
        da = a.data.dtype
        if isinstance(b, Tensor):
            if b.data.dtype is da:
                return a, b
        elif type(b) is float:
            if da.kind == "f":
                return a, b
        elif type(b) is int:
            return a, b
    a = _const(a)
    b = _const(b)
    da = a.data.dtype if isinstance(a, Tensor) else getattr(a, "dtype", None)
    db = b.data.dtype if isinstance(b, Tensor) else getattr(b, "dtype", None)
    if da is db:
        return a, b
    if da is None:  # a is a Python scalar
        if isinstance(a, float) and db.kind != "f":
            b = _as_float(b, get_default_dtype())
        return a, b
    if db is None:
        if isinstance(b, float) and da.kind != "f":
            a = _as_float(a, get_default_dtype())
        return a, b
    if da.kind == "f" and db.kind != "f":
        b = _as_float(b, da)
    elif db.kind == "f" and da.kind != "f":
        a = _as_float(a, db)
    return a, b


def as_floating(x: Any) -> Any:
    """Integer and bool tensors as the default float dtype, for exp, log, sin... (torch)."""
    if isinstance(x, Tensor):
        if x.data.dtype.kind == "f":
            return x
        return from_op(x.data.astype(get_default_dtype()), None)
    return Tensor(x) if not isinstance(x, np.ndarray) else from_op(x, None)


def _describe(op: Op, arrays: tuple, error: ValueError) -> str:
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    if "broadcast" in str(error):
        return f"{op.name}: shapes {shapes} cannot be broadcast together"
    return f"{op.name}: {error} (input shapes {shapes})"
