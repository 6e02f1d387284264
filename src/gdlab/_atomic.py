"""Atomic file writes: write a temporary file beside the target, fsync it, then rename it over.

A reader (or a crash) never sees a half-written file: ``os.replace`` is atomic on POSIX and
Windows when source and target are on the same file system, which a temporary file in the
target's own directory guarantees. On any error (``KeyboardInterrupt`` included) the temporary
file is removed and the target is left as it was. Every module that writes a file a user cares
about (``gdlab.save``, data caches, histories, lab outputs) goes through here.

Temporary names are ``.<stem>.<random>.tmp<suffix>``: hidden, and ending in the target's
suffix so writers that pick a format from the name (``fig.savefig``, GIF writers) still can.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_open",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "fsync_dir",
    "synced_open",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# What open() would give; mkstemp makes 0600 files. Read once: os.umask is process-wide state.
_FILE_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def _temp_beside(path: str | os.PathLike) -> Iterator[tuple[Path, Path]]:
    """(target, temporary path beside it); the temporary file is removed on the way out."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                                dir=target.parent)  # fmt: skip
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, _FILE_MODE)
        yield target, tmp
    finally:
        with contextlib.suppress(OSError):  # already renamed on success
            tmp.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)  # Windows needs write access to flush a file
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike) -> None:
    """Flush a directory's entries (a rename into it) to disk; a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # directories cannot be fsynced on some platforms
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def synced_open(path: str | os.PathLike, mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open(path, mode)`` that flushes the file to disk (fsync) when the block succeeds.

    Not atomic by itself: for files inside a directory that is renamed into place as a whole
    (checkpoints). Text mode defaults to UTF-8 with ``\\n`` newlines on every platform.
    """
    if "b" not in mode:
        kwargs = {"encoding": "utf-8", "newline": "\n"} | kwargs
    with open(path, mode, **kwargs) as f:
        yield f
        f.flush()
        os.fsync(f.fileno())


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """A file object whose contents become ``path`` (fsynced, renamed) when the block succeeds.

    For streamed writers (``np.savez``, zip files, downloads). On an exception the temporary
    file is removed and ``path`` is untouched.

    Example:
        >>> with atomic_open("cache.npz") as f:
        ...     np.savez(f, x=x)
    """
    if not mode.startswith("w"):
        raise ValueError(f"atomic_open: mode must be a write mode ('w', 'wb'), got {mode!r}")
    with _temp_beside(path) as (target, tmp):
        with synced_open(tmp, mode, **kwargs) as f:
            yield f
        os.replace(tmp, target)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path (same directory, same suffix) that becomes ``path`` on success.

    For writers that want a file name (``fig.savefig``, GIF writers): the file they leave at the
    temporary path is fsynced and renamed over ``path``. On an exception it is removed and
    ``path`` is left untouched.

    Example:
        >>> with atomic_path("out.png") as tmp:
        ...     fig.savefig(tmp)
    """
    with _temp_beside(path) as (target, tmp):
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, target)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (flushed to disk before the rename); return it."""
    with atomic_open(path) as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` newlines on every platform) atomically; return the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))
