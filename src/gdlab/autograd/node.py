"""The graph node: what one recorded operation keeps for backward.

Ops record a node on their output tensor (``gdlab.ops.dispatch``: ``record``, and the two
elementwise entry points for their commonest nodes); backward (``gdlab.autograd.engine``)
reads it to send the output's gradient on to the inputs. ``Node`` names its fields. On the
hot path the node is the plain tuple of those fields in that order (``RawNode``): a tuple
subclass takes about four times a plain tuple's time to build and three times to unpack (a
sequence unpack is specialised for exact tuples only), measured 0.19 against 0.04 µs and
0.085 against 0.025 µs, on every op. So the engine unpacks the tuple into the field names
(``op, arrays, kwargs, parents, saved, seq, exact = node``) or reads one field by its named
index (``SEQ``), and ``Tensor.grad_fn`` shows the named view (``Node.of``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from gdlab.ops.registry import Op
    from gdlab.tensor import Tensor

__all__ = ["FREED", "SEQ", "Edge", "Node", "Prior", "RawNode", "Saved", "passthrough"]

# An input that needs a gradient: (its position among the op's inputs, the tensor, the
# tensor's in-place version when the node was recorded). Plain triples, not a NamedTuple:
# one or two are built per op on the hot path, and the engine only ever unpacks them.
Edge = tuple[int, "Tensor", int]
# A tensor input that needs no gradient but whose values the VJPs read: (tensor, version).
Saved = tuple["Tensor", int]


class Node(NamedTuple):
    """One recorded operation (the fields of a ``RawNode``, named).

    Attributes:
        op: the primitive (its VJPs are ``op.vjps``); None once the node is freed.
        arrays: the forward's positional inputs (arrays, or constants such as numbers).
        kwargs: the forward's keyword arguments (shared and never mutated).
        parents: an ``Edge`` for each input that needs a gradient.
        saved: a ``Saved`` for each other tensor input: a tensor modified in place after
            being used is caught at backward by its version, as torch does.
        seq: the creation order (``STATE.next_seq``: counts down, so newest is smallest).
        exact: the VJPs' results already have their inputs' shapes (an elementwise op
            without broadcasting), so backward skips the shape comparison.
    """

    op: Op | None
    arrays: tuple | None
    kwargs: dict | None
    parents: tuple[Edge, ...]
    saved: tuple[Saved, ...]
    seq: int
    exact: bool

    @classmethod
    def of(cls, raw: RawNode) -> Node:
        """The named view of a recorded node (for ``grad_fn``, messages and inspection)."""
        return cls._make(raw)

    def name(self) -> str:
        """``ExpBackward`` for the node of ``exp`` (torch's spelling, without its suffix)."""
        if self.op is None:
            return "FreedBackward"
        return f"{self.op.name.title().replace('_', '')}Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class Prior(NamedTuple):
    """What a recorded in-place op (``c += 1`` on a tensor in the graph) leaves on the tensor
    it changed: the version at which the tensor took the op's node, and the tensor that now
    holds its value and node from before the op. The engine follows ``tensor`` from an edge
    recorded at an older version: the old value is intact (the op wrote a new array), so the
    gradient goes to where it belongs, as torch's rebased graph sends it.
    """

    node_version: int
    tensor: Tensor


# A node as the graph stores it: the plain tuple of ``Node``'s fields, in that order.
RawNode = tuple[Any, ...]
SEQ = Node._fields.index("seq")  # the one field read alone on the hot path (the heap's key)

# After a backward without retain_graph, a tensor's node is replaced by FREED (seq 1 is
# never a real node's): the saved arrays are dropped and a second backward raises.
FREED: RawNode = (None, None, None, (), (), 1, True)


def passthrough(g: np.ndarray, out: np.ndarray, *inputs: Any, **kwargs: Any) -> np.ndarray:
    """The VJP of an input that passes the gradient on unchanged (add, the first input of sub,
    expand, clone); the engine recognises it and skips the call."""
    return g
