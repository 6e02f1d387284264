"""Module backward hooks (``register_full_backward_hook``, ``register_full_backward_pre_hook``),
as torch's, built on tensor hooks.

As torch's ``BackwardHook`` does, the module's tensor inputs and its output pass through an
identity (``clone``) around ``forward``: the output's identity sees grad_output (the pre-hooks
may replace it), the inputs' identities see grad_input. The engine computes gradients newest
node first, so the first input's identity, made before the others, is the last to receive
its gradient: the full hooks fire there, with every grad_input known.

Limits: ``forward`` must return one Tensor; with several inputs that require grad, a full
hook may read grad_input but not replace it (the other inputs' gradients have flowed on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gdlab.autograd.state import STATE
from gdlab.ops.shape import clone
from gdlab.tensor import Tensor

__all__ = ["call_with_backward_hooks"]


@dataclass
class _Pass:
    """One forward call's gradients, filled in as backward reaches them."""

    grad_input: list[Any]
    grad_output: tuple[Any, ...] = ()
    wrapped: list[int] = field(default_factory=list)


def _as_tuple(value: Any, n: int, what: str) -> tuple:
    out = tuple(value) if isinstance(value, tuple | list) else (value,)
    if len(out) != n:
        raise RuntimeError(f"backward hook returned {len(out)} {what} gradients, expected {n}")
    return out


def call_with_backward_hooks(
    module: Any, forward: Callable[..., Any], args: tuple, kwargs: dict
) -> Any:
    """``forward(*args, **kwargs)`` with the module's backward (pre-)hooks attached."""
    if not STATE.grad_enabled:
        return forward(*args, **kwargs)
    args = list(args)
    call = _Pass(grad_input=[None] * len(args))
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and a.requires_grad:
            args[i] = clone(a)
            call.wrapped.append(i)
    output = forward(*args, **kwargs)
    if not isinstance(output, Tensor):
        raise TypeError(
            f"{type(module).__name__}: backward hooks need forward to return one Tensor, "
            f"got {type(output).__name__}"
        )
    if not output.requires_grad:
        return output
    out = clone(output)
    out.register_hook(lambda g: _on_output(module, call, g))
    for i in call.wrapped:
        args[i].register_hook(lambda g, i=i: _on_input(module, call, i, g))
    return out


def _on_output(module: Any, call: _Pass, g: Tensor) -> Any:
    grad_output: tuple = (g,)
    for hook in list(module._backward_pre_hooks.values()):
        new = hook(module, grad_output)
        if new is not None:
            grad_output = _as_tuple(new, 1, "output")
    call.grad_output = grad_output
    if not call.wrapped:  # no input needs a gradient: the hooks fire now, with None (as torch)
        _fire(module, call)
    return grad_output[0]


def _on_input(module: Any, call: _Pass, i: int, g: Tensor) -> Any:
    call.grad_input[i] = g
    if i != call.wrapped[0]:
        return None
    new = _fire(module, call)
    return None if new is None else new[i]


def _fire(module: Any, call: _Pass) -> tuple | None:
    """Run the full hooks; the last replacement of grad_input, if any."""
    replaced = None
    for hook in list(module._backward_hooks.values()):
        new = hook(module, tuple(call.grad_input), call.grad_output)
        if new is None:
            continue
        if len(call.wrapped) > 1:
            raise RuntimeError(
                f"{type(module).__name__}: a full backward hook can replace grad_input only "
                "when one input requires grad"
            )
        replaced = _as_tuple(new, len(call.grad_input), "input")
        call.grad_input = list(replaced)
    return replaced
