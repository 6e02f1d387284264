"""The op table: each primitive is one row with its forward and one VJP per input.

``vjp(g, out, *inputs, **kwargs)`` receives the output gradient ``g``, the forward output and
the forward's input arrays, and returns the gradient for its input as if shapes matched: the
engine sums broadcast axes away. Everything that is not a primitive is composed from these.

A VJP returns a new array, ``g`` itself or a view of ``g``: never one of its inputs, the output
or a view of them, and never an array it also keeps outside its graph node (a module-level
cache). The engine relies on this to give a fresh result to a leaf's ``.grad`` without a copy
(tests/ops/test_vjp_table.py checks every row).

Running an op (and recording it for backward) is ``gdlab.ops.dispatch``; how the tests
sample each row's inputs is tests/ops/op_samples.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gdlab.autograd.node import passthrough

__all__ = ["OPS", "Op", "VariadicVjps", "defop", "passthrough"]

Vjp = Callable[..., np.ndarray]


class VariadicVjps:
    """``vjps[i]`` for ops taking any number of inputs (cat, stack): ``rule(i, g, out, *xs)``."""

    __slots__ = ("rule",)

    def __init__(self, rule: Callable[..., np.ndarray]) -> None:
        self.rule = rule

    def __getitem__(self, i: int) -> Vjp:
        return lambda *args, **kwargs: self.rule(i, *args, **kwargs)


@dataclass(frozen=True, eq=False, slots=True)
class Op:
    """A primitive: ``forward(*arrays, **kwargs)`` and a VJP per positional input."""

    name: str
    forward: Callable[..., np.ndarray]
    vjps: tuple[Vjp, ...] | VariadicVjps

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


OPS: dict[str, Op] = {}


def defop(
    name: str,
    forward: Callable[..., np.ndarray],
    *vjps: Vjp,
    variadic: Callable[..., np.ndarray] | None = None,
) -> Op:
    """Register a primitive and return it.

    Args:
        name: unique name (also the backward node's name: ``"exp"`` -> ``ExpBackward``).
        forward: ``forward(*arrays, **kwargs) -> array``.
        *vjps: one rule per positional input, ``vjp(g, out, *arrays, **kwargs) -> array``.
        variadic: instead of ``vjps``, ``rule(i, g, out, *arrays, **kwargs)`` for ops taking
            any number of inputs.

    Example:
        >>> EXP = defop("exp", np.exp, lambda g, out, x: g * out)
    """
    if name in OPS:
        raise ValueError(f"defop: an op named {name!r} is already registered")
    op = Op(name, forward, VariadicVjps(variadic) if variadic is not None else vjps)
    OPS[name] = op
    return op
