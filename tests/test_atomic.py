"""gdlab._atomic: the one atomic-write routine (temp file beside the target, fsync, rename)."""

from __future__ import annotations

import os

import pytest

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
