"""An exclusive lock on a run directory, so two processes never write one run at once.

The lock is the file ``<run_dir>/.gdlab.lock`` holding the owner's process id, removed on
release. Where the platform has ``fcntl`` it is an ``flock`` on that file: the kernel releases
it when the owner exits, however it exits, so a lock left by a killed process is never in the
way (a lock taken on a file that was meanwhile unlinked is retried). Elsewhere the file is
created with ``O_EXCL`` and a lock whose process id no longer exists is stale and taken over.
The lock is re-entrant within one process (``gdlab train`` holds it, then ``fit`` asks again):
the held locks are counted in :data:`_HELD`, this module's only state.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from gdlab._atomic import pid_alive

__all__ = ["LOCK_NAME", "RunDirLocked", "RunLock"]

LOCK_NAME = ".gdlab.lock"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

try:
    import fcntl
except ImportError:  # Windows: the O_EXCL lock file
    fcntl = None  # type: ignore[assignment]

# resolved lock path -> (file descriptor, count): re-entrant locking within this process
_HELD: dict[Path, tuple[int, int]] = {}


class RunDirLocked(RuntimeError):
    """Another live process holds the run directory's lock."""

    def __init__(self, run_dir: Path, pid: int | None) -> None:
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"{run_dir} is in use by {who} (lock file {run_dir / LOCK_NAME}); wait for it to "
            "finish, or write this run to another directory"
        )
        self.run_dir, self.pid = run_dir, pid


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


class RunLock:
    """``with RunLock(run_dir): ...`` holds ``run_dir`` for this process (see the module).

    Raises:
        RunDirLocked: another live process holds it; the message names that process.
    """

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_NAME

    def _key(self) -> Path:
        return self.path.resolve()

    def acquire(self) -> RunLock:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        key = self._key()
        if key in _HELD:
            fd, count = _HELD[key]
            _HELD[key] = (fd, count + 1)
            return self
        fd = self._lock_flock() if fcntl is not None else self._lock_exclusive()
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        _HELD[key] = (fd, 1)
        return self

    def _lock_flock(self) -> int:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _read_pid(fd)
                os.close(fd)
                raise RunDirLocked(self.run_dir, pid) from None
            try:  # the owner before us may have unlinked the file we locked: lock the new one
                same = os.path.samestat(os.fstat(fd), os.stat(self.path, follow_symlinks=False))
            except FileNotFoundError:
                same = False
            if same:
                return fd
            os.close(fd)

    def _lock_exclusive(self) -> int:
        for _ in range(2):
            try:
                return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
            except FileExistsError:
                fd = os.open(self.path, os.O_RDONLY | _NOFOLLOW)
                try:
                    pid = _read_pid(fd)
                finally:
                    os.close(fd)
                if pid is not None and pid_alive(pid):
                    raise RunDirLocked(self.run_dir, pid) from None
                self.path.unlink(missing_ok=True)  # stale: its process is gone
        raise RunDirLocked(self.run_dir, None)

    def release(self) -> None:
        key = self._key()
        if key not in _HELD:
            return
        fd, count = _HELD[key]
        if count > 1:
            _HELD[key] = (fd, count - 1)
            return
        del _HELD[key]
        self.path.unlink(missing_ok=True)  # while still locked: nobody else holds this inode
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
