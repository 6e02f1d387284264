"""The training loop: ``fit`` / ``Trainer``, with divergence detection, accumulation and resume.

One optimizer step = ``accumulate`` batches from the loader. Each micro-batch loss (a mean
over its samples) is weighted by ``count / total count`` before ``backward``, so k micro-batches
give exactly the gradient of one batch of all their samples, a ragged last one included. The
step itself lives in :mod:`gdlab.train._step` (``StepMixin``); this module has the epoch loop,
evaluation and :func:`fit`.

Divergence detection is on by default: a NaN/inf loss or gradient stops the run *before* the
update is applied (and an update that makes a parameter non-finite is undone), raising
:class:`DivergenceError` with the step, the lr and the first offending parameter; with
``divergence="rollback"`` the last good state is restored, the lr multiplied by
``rollback_factor`` and the step retried (at most ``max_rollbacks`` times in a row).
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gdlab.autograd import no_grad
from gdlab.train._checks import check_count
from gdlab.train._state import StateMixin
from gdlab.train._step import (
    StepMixin,
    _array,
    _grad_norm,  # noqa: F401 - importable from here, as before
    _split,
)
from gdlab.train.callbacks import Callback, Checkpoint
from gdlab.train.divergence import DivergenceError, DivergenceMixin
from gdlab.train.history import History
from gdlab.train.loggers import ProgressBar
from gdlab.train.metrics import Mean, Metric, get_metric

__all__ = ["DivergenceError", "Trainer", "fit"]

_MODES = ("raise", "rollback", "ignore")


def _needs_closure(optimizer: Any) -> bool:
    flag = getattr(optimizer, "requires_closure", None)
    if flag is not None:
        return bool(flag)
    return any(c.__name__ == "LBFGS" for c in type(optimizer).__mro__)


def _is_plateau(scheduler: Any) -> bool:
    return any(c.__name__ == "ReduceLROnPlateau" for c in type(scheduler).__mro__)


class Trainer(StepMixin, DivergenceMixin, StateMixin):
    """Trains ``model`` on ``train_loader``; :meth:`fit` returns the :class:`History`.

    Args: as :func:`fit`. The object keeps the counters (``global_step``, ``epoch``,
    ``samples_seen``), the history and the loader position, so ``fit`` can be called again to
    continue, and :meth:`state_dict` / :meth:`load_state_dict` capture a run exactly.
    """

    def __init__(
        self,
        model: Any,
        loss_fn: Callable[[Any, Any], Any],
        optimizer: Any,
        train_loader: Iterable[Any],
        *,
        val_loader: Iterable[Any] | None = None,
        metrics: Sequence[str | Metric] = (),
        scheduler: Any = None,
        callbacks: Sequence[Callback] = (),
        grad_clip_norm: float | None = None,
        accumulate: int = 1,
        run_dir: str | os.PathLike | None = None,
        divergence: str = "raise",
        rollback_factor: float = 0.5,
        max_rollbacks: int = 3,
        progress: bool = False,
        scheduler_interval: str = "epoch",
        scheduler_monitor: str | None = None,
        generators: dict[str, np.random.Generator] | None = None,
    ) -> None:
        check_count("fit", "accumulate", accumulate)
        check_count("fit", "max_rollbacks", max_rollbacks, positive=False)
        if grad_clip_norm is not None and not float(grad_clip_norm) > 0:
            raise ValueError(f"fit: grad_clip_norm must be positive or None, got {grad_clip_norm}")
        if divergence not in _MODES:
            raise ValueError(f"fit: divergence must be one of {_MODES}, got {divergence!r}")
        if not 0.0 < rollback_factor < 1.0:
            raise ValueError(f"fit: rollback_factor must be in (0, 1), got {rollback_factor}")
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f"fit: scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}"
            )
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.train_loader, self.val_loader = train_loader, val_loader
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self.scheduler_monitor = scheduler_monitor
        self.grad_clip_norm, self.accumulate = grad_clip_norm, int(accumulate)
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.divergence, self.rollback_factor = divergence, rollback_factor
        self.max_rollbacks, self.generators = max_rollbacks, dict(generators or {})
        self.metrics = [get_metric(m) for m in metrics]
        self.val_metrics = [copy.deepcopy(m) for m in self.metrics]
        self.running_loss = Mean()
        self.history = History()
        self.global_step = self.epoch = self.samples_seen = self.batch_in_epoch = 0
        self.in_epoch = False
        self.stop_training = False
        self.epochs: int | None = None
        self._iterator: Any = None
        self._elapsed = 0.0
        self._t0: float | None = None
        self._uses_closure = _needs_closure(optimizer)
        self._scratch: list[Any] = []  # float64 buffers for _grad_norm
        self.callbacks = self._setup_callbacks(list(callbacks), progress)

    def _setup_callbacks(self, callbacks: list[Callback], progress: bool) -> list[Callback]:
        if self.run_dir is not None and not any(isinstance(c, Checkpoint) for c in callbacks):
            callbacks.append(Checkpoint())
        if progress and not any(isinstance(c, ProgressBar) for c in callbacks):
            callbacks.append(ProgressBar())
        # checkpoints last, so that they capture the other callbacks' updated state
        callbacks.sort(key=lambda c: isinstance(c, Checkpoint))
        for c in callbacks:
            c.set_trainer(self)
        return callbacks

    # ------------------------------------------------------------------ helpers
    def params(self) -> list[Any]:
        """The optimizer's parameters, group by group."""
        return [p for g in self.optimizer.param_groups for p in g["params"]]

    def named_parameters(self) -> list[tuple[str, Any]]:
        """``(name, parameter)`` for :meth:`params`: the model's names where it has them."""
        names = {}
        if hasattr(self.model, "named_parameters"):
            names = {id(p): n for n, p in self.model.named_parameters()}
        out = []
        for gi, g in enumerate(self.optimizer.param_groups):
            for pi, p in enumerate(g["params"]):
                out.append((names.get(id(p), f"param_groups[{gi}][{pi}]"), p))
        return out

    @property
    def lr(self) -> float:
        """The learning rate of the first parameter group."""
        return float(self.optimizer.param_groups[0]["lr"])

    def steps_per_epoch(self) -> int | None:
        """Optimizer steps per epoch, ceil(batches / accumulate); None for a loader without len."""
        try:
            return math.ceil(len(self.train_loader) / self.accumulate)  # type: ignore[arg-type]
        except TypeError:
            return None

    def total_steps(self) -> int | None:
        """Optimizer steps of the whole run (``epochs`` epochs), or None if unknown."""
        per = self.steps_per_epoch()
        return None if per is None or self.epochs is None else per * self.epochs

    def _call(self, hook: str, *args: Any) -> None:
        for c in self.callbacks:
            getattr(c, hook)(*args)

    def wall_time(self) -> float:
        """Seconds spent inside :meth:`fit`, over all calls (and across a resume)."""
        return self._elapsed + (time.perf_counter() - self._t0 if self._t0 is not None else 0.0)

    # ------------------------------------------------------------------ fit
    def fit(self, epochs: int, *, max_steps: int | None = None, resume: Any = None) -> History:
        """Train until ``epochs`` epochs are complete (counted from the run's start), or
        ``max_steps`` optimizer steps, or a callback stops it. Returns the history."""
        check_count("fit", "epochs", epochs)
        check_count("fit", "max_steps", max_steps, allow_none=True)
        if resume is not None:
            self.resume(resume)
        if max_steps is not None and max_steps < self.global_step:
            raise ValueError(
                f"fit: max_steps={max_steps} is less than the current step {self.global_step}"
            )
        self.epochs, self.stop_training = int(epochs), False
        self._ring: list[dict[str, Any]] = []
        self._t0 = time.perf_counter()
        try:
            self._call("on_train_begin", {})
            while self.epoch < self.epochs and not self.stop_training:
                if not self.in_epoch:
                    self._begin_epoch()
                if not self._run_batches(max_steps):
                    break
                self._end_epoch()
            self._call("on_train_end", self.history.last_epoch())
        finally:
            self._elapsed, self._t0 = self.wall_time(), None
            if self.run_dir is not None:
                self.history.save(self.run_dir / "history.json")
        return self.history

    def _begin_epoch(self) -> None:
        self.in_epoch, self.batch_in_epoch = True, 0
        self.running_loss.reset()
        for m in self.metrics:
            m.reset()
        self._call("on_epoch_begin", self.epoch, {})

    def _open_iterator(self) -> Any:
        it = iter(self.train_loader)
        if self.batch_in_epoch and not hasattr(self.train_loader, "load_state_dict"):
            for _ in range(self.batch_in_epoch):  # a stateless loader: skip what was consumed
                next(it)
        return it

    def _run_batches(self, max_steps: int | None) -> bool:
        """Run steps until the epoch ends (True) or the run must stop mid-epoch (False)."""
        n_batches = len(self.train_loader) if hasattr(self.train_loader, "__len__") else None
        while True:
            if n_batches is not None and self.batch_in_epoch >= n_batches:
                return True
            if self.stop_training or (max_steps is not None and self.global_step >= max_steps):
                return False
            if self._iterator is None:
                self._iterator = self._open_iterator()
            group = []
            while len(group) < self.accumulate and (
                n_batches is None or self.batch_in_epoch + len(group) < n_batches
            ):
                try:
                    group.append(next(self._iterator))
                except StopIteration:
                    break
            if not group:
                return True
            self._step(group)

    def _end_epoch(self) -> None:
        logs: dict[str, Any] = {"epoch": self.epoch, "loss": self.running_loss.compute()}
        logs["lr"] = self.lr
        logs.update({m.name: m.compute() for m in self.metrics})
        if self.val_loader is not None:
            val = self.evaluate(self.val_loader, self.val_metrics)
            logs.update({f"val_{k}": v for k, v in val.items()})
        logs["wall_time"] = self.wall_time()
        self.history.log_epoch(logs)
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            self._scheduler_step(logs)
        self.epoch += 1
        self.in_epoch, self._iterator, self.batch_in_epoch = False, None, 0
        self._call("on_epoch_end", self.epoch - 1, logs)

    def _scheduler_step(self, logs: dict[str, Any] | None) -> None:
        if _is_plateau(self.scheduler):
            monitor = self.scheduler_monitor or ("val_loss" if self.val_loader else "loss")
            if logs is None or monitor not in logs:
                raise ValueError(f"fit: ReduceLROnPlateau monitors {monitor!r}, not in the logs")
            self.scheduler.step(logs[monitor])
        else:
            self.scheduler.step()

    def evaluate(self, loader: Iterable[Any], metrics: Sequence[str | Metric] = ()) -> dict:
        """Mean loss (weighted by batch size) and metrics over ``loader``, in eval mode."""
        metrics = [get_metric(m) for m in metrics]
        for m in metrics:
            m.reset()
        loss = Mean()
        was_training = getattr(self.model, "training", None)
        if hasattr(self.model, "eval"):
            self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    inputs, target = _split(batch)
                    out = self.model(*inputs)
                    loss.update(float(self.loss_fn(out, target).item()), len(inputs[0]))
                    for m in metrics:
                        m.update(_array(out), _array(target))
        finally:
            if was_training is not None and hasattr(self.model, "train"):
                self.model.train(was_training)
        return {"loss": loss.compute(), **{m.name: m.compute() for m in metrics}}


def fit(
    model: Any,
    loss_fn: Callable[[Any, Any], Any],
    optimizer: Any,
    train_loader: Iterable[Any],
    epochs: int = 1,
    val_loader: Iterable[Any] | None = None,
    metrics: Sequence[str | Metric] = (),
    scheduler: Any = None,
    callbacks: Sequence[Callback] = (),
    grad_clip_norm: float | None = None,
    accumulate: int = 1,
    max_steps: int | None = None,
    resume: Any = None,
    run_dir: str | os.PathLike | None = None,
    divergence: str = "raise",
    progress: bool = False,
    **kwargs: Any,
) -> History:
    """Train ``model`` with ``optimizer`` on ``train_loader`` for ``epochs`` epochs.

    Per step: zero the gradients; for each of ``accumulate`` batches ``(inputs..., target)``,
    ``loss = loss_fn(model(*inputs), target)`` and ``(loss · n_i / n).backward()``; record
    the total gradient norm, clip to ``grad_clip_norm``, check for NaN/inf, then
    ``optimizer.step()`` (``step(closure)`` for L-BFGS). Per epoch: validation loss and
    metrics, then ``scheduler.step()`` (``step(val_loss)`` for ReduceLROnPlateau).

    Args:
        model: a ``gdlab.nn.Module`` (anything callable with ``state_dict``).
        loss_fn: ``loss_fn(output, target)`` returning the *mean* loss over the batch.
        optimizer: a ``gdlab.optim`` optimizer over the model's parameters.
        train_loader: yields tuples ``(inputs..., target)``; a ``gdlab.data.DataLoader``
            gives exact mid-epoch resume.
        epochs: total number of epochs of the run (a resumed run continues up to it).
        val_loader: evaluated at every epoch end (``val_loss``, ``val_<metric>``).
        metrics: names (``"accuracy"``, ``"top_5_accuracy"``, ``"mse"``, ``"mae"``, ``"r2"``)
            or :class:`~gdlab.train.metrics.Metric` objects.
        scheduler: an ``optim.lr_scheduler`` object, stepped per epoch (or per step with
            ``scheduler_interval="step"``).
        callbacks: :mod:`gdlab.train.callbacks` objects.
        grad_clip_norm: clip the total gradient norm to this value (None: off).
        accumulate: batches per optimizer step (gradient accumulation).
        max_steps: stop after this many optimizer steps in total (mid-epoch allowed).
        resume: a checkpoint directory, a run directory (newest valid checkpoint), or
            ``"auto"`` (resume from ``run_dir`` if it has a checkpoint).
        run_dir: writes ``history.json`` there and checkpoints into ``run_dir/checkpoints``
            (a :class:`Checkpoint` callback is added if none is given).
        divergence: ``"raise"`` (default), ``"rollback"`` or ``"ignore"``.
        progress: show a tqdm progress bar (only on a terminal).
        **kwargs: more :class:`Trainer` options (``rollback_factor``, ``max_rollbacks``,
            ``scheduler_interval``, ``scheduler_monitor``, ``generators``).

    Returns:
        The run's :class:`~gdlab.train.history.History`.

    Example:
        >>> import numpy as np, gdlab
        >>> from gdlab import nn, optim
        >>> from gdlab.data import DataLoader, TensorDataset
        >>> X = np.random.default_rng(0).uniform(size=(100, 8))
        >>> y = X.sum(axis=1, keepdims=True)
        >>> _ = gdlab.manual_seed(0)
        >>> model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid(), nn.Linear(1, 1)).double()
        >>> loader = DataLoader(TensorDataset(X, y), batch_size=20)
        >>> history = fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=1e-3), loader,
        ...               epochs=5)
        >>> len(history.steps["loss"]), history.epochs["epoch"]
        (25, [0, 1, 2, 3, 4])
    """
    trainer = Trainer(
        model,
        loss_fn,
        optimizer,
        train_loader,
        val_loader=val_loader,
        metrics=metrics,
        scheduler=scheduler,
        callbacks=callbacks,
        grad_clip_norm=grad_clip_norm,
        accumulate=accumulate,
        run_dir=run_dir,
        divergence=divergence,
        progress=progress,
        **kwargs,
    )
    return trainer.fit(epochs, max_steps=max_steps, resume=resume)
