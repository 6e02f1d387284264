"""Gradient hooks on tensors (``Tensor.register_hook``) and the handles that remove hooks.

A tensor's hooks live in its ``_hooks`` slot (None until the first hook or ``retain_grad``),
as a ``TensorHooks``; the engine calls ``TensorHooks.apply`` on the tensor's gradient once it
is complete, before passing it on (a non-leaf) or accumulating it into ``.grad`` (a leaf).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["RemovableHandle", "TensorHooks"]

_keys = itertools.count()  # handle keys: unique across all hook dictionaries


class RemovableHandle:
    """What ``register_hook`` and the module ``register_*_hook`` methods return:
    ``handle.remove()`` unregisters the hook (also as a context manager), as torch's.

    Example:
        >>> handle = x.register_hook(lambda g: g * 2)
        >>> handle.remove()
    """

    def __init__(self, hooks: dict[int, Callable]) -> None:
        self.hooks = hooks
        self.id = next(_keys)

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


@dataclass
class TensorHooks:
    """A tensor's gradient hooks, in registration order, and whether it keeps its gradient.

    Attributes:
        hooks: handle id -> ``hook(grad) -> Tensor | None`` (a returned value replaces the
            gradient, as torch's).
        retains_grad: ``retain_grad()`` was called: a non-leaf keeps its gradient in
            ``.grad`` (after the hooks, as torch: retain_grad's hook always runs last).
    """

    hooks: dict[int, Callable[[Any], Any]] = field(default_factory=dict)
    retains_grad: bool = False

    def add(self, hook: Callable[[Any], Any]) -> RemovableHandle:
        handle = RemovableHandle(self.hooks)
        self.hooks[handle.id] = hook
        return handle

    def apply(self, t: Any, g: Any) -> Any:
        """``g`` (an array, or a Tensor under create_graph) after every hook of ``t``."""
        for hook in list(self.hooks.values()):
            as_tensor = g if hasattr(g, "_node") else t._wrap(g)
            new = hook(as_tensor)
            if new is None:
                continue
            if hasattr(g, "_node"):  # create_graph: the gradient stays a Tensor
                g = new if hasattr(new, "_node") else t._wrap(np.asarray(new))
            else:
                g = np.asarray(new.data if hasattr(new, "_node") else new)
            if g.shape != t.data.shape:
                raise ValueError(
                    f"hook: returned a gradient of shape {g.shape} for a tensor of shape "
                    f"{t.data.shape}"
                )
        return g
