"""Divergence handling for the training loop: one :class:`DivergenceGuard` per trainer.

A NaN/inf loss or gradient is caught before the update is applied; an update that makes a
parameter non-finite is undone. ``divergence="raise"`` raises :class:`DivergenceError` with
the step, the lr and the first offending parameter; ``"rollback"`` returns to the last good
state, multiplies the lr by ``rollback_factor`` and retries the step; ``"ignore"`` checks
nothing.

The loop talks to the guard through five calls: ``attempts`` (how often one step may be
tried), ``protect`` (remember the state before an attempt), ``check_loss_and_gradient`` and
``check_parameters`` (raise :class:`Diverged`), and ``recover`` (restore, then either lower the
lr and return a :class:`Rollback` record or raise :class:`DivergenceError`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from gdlab.autograd.sparse import stored_values
from gdlab.train._checks import check_count

__all__ = ["DivergenceError", "DivergenceGuard", "Diverged", "Rollback", "all_finite"]

MODES = ("raise", "rollback", "ignore")


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


class Diverged(Exception):
    """Raised inside one attempt of a step; the guard turns it into a rollback or an error."""

    def __init__(self, what: str, parameter: str | None, loss: float) -> None:
        super().__init__(what)
        self.what, self.parameter, self.loss = what, parameter, loss


class Rollback(NamedTuple):
    """One rollback, as recorded in ``History.events`` (``event="rollback"``)."""

    step: int
    reason: str
    parameter: str | None
    lr: float


def all_finite(arrays: Iterable[np.ndarray | None]) -> bool:
    """No NaN/inf in any array.

    One sum per array, added up as Python floats (NaN and inf survive sums, and one
    ``math.isfinite`` replaces a NumPy call per array); only a total that is non-finite is
    checked array by array, because finite values can also overflow a sum.
    """
    arrays = [a for a in arrays if a is not None]
    if math.isfinite(sum(float(a.sum()) for a in arrays)):
        return True
    return all(np.isfinite(a.sum()) or np.isfinite(a).all() for a in arrays)


class DivergenceGuard:
    """Detects a non-finite step and restores the last good state (see the module docstring).

    Args:
        model, optimizer, scheduler: the objects a rollback restores (scheduler may be None).
        named_parameters: returns ``(name, parameter)`` pairs, for naming the culprit.
        mode: ``"raise"``, ``"rollback"`` or ``"ignore"``.
        rollback_factor: lr multiplier per rollback, in (0, 1).
        max_rollbacks: retries of one step before giving up (a non-negative int).
        full_snapshots: snapshot model *and* optimizer state before every step even in
            ``"raise"`` mode (an optimizer that evaluates a closure, such as L-BFGS, changes
            both inside ``step``).
    """

    def __init__(
        self,
        model: Any,
        optimizer: Any,
        scheduler: Any,
        named_parameters: Callable[[], list[tuple[str, Any]]],
        *,
        mode: str = "raise",
        rollback_factor: float = 0.5,
        max_rollbacks: int = 3,
        full_snapshots: bool = False,
    ) -> None:
        check_count("fit", "max_rollbacks", max_rollbacks, positive=False)
        if mode not in MODES:
            raise ValueError(f"fit: divergence must be one of {MODES}, got {mode!r}")
        if not 0.0 < rollback_factor < 1.0:
            raise ValueError(f"fit: rollback_factor must be in (0, 1), got {rollback_factor}")
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.named_parameters = named_parameters
        self.mode, self.rollback_factor, self.max_rollbacks = mode, rollback_factor, max_rollbacks
        self.full_snapshots = full_snapshots
        self._ring: list[dict[str, Any]] = []
        self._buffers: list[np.ndarray] = []
        self._snapshot: Any = None

    @property
    def active(self) -> bool:
        """Whether steps are checked at all (every mode but ``"ignore"``)."""
        return self.mode != "ignore"

    @property
    def attempts(self) -> int:
        """How many times one step may be tried."""
        return self.max_rollbacks + 1 if self.mode == "rollback" else 1

    def errstate(self) -> Any:
        """NumPy's floating-point warnings for one attempt: silenced while the guard reports
        NaN/inf itself, shown under ``"ignore"``."""
        return np.errstate(all="ignore" if self.active else "warn")

    def reset(self) -> None:
        """Forget the snapshots of an earlier ``fit`` call."""
        self._ring = []

    # ------------------------------------------------------------------ snapshots
    def _full_state(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
        }

    def protect(self, params: list[Any], first_attempt: bool) -> None:
        """Remember the state before this attempt, to restore if it diverges.

        Rollback keeps two: a NaN loss at step t usually means that the update of step t−1
        already went wrong (finite weights whose loss overflows), so it returns to the state
        before step t−1 (discarding that update). "raise" keeps one copy of the parameters
        (a NaN gradient is caught before the update, but an update can still overflow a
        parameter, and ``p − lr·u = inf`` cannot be undone arithmetically).
        """
        if not self.active:
            self._snapshot = None
        elif self.mode == "rollback":
            if first_attempt:
                self._ring = [*self._ring[-1:], self._full_state()]
            self._snapshot = self._ring[-1]
        elif self.full_snapshots:
            self._snapshot = self._full_state()
        else:
            if len(self._buffers) != len(params):
                self._buffers = [np.empty_like(p.data) for p in params]
            for b, p in zip(self._buffers, params, strict=True):
                np.copyto(b, p.data)  # no allocation per step: one preallocated copy
            self._snapshot = self._buffers

    def _restore(self, snapshot: Any) -> None:
        if isinstance(snapshot, dict):
            self.model.load_state_dict(snapshot["model"])
            self.optimizer.load_state_dict(copy.deepcopy(snapshot["optimizer"]))
        else:
            params = [p for _, p in self.named_parameters()]
            for b, p in zip(snapshot, params, strict=True):
                np.copyto(p.data, b)
        self.optimizer.zero_grad()

    # ------------------------------------------------------------------ checks
    def _first_bad(self, attr: str) -> str | None:
        """Name of the first parameter whose ``attr`` (``"grad"``/``"data"``) is non-finite."""
        for name, p in self.named_parameters():
            values = p.data if attr == "data" else p._grad  # the stored arrays, not a wrapper
            if not all_finite([None if values is None else stored_values(values)]):
                return name
        return None

    def check_loss_and_gradient(self, loss: float, grad_norm: float) -> None:
        """Raise :class:`Diverged` for a non-finite loss or total gradient norm."""
        if not self.active:
            return
        if not math.isfinite(loss):
            raise Diverged("loss", self._first_bad("grad"), loss)
        if not math.isfinite(grad_norm):  # the float64 norm is finite iff every gradient is
            raise Diverged("gradient", self._first_bad("grad"), loss)

    def check_parameters(self, params: list[Any], loss: float) -> None:
        """Raise :class:`Diverged` if the update left a parameter non-finite."""
        if self.active and not all_finite(p.data for p in params):
            raise Diverged("parameter after the update", self._first_bad("data"), loss)

    # ------------------------------------------------------------------ recovery
    def recover(
        self,
        d: Diverged,
        *,
        step: int,
        epoch: int,
        lr: float,
        attempt: int,
        bad_data: str | None = None,
    ) -> Rollback:
        """Undo the failed attempt: roll back and lower the lr (returns the record), or, in
        ``"raise"`` mode, after the last retry, or when the batch itself holds NaN/inf
        (``bad_data`` says where: a lower lr cannot help), restore and raise
        :class:`DivergenceError`."""
        if self.mode != "rollback" or attempt + 1 >= self.attempts or bad_data is not None:
            if self._snapshot is not None:
                self._restore(self._snapshot)
            raise self._error(d, step, epoch, lr, bad_data)
        # the lowered lr comes from the failed attempt, not from the snapshot (which holds the
        # lr from before any rollback): each retry lowers it again
        lrs = [g["lr"] * self.rollback_factor for g in self.optimizer.param_groups]
        self._ring = self._ring[:1]
        self._restore(self._ring[0])
        for g, lowered in zip(self.optimizer.param_groups, lrs, strict=True):
            g["lr"] = lowered
        if self.scheduler is not None and hasattr(self.scheduler, "base_lrs"):
            self.scheduler.base_lrs = [lr * self.rollback_factor for lr in self.scheduler.base_lrs]
        return Rollback(step, d.what, d.parameter, float(self.optimizer.param_groups[0]["lr"]))

    def _error(
        self, d: Diverged, step: int, epoch: int, lr: float, bad_data: str | None
    ) -> DivergenceError:
        where = f" (first non-finite: {d.parameter!r})" if d.parameter else ""
        advice = (
            f"The data are the cause, not the learning rate: this step's batch holds {bad_data}; "
            "clean the data set."
            if bad_data is not None
            else "Lower the learning rate, clip gradients (grad_clip_norm=...), or pass "
            "divergence='rollback'."
        )
        return DivergenceError(
            f"fit: training diverged at step {step} (epoch {epoch}, lr {lr:g}): non-finite "
            f"{d.what}{where}, loss {d.loss}. The update was not applied; the parameters hold "
            f"the last good values (after step {step - 1}). {advice}",
            step=step,
            epoch=epoch,
            lr=lr,
            parameter=d.parameter,
            loss=d.loss,
        )
