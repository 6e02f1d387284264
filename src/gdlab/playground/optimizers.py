"""The optimizers the playground offers, and the sliders each one listens to besides its lr.

The names and classes are gdlab's optimizer registry; this table only says which of the
page's shared sliders (momentum, betas) reach which optimizer.
"""

from __future__ import annotations

from typing import Any

from gdlab.playground import _uses
from gdlab.playground.settings import number

__all__ = ["HYPERPARAMETERS", "hparams", "optimizer_names", "slider"]

HYPERPARAMETERS: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "momentum": ("momentum",),
    "nesterov": ("momentum",),
    "adagrad": (),
    "rmsprop": (),
    "adadelta": (),
    "adam": ("betas",),
    "adamw": ("betas",),
    "nadam": ("betas",),
    "radam": ("betas",),
    "adamax": ("betas",),
    "rprop": (),
    "asgd": (),
    "lion": ("betas",),
    "adabelief": ("betas",),
    "sgd_schedule_free": ("momentum",),
    "adamw_schedule_free": ("betas",),
    "radam_schedule_free": ("betas",),
    "prodigy": ("betas",),
    "dadapt_sgd": ("momentum",),
    "dadapt_adam": ("betas",),
    "lookahead": ("betas",),
    "yogi": ("betas",),
    "adan": (),  # three betas: the page's pair does not fit
    "lamb": ("betas",),
    "lars": ("momentum",),
    "novograd": ("betas",),
    "madgrad": ("momentum",),
    "adabound": ("betas",),
    "amsbound": ("betas",),
    "adopt": ("betas",),
    "ademamix": (),  # three betas
    "shampoo": (),
    "soap": ("betas",),
    "sophia": (),
}
# L-BFGS, SAM and ASAM are left out: they evaluate the loss several times per step through a
# closure, so they do not share the surfaces view's stacked evaluation (L-BFGS alone costs more
# than the 200 ms a redraw may take; L-BFGS means nothing with mini-batches in the networks
# view).


def optimizer_names() -> list[str]:
    """The optimizers offered (the registry's, in its order)."""
    return [name for name in _uses.OPTIMIZERS if name in HYPERPARAMETERS]


def hparams(name: str, momentum: float, betas: tuple[float, float]) -> dict[str, Any]:
    """The arguments besides lr that the sliders give optimizer ``name``."""
    values = {"momentum": momentum, "betas": betas}
    return {key: values[key] for key in HYPERPARAMETERS[name]}


def slider(raw: dict[str, Any], key: str, default: float) -> float:
    """A shared slider's value sent by the page (``momentum``, ``beta1`` or ``beta2``: each in
    [0, 1)), ``default`` when the page left it out."""
    return number(raw.get(key, default), key, 0.0, 1.0, high_open=True)
