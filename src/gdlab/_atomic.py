"""Atomic file writes: write a temporary file beside the target, fsync it, then rename it over.

A reader (or a crash) never sees a half-written file: ``os.replace`` is atomic on POSIX and
Windows when source and target are on the same file system, which a temporary file in the
target's own directory guarantees. On any error (``KeyboardInterrupt`` included) the temporary
file is removed and the target is left as it was. Every module that writes a file a user cares
about (``gdlab.save``, data caches, histories, lab outputs) goes through here.

Temporary names are ``.<stem>.<pid>-<random>.tmp<suffix>``: hidden, ending in the target's
suffix so writers that pick a format from the name (``fig.savefig``, GIF writers) still can,
and carrying the writer's process id, so :func:`clean_temporaries` removes the leftovers of
killed writers and never a live process's file. The temporary file is created with mode 0666
and the process umask applied by the kernel (the umask is never changed, not even briefly);
re-saving over an existing file keeps that file's permission bits.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_open",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "clean_temporaries",
    "fsync_dir",
    "naming",
    "pid_alive",
    "synced_open",
]


_TEMP_NAME = re.compile(r"^\..*\.(\d+)-[0-9a-f]{8}\.tmp[^/]*$")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _create_temp(target: Path) -> Path:
    """A new empty file beside ``target``: O_EXCL (never an existing file or link), mode 0666
    minus the umask (what ``open`` gives), or ``target``'s own mode when it exists."""
    try:
        mode: int | None = stat.S_IMODE(os.stat(target, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        mode = None
    for _ in range(100):
        name = f".{target.stem}.{os.getpid()}-{secrets.token_hex(4)}.tmp{target.suffix}"
        tmp = target.parent / name
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        if mode is not None:
            os.chmod(tmp, mode)
        return tmp
    raise FileExistsError(f"atomic write: no free temporary name beside {target}")


@contextlib.contextmanager
def naming(path: str | os.PathLike) -> Iterator[None]:
    """Re-raise an ``OSError`` that names no file (a full disk fails in ``write`` or ``fsync``,
    which know no path) with ``path`` in its message and ``filename``."""
    try:
        yield
    except OSError as e:
        if e.filename is not None or e.errno is None:
            raise
        raise type(e)(e.errno, f"{e.strerror} while writing {path}", str(path)) from e


@contextlib.contextmanager
def _temp_beside(path: str | os.PathLike) -> Iterator[tuple[Path, Path]]:
    """(target, temporary path beside it); the temporary file is removed on the way out."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temp(target)
    try:
        yield target, tmp
    finally:
        with contextlib.suppress(OSError):  # already renamed on success
            tmp.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (it may belong to another user)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that killed writers left in ``directory``; return them.

    Only files named by this module (``.<stem>.<pid>-<random>.tmp<suffix>``) whose process is
    gone are removed: a live writer's temporary file (another thread, another process) is
    kept, and nothing else is touched.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = []
    for entry in os.scandir(directory):
        m = _TEMP_NAME.match(entry.name)
        if m and entry.is_file(follow_symlinks=False) and not pid_alive(int(m.group(1))):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return sorted(removed)


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
    with _temp_beside(path) as (target, tmp), naming(target):
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
    with _temp_beside(path) as (target, tmp), naming(target):
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
