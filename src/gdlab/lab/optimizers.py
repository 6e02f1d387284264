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
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from gdlab.lab.config import did_you_mean
from gdlab.optim import OPTIMIZERS, OptimizerSpec, get_optimizer_spec

__all__ = [
    "DEFAULT_OPTIMIZERS",
    "OPTIMIZERS",
    "OptimizerLike",
    "OptimizerSpec",
    "at_evaluation_point",
    "command_optimizer_names",
    "full_batch_only",
    "get_optimizer_spec",
    "make_optimizer",
    "optimizer_argument",
    "optimizers_help",
    "set_optimizer_mode",
    "surface_optimizer_argument",
    "surface_optimizer_names",
    "take_step",
    "full_batch_only",
    "tunes_lr",
]


OptimizerLike = str | Callable[..., Any]

#: The optimizers ``gdlab compare`` and ``gdlab surface`` run when none are named.
DEFAULT_OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def make_optimizer(
    optimizer: OptimizerLike,
    params: Sequence[Any],
    lr: float | None = None,
    *,
    probe_seed: int | None = None,
    **hparams: Any,
) -> tuple[Any, str, dict]:
    """Build an optimizer from a short name or a factory; return it, its name and settings.

    A factory is any callable ``factory(params, lr=..., **hparams)``, e.g. an optimizer class.
    An optimizer that draws random probes (it takes ``generator``: AdaHessian, Sophia-H) gets
    ``generator=probe_seed`` unless ``hparams`` name one, so its runs repeat; the seed is not
    one of the returned settings (it labels nothing).
    """
    if isinstance(optimizer, str):
        spec = get_optimizer_spec(optimizer)
        settings = {"lr": spec.lr if lr is None else float(lr), **spec.defaults, **hparams}
        factory, name = spec.cls, spec.name
    elif callable(optimizer):
        settings = ({} if lr is None else {"lr": float(lr)}) | hparams
        factory = optimizer
        name = getattr(optimizer, "__name__", type(optimizer).__name__).lower()
    else:
        raise TypeError(
            f"run_trajectory: optimizer must be a name or a callable factory, "
            f"got {type(optimizer).__name__}"
        )
    extra = {}
    if probe_seed is not None and "generator" not in settings and _draws_probes(factory):
        extra["generator"] = probe_seed
    return factory(params, **settings, **extra), name, settings


def _draws_probes(factory: Callable[..., Any]) -> bool:
    try:
        return "generator" in inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin or C callable: no signature to read
        return False


def set_optimizer_mode(optimizer: Any, *, train: bool) -> None:
    """``optimizer.train()`` or ``.eval()`` if it has both (the schedule-free optimizers: the
    parameters hold y, where gradients are taken, in train mode and x, where the method is
    evaluated, in eval mode); other optimizers have no mode."""
    to_train, to_eval = getattr(optimizer, "train", None), getattr(optimizer, "eval", None)
    if callable(to_train) and callable(to_eval):
        (to_train if train else to_eval)()


@contextmanager
def at_evaluation_point(optimizer: Any, params: Sequence[Any]) -> Iterator[None]:
    """Inside, a schedule-free optimizer's parameters are at x (eval mode); afterwards back
    at y exactly (a copy, not the rounding lerp back), so evaluating never changes the run.
    Other optimizers: nothing happens."""
    to_train, to_eval = getattr(optimizer, "train", None), getattr(optimizer, "eval", None)
    if not (callable(to_train) and callable(to_eval)):
        yield
        return
    saved = [p.data.copy() for p in params]
    to_eval()
    try:
        yield
    finally:
        to_train()
        for p, y in zip(params, saved, strict=True):
            p.data[...] = y


def take_step(optimizer: Any, closure: Callable[[], Any]) -> Any:
    """One step as the optimizer asks for it; ``closure`` zeroes the gradients, evaluates the
    loss, calls ``backward`` and returns the loss. Returns the first evaluation's loss.

    ``requires_closure`` (L-BFGS): ``step(closure)``; with ``gradient_before_closure`` too
    (SAM): the gradient at the current point first, then ``step(closure)``; else
    ``closure()`` then ``step()``.
    """
    if getattr(optimizer, "requires_closure", False):
        if getattr(optimizer, "gradient_before_closure", False):
            loss = closure()
            optimizer.step(closure)
            return loss
        return optimizer.step(closure)
    loss = closure()
    optimizer.step()
    return loss


def _second_order(spec: OptimizerSpec) -> bool:
    """Whether the optimizer differentiates the gradient again (its closure's backward keeps
    the graph): Newton's family, AdaHessian, Sophia-H."""
    return bool(getattr(spec.cls, "requires_create_graph", False))


def command_optimizer_names() -> list[str]:
    """The optimizers ``gdlab compare``, ``train`` and ``lr-find`` accept by name: the first-order
    ones (SAM's closure only re-evaluates the gradient, ``take_step``; L-BFGS runs on the full
    batch, ``full_batch_only``); ``surface`` takes the second-order ones too."""
    return [n for n, s in OPTIMIZERS.items() if not _second_order(s)]


def surface_optimizer_names() -> list[str]:
    """The optimizers ``gdlab surface`` accepts: the commands' ones and the second-order ones,
    whose closure keeps the gradient's graph on a 2-D surface."""
    return command_optimizer_names() + [n for n, s in OPTIMIZERS.items() if _second_order(s)]


def _argument(text: str, names: list[str]) -> str:
    """A name of ``names``, or ``pkg.module:Name`` (imported now, so a bad spec is a usage
    error naming what is wrong)."""
    if text in names:
        return text
    if ":" not in text:
        listed = ", ".join(repr(n) for n in names)
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r}{did_you_mean(text, names)} (choose from {listed}, or "
            "pkg.module:Name)"
        )
    try:
        get_optimizer_spec(text)
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def optimizer_argument(text: str) -> str:
    """argparse's type of ``compare``'s ``--optimizers``: a command name or ``pkg.module:Name``."""
    return _argument(text, command_optimizer_names())


def surface_optimizer_argument(text: str) -> str:
    """argparse's type of ``surface``'s ``--optimizers``: the second-order ones too."""
    return _argument(text, surface_optimizer_names())


def optimizers_help(what: str, names: list[str] | None = None) -> str:
    """The help of an ``--optimizers`` option: the names, and the import form."""
    listed = ", ".join(command_optimizer_names() if names is None else names)
    return f"{what} (one of: {listed}; or pkg.module:Name, an Optimizer class or rule)"


def tunes_lr(optimizer: OptimizerLike) -> bool:
    """Whether the lab searches ``optimizer``'s learning rate (the registry's ``tune_lr``;
    a factory or an unregistered name: yes)."""
    spec = OPTIMIZERS.get(optimizer) if isinstance(optimizer, str) else None
    return spec is None or spec.tune_lr


def full_batch_only(optimizer: OptimizerLike) -> bool:
    """Whether ``optimizer`` is trained on the full batch only (the registry's ``full_batch``)."""
    spec = OPTIMIZERS.get(optimizer) if isinstance(optimizer, str) else None
    return spec is not None and spec.full_batch
