"""The engine's process-wide state, in one object: ``STATE``.

Everything the engine remembers between two operations lives here, so a reader knows where
to look and a test can see it:

- ``grad_enabled``: whether ops record graph nodes. ``no_grad``, ``enable_grad`` and
  ``set_grad_enabled`` (``gdlab.autograd.grad_mode``) switch it; the op dispatch reads it.
  Global, not per thread (gdlab runs ops on one thread).
- ``next_seq``: the creation counter of graph nodes. It counts down, so the newest node has
  the smallest number and a min-heap pops it first: backward visits nodes newest first,
  which is a topological order (a node is always made after the nodes of its inputs).

Constant arrays the ops share (0-d scalars, row indices) are in ``gdlab.ops.constants``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["STATE", "EngineState"]


def _countdown() -> Callable[[], int]:
    return itertools.count(0, -1).__next__


@dataclass(slots=True)
class EngineState:
    """Grad mode and the node counter (see the module docstring)."""

    grad_enabled: bool = True
    next_seq: Callable[[], int] = field(default_factory=_countdown)


STATE = EngineState()
