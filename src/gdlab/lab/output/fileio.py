"""Atomic file writes for the lab, and deterministic figure saving.

A reader (or a crash) never sees a half-written CSV, JSON, PNG or GIF: every file goes through
``gdlab._atomic`` (a temporary file beside the target, fsynced, then ``os.replace``). Figures
are saved without run-dependent metadata, so the same figure gives the same bytes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# The one atomic-write routine lives in the core; the lab re-exports it under its old names.
from gdlab._atomic import atomic_path, atomic_write_bytes, atomic_write_text

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "save_figure"]


def save_figure(
    fig: Any, path: str | os.PathLike, *, small: bool = True, **savefig_kwargs: Any
) -> Path:
    """Save a matplotlib Figure atomically; the format follows the suffix (.png, .svg, .pdf).

    Metadata that changes between runs (version and date stamps) is dropped so the same
    figure gives the same bytes. With ``small`` a PNG is re-encoded with an adaptive
    256-colour palette (line art loses nothing visible; the file shrinks about 3x).
    """
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower() or "png"
    kwargs = {"dpi": 100, "bbox_inches": "tight"} | savefig_kwargs
    if fmt == "png":
        kwargs.setdefault("metadata", {"Software": None})
    elif fmt == "svg":
        kwargs.setdefault("metadata", {"Date": None})
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=fmt, **kwargs)
        if fmt == "png" and small:
            _quantize_png(tmp)
    return target


def _quantize_png(path: Path) -> None:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow comes with matplotlib
        return
    with Image.open(path) as im:
        im = im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    im.save(path, format="PNG", optimize=True)
