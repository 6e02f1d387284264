"""Plain-text tables for the terminal: aligned columns, short headers.

The files keep full precision and full column names; these tables are what a person reads.

Example:
    >>> print(format_table([{"optimizer": "adam", "val_loss": 0.0712}]))
    optimizer  val_loss
    ---------  --------
    adam         0.0712
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from gdlab.lab.output.report import format_cell

__all__ = ["MIN_TEXT", "SHORT_HEADERS", "WIDTH", "format_table", "short_table"]

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
#: A text column is wrapped down to this width, no narrower, before the table is split.
MIN_TEXT = 24
_GAP = "  "


def format_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, width: int = WIDTH
) -> str:
    """A plain-text table for the terminal: text columns left-aligned, numbers right-aligned.

    A table wider than ``width`` is fitted: first its widest text columns are wrapped (a cell
    takes several lines, down to ``MIN_TEXT`` characters wide); if it is still too wide, the
    columns continue in further blocks below, each repeating the first column so a row can
    still be read. The files keep every digit and every character.
    """
    cols = list(columns or dict.fromkeys(k for r in rows for k in r))
    if not cols:
        return ""
    cells = [[format_cell(r.get(c)) for c in cols] for r in rows]
    left = [all(isinstance(r.get(c), str | None) for r in rows) for c in cols]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(cols)]
    _narrow_text(widths, left, width)
    widths[0] = min(widths[0], width // 2 if len(cols) > 1 else width)  # it repeats in blocks
    parts = []
    for block in _blocks(widths, width):
        idx = [0, *block] if block[0] != 0 else block
        parts.append(_render([cols[i] for i in idx], [[r[i] for i in idx] for r in cells],
                             [widths[i] for i in idx], [left[i] for i in idx]))  # fmt: skip
    return "\n\n".join(parts)


def _total(widths: Sequence[int]) -> int:
    return sum(widths) + len(_GAP) * (len(widths) - 1)


def _narrow_text(widths: list[int], left: Sequence[bool], width: int) -> None:
    """Narrow the widest text columns (in place), one character at a time, until the table
    fits or every text column is ``MIN_TEXT`` wide."""
    while _total(widths) > width:
        wide = [i for i, lf in enumerate(left) if lf and widths[i] > MIN_TEXT]
        if not wide:
            return
        i = max(wide, key=lambda j: widths[j])
        widths[i] -= 1


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


def _lines(text: str, width: int) -> list[str]:
    """A cell as the lines it takes at ``width`` (words kept whole where they fit)."""
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def _render(
    cols: Sequence[str], cells: Sequence[Sequence[str]], widths: Sequence[int], left: Sequence[bool]
) -> str:
    def row_lines(values: Sequence[str]) -> list[str]:
        wrapped = [_lines(v, w) for v, w in zip(values, widths, strict=True)]
        out = []
        for k in range(max(map(len, wrapped))):
            parts = zip(wrapped, widths, left, strict=True)
            line = _GAP.join(
                (ls[k] if k < len(ls) else "").ljust(w)
                if lf
                else (ls[k] if k < len(ls) else "").rjust(w)
                for ls, w, lf in parts
            )
            out.append(line.rstrip())
        return out

    head = row_lines(cols)
    rule = _GAP.join("-" * w for w in widths).rstrip()
    return "\n".join([*head, rule, *(line for row in cells for line in row_lines(row))])
