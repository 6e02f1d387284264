"""Pure NumPy readers for the IDX format (MNIST family) and CIFAR-10's binary version.

No pickle anywhere: CIFAR-10 is read from its *binary* release (``cifar-10-binary.tar.gz``),
whose records are 1 label byte followed by 3072 pixel bytes, never from the Python release
(pickled batches).
"""

from __future__ import annotations

import gzip
import os
import tarfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["read_cifar10_binary", "read_cifar10_tar", "read_idx", "write_idx"]

# IDX type byte -> big-endian dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT")
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"
CIFAR_RECORD = 1 + 3 * 32 * 32


def _read_bytes(path: str | os.PathLike[str]) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    return gzip.decompress(raw) if raw[:2] == _GZIP_MAGIC else raw


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes: magic (0, 0, type, ndim), ndim big-endian uint32 sizes, the data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{name}: not an IDX file (bad magic number {raw[:4]!r})")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError(f"{name}: unknown IDX data type 0x{type_code:02X}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{name}: IDX header says shape {shape} ({expected} bytes of data) but the file has "
            f"{len(raw) - header} bytes of data; the file is truncated or corrupt"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # native byte order, and a writable copy


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) into a NumPy array.

    Example:
        >>> read_idx("train-labels-idx1-ubyte.gz").shape  # doctest: +SKIP
        (60000,)
    """
    return parse_idx(_read_bytes(path), str(path))


def write_idx(
    path: str | os.PathLike[str], array: np.ndarray, compress: bool | None = None
) -> None:
    """Write ``array`` as an IDX file (gzip if ``compress`` or the name ends in .gz)."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX type code")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    raw = header + array.astype(_IDX_DTYPES[code]).tobytes()
    if compress or (compress is None and str(path).endswith(".gz")):
        raw = gzip.compress(raw)
    Path(path).write_bytes(raw)


def parse_cifar10(raw: bytes, name: str = "<bytes>") -> tuple[np.ndarray, np.ndarray]:
    """Decode CIFAR-10 binary records into images (N, 3, 32, 32) uint8 and labels (N,) int64."""
    if len(raw) % CIFAR_RECORD:
        raise ValueError(
            f"{name}: {len(raw)} bytes is not a whole number of CIFAR-10 records "
            f"({CIFAR_RECORD} bytes each); the file is truncated or corrupt"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, CIFAR_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.size and labels.max() > 9:
        raise ValueError(f"{name}: label {labels.max()} out of range; not a CIFAR-10 file")
    images = records[:, 1:].reshape(-1, 3, 32, 32).copy()  # channel planes R, G, B
    return images, labels


def read_cifar10_binary(
    paths: Sequence[str | os.PathLike[str]],
) -> tuple[np.ndarray, np.ndarray]:
    """Read and concatenate CIFAR-10 binary batch files (``data_batch_1.bin``, ...)."""
    parts = [parse_cifar10(_read_bytes(p), str(p)) for p in paths]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def read_cifar10_tar(
    path: str | os.PathLike[str], members: Sequence[str]
) -> dict[str, tuple[np.ndarray, np.ndarray] | str]:
    """Read the named members of ``cifar-10-binary.tar.gz`` without extracting it.

    ``members`` are base names (``data_batch_1.bin``, ..., ``batches.meta.txt``); ``.bin``
    members are decoded, text members returned as strings. The archive is read in one pass
    and nothing is written to disk (no path-traversal risk).
    """
    wanted = set(members)
    found: dict[str, tuple[np.ndarray, np.ndarray] | str] = {}
    with tarfile.open(path, "r:*") as tar:
        for info in tar:
            base = info.name.rsplit("/", 1)[-1]
            if base not in wanted or not info.isfile():
                continue
            f = tar.extractfile(info)
            raw = f.read() if f is not None else b""
            found[base] = raw.decode() if base.endswith(".txt") else parse_cifar10(raw, info.name)
    missing = wanted - set(found)
    if missing:
        raise ValueError(f"{path}: missing {sorted(missing)}; not the CIFAR-10 binary archive")
    return found
