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

__all__ = ["SHORT_HEADERS", "WIDTH", "format_table", "short_table"]

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


#: Terminal width the tables are fitted to.
WIDTH = 100
_GAP = "  "


def format_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, width: int = WIDTH
) -> str:
    """A plain-text table for the terminal: text columns left-aligned, numbers right-aligned.

    A table wider than ``width`` is wrapped: the columns continue in further blocks below,
    each repeating the first column so a row can still be read; a text cell too long for any
    block is shortened with "…". The files keep every digit and every character.
    """
    cols = list(columns or dict.fromkeys(k for r in rows for k in r))
    if not cols:
        return ""
    cells = [[format_cell(r.get(c)) for c in cols] for r in rows]
    left = [all(isinstance(r.get(c), str | None) for r in rows) for c in cols]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(cols)]
    if len(cols) > 1 and sum(widths) + len(_GAP) * (len(cols) - 1) > width:
        _fit(cols, cells, widths, 0, max(width // 3, 8))  # the key column repeats in blocks
    room = max(width - (widths[0] + len(_GAP)), 8) if len(cols) > 1 else width
    for i in range(1 if len(cols) > 1 else 0, len(cols)):
        _fit(cols, cells, widths, i, room)  # only text is this long: numbers have 4 digits
    blocks = _blocks(widths, width)
    parts = []
    for block in blocks:
        idx = [0, *block] if block[0] != 0 else block
        parts.append(_render([cols[i] for i in idx], [[r[i] for i in idx] for r in cells],
                             [widths[i] for i in idx], [left[i] for i in idx]))  # fmt: skip
    return "\n\n".join(parts)


def _fit(cols: list[str], cells: list[list[str]], widths: list[int], i: int, room: int) -> None:
    """Shorten column ``i`` (header and cells, in place) to at most ``room`` characters."""
    if widths[i] > room:
        for row in cells:
            row[i] = _shorten(row[i], room)
        cols[i], widths[i] = _shorten(cols[i], room), room


def _shorten(text: str, room: int) -> str:
    return text if len(text) <= room else text[: room - 1] + "…"


def _blocks(widths: Sequence[int], width: int) -> list[list[int]]:
    """Column indices per block: the first block starts with column 0, later ones repeat it."""
    blocks: list[list[int]] = [[0]]
    used = widths[0]
    for i in range(1, len(widths)):
        if used + len(_GAP) + widths[i] > width and len(blocks[-1]) > (len(blocks) == 1):
            blocks.append([])
            used = widths[0]
        blocks[-1].append(i)
        used += len(_GAP) + widths[i]
    return blocks


def _render(
    cols: Sequence[str], cells: Sequence[Sequence[str]], widths: Sequence[int], left: Sequence[bool]
) -> str:
    def line(values: Sequence[str]) -> str:
        parts = zip(values, widths, left, strict=True)
        return _GAP.join(v.ljust(w) if lf else v.rjust(w) for v, w, lf in parts).rstrip()

    return "\n".join([line(cols), line(["-" * w for w in widths]), *map(line, cells)])
