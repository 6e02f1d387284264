"""Atomic file writes for the lab: write a temporary file next to the target, then rename.

A reader (or a crash) never sees a half-written CSV, JSON, PNG or GIF: ``os.replace`` is
atomic on POSIX and Windows when source and target are on the same file system.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "save_figure"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# What open() would give; mkstemp makes 0600 files. Read once: os.umask is process-wide state.
_FILE_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path (same directory, same suffix) that becomes ``path`` on success.

    For writers that want a file name (``fig.savefig``, GIF writers). On an exception the
    temporary file is removed and ``path`` is left untouched.

    Example:
        >>> with atomic_path("out.png") as tmp:
        ...     fig.savefig(tmp)
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                                dir=target.parent)  # fmt: skip
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, _FILE_MODE)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (flushed to disk before the rename); return it."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` newlines on every platform) atomically; return the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


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
