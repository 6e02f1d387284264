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

__all__ = ["OPS", "Op", "apply", "defop"]

Vjp = Callable[..., np.ndarray]


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

    ``domain`` is the interval tests sample inputs from (away from poles and kinks);
    ``sample_kwargs`` are keyword arguments the table-driven tests use.
    """

    name: str
    forward: Callable[..., np.ndarray]
    vjps: tuple[Vjp, ...] | _VariadicVjps
    domain: tuple[float, float] = (-2.0, 2.0)
    sample_kwargs: dict = field(default_factory=dict)

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
) -> Op:
    """Register a primitive and return it."""
    if name in OPS:
        raise ValueError(f"defop: an op named {name!r} is already registered")
    rules = _VariadicVjps(variadic) if variadic is not None else vjps
    op = Op(name, forward, rules, domain, sample_kwargs or {})
    OPS[name] = op
    return op


def apply(op: Op, *inputs: object, **kwargs: object) -> Tensor:
    """Run ``op`` on tensors or constants and, if a gradient is needed, record it."""
    arrays = tuple(x.data if isinstance(x, Tensor) else x for x in inputs)
    try:
        out = Tensor._wrap(op.forward(*arrays, **kwargs))
    except ValueError as e:
        raise ValueError(_describe(op, arrays, e)) from None
    if _GradMode.enabled:
        parents = tuple(
            (i, x, x._version)
            for i, x in enumerate(inputs)
            if isinstance(x, Tensor) and x.requires_grad
        )
        if parents:
            out.requires_grad = True
            out._node = Node(op, arrays, kwargs, parents)
    return out


def _describe(op: Op, arrays: tuple, error: ValueError) -> str:
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    if "broadcast" in str(error):
        return f"{op.name}: shapes {shapes} cannot be broadcast together"
    return f"{op.name}: {error} (input shapes {shapes})"
