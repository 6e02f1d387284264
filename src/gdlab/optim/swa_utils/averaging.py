"""Weight averaging (SWA and EMA) as torch.optim.swa_utils: the averaging functions and
:class:`AveragedModel`, a copy of a model whose parameters are running averages."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.autograd import no_grad
from gdlab.nn.module import Module
from gdlab.optim._fma import fused_add
from gdlab.tensor import Tensor

__all__ = [
    "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn", "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
]  # fmt: skip

AvgFn = Callable[[Tensor, Tensor, Any], Any]
MultiAvgFn = Callable[[list[Tensor], list[Tensor], Any], None]


def _lerp_(start: Tensor, end: Tensor, weight: float) -> None:
    """start ← start + weight·(end − start) in place, rounded as torch's CPU ``lerp``
    (one fused multiply-add, from the nearer end)."""
    a, b = start.data, end.data
    w = float(np.asarray(weight, a.dtype))  # torch casts the weight to the tensor's type
    if abs(w) < 0.5:
        a[...] = fused_add(a, w, b - a)
    else:
        a[...] = fused_add(b, w - 1.0, b - a)


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """EMA over lists of tensors in place: W_ema ← decay·W_ema + (1 − decay)·W (a lerp)."""
    _check_decay(decay)

    def ema_update(ema: list[Tensor], current: list[Tensor], num_averaged: Any) -> None:
        if np.issubdtype(ema[0].dtype, np.floating):
            for a, b in zip(ema, current, strict=True):
                _lerp_(a, b, 1 - decay)
        else:
            for a, b in zip(ema, current, strict=True):
                a.data[...] = a.data * decay + b.data * (1 - decay)

    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """SWA over lists of tensors in place: W_swa ← W_swa + (W − W_swa)/(n + 1) (a lerp)."""

    def swa_update(averaged: list[Tensor], current: list[Tensor], num_averaged: Any) -> None:
        n = int(np.asarray(num_averaged.data if isinstance(num_averaged, Tensor) else num_averaged))
        if np.issubdtype(averaged[0].dtype, np.floating):
            # torch divides the integer count tensor: the weight is a float32 number
            weight = float(np.float32(1.0) / np.float32(n + 1))
            for a, b in zip(averaged, current, strict=True):
                _lerp_(a, b, weight)
        else:
            for a, b in zip(averaged, current, strict=True):
                a.data[...] = a.data + (b.data - a.data) / (n + 1)

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """EMA of one tensor: returns decay·W_ema + (1 − decay)·W."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Any:
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> AvgFn:
    """SWA of one tensor: returns W_swa + (W − W_swa)/(n + 1)."""

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any) -> Any:
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _assign(target: Tensor, value: Any) -> None:
    """Copy ``value`` into ``target`` in place (torch's ``copy_``: a float into an integer
    buffer truncates)."""
    target.data[...] = value.data if isinstance(value, Tensor) else value


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are the running average of ``model``'s.

    Stochastic Weight Averaging (the default: equal weights, W_swa = mean of the models seen)
    or an exponential moving average (``multi_avg_fn=get_ema_multi_avg_fn(0.999)``). The first
    :meth:`update_parameters` copies the model; later ones average. Buffers (BatchNorm's
    running statistics) are copied from the model, or averaged too with ``use_buffers=True``;
    else recompute them for the averaged weights with :func:`update_bn`. Equal to
    ``torch.optim.swa_utils.AveragedModel`` on the CPU, number for number.

    Args:
        model: the model to average (deep-copied).
        device: accepted for torch compatibility; only None or "cpu".
        avg_fn: ``avg_fn(averaged, current, num_averaged) -> new`` per tensor (default SWA).
        multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, num_averaged)`` in place.
        use_buffers: average the buffers as well as the parameters (default False).

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Linear
        >>> model = Linear(2, 1)
        >>> swa = AveragedModel(model)
        >>> for w in (1.0, 2.0, 6.0):
        ...     model.weight.data[...] = w
        ...     swa.update_parameters(model)
        >>> swa.module.weight.data, int(swa.n_averaged.data)
        (array([[3., 3.]], dtype=float32), 3)

    Reference: Izmailov et al., "Averaging Weights Leads to Wider Optima and Better
    Generalization", UAI 2018, https://arxiv.org/abs/1803.05407
    """

    def __init__(
        self, model: Module, device: Any = None, avg_fn: AvgFn | None = None,
        multi_avg_fn: MultiAvgFn | None = None, use_buffers: bool = False,
    ) -> None:  # fmt: skip
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: model must be a Module, got {type(model).__name__}")
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError(
                "AveragedModel: only one of avg_fn and multi_avg_fn should be provided"
            )
        if device not in (None, "cpu"):
            raise ValueError(f"AveragedModel: device must be None or 'cpu', got {device!r}")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", Tensor(np.array(0, dtype=np.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _averaged(self, model: Module) -> tuple[list[Tensor], list[Tensor]]:
        if self.use_buffers:
            mine = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.module.parameters(), model.parameters()
        pairs = list(zip(mine, theirs, strict=False))  # torch's zip: the shorter list
        return [a for a, _ in pairs], [b for _, b in pairs]

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers) into the average."""
        mine, theirs = self._averaged(model)
        n = int(self.n_averaged.data)
        with no_grad():
            if n == 0:
                for a, b in zip(mine, theirs, strict=True):
                    _assign(a, b.data)
            elif self.avg_fn is not None:
                for a, b in zip(mine, theirs, strict=True):
                    _assign(a, self.avg_fn(a.detach(), b.detach(), self.n_averaged))
            elif self.multi_avg_fn is not None:
                for group_a, group_b in _by_dtype(mine, theirs):
                    self.multi_avg_fn(group_a, group_b, self.n_averaged)
            else:  # torch's CPU path: the per-tensor SWA formula
                swa = get_swa_avg_fn()
                for a, b in zip(mine, theirs, strict=True):
                    _assign(a, swa(a.data, b.data, n))
            if not self.use_buffers:
                for a, b in zip(self.module.buffers(), model.buffers(), strict=True):
                    _assign(a, b.data)
        self.n_averaged.data[...] += 1


def _by_dtype(mine: list[Tensor], theirs: list[Tensor]) -> list[tuple[list[Tensor], list[Tensor]]]:
    """The pairs grouped by dtype, first-seen order (torch groups by device and dtype)."""
    groups: dict[np.dtype, tuple[list[Tensor], list[Tensor]]] = {}
    for a, b in zip(mine, theirs, strict=True):
        group = groups.setdefault(np.dtype(a.dtype), ([], []))
        group[0].append(a)
        group[1].append(b)
    return list(groups.values())
