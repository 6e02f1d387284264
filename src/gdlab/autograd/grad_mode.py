"""Grad mode: whether operations are recorded for backward (``no_grad`` and friends).

The mode itself is ``STATE.grad_enabled`` (``gdlab.autograd.state``); these context managers
and decorators switch it and restore it, as torch's do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from gdlab.autograd.state import STATE

__all__ = [
    "enable_grad",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_grad_enabled",
]


def is_grad_enabled() -> bool:
    """Whether operations are currently recorded for backward."""
    return STATE.grad_enabled


class _GradModeContext(contextlib.ContextDecorator):
    """Sets grad mode to ``_mode`` on entry and restores the previous mode on exit.

    As a decorator, each call gets a fresh context (``_recreate_cm``): one shared instance
    would keep only the innermost previous mode, so a recursive decorated function (or two
    threads) would leave grad mode switched off.
    """

    _mode = False

    def __enter__(self) -> None:
        self.prev = STATE.grad_enabled
        STATE.grad_enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        STATE.grad_enabled = self.prev

    def _recreate_cm(self) -> _GradModeContext:
        return type(self)()


class _BareDecoratorContext(_GradModeContext):
    """Also usable as a decorator without parentheses (``@no_grad``), as torch's."""

    def __new__(cls, orig_func: Callable | None = None) -> Any:
        if orig_func is None:
            return object.__new__(cls)
        return cls()(orig_func)


class no_grad(_BareDecoratorContext):
    """Disable graph recording, as ``torch.no_grad``: for evaluation and parameter updates.

    Example:
        >>> with no_grad():
        ...     y = x * 2          # y.requires_grad is False
    """

    _mode = False


class enable_grad(_BareDecoratorContext):
    """Re-enable graph recording inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Turn graph recording on or off, as ``torch.set_grad_enabled``: at once when called
    (``set_grad_enabled(False)`` alone switches it off), until the end of a ``with`` block,
    or for the calls of a decorated function only.

    Example:
        >>> with set_grad_enabled(is_training):
        ...     loss = model(x)
    """

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self.prev = STATE.grad_enabled
        STATE.grad_enabled = self._mode

    def __enter__(self) -> None:
        pass  # the mode was set by __init__, and ``prev`` recorded before it

    def __call__(self, func: Callable) -> Callable:
        STATE.grad_enabled = self.prev  # as a decorator, the mode applies inside calls only
        return super().__call__(func)

    def _recreate_cm(self) -> set_grad_enabled:
        return set_grad_enabled(self._mode)


class inference_mode(_GradModeContext):
    """``torch.inference_mode``: no graph recording, as :class:`no_grad` (``mode=False``
    leaves grad mode as it is). A context manager and a decorator, with or without
    parentheses.

    torch also marks the tensors made inside as "inference tensors" that can never enter a
    graph later; gdlab has no such tensors: they are ordinary tensors that do not require grad.

    Example:
        >>> with inference_mode():
        ...     y = model(x)       # y.requires_grad is False
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # @inference_mode without parentheses
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self.prev = STATE.grad_enabled
        self.prev_inference = STATE_INFERENCE.enabled
        if self.mode:
            STATE.grad_enabled = False
            STATE_INFERENCE.enabled = True

    def __exit__(self, *exc: object) -> None:
        STATE.grad_enabled = self.prev
        STATE_INFERENCE.enabled = self.prev_inference

    def _recreate_cm(self) -> inference_mode:
        return inference_mode(self.mode)


class _InferenceState:
    """Whether an ``inference_mode`` block is running (``is_inference_mode_enabled``)."""

    enabled = False


STATE_INFERENCE = _InferenceState()


def is_inference_mode_enabled() -> bool:
    """Whether code runs inside ``inference_mode`` (torch.is_inference_mode_enabled)."""
    return STATE_INFERENCE.enabled
