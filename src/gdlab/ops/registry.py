"""The op table: each primitive is one row with its forward and one VJP per input.

``vjp(g, out, *inputs, **kwargs)`` receives the output gradient ``g``, the forward output and
the forward's input arrays, and returns the gradient for its input as if shapes matched: the
engine sums broadcast axes away. Everything that is not a primitive is composed from these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gdlab.autograd.engine import _GradMode, _next_seq
from gdlab.tensor import Tensor

__all__ = ["OPS", "Op", "Sample", "apply", "defop"]

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
        # the node tuple (op, arrays, kwargs, parents, saved, seq): see autograd.engine
        if ga and gb:
            node = (op, arrays, kwargs, ((0, a, a._version), (1, b, b._version)), (), _next_seq())
        elif ga:
            saved = ((b, b._version),) if tb else ()
            node = (op, arrays, kwargs, ((0, a, a._version),), saved, _next_seq())
        elif gb:
            saved = ((a, a._version),) if ta else ()
            node = (op, arrays, kwargs, ((1, b, b._version),), saved, _next_seq())
        else:
            node = None
    elif n == 1:
        if ta and a.requires_grad:
            node = (op, arrays, kwargs, ((0, a, a._version),), (), _next_seq())
        else:
            node = None
    else:
        node = _record(op, inputs, arrays, kwargs)
    out._node = node
    out.requires_grad = node is not None
    return out


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
    return (op, arrays, kwargs, tuple(parents), tuple(saved), _next_seq())


def _describe(op: Op, arrays: tuple, error: ValueError) -> str:
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    if "broadcast" in str(error):
        return f"{op.name}: shapes {shapes} cannot be broadcast together"
    return f"{op.name}: {error} (input shapes {shapes})"
