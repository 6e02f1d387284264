"""Plain-text tables for the terminal: aligned columns, short headers.

The files keep full precision and full column names; these tables are what a person reads.

Example:
    >>> print(format_table([{"optimizer": "adam", "val_loss": 0.0712}]))
    optimizer  val_loss
    ---------  --------
    adam         0.0712
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gdlab.lab.output.report import format_cell

__all__ = ["SHORT_HEADERS", "format_table", "short_table"]

SHORT_HEADERS = {
    "train_loss": "train loss", "val_loss": "val loss", "val_acc": "val acc",
    "test_acc": "test acc", "steps_to_target": "steps@target",
    "samples_to_target": "samples@target", "time_to_target_s": "s@target", "time_s": "time (s)",
}  # fmt: skip


def short_table(
    table: Sequence[dict[str, Any]], several: bool, drop: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The results table with short headers, without the data set column when there is one."""
    gone = set(drop) | (set() if several else {"dataset"})
    return [{SHORT_HEADERS.get(k, k): v for k, v in r.items() if k not in gone} for r in table]


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain-text table for the terminal: text columns left-aligned, numbers right-aligned."""
    cols = list(columns or dict.fromkeys(k for r in rows for k in r))
    cells = [[format_cell(r.get(c)) for c in cols] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(cols)]
    left = [all(isinstance(r.get(c), str | None) for r in rows) for c in cols]

    def line(values: Sequence[str]) -> str:
        parts = zip(values, widths, left, strict=True)
        return "  ".join(v.ljust(w) if lf else v.rjust(w) for v, w, lf in parts).rstrip()

    return "\n".join([line(cols), line(["-" * w for w in widths]), *map(line, cells)])
