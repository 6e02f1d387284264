"""Divergence detection and rollback for the training loop (a mixin of ``Trainer``).

A NaN/inf loss or gradient is caught before the update is applied; an update that makes a
parameter non-finite is undone. ``divergence="raise"`` raises :class:`DivergenceError` with
the step, the lr and the first offending parameter; ``"rollback"`` returns to the last good
state, multiplies the lr by ``rollback_factor`` and retries the step.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["DivergenceError"]


class DivergenceError(FloatingPointError):
    """The loss, a gradient or a parameter became NaN or infinite.

    Attributes: ``step`` (the update that was not applied, 1-based), ``epoch``, ``lr``,
    ``parameter`` (name of the first non-finite gradient/parameter, or None), ``loss``.

    With ``divergence="raise"`` the parameters hold their values from before ``step``. A
    non-finite loss or gradient is caught before ``optimizer.step()``, so the optimizer state is
    untouched too; an update that overflows a parameter is undone in the parameters only (the
    optimizer's moments have seen that step's finite gradient). ``"rollback"`` restores both.
    """

    def __init__(
        self, message: str, *, step: int, epoch: int, lr: float, parameter: str | None, loss: float
    ) -> None:
        super().__init__(message)
        self.step, self.epoch, self.lr, self.parameter, self.loss = step, epoch, lr, parameter, loss


class _Diverged(Exception):
    def __init__(self, what: str, parameter: str | None, loss: float) -> None:
        self.what, self.parameter, self.loss = what, parameter, loss


def _all_finite(arrays: Iterable[np.ndarray | None]) -> bool:
    """No NaN/inf in any array.

    One sum per array, added up as Python floats (NaN and inf survive sums, and one
    ``math.isfinite`` replaces a NumPy call per array); only a total that is non-finite is
    checked array by array, because finite values can also overflow a sum.
    """
    arrays = [a for a in arrays if a is not None]
    if math.isfinite(sum(float(a.sum()) for a in arrays)):
        return True
    return all(np.isfinite(a.sum()) or np.isfinite(a).all() for a in arrays)


class DivergenceMixin:
    """Snapshots, restore, rollback and the error message; used by ``Trainer``."""

    def _first_bad(self, attr: str) -> str | None:
        """Name of the first parameter whose ``attr`` (``"grad"``/``"data"``) is non-finite."""
        for name, p in self.named_parameters():
            if not _all_finite([getattr(p, attr)]):
                return name
        return None

    def _check_loss_and_gradient(self, loss: float, grad_norm: float) -> None:
        if not math.isfinite(loss):
            raise _Diverged("loss", self._first_bad("grad"), loss)
        if not math.isfinite(grad_norm):  # the float64 norm is finite iff every gradient is
            raise _Diverged("gradient", self._first_bad("grad"), loss)

    # ------------------------------------------------------------------ divergence
    def _full_state(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
        }

    def _snapshot(self, params: list[Any], push: bool = True) -> Any:
        """The state before this step, to restore if the step diverges.

        Rollback keeps two: a NaN loss at step t usually means that the update of step t−1
        already went wrong (finite weights whose loss overflows), so it returns to the state
        before step t−1 (discarding that update). "raise" keeps one copy of the parameters
        (a NaN gradient is caught before the update, but an update can still overflow a
        parameter, and ``p − lr·u = inf`` cannot be undone arithmetically).
        """
        if self.divergence == "ignore":
            return None
        if self.divergence == "rollback":
            if push:
                self._ring = [*getattr(self, "_ring", [])[-1:], self._full_state()]
            return self._ring[-1]
        if self._uses_closure:
            return self._full_state()
        buffers = getattr(self, "_param_buffers", None)
        if buffers is None or len(buffers) != len(params):
            buffers = self._param_buffers = [np.empty_like(p.data) for p in params]
        for b, p in zip(buffers, params, strict=True):
            np.copyto(b, p.data)  # no allocation per step: one preallocated copy
        return buffers

    def _restore(self, snapshot: Any) -> None:
        if snapshot is None:
            return
        if isinstance(snapshot, dict):
            self.model.load_state_dict(snapshot["model"])
            self.optimizer.load_state_dict(copy.deepcopy(snapshot["optimizer"]))
        else:
            for b, p in zip(snapshot, self.params(), strict=True):
                np.copyto(p.data, b)
        self.optimizer.zero_grad()

    def _rollback(self, step: int, d: _Diverged) -> None:
        self._ring = self._ring[:1]
        self._restore(self._ring[0])
        for g in self.optimizer.param_groups:
            g["lr"] = g["lr"] * self.rollback_factor
        if self.scheduler is not None and hasattr(self.scheduler, "base_lrs"):
            self.scheduler.base_lrs = [lr * self.rollback_factor for lr in self.scheduler.base_lrs]
        self.history.events.append(
            {
                "event": "rollback",
                "step": step,
                "reason": d.what,
                "parameter": d.parameter,
                "lr": self.lr,
            }
        )
        warnings.warn(
            f"fit: non-finite {d.what} at step {step}; rolled back and lowered lr to {self.lr:g}",
            RuntimeWarning,
            stacklevel=4,
        )

    def _divergence_error(self, d: _Diverged, step: int, lr: float) -> DivergenceError:
        where = f" (first non-finite: {d.parameter!r})" if d.parameter else ""
        return DivergenceError(
            f"fit: training diverged at step {step} (epoch {self.epoch}, lr {lr:g}): non-finite "
            f"{d.what}{where}, loss {d.loss}. The update was not applied; the parameters hold "
            f"the last good values (after step {step - 1}). Lower the learning rate, clip "
            "gradients (grad_clip_norm=...), or pass divergence='rollback'.",
            step=step,
            epoch=self.epoch,
            lr=lr,
            parameter=d.parameter,
            loss=d.loss,
        )
