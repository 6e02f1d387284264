"""The scheduler base class: ``base_lrs``, ``last_epoch``, stepping and state dicts.

Public through :mod:`gdlab.optim.lr_scheduler`.
"""

from __future__ import annotations

import types
import warnings
from typing import Any

from gdlab.optim.optimizer import Optimizer
from gdlab.tensor import Tensor

__all__ = ["EPOCH_DEPRECATION_WARNING", "LRScheduler"]

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being "
    "deprecated where possible. Please use `scheduler.step()` to step the "
    "scheduler. During the deprecation, if epoch is different from None, the "
    "closed form is used instead of the new chainable form, where available. "
    "Please open an issue if you are unable to replicate your use case: "
    "https://github.com/pytorch/pytorch/issues/new/choose."
)
_SEE_ORDER = (
    "See more details at https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate"
)


def _value(x: Any) -> Any:
    """A hyper-parameter as a number: a 0-d Tensor (torch's tensor lr) becomes a float."""
    return float(x) if isinstance(x, Tensor) else x


def _clone(x: Any) -> Any:
    """A copy that does not alias a Tensor hyper-parameter (torch clones them)."""
    return x.clone() if isinstance(x, Tensor) else x


def _lrs(optimizer: Optimizer) -> list[float]:
    """The groups' current lrs as numbers (what the chainable forms compute from)."""
    return [_value(group["lr"]) for group in optimizer.param_groups]


def _scaled_lrs(optimizer: Optimizer, factor: float) -> list[float]:
    """The groups' current lrs times ``factor``: a chainable form's step."""
    return [_value(group["lr"]) * factor for group in optimizer.param_groups]


def _group_values(optimizer: Optimizer, key: str) -> list[Any]:
    """``group[key]`` of every group, Tensors cloned (torch's ``get_last_lr`` types)."""
    return [_clone(group[key]) for group in optimizer.param_groups]


def _set(group: dict[str, Any], key: str, value: Any) -> None:
    """Write a hyper-parameter: a Tensor one is filled in place (it keeps its identity)."""
    if isinstance(group.get(key), Tensor):
        group[key].fill_(float(_value(value)))
    else:
        group[key] = _value(value)


_NOT_SAVED = ("optimizer", "_optimizer_step")  # live objects, not state


def _step_function(optimizer: Optimizer) -> Any:
    """The function behind ``optimizer.step``; it changes when a user overrides the method."""
    return getattr(optimizer.step, "__func__", optimizer.step)


class LRScheduler:
    """Base class: keeps ``base_lrs`` (each group's ``initial_lr``), ``last_epoch`` and steps.

    Args:
        optimizer: the optimizer whose ``group["lr"]`` is written.
        last_epoch: index of the last epoch; -1 starts fresh (and records ``initial_lr``),
            >= 0 resumes and needs ``initial_lr`` in every group.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> from gdlab.optim import SGD
        >>> from gdlab.optim.lr_scheduler import StepLR
        >>> opt = SGD([Parameter(np.zeros(1))], lr=0.1)
        >>> sched = StepLR(opt, step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     opt.step()          # train one epoch, then
        ...     sched.step()
        ...     lrs.append(sched.get_last_lr()[0])
        >>> lrs
        [0.1, 0.05, 0.05, 0.025, 0.025]
    """

    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _clone(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        "resuming scheduler with last_epoch >= 0"
                    )
        self.base_lrs = [_value(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        # torch wraps optimizer.step to see it called; gdlab's Optimizer.step records the call
        # itself, and the scheduler remembers the function to see it overridden
        self._optimizer_step = _step_function(optimizer)
        self._initial_step()

    def _initial_step(self) -> None:
        """torch: the initial step is one ``step()`` (a container's steps each scheduler it
        holds)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates the last ``step`` wrote, one per param group."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and write the lrs; ``step(epoch)`` (deprecated, as in torch) jumps
        to ``epoch`` using the closed form where there is one."""
        if self._step_count == 1:
            _warn_order(self)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            _set(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer, "lr")

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer and its step function (plain functions are
        not saved)."""
        return {k: v for k, v in self._saved_state().items()
                if not isinstance(v, types.FunctionType)}  # fmt: skip

    def _saved_state(self, *skip: str) -> dict[str, Any]:
        """The attributes a state_dict holds: all but the live objects (:data:`_NOT_SAVED`)
        and ``skip`` (what a subclass saves in its own form)."""
        return {k: v for k, v in self.__dict__.items() if k not in _NOT_SAVED and k not in skip}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)

    def _load_saved_state(self, state_dict: dict[str, Any], own: str) -> Any:
        """Load every attribute of ``state_dict`` but ``own`` and return that entry, which the
        subclass saved in its own form (see ``_saved_state``) and loads itself."""
        state = dict(state_dict)
        saved = state.pop(own)
        self.__dict__.update(state)
        return saved


def _warn_order(scheduler: Any) -> None:
    """torch's warnings at the first ``step()``: optimizer.step overridden, or not yet called."""
    if _step_function(scheduler.optimizer) is not scheduler.__dict__.get(
        "_optimizer_step", _step_function(scheduler.optimizer)
    ):
        warnings.warn(
            "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
            "initialization. Please, make sure to call `optimizer.step()` before "
            f"`lr_scheduler.step()`. {_SEE_ORDER}",
            UserWarning,
            stacklevel=3,
        )
    elif not getattr(scheduler.optimizer, "_opt_called", False):
        warnings.warn(
            "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch "
            "1.1.0 and later, you should call them in the opposite order: "
            "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this will "
            "result in PyTorch skipping the first value of the learning rate schedule. "
            f"{_SEE_ORDER}",
            UserWarning,
            stacklevel=3,
        )


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """One value per param group (torch's ``_format_param``); Tensors become numbers, so a
    later in-place change of the caller's Tensor does not move the schedule."""
    n = len(optimizer.param_groups)
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(value)} values, param_groups has {n}."
            )
        return [_value(v) for v in value]
    return [_value(value)] * n
