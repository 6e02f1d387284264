"""Explicit, verified, atomic downloads into the cache directory.

A file is fetched only with ``download=True``, from the first mirror that answers, streamed
into a temporary file while its SHA-256 is computed, and renamed into place only if the
checksum matches the published one; a mismatching or partial file is deleted. Uses
``urllib`` from the standard library.
"""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from gdlab.datasets._io import atomic_writer

__all__ = ["ChecksumError", "fetch", "sha256sum"]

_CHUNK = 1 << 20
_TIMEOUT = 60  # seconds per connection attempt


class ChecksumError(OSError):
    """A file's SHA-256 differs from the published value."""


def sha256sum(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _checksum_message(name: str, got: str, want: str) -> str:
    # scikit-learn's _fetch_remote wording
    return (
        f"{name} has an SHA256 checksum ({got}) differing from expected ({want}), "
        "file may be corrupted."
    )


def _download_one(url: str, path: Path, sha256: str) -> None:
    """Stream ``url`` into ``path`` atomically; raise ChecksumError (file discarded) on mismatch."""
    h = hashlib.sha256()
    with atomic_writer(path) as out, urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
        while chunk := response.read(_CHUNK):
            h.update(chunk)
            out.write(chunk)
        got = h.hexdigest()
        if got != sha256:
            # raising inside atomic_writer deletes the temporary file: nothing lands at `path`
            raise ChecksumError(_checksum_message(path.name, got, sha256))


def fetch(
    filename: str,
    *,
    mirrors: Sequence[str],
    sha256: str,
    folder: Path,
    download: bool,
) -> Path:
    """The verified local path of ``filename``, downloading it into ``folder`` if allowed.

    An existing file is checked against ``sha256`` too (a corrupt cache raises, naming the file
    to delete).

    Args:
        filename: file name on the mirrors and in the cache.
        mirrors: base URLs (ending in "/"), tried in order.
        sha256: published SHA-256 of the file.
        folder: cache folder for this data set.
        download: fetch the file when it is missing.

    Raises:
        RuntimeError: the file is missing and ``download=False`` (torchvision's message).
        ChecksumError: the file (existing or downloaded) has the wrong SHA-256.
        OSError: no mirror could be reached; the message names the URLs and the cache path.
    """
    path = folder / filename
    if path.exists():
        got = sha256sum(path)
        if got != sha256:
            raise ChecksumError(
                f"{_checksum_message(str(path), got, sha256)} Delete it and download it again."
            )
        return path
    if not download:
        raise RuntimeError(
            f"Dataset not found. You can use download=True to download it (expected {path})"
        )
    errors = []
    for base in mirrors:
        url = base + filename
        try:
            _download_one(url, path, sha256)
            return path
        except OSError as e:  # ChecksumError, URLError, HTTPError, timeouts: try the next
            errors.append(f"{url}: {e}")
    tried = "\n  ".join(errors)
    raise OSError(
        f"could not download {filename} into {path}. Tried:\n  {tried}\n"
        f"If this machine is offline, download the file by hand into {folder}, or pass "
        "data_dir=... (or set GDLAB_DATA) to a directory that already holds it."
    )
