"""Trainer state: ``state_dict`` / ``load_state_dict`` / ``resume`` (a mixin of ``Trainer``).

The state is everything a bit-for-bit continuation needs: model, optimizer, scheduler, loader
positions, the states of every random generator in use (gdlab's default one, any generator
held by a module, and ``generators=``), the history, the step counters, the running epoch
metrics and the callbacks' state.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from gdlab.random import default_generator
from gdlab.train.checkpoint import (
    CheckpointError,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from gdlab.train.history import History


class StateMixin:
    """Capture and restore a whole run; used by ``Trainer``."""

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
        c = state["counters"]
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
        return save_checkpoint(directory, self.state_dict(), self.global_step, keep_last)
