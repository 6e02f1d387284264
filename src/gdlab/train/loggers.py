"""Callbacks that write or show progress: CSV and JSON-lines logs in the run directory, and a
tqdm progress bar."""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from gdlab.train.callbacks import Callback
from gdlab.train.history import TIME_KEYS, _jsonable, atomic_write_text

__all__ = ["CSVLogger", "JSONLinesLogger", "ProgressBar"]

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
class ProgressBar(Callback):
    """A tqdm progress bar over optimizer steps, with the loss as postfix.

    ``disable=None`` (default) turns it off when stderr is not a terminal (CI, pipes), as tqdm
    does. Requires the ``progress`` extra (``pip install 'gdlab[progress]'``).
    """

    def __init__(self, disable: bool | None = None, update_every: int = 1, **tqdm_kwargs: Any):
        self.disable, self.update_every, self.kwargs = disable, update_every, tqdm_kwargs
        self.bar: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            raise ImportError(
                "ProgressBar requires tqdm: pip install 'gdlab[progress]' (or pip install tqdm)"
            ) from None
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

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._close()

    def on_exception(self, exception: BaseException) -> None:
        self._close()  # what is printed next (the Ctrl-C message) starts on its own line

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
