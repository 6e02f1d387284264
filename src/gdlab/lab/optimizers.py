"""The optimizers the lab knows by short name (``"adam"``, ``"momentum"``...), and how to build one.

This is the lab's ONE import of the optimizer registry: every lab module and CLI command reads
``OPTIMIZERS`` / ``make_optimizer`` from here, so when the registry moves into ``gdlab.optim``
only this file changes.

Example:
    >>> opt, name, settings = make_optimizer("momentum", model.parameters(), lr=0.1)
    >>> name, settings
    ('momentum', {'lr': 0.1, 'momentum': 0.9})
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gdlab.optim as optim

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "OPTIMIZERS",
    "OptimizerLike",
    "OptimizerSpec",
    "command_optimizer_names",
    "get_optimizer_spec",
    "make_optimizer",
]


@dataclass(frozen=True)
class OptimizerSpec:
    """A short name for a ``gdlab.optim`` class with the lab's default settings.

    ``lr`` is the class's own (torch's) default learning rate, used when a run gives none.
    """

    name: str
    class_name: str
    lr: float
    defaults: dict = field(default_factory=dict)

    def resolve(self) -> type:
        try:
            return getattr(optim, self.class_name)
        except AttributeError:
            raise ValueError(
                f"optimizer {self.name!r}: gdlab.optim has no class {self.class_name!r}"
            ) from None


OPTIMIZERS: dict[str, OptimizerSpec] = {
    s.name: s
    for s in [
        OptimizerSpec("sgd", "SGD", 1e-3),
        OptimizerSpec("momentum", "SGD", 1e-3, {"momentum": 0.9}),
        OptimizerSpec("nesterov", "SGD", 1e-3, {"momentum": 0.9, "nesterov": True}),
        OptimizerSpec("adagrad", "Adagrad", 1e-2),
        OptimizerSpec("rmsprop", "RMSprop", 1e-2),
        OptimizerSpec("adadelta", "Adadelta", 1.0),
        OptimizerSpec("adam", "Adam", 1e-3),
        OptimizerSpec("adamw", "AdamW", 1e-3),
        OptimizerSpec("nadam", "NAdam", 2e-3),
        OptimizerSpec("radam", "RAdam", 1e-3),
        OptimizerSpec("adamax", "Adamax", 2e-3),
        OptimizerSpec("rprop", "Rprop", 1e-2),
        OptimizerSpec("asgd", "ASGD", 1e-2),
        OptimizerSpec("lbfgs", "LBFGS", 1.0, {"line_search_fn": "strong_wolfe"}),
    ]
}
# "momentum" is torch's SGD(momentum=0.9): for a constant lr it equals the articles' form
# v ← μv + lr·g; θ ← θ − v (gdlab.optim.Momentum, usable here as a factory).

OptimizerLike = str | Callable[..., Any]

#: The optimizers ``gdlab compare`` and ``gdlab surface`` run when none are named.
DEFAULT_OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def get_optimizer_spec(name: str) -> OptimizerSpec:
    """The registered optimizer ``name``; an unknown name lists the valid ones."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in OPTIMIZERS)
        raise ValueError(f"invalid optimizer: {name!r} (choose from {valid})") from None


def make_optimizer(
    optimizer: OptimizerLike, params: Sequence[Any], lr: float | None = None, **hparams: Any
) -> tuple[Any, str, dict]:
    """Build an optimizer from a short name or a factory; return it, its name and settings.

    A factory is any callable ``factory(params, lr=..., **hparams)``, e.g. an optimizer class.
    """
    if isinstance(optimizer, str):
        spec = get_optimizer_spec(optimizer)
        settings = {"lr": spec.lr if lr is None else float(lr), **spec.defaults, **hparams}
        return spec.resolve()(params, **settings), spec.name, settings
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
