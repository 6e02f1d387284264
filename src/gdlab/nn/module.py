"""Module: the base class of every layer, with torch.nn.Module's API.

Parameters, buffers and sub-modules are registered by attribute assignment, in order, so
``named_parameters()`` yields torch's dotted names (``0.weight``, ``layers.1.bias``) and a
torch model's ``state_dict`` (as NumPy arrays) loads into the gdlab twin unchanged.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from gdlab.autograd.grad_mode import no_grad
from gdlab.autograd.hooks import RemovableHandle
from gdlab.devices import as_device, is_device
from gdlab.dtypes import resolve_dtype
from gdlab.nn._backward_hooks import call_with_backward_hooks
from gdlab.nn.parameter import Parameter
from gdlab.tensor import Tensor

__all__ = ["IncompatibleKeys", "Module", "StateDictError"]


class StateDictError(RuntimeError, ValueError):
    """``load_state_dict`` found missing/unexpected keys or shape mismatches (torch raises
    RuntimeError; this is also a ValueError, the checklist's choice)."""


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class for all network layers (``torch.nn.Module``).

    Subclasses call ``super().__init__()``, assign ``Parameter``s and sub-modules as
    attributes and define ``forward``; calling the module runs ``forward``.

    Example:
        >>> class TwoLayer(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.hidden = nn.Linear(3, 4)
        ...         self.out = nn.Linear(4, 1)
        ...     def forward(self, x):
        ...         return self.out(self.hidden(x).sigmoid())
        >>> [name for name, _ in TwoLayer().named_parameters()]
        ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_backward_pre_hooks", {})
        object.__setattr__(self, "_backward_hooks", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        d = self.__dict__
        if (
            d.get("_forward_pre_hooks")
            or d.get("_forward_hooks")
            or d.get("_backward_hooks")
            or d.get("_backward_pre_hooks")
        ):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------------- hooks
    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self.__dict__.get("_forward_pre_hooks", {}).values()):
            new = hook(self, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
        d = self.__dict__
        if d.get("_backward_hooks") or d.get("_backward_pre_hooks"):
            output = call_with_backward_hooks(self, self.forward, args, kwargs)
        else:
            output = self.forward(*args, **kwargs)
        for hook in list(self.__dict__.get("_forward_hooks", {}).values()):
            new = hook(self, args, output)
            if new is not None:
                output = new
        return output

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``; a returned value (a tuple, or
        one value) replaces the positional arguments (as torch's).

        Example:
            >>> handle = layer.register_forward_pre_hook(lambda m, args: print(args[0].shape))
            >>> handle.remove()
        """
        return _add_hook(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward``; a returned value
        replaces the output (as torch's). The lab records activations with it.

        Example:
            >>> acts = []
            >>> handle = layer.register_forward_hook(lambda m, args, out: acts.append(out))
        """
        return _add_hook(self._forward_hooks, hook)

    def register_full_backward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradient of the module's output is
        known, before the gradients of its inputs; a returned tuple replaces grad_output (as
        torch's). ``forward`` must return one Tensor.

        Example:
            >>> handle = layer.register_full_backward_pre_hook(lambda m, g_out: (g_out[0] * 0.5,))
        """
        return _add_hook(self.__dict__.setdefault("_backward_pre_hooks", {}), hook)

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once the gradients with respect to
        the module's positional inputs are computed (None for an input that needs none); a
        returned tuple replaces grad_input (as torch's; only when one input requires grad).
        The gradients are Tensors.

        Example:
            >>> norms = []
            >>> handle = layer.register_full_backward_hook(
            ...     lambda m, g_in, g_out: norms.append(float(g_out[0].norm())))
        """
        return _add_hook(self.__dict__.setdefault("_backward_hooks", {}), hook)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign before Module.__init__() call")
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(nn.Parameter or None expected)"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}'")
            modules[name] = None
        elif name in buffers:
            buffers[name] = _as_buffer(value, name)
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        self.__dict__.pop(name, None)
        for d in (self._parameters, self._buffers, self._modules):
            d.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None for an absent one) under ``name``."""
        _check_name(name, self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(nn.Parameter or None required)"
            )
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """A tensor that is state but not a parameter (running statistics)."""
        _check_name(name, self)
        self._forget(name)
        self._buffers[name] = _as_buffer(tensor, name)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-module (or None) under ``name``, as attribute assignment does."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(name, self)
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    # ----------------------------------------------------------------- traversal
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every sub-module, pre-order; a module
        reached twice is listed once unless ``remove_duplicate`` is False."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                sub = f"{prefix}.{name}" if prefix else name
                yield from m.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module, once each, pre-order."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct sub-modules, once each."""
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct sub-modules, once each."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), v

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) in registration order, shared parameters once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once (a shared one too), in ``named_parameters`` order: what an
        optimizer takes."""
        # no names to build: walk the tree directly (it runs every training step)
        seen: set[int] = set()
        for m in self._walk() if recurse else (self,):
            for p in m._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def _walk(self) -> list[Module]:
        """Every module once, in ``named_modules`` order (pre-order, iterative)."""
        out, seen, stack = [], set(), [self]
        while stack:
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append(m)
            if m._modules:  # most modules are leaves: no generator to make for them
                stack.extend(c for c in reversed(m._modules.values()) if c is not None)
        return out

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for the buffers (running statistics...), in registration order."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers, in ``named_buffers`` order."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses and updates batch statistics) on
        this module and every sub-module; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (False freezes the module); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default, as torch), or to zeros in place."""
        for p in self.parameters():
            if p._grad is not None:
                if set_to_none:
                    p._grad = None  # all the setter does with None, without its call
                else:
                    p._grad[...] = 0

    # ----------------------------------------------------------------- dtype conversion
    def to(self, *args: Any, dtype: Any = None, device: Any = None, **kwargs: Any) -> Module:
        """Convert floating parameters and buffers in place (the same Parameter objects, so an
        optimizer built before still updates them, as in torch): ``to(dtype)``,
        ``to(device)``, ``to(device, dtype)``, ``to(tensor)``. A CPU device (the only one)
        changes nothing; a GPU device raises, naming it."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.data.dtype
            elif is_device(a):
                device = a
            else:
                dtype = a
        as_device(device, f"{type(self).__name__}.to: device")
        if dtype is None:
            return self
        target = resolve_dtype(dtype, f"{type(self).__name__}.to: dtype")
        if target.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got {target}")
        for t in (*self.parameters(), *self.buffers()):
            if t.data.dtype.kind == "f" and t.data.dtype != target:
                t.data = t.data.astype(target)
                if t._grad is not None:
                    t.grad = t._grad.astype(target)
                t._version += 1
        return self

    def cpu(self) -> Module:
        """Returns self: parameters are on the CPU already."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Always an error: gdlab computes on the CPU only."""
        as_device("cuda" if device is None else device, f"{type(self).__name__}.cuda: device")
        return self

    def double(self) -> Module:
        """Convert floating parameters and buffers to float64 in place; returns self."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Convert floating parameters and buffers to float32 in place; returns self."""
        return self.to(np.float32)

    # ----------------------------------------------------------------- state
    def state_dict(
        self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict[str, Any]:
        """Parameters and persistent buffers by dotted name, as NumPy arrays (copies, so the
        dict is a snapshot), or the tensors themselves with ``keep_vars=True``.

        A sub-module reached by two paths is listed under both (torch's keys), so a torch
        model with a shared layer loads into its gdlab twin unchanged."""
        out = OrderedDict() if destination is None else destination
        modules = self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False)
        for mod_prefix, m in modules:
            entries = [*m._parameters.items()]
            entries += [(k, v) for k, v in m._buffers.items() if k not in m._non_persistent]
            for name, t in entries:
                if t is not None:
                    key = f"{mod_prefix}.{name}" if mod_prefix else name
                    out[key] = t if keep_vars else t.data.copy()
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values into the existing parameters and buffers (in place, cast to their
        dtype). Shape mismatches always raise; missing/unexpected keys raise when ``strict``.
        Values may be NumPy arrays, gdlab tensors or anything with ``.numpy()``."""
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + _quoted(unexpected) + ". ")
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + _quoted(missing) + ". ")
        arrays = {}
        for k, t in own.items():
            if k in state_dict:
                arr = _to_numpy(state_dict[k])
                if arr.shape != t.data.shape:
                    errors.append(
                        f"size mismatch for {k}: copying a param with shape {arr.shape} from "
                        f"checkpoint, the shape in current model is {t.data.shape}."
                    )
                arrays[k] = arr
        if errors:
            raise StateDictError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with no_grad():
            for k, arr in arrays.items():
                own[k].copy_(arr)
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        extra = self.extra_repr()
        head = type(self).__name__ + "("
        if not lines:
            return head + extra + ")"
        inner = ([extra] if extra else []) + lines
        return head + "\n  " + "\n  ".join(inner) + "\n)"

    def __dir__(self) -> list[str]:
        extra = [*self._parameters, *self._buffers, *self._modules]
        return sorted(set(super().__dir__()) | set(extra))


def _add_hook(hooks: dict, hook: Callable[..., Any]) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def _as_buffer(value: Any, name: str) -> Tensor | None:
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray | np.generic | int | float):
        return Tensor(np.asarray(value))
    raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor expected)")


def _check_name(name: str, module: Module) -> None:
    if not isinstance(name, str):
        raise TypeError(f"name should be a string, got {type(name).__name__}")
    if "." in name or name == "":
        raise KeyError(f"name can't contain \".\" and can't be empty, got {name!r}")
    if name in module.__dict__ and name not in ("training",):
        raise KeyError(f"attribute '{name}' already exists")


def _to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray | np.generic | int | float):
        return np.asarray(value)
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _quoted(keys: list[str]) -> str:
    return ", ".join(f'"{k}"' for k in keys)
