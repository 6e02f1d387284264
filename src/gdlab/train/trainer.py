"""The training loop: ``fit`` / ``Trainer``, with divergence detection, accumulation and resume.

One optimizer step = ``accumulate`` batches from the loader. Each micro-batch loss (a mean
over its samples) is weighted by ``count / total count`` before ``backward``, so k micro-batches
give exactly the gradient of one batch of all their samples, a ragged last one included.

Divergence detection is on by default: a NaN/inf loss or gradient stops the run *before* the
update is applied (and an update that makes a parameter non-finite is undone), raising
:class:`DivergenceError` with the step, the lr and the first offending parameter; with
``divergence="rollback"`` the last good state is restored, the lr multiplied by
``rollback_factor`` and the step retried (at most ``max_rollbacks`` times in a row). The policy
lives in :class:`~gdlab.train.divergence.DivergenceGuard`.

The run's state (:meth:`Trainer.state_dict`) is everything a bit-for-bit continuation needs:
model, optimizer, scheduler, loader positions, the states of every random generator in use
(gdlab's default one, any generator held by a module, and ``generators=``), the history, the
step counters, the running epoch metrics and the callbacks' state.

Optional attributes let other objects tell the loop how to drive them (no class is recognised
by its name): an optimizer with ``requires_closure = True`` (L-BFGS) is stepped as
``optimizer.step(closure)``, after one evaluation of the closure if it also has
``gradient_before_closure = True`` (SAM: the gradient at w, then the closure's at w + ε);
an optimizer with ``train()`` and ``eval()`` methods (the schedule-free ones) is put in train
mode when ``fit`` starts and in eval mode for every evaluation, so validation losses are at
the averaged point x (during ``fit`` the parameters return to y exactly afterwards; outside
``fit``, :meth:`Trainer.evaluate` leaves them at x, where the model is used); a scheduler with
``requires_metric = True`` (ReduceLROnPlateau) is stepped as ``scheduler.step(metric)``.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gdlab._runlock import RunLock
from gdlab.autograd import no_grad
from gdlab.autograd.sparse import stored_values
from gdlab.nn.utils.clip_grad import clip_grads_with_norm_
from gdlab.random import default_generator
from gdlab.train._batch import as_array, batch_count, grad_norm, nonfinite_data, split_batch
from gdlab.train._checks import check_count
from gdlab.train.callbacks import Callback, Checkpoint
from gdlab.train.checkpoint import (
    CheckpointError,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from gdlab.train.divergence import Diverged, DivergenceError, DivergenceGuard
from gdlab.train.history import History
from gdlab.train.loggers import ProgressBar
from gdlab.train.metrics import Mean, Metric, get_metric

__all__ = ["DivergenceError", "Trainer", "fit"]

_grad_norm = grad_norm  # importable from here, as before

_COUNTERS = ("global_step", "epoch", "samples_seen", "batch_in_epoch")


def _checked_counters(c: Any) -> dict[str, Any]:
    """The counters of a saved state, or a CheckpointError naming the bad one (a tampered
    file must not fail later with "Unknown format code 'd'")."""
    if not isinstance(c, dict):
        raise CheckpointError(f"load_state_dict: counters must be a dict, got {c!r}")
    for key in _COUNTERS:
        v = c.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise CheckpointError(
                f"load_state_dict: counters[{key!r}] must be a non-negative int, got {v!r}"
            )
    if not isinstance(c.get("in_epoch"), bool):
        raise CheckpointError(
            f"load_state_dict: counters['in_epoch'] must be a bool, got {c.get('in_epoch')!r}"
        )
    t = c.get("wall_time")
    if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t < math.inf:
        raise CheckpointError(
            f"load_state_dict: counters['wall_time'] must be a finite number >= 0, got {t!r}"
        )
    return c


class Trainer:
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
        config: dict[str, Any] | None = None,
    ) -> None:
        check_count("fit", "accumulate", accumulate)
        if grad_clip_norm is not None and not float(grad_clip_norm) > 0:
            raise ValueError(f"fit: grad_clip_norm must be positive or None, got {grad_clip_norm}")
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
        self.generators = dict(generators or {})
        self.config = config
        self._uses_closure = bool(getattr(optimizer, "requires_closure", False))
        self.guard = DivergenceGuard(
            model,
            optimizer,
            scheduler,
            self.named_parameters,
            mode=divergence,
            rollback_factor=rollback_factor,
            max_rollbacks=max_rollbacks,
            full_snapshots=self._uses_closure,
        )
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

    # ------------------------------------------------------------------ state
    def _generators(self) -> dict[str, np.random.Generator]:
        gens = {"gdlab.default": default_generator()}
        if hasattr(self.model, "named_modules"):
            for mname, module in self.model.named_modules():
                for attr, value in vars(module).items():
                    if isinstance(value, np.random.Generator):
                        gens[f"model.{mname}.{attr}".replace("..", ".")] = value
        gens.update(self.generators)
        return gens

    def _callback_keys(self) -> dict[str, Any]:
        keys: dict[str, Any] = {}
        for c in self.callbacks:
            name = type(c).__name__
            n = sum(k.rsplit(":", 1)[0] == name for k in keys)
            keys[f"{name}:{n}"] = c
        return keys

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue this run bit for bit (see :mod:`.checkpoint`)."""

        def loader_state(loader: Any) -> Any:
            return loader.state_dict() if hasattr(loader, "state_dict") else None

        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "train_loader": loader_state(self.train_loader),
            "val_loader": loader_state(self.val_loader),
            "rng": {k: g.bit_generator.state for k, g in self._generators().items()},
            "history": self.history.to_dict(timing=True),
            "counters": {
                "global_step": self.global_step,
                "epoch": self.epoch,
                "samples_seen": self.samples_seen,
                "in_epoch": self.in_epoch,
                "batch_in_epoch": self.batch_in_epoch,
                "wall_time": self.wall_time(),
            },
            "running": {
                "loss": self.running_loss.state_dict(),
                "metrics": [m.state_dict() for m in self.metrics],
            },
            "callbacks": {key: c.state_dict() for key, c in self._callback_keys().items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state saved by :meth:`state_dict` into this (identically built) trainer."""
        _checked_counters(state["counters"])  # before anything is changed
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        for name in ("train_loader", "val_loader"):
            loader = getattr(self, name)
            if state[name] is not None and hasattr(loader, "load_state_dict"):
                loader.load_state_dict(state[name])
        gens = self._generators()
        for key, rng_state in state["rng"].items():
            if key in gens:
                gens[key].bit_generator.state = rng_state
        self.history = History.from_dict(state["history"])
        c = _checked_counters(state["counters"])
        self.global_step, self.epoch, self.samples_seen = (
            c["global_step"],
            c["epoch"],
            c["samples_seen"],
        )
        self.in_epoch, self.batch_in_epoch = c["in_epoch"], c["batch_in_epoch"]
        self._elapsed, self._iterator = c["wall_time"], None
        self.running_loss.load_state_dict(state["running"]["loss"])
        for m, s in zip(self.metrics, state["running"]["metrics"], strict=False):
            m.load_state_dict(s)
        saved = state["callbacks"]
        for key, cb in self._callback_keys().items():
            if key in saved:  # callbacks are matched by class and position among their class
                cb.load_state_dict(saved[key])

    def resume(self, path: str | os.PathLike) -> Path | None:
        """Load a checkpoint directory, or the newest valid one in a run directory.

        ``"auto"`` resumes from ``run_dir`` if it holds a checkpoint and starts fresh otherwise.
        """
        if isinstance(path, str) and path == "auto":
            if self.run_dir is None:
                raise ValueError("fit: resume='auto' needs a run_dir")
            found = latest_checkpoint(self.run_dir)
            if found is None:
                return None
            path = found
        path = Path(path)
        if not (path / "manifest.json").exists() and not path.name.startswith("step-"):
            found = latest_checkpoint(path)
            if found is None:
                raise CheckpointError(f"fit: no valid checkpoint found in {path}")
            path = found
        self.load_state_dict(load_checkpoint(path))
        return path

    def save_checkpoint(
        self, directory: str | os.PathLike | None = None, keep_last: int | None = None
    ) -> Path:
        """Write a checkpoint now (default directory ``<run_dir>/checkpoints``)."""

        if directory is None:
            if self.run_dir is None:
                raise ValueError("Trainer.save_checkpoint: pass a directory or set run_dir")
            directory = self.run_dir / "checkpoints"
        return save_checkpoint(
            directory, self.state_dict(), self.global_step, keep_last, config=self.config
        )

    # ------------------------------------------------------------------ fit
    def fit(self, epochs: int, *, max_steps: int | None = None, resume: Any = None) -> History:
        """Train until ``epochs`` epochs are complete (counted from the run's start), or
        ``max_steps`` optimizer steps, or a callback stops it. Returns the history.

        With a ``run_dir``, the directory is locked for the whole call (:class:`RunDirLocked`
        if another live process holds it). A run that stops for divergence records the event
        in the history and calls the callbacks' ``on_divergence`` (the :class:`Checkpoint`
        callback saves the last good state) before the :class:`DivergenceError` propagates.
        """
        check_count("fit", "epochs", epochs)
        check_count("fit", "max_steps", max_steps, allow_none=True)
        with contextlib.ExitStack() as stack:
            if self.run_dir is not None:
                stack.enter_context(RunLock(self.run_dir))
            if resume is not None:
                self.resume(resume)
            if max_steps is not None and max_steps < self.global_step:
                raise ValueError(
                    f"fit: max_steps={max_steps} is less than the current step {self.global_step}"
                )
            self.epochs, self.stop_training = int(epochs), False
            self.guard.reset()
            self._t0 = time.perf_counter()
            try:
                self._optimizer_mode(train=True)
                self._call("on_train_begin", {})
                self._train(max_steps)
                self._call("on_train_end", self.history.last_epoch())
            except BaseException as exc:
                self._call("on_exception", exc)
                raise
            finally:
                self._elapsed, self._t0 = self.wall_time(), None
                if self.run_dir is not None:
                    self.history.save(self.run_dir / "history.json")
        return self.history

    def _train(self, max_steps: int | None) -> None:
        try:
            while self.epoch < self.epochs and not self.stop_training:
                if not self.in_epoch:
                    self._begin_epoch()
                if not self._run_batches(max_steps):
                    break
                self._end_epoch()
        except DivergenceError as e:
            event = {"event": "divergence", "step": e.step, "epoch": e.epoch, "lr": e.lr}
            self.history.events.append(event | {"parameter": e.parameter, "loss": e.loss})
            self._call("on_divergence", e)
            raise

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

    # ------------------------------------------------------------------ one step
    def _step(self, group: list[Any]) -> None:
        """One optimizer step over a group of ``accumulate`` batches, retried after a
        rollback as the divergence guard decides."""
        step = self.global_step + 1
        counts = [batch_count(b) for b in group]
        total = sum(counts)
        params = self.params()
        self._call("on_batch_begin", step, {"step": step, "epoch": self.epoch})
        for attempt in range(self.guard.attempts):
            logs: dict[str, Any] = {"step": step, "epoch": self.epoch, "lr": self.lr}
            self.guard.protect(params, first_attempt=attempt == 0)
            try:
                # with detection on, a NaN/inf is reported by DivergenceError, not NumPy warnings
                with self.guard.errstate():
                    outputs, loss, norm = self._attempt(group, counts, total, params, logs)
                break
            except Diverged as d:
                rollback = self.guard.recover(
                    d,
                    step=step,
                    epoch=self.epoch,
                    lr=logs["lr"],
                    attempt=attempt,
                    bad_data=nonfinite_data(group),
                )
                self.history.events.append({"event": "rollback", **rollback._asdict()})
                warnings.warn(
                    f"fit: non-finite {d.what} at step {step}; rolled back and lowered lr to "
                    f"{rollback.lr:g}",
                    RuntimeWarning,
                    stacklevel=4,
                )
        self.global_step, self.batch_in_epoch = step, self.batch_in_epoch + len(group)
        self.samples_seen += total
        self.running_loss.update(loss, total)
        for out, target in outputs:
            for m in self.metrics:
                m.update(out, target)
        logs.update(loss=loss, grad_norm=norm, samples_seen=self.samples_seen)
        logs["wall_time"] = self.wall_time()
        self.history.log_step(logs)
        if self.scheduler is not None and self.scheduler_interval == "step":
            self._scheduler_step(None)
        self._call("on_batch_end", step, logs)

    def _attempt(
        self,
        group: list[Any],
        counts: list[int],
        total: int,
        params: list[Any],
        logs: dict[str, Any],
    ) -> tuple[list[tuple[np.ndarray, np.ndarray]], float, float]:
        """Gradients, checks and one optimizer step; raises ``Diverged`` instead of stepping.

        Returns the (output, target) pairs for the metrics, the loss and the gradient norm of
        the step's first evaluation (L-BFGS evaluates its closure several times).
        """
        outputs: list[tuple[np.ndarray, np.ndarray]] = []
        first: dict[str, float] = {}
        summed = getattr(self.loss_fn, "reduction", "mean") == "sum"

        def closure() -> float:
            self.optimizer.zero_grad()
            value = 0.0
            for batch, n in zip(group, counts, strict=True):
                inputs, target = split_batch(batch)
                out = self.model(*inputs)
                loss = self.loss_fn(out, target)
                w = 1.0 if summed else n / total  # mean losses: weight by count, not 1/k
                (loss if w == 1.0 else loss * w).backward()
                value += float(loss.item()) * w
                if not first and self.metrics:
                    outputs.append((as_array(out).copy(), as_array(target)))
            grads = [stored_values(p._grad) for p in params if p._grad is not None]
            norm = grad_norm(grads, self._scratch)
            if not first:
                first.update(loss=value, grad_norm=norm)
            if self.grad_clip_norm is not None and math.isfinite(norm):
                clip_grads_with_norm_(params, self.grad_clip_norm, norm)  # norm computed once
            return value

        step = logs["step"]
        if self._uses_closure:
            if getattr(self.optimizer, "gradient_before_closure", False):
                closure()  # SAM: the gradient at w; step(closure) takes the one at w + ε
                self.guard.check_loss_and_gradient(first["loss"], first["grad_norm"])
            self.optimizer.step(closure)
            self._call("on_before_optimizer_step", step, logs)
            self.guard.check_loss_and_gradient(first["loss"], first["grad_norm"])
        else:
            closure()
            # before the update: a NaN gradient never reaches the parameters
            self.guard.check_loss_and_gradient(first["loss"], first["grad_norm"])
            self._call("on_before_optimizer_step", step, logs)
            self.optimizer.step()
        self.guard.check_parameters(params, first["loss"])
        return outputs, first["loss"], first["grad_norm"]

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
        if getattr(self.scheduler, "requires_metric", False):
            monitor = self.scheduler_monitor or ("val_loss" if self.val_loader else "loss")
            if logs is None or monitor not in logs:
                name = type(self.scheduler).__name__
                raise ValueError(f"fit: {name} monitors {monitor!r}, not in the logs")
            self.scheduler.step(logs[monitor])
        else:
            self.scheduler.step()

    def _has_modes(self) -> bool:
        """Whether the optimizer has ``train()`` and ``eval()`` (the schedule-free ones)."""
        opt = self.optimizer
        return callable(getattr(opt, "train", None)) and callable(getattr(opt, "eval", None))

    def _optimizer_mode(self, *, train: bool) -> None:
        """``optimizer.train()`` or ``.eval()`` for an optimizer that has both (schedule-free:
        the parameters hold y while training, x when evaluated)."""
        if self._has_modes():
            switch = self.optimizer.train if train else self.optimizer.eval
            switch()

    def evaluate(
        self, loader: Iterable[Any], metrics: Sequence[str | Metric] = (), model: Any = None
    ) -> dict:
        """Mean loss (weighted by batch size) and metrics over ``loader``, in eval mode (the
        model's, and the optimizer's if it has one: see the module docstring), of the trained
        model or of ``model`` (e.g. its weight average)."""
        own = model is None
        model = self.model if own else model
        metrics = [get_metric(m) for m in metrics]
        for m in metrics:
            m.reset()
        loss = Mean()
        was_training = getattr(model, "training", None)
        if hasattr(model, "eval"):
            model.eval()
        # during fit, y is put back exactly afterwards (a lerp back would round, and an
        # evaluation must not change the run); outside fit the optimizer is left at x
        modes = own and self._has_modes()
        fitting = modes and self._t0 is not None
        resume_y = [p.data.copy() for p in self.params()] if fitting else None
        if modes:
            self._optimizer_mode(train=False)
        try:
            with no_grad():
                for batch in loader:
                    inputs, target = split_batch(batch)
                    out = model(*inputs)
                    loss.update(float(self.loss_fn(out, target).item()), len(inputs[0]))
                    for m in metrics:
                        m.update(as_array(out), as_array(target))
        finally:
            if was_training is not None and hasattr(model, "train"):
                model.train(was_training)
            if resume_y is not None:
                self._optimizer_mode(train=True)
                for p, y in zip(self.params(), resume_y, strict=True):
                    p.data[...] = y
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
            ``scheduler_interval``, ``scheduler_monitor``, ``generators``, ``config``: a
            JSON-able configuration stored in every checkpoint).

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
