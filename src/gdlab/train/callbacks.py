"""Callbacks: Keras-style hooks into the training loop.

Hooks (all optional): ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch, logs)``,
``on_batch_begin/end(step, logs)`` (one "batch" is one optimizer step) and
``on_before_optimizer_step(step, logs)`` (gradients are computed, the update is not applied)
and ``on_divergence(error)`` (the run stops with a :class:`~gdlab.train.DivergenceError`; the
parameters hold the last good values).
A callback reaches the run through ``self.trainer`` and stops it with
``self.trainer.stop_training = True``. A callback with state (EarlyStopping's best value and
weights) has ``state_dict``/``load_state_dict``, so checkpoints carry it.
"""

from __future__ import annotations

import copy
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from gdlab._atomic import clean_temporaries
from gdlab.autograd.sparse import stored_values
from gdlab.tensor import Tensor
from gdlab.train._checks import check_count
from gdlab.train.checkpoint import clean_stale, save_checkpoint
from gdlab.train.history import TIME_KEYS

__all__ = [
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "GradientHealth",
    "GradientWarning",
    "LambdaCallback",
]


class GradientWarning(UserWarning):
    """Vanishing or exploding gradients seen by :class:`GradientHealth`."""


class Callback:
    """Base class: every hook does nothing."""

    trainer: Any = None

    def set_trainer(self, trainer: Any) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_train_end(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_batch_begin(self, step: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_before_optimizer_step(self, step: int, logs: dict[str, Any]) -> None: ...
    def on_divergence(self, error: FloatingPointError) -> None: ...
    def on_exception(self, exception: BaseException) -> None:
        """``fit`` stops on an exception (Ctrl-C, divergence): release what ``on_train_begin``
        took (a progress bar, a file); the exception then propagates (as Lightning's hook)."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class _HoldsUntilEnd(Callback):
    """A callback that takes something for the run (a progress bar, an event writer, module
    hooks) and gives it back in ``_release`` when training ends, normally or on an exception."""

    def _release(self) -> None:
        raise NotImplementedError

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._release()

    def on_exception(self, exception: BaseException) -> None:
        self._release()


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, **hooks: Any) -> None:
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)


# ---------------------------------------------------------------- early stopping
class EarlyStopping(Callback):
    """Stop when a monitored quantity has stopped improving (Keras' EarlyStopping).

    Improvement: ``current < best − min_delta`` (mode ``"min"``) or ``current > best +
    min_delta`` (``"max"``); ``"auto"`` picks ``"max"`` for accuracies and R², else ``"min"``.
    Training stops after ``patience`` epochs without improvement; with
    ``restore_best_weights`` the model gets the weights of the best epoch back when it stops.
    With a schedule-free optimizer (``train()``/``eval()``) the weights are y and the
    monitored value was taken at x, which y alone does not give: the optimizer's state (z,
    its averaging weights) of the best epoch is kept and restored with them, so y and z are
    consistent and ``optimizer.eval()`` gives the best epoch's x.

    Args:
        monitor: an epoch log key, e.g. ``"val_loss"`` (default) or ``"val_accuracy"``.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        patience: epochs without improvement before stopping. Default 0.
        min_delta: smallest change that counts as an improvement. Default 0.
        restore_best_weights: load the best epoch's weights when stopping. Default False.
        baseline: stop if the monitored value does not beat this within ``patience`` epochs.

    Example:
        >>> stop = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: str = "auto",
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
        baseline: float | None = None,
    ) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        check_count("EarlyStopping", "patience", patience, positive=False)
        if mode == "auto":
            mode = "max" if ("acc" in monitor or "r2" in monitor) else "min"
        self.monitor, self.mode, self.patience = monitor, mode, patience
        self.min_delta = abs(float(min_delta))
        self.restore_best_weights = restore_best_weights
        self.baseline = baseline
        self.reset()

    def reset(self) -> None:
        self.wait = 0
        self.best = (
            self.baseline
            if self.baseline is not None
            else (math.inf if self.mode == "min" else -math.inf)
        )
        self.best_epoch = -1
        self.best_weights: dict[str, np.ndarray] | None = None
        self.best_optimizer: dict[str, Any] | None = None  # of a schedule-free optimizer
        self.stopped_epoch = -1

    def _improved(self, current: float) -> bool:
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None:
            keys = sorted(k for k in (logs or {}) if k not in TIME_KEYS)
            warnings.warn(
                f"EarlyStopping: monitor {self.monitor!r} is not in the epoch logs {keys}",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        if not math.isnan(current) and self._improved(current):
            self.best, self.best_epoch, self.wait = float(current), epoch, 0
            if self.restore_best_weights:
                self.best_weights = copy.deepcopy(_arrays(self.trainer.model.state_dict()))
                opt = getattr(self.trainer, "optimizer", None)
                self.best_optimizer = copy.deepcopy(opt.state_dict()) if _has_modes(opt) else None
            return
        self.wait += 1
        if self.wait >= self.patience:  # wait >= 1 here, so patience 0 stops at once (Keras)
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            self.trainer.history.events.append(
                {"event": "early_stopping", "epoch": epoch, "best_epoch": self.best_epoch}
            )
            if self.restore_best_weights and self.best_weights is not None:
                self.trainer.model.load_state_dict(copy.deepcopy(self.best_weights))
                if self.best_optimizer is not None:  # y's z: x is the best epoch's again
                    self.trainer.optimizer.load_state_dict(copy.deepcopy(self.best_optimizer))

    def state_dict(self) -> dict[str, Any]:
        return {
            "wait": self.wait,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": self.best_weights,
            "best_optimizer": self.best_optimizer,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.wait, self.best = state["wait"], state["best"]
        self.best_epoch, self.stopped_epoch = state["best_epoch"], state["stopped_epoch"]
        self.best_weights = state["best_weights"]
        self.best_optimizer = state.get("best_optimizer")  # absent in older checkpoints


def _has_modes(optimizer: Any) -> bool:
    """Whether the optimizer has ``train()`` and ``eval()`` (the schedule-free ones)."""
    return callable(getattr(optimizer, "train", None)) and callable(
        getattr(optimizer, "eval", None)
    )


def _arrays(state: dict[str, Any]) -> dict[str, Any]:
    return {k: np.asarray(v.data if isinstance(v, Tensor) else v) for k, v in state.items()}


# ---------------------------------------------------------------- checkpoints
class Checkpoint(Callback):
    """Save the whole run (``Trainer.state_dict()``) into ``directory/step-<n>/``.

    Each checkpoint is written atomically (see :mod:`gdlab.train.checkpoint`); only the
    ``keep_last`` newest are kept; the temporaries of killed processes (checkpoint directories
    and the run directory's files) are removed when training begins, those of live ones never.
    ``fit(..., resume=run_dir)`` continues from the newest valid one. The trainer's ``config``
    is stored in each checkpoint. ``<run_dir>/checkpoints`` must be a real directory: a
    symbolic link there is refused, so that pruning never deletes outside the run directory.

    Args:
        directory: where to write; default ``<run_dir>/checkpoints``.
        every_n_epochs: save at the end of every n-th epoch (None: never). Default 1.
        every_n_steps: also save every n optimizer steps, mid-epoch (None: never).
        keep_last: how many checkpoints to keep (None keeps all). Default 3.
        save_on_train_end: save when ``fit`` returns (also after ``max_steps``). Default True.
        save_on_divergence: save the last good state when the run stops for divergence
            (model and parameters from before the failed step; the data position and random
            states are those after it, so a resume continues with the next batch). Default
            True.
        monitor: the epoch log key that ``save_best_only`` watches. Default ``"val_loss"``.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (``"max"`` for accuracies and R², else
            ``"min"``), as Keras' ``ModelCheckpoint``.
        save_best_only: save at the end of an epoch only when ``monitor`` beats every earlier
            epoch (NaN never does); the step, train-end and divergence saves are then off, so
            the newest checkpoint is the best model (``keep_last=1`` keeps only it). Default
            False. ``best`` and ``best_epoch`` hold the value and the epoch (from 0).

    Example:
        >>> best = Checkpoint(monitor="val_loss", mode="min", save_best_only=True, keep_last=1)
    """

    def __init__(
        self,
        directory: str | os.PathLike | None = None,
        every_n_epochs: int | None = 1,
        every_n_steps: int | None = None,
        keep_last: int | None = 3,
        save_on_train_end: bool = True,
        save_on_divergence: bool = True,
        monitor: str = "val_loss",
        mode: str = "auto",
        save_best_only: bool = False,
    ) -> None:
        check_count("Checkpoint", "every_n_epochs", every_n_epochs, allow_none=True)
        check_count("Checkpoint", "every_n_steps", every_n_steps, allow_none=True)
        check_count("Checkpoint", "keep_last", keep_last, allow_none=True)
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"Checkpoint: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if save_best_only and every_n_steps is not None:
            raise ValueError(
                f"Checkpoint: save_best_only saves at the end of epochs; every_n_steps must be "
                f"None, got {every_n_steps!r}"
            )
        if mode == "auto":
            mode = "max" if ("acc" in monitor or "r2" in monitor) else "min"
        self.monitor, self.mode, self.save_best_only = monitor, mode, bool(save_best_only)
        if self.save_best_only:
            save_on_train_end = save_on_divergence = False
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = -1
        self.directory = None if directory is None else Path(directory)
        self.every_n_epochs, self.every_n_steps = every_n_epochs, every_n_steps
        self.keep_last, self.save_on_train_end = keep_last, save_on_train_end
        self.save_on_divergence = save_on_divergence
        self.last_saved: Path | None = None
        self._last_step = -1
        self._last_events = -1  # len(history.events) at the last save

    def _dir(self) -> Path:
        if self.directory is not None:
            return self.directory
        if self.trainer.run_dir is None:
            raise ValueError("Checkpoint: pass directory=... or give fit() a run_dir")
        return Path(self.trainer.run_dir) / "checkpoints"

    def save(self) -> Path:
        step = self.trainer.global_step
        self.last_saved = save_checkpoint(
            self._dir(),
            self.trainer.state_dict(),
            step,
            keep_last=self.keep_last,
            config=getattr(self.trainer, "config", None),
        )
        self._last_step, self._last_events = step, len(self.trainer.history.events)
        return self.last_saved

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        directory = self._dir()
        run_dir = self.trainer.run_dir
        if self.directory is None and directory.is_symlink():
            raise ValueError(
                f"Checkpoint: {directory} is a symbolic link (to {os.readlink(directory)}); "
                "refusing to write and prune checkpoints outside the run directory"
            )
        clean_stale(directory)
        if run_dir is not None:
            clean_temporaries(run_dir)
        self._last_step = -1

    def on_divergence(self, error: FloatingPointError) -> None:
        if self.save_on_divergence and self._last_step != self.trainer.global_step:
            self.save()

    def on_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self.every_n_steps and step % self.every_n_steps == 0:
            self.save()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not (self.every_n_epochs and (epoch + 1) % self.every_n_epochs == 0):
            return
        if self.save_best_only and not self._improved(epoch, logs or {}):
            return
        self.save()

    def _improved(self, epoch: int, logs: dict[str, Any]) -> bool:
        """Whether ``monitor`` beats the best so far (then it becomes the best)."""
        current = logs.get(self.monitor)
        if current is None:
            keys = sorted(k for k in logs if k not in TIME_KEYS)
            warnings.warn(
                f"Checkpoint: monitor {self.monitor!r} is not in the epoch logs {keys}",
                RuntimeWarning,
                stacklevel=2,
            )
            return False
        current = float(current)
        better = current < self.best if self.mode == "min" else current > self.best
        if better:  # False for NaN
            self.best, self.best_epoch = current, epoch
        return better

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        # also when only the events changed (an interruption noted after the last save)
        changed = len(self.trainer.history.events) != self._last_events
        if self.save_on_train_end and (self._last_step != self.trainer.global_step or changed):
            self.save()

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch} if self.save_best_only else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.save_best_only and "best" in state:
            self.best, self.best_epoch = float(state["best"]), int(state["best_epoch"])


# ---------------------------------------------------------------- gradient health
class GradientHealth(Callback):
    """Record per-parameter gradient norms and warn on vanishing or exploding gradients.

    Every ``every_n_steps`` steps, the L2 norm of each parameter's gradient (before clipping)
    is added to the step record as ``grad_norm/<name>``. A :class:`GradientWarning` is issued
    (once per parameter and kind) when a norm exceeds ``exploding``, falls below ``vanishing``,
    or is below ``ratio`` times the largest norm of the step (the articles' vanishing
    gradients: early layers of a deep sigmoid network learn orders of magnitude slower).

    Args:
        every_n_steps: how often to measure. Default 1.
        vanishing: absolute lower bound. Default 1e-7.
        exploding: absolute upper bound. Default 1e3.
        ratio: relative lower bound against the largest norm (None: off). Default 1e-4.
        record: add the norms to the history. Default True.
    """

    def __init__(
        self,
        every_n_steps: int = 1,
        vanishing: float = 1e-7,
        exploding: float = 1e3,
        ratio: float | None = 1e-4,
        record: bool = True,
    ) -> None:
        check_count("GradientHealth", "every_n_steps", every_n_steps)
        self.every_n_steps, self.vanishing, self.exploding = every_n_steps, vanishing, exploding
        self.ratio, self.record = ratio, record
        self.warned: set[str] = set()

    def norms(self) -> dict[str, float]:
        out = {}
        for name, p in self.trainer.named_parameters():
            if p._grad is not None:
                g = stored_values(p._grad)  # a sparse gradient's rows: the same norm
                out[name] = float(np.linalg.norm(g.reshape(-1).astype(np.float64)))
        return out

    def on_before_optimizer_step(self, step: int, logs: dict[str, Any]) -> None:
        if step % self.every_n_steps:
            return
        norms = self.norms()
        if self.record:
            logs.update({f"grad_norm/{k}": v for k, v in norms.items()})
        largest = max(norms.values(), default=0.0)
        exploding = {k: v for k, v in norms.items() if v > self.exploding}
        vanishing = {
            k: v
            for k, v in norms.items()
            if k not in exploding
            and (v < self.vanishing or (self.ratio is not None and v < self.ratio * largest))
        }
        self._warn(
            "exploding",
            exploding,
            step,
            f"> {self.exploding:g}",
            "try gradient clipping (grad_clip_norm=...) or a smaller lr",
        )
        self._warn(
            "vanishing",
            vanishing,
            step,
            f"(largest {largest:.3g})",
            "try ReLU instead of sigmoid/tanh, better initialisation, or normalisation",
        )

    def _warn(self, kind: str, bad: dict[str, float], step: int, bound: str, hint: str) -> None:
        if not bad or kind in self.warned:
            return
        self.warned.add(kind)  # once per kind and run: the history keeps every value
        names = ", ".join(f"{k!r} {v:.3g}" for k, v in list(bad.items())[:4])
        more = f" and {len(bad) - 4} more" if len(bad) > 4 else ""
        warnings.warn(
            f"{kind} gradient at step {step}: norm of {names}{more} {bound}; {hint}",
            GradientWarning,
            stacklevel=3,
        )
