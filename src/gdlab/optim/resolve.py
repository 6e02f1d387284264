"""Optimizers outside the registry, named ``pkg.module:Name`` (or ``path/file.py:Name``).

The one resolver behind :func:`gdlab.optim.get_optimizer_spec`: a spec with a colon imports
``Name`` from the module and makes it an :class:`~gdlab.optim.registry.OptimizerSpec`
(named by the spec itself, so configs, trial stores and reports carry the string). ``Name``
may be an :class:`~gdlab.optim.Optimizer` subclass (one made by :func:`~gdlab.optim.from_rule`
included), a :func:`~gdlab.optim.chain` factory, or a bare rule function
``rule(param, grad, state, *, lr, ...)`` whose keyword defaults become its defaults (lr 1e-3
when it has none).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

from gdlab.optim.chain import ChainFactory
from gdlab.optim.from_rule import from_rule
from gdlab.optim.optimizer import Optimizer, required

__all__ = [
    "DEFAULT_LR",
    "default_lr",
    "import_object",
    "is_import_spec",
    "optimizer_from_object",
]

DEFAULT_LR = 1e-3  # a bare rule's lr when its signature gives none


def is_import_spec(name: Any) -> bool:
    """Whether ``name`` names an import (``pkg.mod:Name``) rather than a registry entry."""
    return isinstance(name, str) and ":" in name


def _load_module(where: str, spec: str) -> Any:
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise ValueError(f"invalid optimizer {spec!r}: no file {where!r}")
        module_name = f"_gdlab_user_{path.stem}"
        if module_name in sys.modules:
            return sys.modules[module_name]
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise ValueError(f"invalid optimizer {spec!r}: cannot load {where!r}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        loader_spec.loader.exec_module(module)
        return module
    if not all(part.isidentifier() for part in where.split(".")):
        raise ValueError(f"invalid optimizer {spec!r}: {where!r} is not a module name")
    try:
        return importlib.import_module(where)
    except ImportError as exc:
        raise ValueError(f"invalid optimizer {spec!r}: cannot import {where!r} ({exc})") from None


def import_object(spec: str) -> Any:
    """The object ``pkg.mod:Name`` (or ``file.py:Name``) names; ValueError if there is none."""
    where, _, attr = spec.rpartition(":")
    if not where or not attr.isidentifier():
        raise ValueError(f"invalid optimizer {spec!r}: expected a registry name or pkg.module:Name")
    module = _load_module(where, spec)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ValueError(f"invalid optimizer {spec!r}: {where!r} has no {attr!r}") from None


def default_lr(obj: Any) -> float:
    """The learning rate an optimizer class or factory uses when given none."""
    if isinstance(obj, ChainFactory):
        return DEFAULT_LR if obj.transformation.lr is None else obj.transformation.lr
    param = inspect.signature(obj).parameters.get("lr")
    if param is None or param.default in (inspect.Parameter.empty, None, required):
        return DEFAULT_LR
    return float(param.default)


def optimizer_from_object(obj: Any, spec: str) -> Any:
    """``obj`` as something that builds an optimizer: ``factory(params, lr=..., **hyper)``."""
    if isinstance(obj, type) and issubclass(obj, Optimizer):
        return obj
    if isinstance(obj, ChainFactory):
        return obj
    if inspect.isfunction(obj):
        keywords = list(inspect.signature(obj).parameters.values())[3:]
        defaults = {p.name: p.default for p in keywords
                    if p.default is not p.empty and p.kind != p.VAR_KEYWORD}  # fmt: skip
        defaults = {"lr": defaults.get("lr", DEFAULT_LR)} | defaults
        try:
            return from_rule(obj, defaults, name=None)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid optimizer {spec!r}: {exc}") from None
    raise ValueError(
        f"invalid optimizer {spec!r}: {type(obj).__name__} is neither an Optimizer subclass, "
        "a chain(...) nor a rule function"
    )
