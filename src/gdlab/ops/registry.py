"""The op table: each primitive is one row with its forward and one VJP per input.

``vjp(g, out, *inputs, **kwargs)`` receives the output gradient ``g``, the forward output and
the forward's input arrays, and returns the gradient for its input as if shapes matched: the
engine sums broadcast axes away. Everything that is not a primitive is composed from these.

A VJP returns a new array, ``g`` itself or a view of ``g``: never one of its inputs, the output
or a view of them, and never an array it also keeps outside its graph node (a module-level
cache). The engine relies on this to give a fresh result to a leaf's ``.grad`` without a copy
(tests/ops/test_vjp_table.py checks every row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdlab.autograd.engine import _GradMode, _next_seq, passthrough
from gdlab.dtypes import get_default_dtype
from gdlab.tensor import Tensor

__all__ = [
    "OPS",
    "Op",
    "Sample",
    "apply",
    "apply_binary",
    "apply_unary",
    "as_floating",
    "binary_method",
    "defop",
    "passthrough",
    "promote",
    "scalar_array",
]

Vjp = Callable[..., np.ndarray]
# One test case: the shapes of the positional inputs and the keyword arguments.
Sample = tuple[tuple[tuple[int, ...], ...], dict]
Sampler = Callable[[np.random.Generator, tuple[int, ...]], list[Sample]]


class _VariadicVjps:
    """``vjps[i]`` for ops taking any number of inputs (cat, stack): ``rule(i, g, out, *xs)``."""

    __slots__ = ("rule",)

    def __init__(self, rule: Callable[..., np.ndarray]) -> None:
        self.rule = rule

    def __getitem__(self, i: int) -> Vjp:
        return lambda *args, **kwargs: self.rule(i, *args, **kwargs)


@dataclass(frozen=True, eq=False)
class Op:
    """A primitive: ``forward(*arrays, **kwargs)`` and a VJP per positional input.

    ``domain`` is the interval tests sample inputs from (away from poles and kinks).
    The table-driven tests (tests/ops) check every row. By default they draw mutually
    broadcastable shapes, one per VJP, and call the op with ``sample_kwargs``; an op whose
    inputs must fit together (matmul, gather, cat...) gives ``sample(rng, shape)``, which
    returns a list of ``(input_shapes, kwargs)`` cases built around a drawn ``shape``.
    """

    name: str
    forward: Callable[..., np.ndarray]
    vjps: tuple[Vjp, ...] | _VariadicVjps
    domain: tuple[float, float] = (-2.0, 2.0)
    sample_kwargs: dict = field(default_factory=dict)
    sample: Sampler | None = None

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


OPS: dict[str, Op] = {}


def defop(
    name: str,
    forward: Callable[..., np.ndarray],
    *vjps: Vjp,
    variadic: Callable[..., np.ndarray] | None = None,
    domain: tuple[float, float] = (-2.0, 2.0),
    sample_kwargs: dict | None = None,
    sample: Sampler | None = None,
) -> Op:
    """Register a primitive and return it.

    Args:
        name: unique name (also the backward node's name: ``"exp"`` -> ``ExpBackward``).
        forward: ``forward(*arrays, **kwargs) -> array``.
        *vjps: one rule per positional input, ``vjp(g, out, *arrays, **kwargs) -> array``.
        variadic: instead of ``vjps``, ``rule(i, g, out, *arrays, **kwargs)`` for ops taking
            any number of inputs.
        domain: the interval tests draw input values from.
        sample_kwargs: keyword arguments tests call the op with (default sampling).
        sample: ``sample(rng, shape) -> [(input_shapes, kwargs), ...]`` for ops whose inputs
            must fit together; required for variadic ops.

    Example:
        >>> EXP = defop("exp", np.exp, lambda g, out, x: g * out)
    """
    if name in OPS:
        raise ValueError(f"defop: an op named {name!r} is already registered")
    rules = _VariadicVjps(variadic) if variadic is not None else vjps
    op = Op(name, forward, rules, domain, sample_kwargs or {}, sample)
    OPS[name] = op
    return op


_new = object.__new__


def apply(op: Op, *inputs: object, **kwargs: object) -> Tensor:
    """Run ``op`` on tensors or constants and, if a gradient is needed, record it.

    This is the hot path of every operation, so one- and two-input ops take straight-line
    paths without generator expressions or repeated lookups.
    """
    n = len(inputs)
    if n == 2:
        a, b = inputs
        ta = isinstance(a, Tensor)
        tb = isinstance(b, Tensor)
        arrays = (a.data if ta else a, b.data if tb else b)
    elif n == 1:
        a = inputs[0]
        ta = isinstance(a, Tensor)
        arrays = (a.data,) if ta else inputs
    else:
        arrays = tuple([x.data if isinstance(x, Tensor) else x for x in inputs])
    try:
        data = op.forward(*arrays, **kwargs) if kwargs else op.forward(*arrays)
    except ValueError as e:
        raise ValueError(_describe(op, arrays, e)) from None
    out = _new(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out._grad = None
    out._version = 0
    out._retains_grad = False
    if not _GradMode.enabled:
        out._node = None
        out.requires_grad = False
        return out
    if n == 2:
        ga = ta and a.requires_grad
        gb = tb and b.requires_grad
        # the node tuple (op, arrays, kwargs, parents, saved, seq, exact): see autograd.engine
        if ga and gb:
            parents = ((0, a, a._version), (1, b, b._version))
            node = (op, arrays, kwargs, parents, (), _next_seq(), False)
        elif ga:
            saved = ((b, b._version),) if tb else ()
            node = (op, arrays, kwargs, ((0, a, a._version),), saved, _next_seq(), False)
        elif gb:
            saved = ((a, a._version),) if ta else ()
            node = (op, arrays, kwargs, ((1, b, b._version),), saved, _next_seq(), False)
        else:
            node = None
    elif n == 1:
        if ta and a.requires_grad:
            node = (op, arrays, kwargs, ((0, a, a._version),), (), _next_seq(), False)
        else:
            node = None
    else:
        node = _record(op, inputs, arrays, kwargs)
    out._node = node
    out.requires_grad = node is not None
    return out


_NO_KWARGS: dict = {}  # shared by nodes of ops called without keyword arguments (never mutated)
_ndarray = np.ndarray
_SCALARS: dict[tuple[Any, np.dtype], np.ndarray] = {}


def scalar_array(value: int | float, dtype: np.dtype) -> np.ndarray:
    """``value`` as a read-only 0-d array of ``dtype``, cached (a few hundred entries at most).

    NumPy computes ``array op 0-d array`` faster than ``array op Python scalar`` and with the
    same result when the 0-d array has the array's dtype (NEP 50 casts the scalar so).
    Zeros are not cached: 0.0 and -0.0 are equal keys but different values.

    Example:
        >>> scalar_array(0.5, np.dtype(np.float32))
        array(0.5, dtype=float32)
    """
    key = (value, dtype)
    hit = _SCALARS.get(key)
    if hit is not None:
        return hit
    arr = np.array(value, dtype)
    arr.flags.writeable = False  # shared by every node that used the same number
    if value and len(_SCALARS) < 512:
        _SCALARS[key] = arr
    return arr


def apply_unary(op: Op, x: Any, floating: bool = False) -> Tensor:
    """``apply`` for a one-input op without keyword arguments (exp, tanh, relu...): the same
    result on a straight-line path. With ``floating``, integer inputs first become the
    default float dtype, as torch's exp or sin do."""
    if not isinstance(x, Tensor) or (floating and x.data.dtype.kind != "f"):
        return apply(op, as_floating(x) if floating else x)
    xd = x.data
    data = op.forward(xd)
    out = _new(Tensor)
    out.data = data if type(data) is _ndarray else np.asarray(data)
    out._grad = None
    out._version = 0
    out._retains_grad = False
    if x.requires_grad and _GradMode.enabled:
        # elementwise: the gradient has the input's shape (exact)
        out._node = (op, (xd,), _NO_KWARGS, ((0, x, x._version),), (), _next_seq(), True)
        out.requires_grad = True
    else:
        out._node = None
        out.requires_grad = False
    return out


def apply_binary(op: Op, a: Any, b: Any) -> Tensor:
    """``apply`` for a two-input op without keyword arguments (+ - * ** maximum...), with
    torch's type promotion (``promote``). Tensor with tensor of the same dtype, or a float
    tensor with a Python number, take a straight-line path; the rest goes through apply.

    A Python number beside a float tensor becomes a cached 0-d array of the tensor's dtype
    (``scalar_array``): the value NumPy would compute with anyway (NEP 50 casts it to the
    array's dtype), but NumPy takes a few hundred ns longer over a Python scalar operand, in
    the forward and again in the VJP that multiplies by it.
    """
    ta = isinstance(a, Tensor)
    tb = isinstance(b, Tensor)
    if ta:
        ad = a.data
        if tb:
            bd = b.data
            fast = bd.dtype is ad.dtype
        else:
            kind = type(b)
            if (kind is float or kind is int) and ad.dtype.kind == "f":
                bd = _SCALARS.get((b, ad.dtype))
                if bd is None:
                    bd = scalar_array(b, ad.dtype)
                fast = True
            else:
                bd = b
                fast = kind is int
    elif tb:
        bd = b.data
        kind = type(a)
        if (kind is float or kind is int) and bd.dtype.kind == "f":
            ad = _SCALARS.get((a, bd.dtype))
            if ad is None:
                ad = scalar_array(a, bd.dtype)
            fast = True
        else:
            ad = a
            fast = kind is int
    else:
        fast = False
    if not fast:
        return apply(op, *promote(a, b))
    try:
        data = op.forward(ad, bd)
    except ValueError as e:
        raise ValueError(_describe(op, (ad, bd), e)) from None
    out = _new(Tensor)
    out.data = data if type(data) is _ndarray else np.asarray(data)
    out._grad = None
    out._version = 0
    out._retains_grad = False
    node = None
    if _GradMode.enabled:
        ga = ta and a.requires_grad
        gb = tb and b.requires_grad
        if ga and gb:
            parents, saved = ((0, a, a._version), (1, b, b._version)), ()
        elif ga:
            parents, saved = ((0, a, a._version),), ((b, b._version),) if tb else ()
        elif gb:
            parents, saved = ((1, b, b._version),), ((a, a._version),) if ta else ()
        if ga or gb:
            # exact: no broadcasting (a number, or equal shapes), so no unbroadcast at backward
            exact = not (ta and tb) or ad.shape == bd.shape
            node = (op, (ad, bd), _NO_KWARGS, parents, saved, _next_seq(), exact)
    out._node = node
    out.requires_grad = node is not None
    return out


def binary_method(op: Op) -> Callable[[Tensor, Any], Tensor]:
    """``apply_binary(op, self, other)`` as a Tensor method (``__add__``, ``__sub__``,
    ``__mul__``): the operators of hand-written models, so the common cases (a tensor of the
    same dtype, or a Python number beside a float tensor) run here with one Python call less;
    everything else goes to ``apply_binary``. Results are identical (tests compare both).

    Example:
        >>> Tensor.__mul__ = binary_method(MUL)
    """
    forward = op.forward

    def method(a: Tensor, b: Any) -> Tensor:
        ad = a.data
        if isinstance(b, Tensor):
            bd = b.data
            if bd.dtype is not ad.dtype:
                return apply_binary(op, a, b)
            tb = True
        else:
            kind = type(b)
            if (kind is not float and kind is not int) or ad.dtype.kind != "f":
                return apply_binary(op, a, b)
            bd = _SCALARS.get((b, ad.dtype))
            if bd is None:
                bd = scalar_array(b, ad.dtype)
            tb = False
        try:
            data = forward(ad, bd)
        except ValueError as e:
            raise ValueError(_describe(op, (ad, bd), e)) from None
        out = _new(Tensor)
        out.data = data if type(data) is _ndarray else np.asarray(data)
        out._grad = None
        out._version = 0
        out._retains_grad = False
        node = None
        if _GradMode.enabled:
            ga = a.requires_grad
            gb = tb and b.requires_grad
            if ga and gb:
                parents, saved = ((0, a, a._version), (1, b, b._version)), ()
            elif ga:
                parents, saved = ((0, a, a._version),), ((b, b._version),) if tb else ()
            elif gb:
                parents, saved = ((1, b, b._version),), ((a, a._version),)
            if ga or gb:
                exact = not tb or ad.shape == bd.shape
                node = (op, (ad, bd), _NO_KWARGS, parents, saved, _next_seq(), exact)
        out._node = node
        out.requires_grad = node is not None
        return out

    method.__name__ = method.__qualname__ = f"{op.name}_method"
    return method


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
        return Tensor._wrap(x.data.astype(get_default_dtype()))
    return Tensor(x) if not isinstance(x, np.ndarray) else Tensor._wrap(x)


def _record(op: Op, inputs: tuple, arrays: tuple, kwargs: dict) -> tuple | None:
    """The node for an op with any number of inputs, or None if none needs a gradient."""
    parents = []
    saved = []
    i = 0
    for x in inputs:
        if isinstance(x, Tensor):
            if x.requires_grad:
                parents.append((i, x, x._version))
            else:
                saved.append((x, x._version))
        i += 1
    if not parents:
        return None
    return (op, arrays, kwargs, tuple(parents), tuple(saved), _next_seq(), False)


def _describe(op: Op, arrays: tuple, error: ValueError) -> str:
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    if "broadcast" in str(error):
        return f"{op.name}: shapes {shapes} cannot be broadcast together"
    return f"{op.name}: {error} (input shapes {shapes})"
