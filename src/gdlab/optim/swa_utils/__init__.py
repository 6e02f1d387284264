"""Stochastic weight averaging and EMA, as ``torch.optim.swa_utils``.

:class:`AveragedModel` (a running average of a model's weights: SWA or EMA), the averaging
functions, :func:`update_bn` (BatchNorm statistics for the averaged weights) and the
:class:`SWALR` scheduler. The usual loop (Izmailov et al., 2018)::

    swa_model = AveragedModel(model)
    swa_sched = SWALR(opt, swa_lr=0.05)
    for epoch in range(epochs):
        train_one_epoch(model, opt)
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_sched.step()
    update_bn(loader, swa_model)
"""

from gdlab.optim.swa_utils.averaging import (
    AveragedModel,
    get_ema_avg_fn,
    get_ema_multi_avg_fn,
    get_swa_avg_fn,
    get_swa_multi_avg_fn,
)
from gdlab.optim.swa_utils.batchnorm import update_bn
from gdlab.optim.swa_utils.swalr import SWALR

__all__ = [
    "SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn", "get_swa_avg_fn",
    "get_swa_multi_avg_fn", "update_bn",
]  # fmt: skip
