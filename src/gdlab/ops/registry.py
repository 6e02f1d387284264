"""The op table: each primitive is one row with its forward and one VJP per input.

``vjp(g, out, *inputs, **kwargs)`` receives the output gradient ``g``, the forward output and
the forward's input arrays, and returns the gradient for its input as if shapes matched: the
engine sums broadcast axes away. Everything that is not a primitive is composed from these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gdlab.autograd.engine import Node, _GradMode
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

    This is the hot path of every operation, so it avoids generator expressions and
    repeated attribute lookups: one- and two-input ops take a straight-line path.
    """
    n = len(inputs)
    if n == 1:
        x = inputs[0]
        arrays = (x.data,) if isinstance(x, Tensor) else inputs
    elif n == 2:
        a, b = inputs
        arrays = (
            a.data if isinstance(a, Tensor) else a,
            b.data if isinstance(b, Tensor) else b,
        )
    else:
        arrays = tuple([x.data if isinstance(x, Tensor) else x for x in inputs])
    try:
        data = op.forward(*arrays, **kwargs)
    except ValueError as e:
        raise ValueError(_describe(op, arrays, e)) from None
    out = _new(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out._grad = None
    out._node = None
    out._version = 0
    out._retains_grad = False
    out.requires_grad = False
    if _GradMode.enabled:
        if n == 1:
            if isinstance(x, Tensor) and x.requires_grad:
                out.requires_grad = True
                out._node = Node(op, arrays, kwargs, ((0, x, x._version),), ())
        elif n == 2 and isinstance(a, Tensor) and isinstance(b, Tensor):
            if a.requires_grad and b.requires_grad:
                parents = ((0, a, a._version), (1, b, b._version))
                saved = ()
            elif a.requires_grad:
                parents, saved = ((0, a, a._version),), ((b, b._version),)
            elif b.requires_grad:
                parents, saved = ((1, b, b._version),), ((a, a._version),)
            else:
                return out
            out.requires_grad = True
            out._node = Node(op, arrays, kwargs, parents, saved)
        else:
            _record(out, op, inputs, arrays, kwargs)
    return out


def _record(out: Tensor, op: Op, inputs: tuple, arrays: tuple, kwargs: dict) -> None:
    """Attach a node to ``out`` if an input needs a gradient (the general case of apply)."""
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
    if parents:
        out.requires_grad = True
        out._node = Node(op, arrays, kwargs, tuple(parents), tuple(saved))


def _describe(op: Op, arrays: tuple, error: ValueError) -> str:
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    if "broadcast" in str(error):
        return f"{op.name}: shapes {shapes} cannot be broadcast together"
    return f"{op.name}: {error} (input shapes {shapes})"
