"""gdlab._atomic: the one atomic-write routine (temp file beside the target, fsync, rename)."""

from __future__ import annotations

import errno
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gdlab._atomic
from gdlab._atomic import atomic_open, atomic_path, atomic_write_bytes, atomic_write_text


def _via_bytes(path, data):
    atomic_write_bytes(path, data)


def _via_open(path, data):
    with atomic_open(path) as f:
        f.write(data)


def _via_path(path, data):
    with atomic_path(path) as tmp:
        assert tmp.parent == path.parent and tmp.name.endswith(path.suffix)  # format by suffix
        tmp.write_bytes(data)


WRITERS = [_via_bytes, _via_open, _via_path]


@pytest.mark.parametrize("write", WRITERS, ids=lambda w: w.__name__)
def test_writes_an_ordinary_file_in_new_directories(write, tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    target = tmp_path / "a" / "b" / "x.png"
    write(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    assert os.listdir(target.parent) == ["x.png"]


@pytest.mark.parametrize("write", WRITERS, ids=lambda w: w.__name__)
@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()], ids=repr)
def test_failed_rename_keeps_the_old_file_and_no_temp(write, error, tmp_path, monkeypatch):
    target = tmp_path / "m.csv"
    atomic_write_text(target, "old\n")

    def boom(*args):
        raise error

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(type(error)):
        write(target, b"new\n")
    assert target.read_text() == "old\n" and os.listdir(tmp_path) == ["m.csv"]


def test_text_is_utf8_with_unix_newlines(tmp_path):
    target = atomic_write_text(tmp_path / "t.txt", "é\n")
    assert target.read_bytes() == "é\n".encode()


def test_atomic_open_refuses_read_modes(tmp_path):
    with pytest.raises(ValueError, match="atomic_open: mode must be a write mode"):
        with atomic_open(tmp_path / "x", "rb"):
            pass


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("write", WRITERS, ids=lambda w: w.__name__)
def test_resaving_keeps_the_file_mode(write, tmp_path):
    # issue 14.13: re-saving over a 0600 file left it 0644
    target = tmp_path / "secret.npz"
    target.write_bytes(b"old")
    target.chmod(0o600)
    write(target, b"new")
    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o600


def test_the_umask_is_never_changed(tmp_path, monkeypatch):
    # issue 14.13: os.umask(0) at import was a race for other threads creating files
    umask = os.umask(0o022)
    os.umask(umask)

    def no_umask(*args):
        raise AssertionError("os.umask called")

    monkeypatch.setattr(os, "umask", no_umask)
    importlib.reload(gdlab._atomic)
    gdlab._atomic.atomic_write_bytes(tmp_path / "x.bin", b"1")
    assert (tmp_path / "x.bin").stat().st_mode & 0o777 == 0o666 & ~umask


def test_clean_temporaries_removes_only_dead_writers_files(tmp_path):
    # issue 14.12: hidden temporaries of killed writes were never cleaned
    dead = tmp_path / f".metrics.{_dead_pid()}-0123abcd.tmp.csv"
    live = tmp_path / f".metrics.{os.getpid()}-89abcdef.tmp.csv"
    other = tmp_path / ".metrics.notours.tmp.csv"
    for p in (dead, live, other):
        p.write_text("partial")
    assert gdlab._atomic.clean_temporaries(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])


def test_the_temporary_is_named_for_its_writer(tmp_path, monkeypatch):
    seen = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (seen.append(Path(a).name), real(a, b)))
    atomic_write_text(tmp_path / "m.csv", "x\n")
    assert seen and seen[0].startswith(f".m.{os.getpid()}-") and seen[0].endswith(".tmp.csv")


@pytest.mark.parametrize("write", WRITERS, ids=lambda w: w.__name__)
def test_a_full_disk_names_the_file_being_written(write, tmp_path, monkeypatch):
    # issue 14.11: ENOSPC surfaced as "[Errno 28] No space left on device" with no path
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "metrics.csv"
    with pytest.raises(OSError, match=f"No space left on device while writing {target}") as info:
        write(target, b"x")
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert os.listdir(tmp_path) == []
