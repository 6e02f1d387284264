"""Learning-rate schedulers with torch.optim.lr_scheduler's names, arguments and numbers.

A scheduler only writes ``group["lr"]`` (and, for the cyclic ones, the momentum) of its
optimizer's param groups; ``step()`` once per epoch (or per batch for CyclicLR/OneCycleLR),
after ``optimizer.step()``. Where torch computes the lr recursively from the previous lr
(its "chainable" form, so that schedulers can be chained), gdlab does the same arithmetic so
the sequences agree to the last bit; the closed forms are in :mod:`gdlab.optim.schedules`.

Unlike torch, :class:`SequentialLR` accepts a :class:`ReduceLROnPlateau`: warm up, then let the
plateau rule take over from the lr the warm-up reached; call ``sequential.step(val_loss)``::

    warmup = LinearLR(opt, start_factor=0.1, total_iters=5)
    plateau = ReduceLROnPlateau(opt, patience=3)
    sched = SequentialLR(opt, [warmup, plateau], milestones=[5])
    for epoch in range(epochs):
        train(...)
        sched.step(val_loss)   # the metric is ignored during the warm-up
"""

from gdlab.optim._lr_base import EPOCH_DEPRECATION_WARNING, LRScheduler
from gdlab.optim._lr_composite import ChainedScheduler, ReduceLROnPlateau, SequentialLR
from gdlab.optim._lr_cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from gdlab.optim._lr_decay import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)

__all__ = [
    "EPOCH_DEPRECATION_WARNING", "ChainedScheduler", "ConstantLR", "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts", "CyclicLR", "ExponentialLR", "LRScheduler", "LambdaLR",
    "LinearLR", "MultiStepLR", "MultiplicativeLR", "OneCycleLR", "PolynomialLR",
    "ReduceLROnPlateau", "SequentialLR", "StepLR",
]  # fmt: skip
