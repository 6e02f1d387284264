"""``update_bn``: recompute BatchNorm's running statistics for averaged weights."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gdlab.autograd import no_grad
from gdlab.nn.module import Module
from gdlab.nn.norm import _BatchNorm

__all__ = ["update_bn"]


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """One pass over ``loader`` in training mode with a cumulative average (momentum None),
    so BatchNorm's ``running_mean``/``running_var`` are the statistics of the averaged model.

    Each batch is an input, or a list/tuple whose first element is the input (as torch's).
    The model's training mode and the layers' momenta are restored afterwards.
    """
    if device not in (None, "cpu"):
        raise ValueError(f"update_bn: device must be None or 'cpu', got {device!r}")
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            model(batch[0] if isinstance(batch, list | tuple) else batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)
