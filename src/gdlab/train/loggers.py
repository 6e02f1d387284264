"""Callbacks that write or show progress: CSV and JSON-lines logs in the run directory, a
TensorBoard event log (tensorboardX), a tqdm progress bar over steps, and a bar over epochs
with one Keras-like line per epoch."""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from gdlab.train.callbacks import Callback, _HoldsUntilEnd
from gdlab.train.history import TIME_KEYS, _jsonable, atomic_write_text

__all__ = ["CSVLogger", "EpochProgress", "JSONLinesLogger", "ProgressBar", "TensorBoardLogger"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


# ---------------------------------------------------------------- loggers
def _scalar_row(row: dict[str, Any], timing: bool) -> dict[str, Any]:
    return {
        k: v
        for k, v in row.items()
        if (timing or k not in TIME_KEYS) and (v is None or isinstance(v, int | float | str))
    }


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else str(v))
    return str(v)


class _FileLogger(Callback):
    """Keeps a file in the run directory equal to a table of the history (``per`` row).

    On train begin the file is rewritten from the (possibly resumed) history, so after a
    resume it never holds rows from after the checkpoint; then rows are appended. Subclasses
    give ``_render(rows, header)``.
    """

    def __init__(self, filename: str | os.PathLike, per: str, timing: bool) -> None:
        if per not in ("epoch", "step"):
            raise ValueError(f"{type(self).__name__}: per must be 'epoch' or 'step', got {per!r}")
        self.filename, self.timing = Path(filename), timing
        self.table = "epochs" if per == "epoch" else "steps"

    def _render(self, rows: list[dict[str, Any]], header: bool) -> str:
        raise NotImplementedError

    def _path(self) -> Path:
        if self.filename.is_absolute() or self.trainer.run_dir is None:
            return self.filename
        return Path(self.trainer.run_dir) / self.filename

    def _rows(self) -> list[dict[str, Any]]:
        cols = getattr(self.trainer.history, self.table)
        n = len(next(iter(cols.values()))) if cols else 0
        return [_scalar_row({k: v[i] for k, v in cols.items()}, self.timing) for i in range(n)]

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        atomic_write_text(self._path(), self._render(self._rows(), header=True))

    def _append(self, row: dict[str, Any]) -> None:
        # O_NOFOLLOW: a symbolic link planted in the run directory mid-run is not written through
        path = self._path()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o666)
        except OSError as e:
            if e.errno == errno.ELOOP or path.is_symlink():
                raise OSError(
                    e.errno,
                    f"{type(self).__name__}: {path} became a symbolic link; not "
                    "appending through it",
                    str(path),
                ) from None
            raise
        with open(fd, "a", encoding="utf-8", newline="") as f:
            f.write(self._render([_scalar_row(row, self.timing)], header=False))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.table == "epochs":
            self._append(dict(logs or {}))

    def on_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self.table == "steps":
            self._append(dict(logs or {}))


class CSVLogger(_FileLogger):
    """One CSV row per epoch (``per="epoch"``) or per step, in ``<run_dir>/<filename>``.

    Columns are fixed by the first row (sorted, ``epoch``/``step`` first); floats are written
    with ``repr``, so two runs with the same seed give byte-identical files (wall times only
    with ``timing=True``).
    """

    def __init__(
        self, filename: str | os.PathLike = "log.csv", per: str = "epoch", timing: bool = False
    ) -> None:
        super().__init__(filename, per, timing)
        self.columns: list[str] | None = None

    def _render(self, rows: list[dict[str, Any]], header: bool) -> str:
        if header:
            self.columns = None
        if rows and self.columns is None:
            first = "epoch" if self.table == "epochs" else "step"
            self.columns = sorted(rows[0], key=lambda k: (k != first, k))
            header = True
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if header and self.columns:
            writer.writerow(self.columns)
        for row in rows:
            writer.writerow([_fmt(row.get(c)) for c in self.columns or []])
        return buf.getvalue()


class JSONLinesLogger(_FileLogger):
    """One JSON object per line, per step (default) or per epoch, in ``<run_dir>/<filename>``.

    Keys sorted, NaN/inf written as null; same-seed runs give byte-identical files (wall times
    only with ``timing=True``).
    """

    def __init__(
        self, filename: str | os.PathLike = "steps.jsonl", per: str = "step", timing: bool = False
    ) -> None:
        super().__init__(filename, per, timing)

    def _render(self, rows: list[dict[str, Any]], header: bool) -> str:
        return "".join(json.dumps(_jsonable(r), sort_keys=True) + "\n" for r in rows)


# ---------------------------------------------------------------- progress
class _BarCallback(_HoldsUntilEnd):
    """A callback drawing a tqdm bar, closed when training ends or fails: what is printed next
    (the Ctrl-C message) starts on its own line."""

    def _release(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class ProgressBar(_BarCallback):
    """A tqdm progress bar over optimizer steps, with the loss as postfix.

    ``disable=None`` (default) turns it off when stderr is not a terminal (CI, pipes), as tqdm
    does. Requires the ``progress`` extra (``pip install 'gdlab[progress]'``).
    """

    def __init__(self, disable: bool | None = None, update_every: int = 1, **tqdm_kwargs: Any):
        self.disable, self.update_every, self.kwargs = disable, update_every, tqdm_kwargs
        self.bar: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        tqdm = _tqdm("ProgressBar")
        kwargs = {"file": sys.stderr, "unit": "step", **self.kwargs}  # the next fit keeps them
        self.bar = tqdm(
            total=self.trainer.total_steps(),
            initial=self.trainer.global_step,
            disable=self.disable,
            **kwargs,
        )

    def on_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self.bar is not None and step % self.update_every == 0:
            self.bar.update(step - self.bar.n)
            self.bar.set_postfix(
                loss=f"{(logs or {}).get('loss', float('nan')):.4g}", refresh=False
            )


def _tqdm(who: str) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(
            f"{who} requires tqdm: pip install 'gdlab[progress]' (or pip install tqdm)"
        ) from None
    return tqdm


def epoch_line(epoch: int, epochs: int | None, seconds: float, logs: dict[str, Any]) -> str:
    """``epoch 3/10 - 0.4s - loss 0.312 - val_loss 0.298 - val_accuracy 0.91`` (Keras' line:
    4 significant digits; the files keep full precision)."""
    parts = [f"epoch {epoch}/{epochs}" if epochs else f"epoch {epoch}", f"{seconds:.1f}s"]
    shown = [
        k
        for k, v in logs.items()
        if k not in ("epoch", "step") and k not in TIME_KEYS and isinstance(v, int | float)
    ]
    # training numbers, then validation, then the rest (lr): Keras' order
    shown.sort(key=lambda k: (k != "loss", k == "lr", k.startswith("val_")))
    parts += [f"{k} {logs[k]:.4g}" for k in shown]
    return " - ".join(parts)


class EpochProgress(_BarCallback):
    """A tqdm bar that counts epochs, and above it one line per finished epoch (Keras'
    ``verbose=2`` line): ``epoch 3/10 - 0.4s - loss 0.312 - val_loss 0.298``.

    The lines go to ``file`` (default stderr) through ``tqdm.write``, so they never break the
    bar; the bar itself is drawn only on a terminal (``disable=None``, as tqdm) and is closed
    when training ends or fails, before anything else prints. Requires the ``progress`` extra
    for the bar; without tqdm the lines are still written.

    Args:
        disable: True hides the bar (the lines stay); None (default) hides it off a terminal.
        lines: write the per-epoch lines. Default True.
        file: where bar and lines go. Default ``sys.stderr``.
    """

    def __init__(self, disable: bool | None = None, lines: bool = True, file: Any = None) -> None:
        self.disable, self.lines, self.file = disable, lines, file
        self.bar: Any = None
        self._tqdm: Any = None
        self._last = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        file = self.file or sys.stderr
        try:
            self._tqdm = _tqdm("EpochProgress")
        except ImportError:
            self._tqdm = None
        if self._tqdm is not None:
            self.bar = self._tqdm(
                total=self.trainer.epochs,
                initial=self.trainer.epoch,
                disable=self.disable,
                file=file,
                unit="epoch",
                leave=False,
            )
        self._last = self.trainer.wall_time()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        now = float(logs.get("wall_time", self.trainer.wall_time()))
        if self.lines:
            line = epoch_line(epoch + 1, self.trainer.epochs, now - self._last, logs)
            if self._tqdm is not None:
                self._tqdm.write(line, file=self.file or sys.stderr)
            else:
                print(line, file=self.file or sys.stderr)
        self._last = now
        if self.bar is not None:
            self.bar.update(1)


# ---------------------------------------------------------------- tensorboard
class TensorBoardLogger(_HoldsUntilEnd):
    """Scalars for TensorBoard, written with tensorboardX into ``log_dir``: per epoch every
    number of the epoch logs as ``epoch/<key>`` (x = epoch, from 1), per step the step record
    (loss, lr, gradient norms) as ``step/<key>`` (x = optimizer step). Events are written in
    this thread and flushed at the end of every epoch (tensorboardX's ``SummaryWriter`` queues
    them for a thread of its own, whose ``flush`` does not wait), so ``tensorboard --logdir``
    shows a run as it goes; give each run its own subdirectory of one ``--logdir`` to browse
    several side by side.

    Requires the ``tensorboard`` extra (``pip install 'gdlab[tensorboard]'``: tensorboardX).

    Args:
        log_dir: the run's event directory (relative paths are under the trainer's run_dir).
        every_n_steps: write the step scalars every n steps (None: epochs only). Default 1.

    Example:
        >>> fit(model, loss_fn, opt, loader, epochs=5, callbacks=[TensorBoardLogger("tb/adam")])
    """

    def __init__(self, log_dir: str | os.PathLike, every_n_steps: int | None = 1) -> None:
        if every_n_steps is not None and (
            isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int)
            or every_n_steps < 1
        ):  # fmt: skip
            raise ValueError(
                f"TensorBoardLogger: every_n_steps must be a positive int or None, "
                f"got {every_n_steps!r}"
            )
        self.log_dir, self.every_n_steps = Path(log_dir), every_n_steps
        self.writer: Any = None
        _tensorboardx()  # a missing tensorboardX fails here, not after the first epoch

    def _path(self) -> Path:
        if self.log_dir.is_absolute() or self.trainer.run_dir is None:
            return self.log_dir
        return Path(self.trainer.run_dir) / self.log_dir

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        events_writer, _, _ = _tensorboardx()
        path = self._path()
        path.mkdir(parents=True, exist_ok=True)
        # a unique suffix: a resumed run in the same second gets a file of its own
        self.writer = events_writer(str(path / "events"), f".{os.getpid()}.{uuid.uuid4().hex[:8]}")

    def _scalars(self, prefix: str, logs: dict[str, Any] | None, x: int) -> None:
        _, event, scalar = _tensorboardx()
        now = time.time()
        for k, v in (logs or {}).items():
            if k in ("epoch", "step") or k in TIME_KEYS or isinstance(v, bool):
                continue
            if isinstance(v, int | float) and math.isfinite(v):
                summary = scalar(f"{prefix}/{k}", float(v))
                self.writer.write_event(event(wall_time=now, step=x, summary=summary))

    def on_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self.writer is not None and self.every_n_steps and step % self.every_n_steps == 0:
            self._scalars("step", logs, step)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.writer is not None:
            self._scalars("epoch", logs, epoch + 1)
            self.writer.flush()

    def _release(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _tensorboardx() -> tuple[Any, Any, Any]:
    """tensorboardX's synchronous event-file writer, its Event message and scalar summary."""
    try:
        from tensorboardX.event_file_writer import EventsWriter
        from tensorboardX.proto.event_pb2 import Event
        from tensorboardX.summary import scalar
    except ImportError:
        raise ImportError(
            "TensorBoardLogger requires tensorboardX: pip install 'gdlab[tensorboard]' "
            "(or pip install tensorboardX)"
        ) from None
    return EventsWriter, Event, scalar
