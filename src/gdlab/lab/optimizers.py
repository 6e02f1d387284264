"""The optimizers the lab knows by short name (``"adam"``, ``"momentum"``...), and how to build one.

This is the lab's ONE import of the optimizer registry (``gdlab.optim.registry``): every lab
module and CLI command reads ``OPTIMIZERS`` / ``make_optimizer`` from here.

Example:
    >>> opt, name, settings = make_optimizer("momentum", model.parameters(), lr=0.1)
    >>> name, settings
    ('momentum', {'lr': 0.1, 'momentum': 0.9})
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from gdlab.optim import OPTIMIZERS, OptimizerSpec, get_optimizer_spec

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "OPTIMIZERS",
    "OptimizerLike",
    "OptimizerSpec",
    "command_optimizer_names",
    "get_optimizer_spec",
    "make_optimizer",
    "optimizer_argument",
    "optimizers_help",
]


OptimizerLike = str | Callable[..., Any]

#: The optimizers ``gdlab compare`` and ``gdlab surface`` run when none are named.
DEFAULT_OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def make_optimizer(
    optimizer: OptimizerLike, params: Sequence[Any], lr: float | None = None, **hparams: Any
) -> tuple[Any, str, dict]:
    """Build an optimizer from a short name or a factory; return it, its name and settings.

    A factory is any callable ``factory(params, lr=..., **hparams)``, e.g. an optimizer class.
    """
    if isinstance(optimizer, str):
        spec = get_optimizer_spec(optimizer)
        settings = {"lr": spec.lr if lr is None else float(lr), **spec.defaults, **hparams}
        return spec.cls(params, **settings), spec.name, settings
    if not callable(optimizer):
        raise TypeError(
            f"run_trajectory: optimizer must be a name or a callable factory, "
            f"got {type(optimizer).__name__}"
        )
    settings = ({} if lr is None else {"lr": float(lr)}) | hparams
    name = getattr(optimizer, "__name__", type(optimizer).__name__).lower()
    return optimizer(params, **settings), name, settings


def command_optimizer_names() -> list[str]:
    """The optimizers ``gdlab compare``, ``surface`` and ``lr-find`` accept by name (L-BFGS, which
    needs a closure, is for ``run_trajectory`` only)."""
    return [n for n in OPTIMIZERS if n != "lbfgs"]


def optimizer_argument(text: str) -> str:
    """argparse's type of ``--optimizers``: a name the commands accept, or ``pkg.module:Name``
    (imported now, so a bad spec is a usage error naming what is wrong)."""
    if text in command_optimizer_names():
        return text
    if ":" not in text:
        names = ", ".join(repr(n) for n in command_optimizer_names())
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {names}, or pkg.module:Name)"
        )
    try:
        get_optimizer_spec(text)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def optimizers_help(what: str) -> str:
    """The help of an ``--optimizers`` option: the names, and the import form."""
    names = ", ".join(command_optimizer_names())
    return f"{what} (one of: {names}; or pkg.module:Name, an Optimizer class or rule)"
