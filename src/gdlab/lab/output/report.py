"""Self-contained HTML reports: one file with the figures, tables, settings, versions and seed.

Figures are embedded as base64 PNG (``<img src="data:image/png;base64,...">``), so the report
opens anywhere, offline, and can be mailed as one file. No JavaScript, no external CSS or
fonts. Tables mark a diverged run with a red "diverged" cell rather than dropping it.

Example:
    >>> rep = Report("Optimizers on digits", seed=0)
    >>> rep.add_text("Six optimizers, each tuned with the same budget.")
    >>> rep.add_table([{"optimizer": "adam", "val_acc": 0.97}], caption="Final results")
    >>> rep.add_figure(fig, caption="Validation loss against epochs")
    >>> rep.save(run_dir)          # writes report.html atomically
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import gdlab
from gdlab.lab.config import dumps_toml
from gdlab.lab.output.fileio import atomic_write_text
from gdlab.lab.output.rundir import RunDir

__all__ = ["Report", "format_cell", "versions"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 max-width:1280px;margin:2em auto;padding:0 1.2em;color:#1d232b;line-height:1.5;background:#fff}
h1{font-size:1.7em;margin-bottom:.1em}h2{border-bottom:1px solid #d5dae0;padding-bottom:.2em;
 margin-top:1.8em}.sub{color:#5b6570;margin-top:0}
table{border-collapse:collapse;margin:.8em 0 1.2em;font-size:.88em;display:block;
 overflow-x:auto;max-width:100%}
th,td{border:1px solid #d5dae0;padding:.3em .55em;text-align:right}td{white-space:nowrap}
th{background:#eef2f6;text-align:center}td.txt{text-align:left}
tr:nth-child(even) td{background:#f8f9fb}td.bad{color:#b00020;font-weight:600}
td.best{font-weight:700;color:#0b6b2f}caption{caption-side:top;text-align:left;font-weight:600;
 padding:.3em 0}figure{margin:1em 0 1.6em}figure img{max-width:100%;height:auto;
 border:1px solid #e3e7ec}figcaption{color:#5b6570;font-size:.92em}
code,pre{background:#f3f5f7;border-radius:3px}pre{padding:.7em 1em;overflow-x:auto;font-size:.88em}
.meta{color:#5b6570;font-size:.88em}.meta td{text-align:left}
"""


def versions() -> dict[str, str]:
    """Versions of gdlab, NumPy, Python and the platform (plus matplotlib when loaded)."""
    out = {
        "gdlab": gdlab.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    if "matplotlib" in sys.modules:
        out["matplotlib"] = sys.modules["matplotlib"].__version__
    return out


def format_cell(value: Any) -> str:
    """A table cell as text: 4 significant digits for floats, 'diverged' for non-finite."""
    if value is None:
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return "diverged" if math.isnan(v) else ("∞" if v > 0 else "−∞")
        if v.is_integer() and abs(v) < 1e9:
            return str(int(v))
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.3e}"
        return f"{v:.4g}"
    return str(value)


def _figure_png(fig: Any, dpi: int) -> bytes:
    if isinstance(fig, bytes | bytearray):
        return bytes(fig)
    if isinstance(fig, str | os.PathLike):
        return Path(fig).read_bytes()
    cached = getattr(fig, "_gdlab_png", None)  # set by RunDir.save_figure
    if cached is not None:
        return cached
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


@dataclass
class Report:
    """An HTML report built block by block; ``render()`` returns the page, ``save()`` writes it.

    Args:
        title: the page title.
        subtitle: one line under the title (e.g. the command that made it).
        seed: the run's seed, shown in the footer table.
        settings: the resolved configuration, shown as TOML.
    """

    title: str
    subtitle: str = ""
    seed: int | None = None
    settings: Mapping[str, Any] | None = None
    blocks: list[str] = field(default_factory=list)

    def add_heading(self, text: str) -> None:
        self.blocks.append(f"<h2>{html.escape(text)}</h2>")

    def add_text(self, text: str) -> None:
        """A paragraph; `backticks` become code, blank lines separate paragraphs."""
        for para in text.strip().split("\n\n"):
            esc = html.escape(" ".join(para.split()))
            parts = esc.split("`")
            esc = "".join(p if i % 2 == 0 else f"<code>{p}</code>" for i, p in enumerate(parts))
            self.blocks.append(f"<p>{esc}</p>")

    def add_pre(self, text: str) -> None:
        self.blocks.append(f"<pre>{html.escape(text)}</pre>")

    def add_table(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str] | None = None,
        caption: str = "",
        bad: Sequence[bool] | None = None,
    ) -> None:
        """A table of dicts; rows flagged in ``bad`` (e.g. diverged) are marked in red."""
        cols = list(columns or {k: None for r in rows for k in r})
        text_cols = {c for c in cols if all(isinstance(r.get(c), str | None) for r in rows)}
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
        body = []
        for i, row in enumerate(rows):
            flag = bool(bad[i]) if bad is not None else False
            cells = []
            for c in cols:
                text = format_cell(row.get(c))
                names = (["bad"] if flag or text == "diverged" else []) + (
                    ["txt"] if c in text_cols else []
                )
                cls = f' class="{" ".join(names)}"' if names else ""
                cells.append(f"<td{cls}>{html.escape(text)}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self.blocks.append(
            f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )

    def add_figure(self, fig: Any, caption: str = "", dpi: int = 110) -> None:
        """Embed a matplotlib Figure, PNG bytes or a PNG file path as a base64 image."""
        data = base64.b64encode(_figure_png(fig, dpi)).decode("ascii")
        alt = html.escape(caption or "figure")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self.blocks.append(
            f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{cap}</figure>'
        )

    def add_animation(self, path: str | os.PathLike, caption: str = "") -> None:
        """Embed a GIF file (an animation) as a base64 image: the report stays one file."""
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        alt = html.escape(caption or "animation")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self.blocks.append(
            f'<figure><img alt="{alt}" src="data:image/gif;base64,{data}">{cap}</figure>'
        )

    def _footer(self) -> str:
        parts = ["<h2>Settings and versions</h2>"]
        if self.settings:
            parts.append(f"<pre>{html.escape(dumps_toml(self.settings))}</pre>")
        meta = {**versions(), "seed": "–" if self.seed is None else str(self.seed)}
        meta["created"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in meta.items()
        )
        parts.append(f'<table class="meta"><tbody>{rows}</tbody></table>')
        return "\n".join(parts)

    def render(self) -> str:
        """The whole page as one HTML string."""
        sub = f'<p class="sub">{html.escape(self.subtitle)}</p>' if self.subtitle else ""
        body = "\n".join(self.blocks)
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n"
            f"<body>\n<h1>{html.escape(self.title)}</h1>\n{sub}\n{body}\n"
            f"{self._footer()}\n</body>\n</html>\n"
        )

    def save(self, where: Any, name: str = "report.html") -> Path:
        """Write the page atomically into a ``RunDir`` or a directory path; returns the path."""
        if isinstance(where, RunDir):
            return where.write_text(name, self.render())
        path = Path(where)
        target = path / name if path.is_dir() else path
        return atomic_write_text(target, self.render())
