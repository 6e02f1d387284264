"""Run directories: every file a run writes, written atomically and deterministically.

A run directory holds::

    config.toml      the resolved settings (defaults + config file + ``--set`` overrides)
    metrics.csv      one row per (run, epoch) or per step: numbers only, no wall times
    metrics.jsonl    the same rows as JSON lines
    summary.json     the final table, chosen learning rates and the settings (with the seed)
    .gdlab-run       the command whose run this is: another command refuses to write here
    timing.csv       wall-clock columns (the only file that differs between two equal runs)
    *.png, *.svg     figures
    report.html      a self-contained report (figures embedded)

Determinism: with the same seed, ``metrics.csv``, ``metrics.jsonl`` and ``summary.json`` are
byte-identical between runs. Wall times are measured, not computed, so they live in
``timing.csv`` (and in the report), never in the deterministic files. Floats are written with
``repr`` (shortest round-trip form), keys in a fixed order, NaN/inf as ``nan``/``inf`` in CSV
and ``null`` in JSON (JSON has no NaN).

Every write goes to a temporary file in the same directory and is moved into place with
``os.replace`` (``gdlab._atomic``), so an interrupted run (Ctrl-C, a kill) leaves either
the old file or the new one, never half a file.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gdlab.lab.config import ConfigError, dumps_toml
from gdlab.lab.output.fileio import atomic_write_bytes, atomic_write_text

__all__ = [
    "OWNER_FILE",
    "RunDir",
    "RunDirError",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_owner",
    "claim",
    "default_out_dir",
    "format_value",
    "run_owner",
    "to_jsonable",
]


class RunDirError(OSError):
    """The run directory cannot be created or written; the message names the path."""


#: The file naming the command whose run a directory holds (one line: ``compare``,
#: ``reproduce-adam``...), so that another command's run is never written into it.
OWNER_FILE = ".gdlab-run"


def run_owner(path: str | os.PathLike) -> str | None:
    """The command whose run ``path`` holds (:data:`OWNER_FILE`), or None."""
    try:
        return (Path(path) / OWNER_FILE).read_text(encoding="utf-8").strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def check_owner(path: str | os.PathLike, command: str) -> None:
    """``ConfigError`` if ``path`` holds the run of another command than ``command``: two
    commands' files (two ``summary.json``, two reports) are never mixed in one directory."""
    owner = run_owner(path)
    if owner is not None and owner != command:
        raise ConfigError(
            f"--out {path} holds a run of '{owner}', not of '{command}'; give another --out "
            "(or remove that directory) so the two runs are not mixed"
        )


def claim(path: str | os.PathLike, command: str) -> None:
    """Mark ``path`` as holding a run of ``command`` (after :func:`check_owner`)."""
    check_owner(path, command)
    if run_owner(path) is None:
        atomic_write_text(Path(path) / OWNER_FILE, command + "\n")


def default_out_dir(command: str, base: str | os.PathLike = "gdlab-runs") -> Path:
    """``./gdlab-runs/<command>-<YYYYmmdd-HHMMSS>`` (UTC), made unique with a counter."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = Path(base) / f"{command}-{stamp}"
    n = 1
    while path.exists():
        n += 1
        path = Path(base) / f"{command}-{stamp}-{n}"
    return path


def format_value(value: Any) -> str:
    """A CSV cell: floats in shortest round-trip form, ``nan``/``inf``, ``""`` for None."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON values: numpy scalars and arrays unwrapped, non-finite floats as None."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [to_jsonable(v) for v in (obj.tolist() if isinstance(obj, np.ndarray) else obj)]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    def cell(v: Any) -> str:
        s = format_value(v)
        if any(c in s for c in ',"\n'):
            s = '"' + s.replace('"', '""') + '"'
        return s

    buf = io.StringIO()
    buf.write(",".join(columns) + "\n")
    for row in rows:
        buf.write(",".join(cell(row.get(c)) for c in columns) + "\n")
    return buf.getvalue()


def _columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for row in rows:
        for k in row:
            cols.setdefault(k, None)
    return list(cols)


class RunDir:
    """A directory that a run writes into; every method writes one file atomically.

    Args:
        path: the directory; created with its parents. Raises ``RunDirError`` naming the path
            when it cannot be created or written.

    Example:
        >>> run = RunDir(tmp_path / "demo")
        >>> run.write_csv("metrics.csv", [{"epoch": 1, "loss": 0.5}])
        >>> sorted(p.name for p in run.files())
        ['metrics.csv']
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=self.path, prefix=".probe-", delete=True)
            probe.close()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise RunDirError(f"cannot write to output directory {self.path}: {reason}") from exc
        self._written: list[Path] = []

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def _record(self, p: Path) -> Path:
        if p not in self._written:
            self._written.append(p)
        return p

    def files(self) -> list[Path]:
        """The files written so far, in order."""
        return list(self._written)

    def write_bytes(self, name: str, data: bytes) -> Path:
        return self._record(atomic_write_bytes(self.path / name, data))

    def write_text(self, name: str, text: str) -> Path:
        return self._record(atomic_write_text(self.path / name, text))

    def write_json(self, name: str, obj: Any) -> Path:
        """Sorted keys, two-space indent, NaN as null: the same object gives the same bytes."""
        text = json.dumps(to_jsonable(obj), indent=2, sort_keys=True, allow_nan=False)
        return self.write_text(name, text + "\n")

    def write_jsonl(self, name: str, rows: Iterable[Mapping[str, Any]]) -> Path:
        lines = [json.dumps(to_jsonable(r), allow_nan=False) for r in rows]
        return self.write_text(name, "".join(line + "\n" for line in lines))

    def write_csv(
        self, name: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None
    ) -> Path:
        """Rows of dicts as CSV; columns in first-seen order unless given."""
        return self.write_text(name, _csv_text(rows, columns or _columns(rows)))

    def write_metrics(
        self, rows: Sequence[Mapping[str, Any]], stem: str = "metrics"
    ) -> tuple[Path, Path]:
        """``<stem>.csv`` and ``<stem>.jsonl`` from the same rows."""
        return self.write_csv(f"{stem}.csv", rows), self.write_jsonl(f"{stem}.jsonl", rows)

    def write_config(self, config: Mapping[str, Any], name: str = "config.toml") -> Path:
        return self.write_text(name, dumps_toml(config))

    def save_figure(self, fig: Any, stem: str, *, svg: bool = True, dpi: int = 110) -> list[Path]:
        """``<stem>.png`` (and ``<stem>.svg``) of a matplotlib figure, written atomically.

        The SVG carries no date and fixed element ids, so it is reproducible too.
        """
        out = []
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        out.append(self.write_bytes(f"{stem}.png", buf.getvalue()))
        # A report embedding this figure reuses these bytes instead of drawing it again.
        with contextlib.suppress(AttributeError):
            fig._gdlab_png = buf.getvalue()
        if svg:
            import matplotlib

            buf = io.BytesIO()
            with matplotlib.rc_context({"svg.hashsalt": "gdlab"}):
                fig.savefig(buf, format="svg", metadata={"Date": None})
            out.append(self.write_bytes(f"{stem}.svg", buf.getvalue()))
        return out
