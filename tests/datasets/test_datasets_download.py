"""IDX and CIFAR-10 binary readers, verified atomic downloads, offline errors (no network).

The tests write small files in the real formats into tmp_path and replace ``urlopen`` by a
fake that serves bytes or fails, so nothing touches the network.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from gdlab import datasets
from gdlab.datasets import download, vision
from gdlab.datasets.readers import parse_idx, read_cifar10_binary, read_idx, write_idx

RNG = np.random.default_rng(0)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ IDX
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    arr = (RNG.normal(size=(4, 3, 2)) * 50).astype(dtype)
    write_idx(tmp_path / name, arr)
    got = read_idx(tmp_path / name)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative and np.array_equal(got, arr)


def test_idx_header_is_the_published_format(tmp_path):
    """Hand-built bytes: magic 0x00000803 then big-endian sizes (as train-images-idx3)."""
    pixels = np.arange(2 * 2 * 3, dtype=np.uint8)
    raw = bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") + (2).to_bytes(4, "big")
    raw += (3).to_bytes(4, "big") + pixels.tobytes()
    (tmp_path / "x.gz").write_bytes(gzip.compress(raw))
    assert np.array_equal(read_idx(tmp_path / "x.gz"), pixels.reshape(2, 2, 3))


@pytest.mark.parametrize(
    "raw, msg",
    [
        (b"\x01\x02\x08\x01", "not an IDX file"),
        (bytes([0, 0, 0x42, 1]) + (1).to_bytes(4, "big") + b"\x00", "unknown IDX data type 0x42"),
        (bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + b"\x00\x01", "truncated or corrupt"),
    ],
)
def test_idx_errors(raw, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        parse_idx(raw, "f")


# ------------------------------------------------------------------ CIFAR-10 binary
def _cifar_records(n: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    images = RNG.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    labels = RNG.integers(0, 10, size=n).astype(np.uint8)
    raw = b"".join(bytes([labels[i]]) + images[i].tobytes() for i in range(n))
    return raw, images, labels


def test_cifar_binary_reader(tmp_path):
    raw, images, labels = _cifar_records(5)
    (tmp_path / "b1.bin").write_bytes(raw[: 2 * 3073])
    (tmp_path / "b2.bin").write_bytes(raw[2 * 3073 :])
    X, y = read_cifar10_binary([tmp_path / "b1.bin", tmp_path / "b2.bin"])
    assert X.shape == (5, 3, 32, 32) and np.array_equal(X, images) and y.tolist() == labels.tolist()
    (tmp_path / "bad.bin").write_bytes(raw[:-1])
    with pytest.raises(ValueError, match="not a whole number of CIFAR-10 records"):
        read_cifar10_binary([tmp_path / "bad.bin"])


def _cifar_tar(path: Path) -> tuple[np.ndarray, np.ndarray]:
    members = {f"data_batch_{i}.bin": _cifar_records(2) for i in range(1, 6)}
    members["test_batch.bin"] = _cifar_records(3)
    with tarfile.open(path, "w:gz") as tar:
        files = {k: v[0] for k, v in members.items()}
        files["batches.meta.txt"] = (
            b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"
        )
        for name, data in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    train = [members[f"data_batch_{i}.bin"] for i in range(1, 6)]
    return np.concatenate([t[1] for t in train]), members["test_batch.bin"][2]


def test_load_cifar10_from_a_binary_archive(tmp_path, monkeypatch):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    X_train, y_test = _cifar_tar(folder / "cifar-10-binary.tar.gz")
    sha = download.sha256sum(folder / "cifar-10-binary.tar.gz")
    monkeypatch.setitem(vision.CIFAR10, "sha256", sha)
    ds = datasets.load("cifar10", data_dir=tmp_path)
    assert ds.X_train.shape == (10, 3, 32, 32) and ds.X_test.shape == (3, 3, 32, 32)
    np.testing.assert_allclose(ds.X_train * 255, X_train, atol=1e-4)
    assert ds.y_test.tolist() == y_test.tolist() and ds.target_names[-1] == "truck"
    assert datasets.load("cifar10", data_dir=tmp_path, flatten=True).X_train.shape == (10, 3072)


# ------------------------------------------------------------------ fetch
class _FakeURL:
    """``urlopen`` replacement: serves ``files[url]`` or raises ``errors[url]``."""

    def __init__(self, files: dict[str, bytes], errors: dict[str, Exception] | None = None):
        self.files, self.errors, self.calls = files, errors or {}, []

    def __call__(self, url: str, timeout: float | None = None):
        self.calls.append(url)
        if url in self.errors:
            raise self.errors[url]
        if url not in self.files:
            raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
        return io.BytesIO(self.files[url])


def _fetch(tmp_path, payload_sha, download_=True, mirrors=("https://a/", "https://b/")):
    return download.fetch(
        "f.gz", mirrors=mirrors, sha256=payload_sha, folder=tmp_path / "set", download=download_
    )


def test_fetch_downloads_verifies_and_renames(tmp_path, monkeypatch):
    payload = b"some bytes" * 1000
    fake = _FakeURL({"https://b/f.gz": payload})
    monkeypatch.setattr(download.urllib.request, "urlopen", fake)
    path = _fetch(tmp_path, _sha(payload))
    assert path.read_bytes() == payload and fake.calls == ["https://a/f.gz", "https://b/f.gz"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.gz"]  # no temp file left
    fake.calls.clear()
    assert _fetch(tmp_path, _sha(payload)) == path and fake.calls == []  # cached, verified


def test_checksum_mismatch_deletes_the_download(tmp_path, monkeypatch):
    payload = b"corrupted download"
    monkeypatch.setattr(download.urllib.request, "urlopen", _FakeURL({"https://a/f.gz": payload}))
    want = "0" * 64
    msg = (
        f"f.gz has an SHA256 checksum ({_sha(payload)}) differing from expected ({want}), "
        "file may be corrupted."
    )
    with pytest.raises(OSError, match=re.escape(msg)):
        _fetch(tmp_path, want, mirrors=("https://a/",))
    assert list((tmp_path / "set").iterdir()) == []  # neither f.gz nor a partial file


def test_interrupted_download_leaves_nothing(tmp_path, monkeypatch):
    class Broken(io.BytesIO):
        def read(self, n=-1):
            raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(download.urllib.request, "urlopen", lambda url, timeout=None: Broken())
    with pytest.raises(OSError, match="connection reset by peer"):
        _fetch(tmp_path, "0" * 64, mirrors=("https://a/",))
    assert list((tmp_path / "set").iterdir()) == []


def test_existing_corrupt_file_is_reported(tmp_path):
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "f.gz").write_bytes(b"truncated")
    with pytest.raises(download.ChecksumError, match="differing from expected .* Delete it"):
        _fetch(tmp_path, "0" * 64)


def test_offline_error_names_urls_and_cache_path(tmp_path, monkeypatch):
    monkeypatch.setattr(download.urllib.request, "urlopen", _FakeURL({}))
    with pytest.raises(OSError) as info:
        _fetch(tmp_path, "0" * 64)
    text = str(info.value)
    for part in ("https://a/f.gz", "https://b/f.gz", str(tmp_path / "set" / "f.gz"), "data_dir"):
        assert part in text


def test_not_downloaded_without_download_true(tmp_path, monkeypatch):
    fake = _FakeURL({})
    monkeypatch.setattr(download.urllib.request, "urlopen", fake)
    msg = "Dataset not found. You can use download=True to download it"
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        datasets.load("mnist", data_dir=tmp_path)
    assert fake.calls == []


def test_mnist_end_to_end_with_a_fake_mirror(tmp_path, monkeypatch):
    """download=True through the real loader: 4 small IDX files served by a fake mirror."""
    arrays = {
        "train-images-idx3-ubyte.gz": RNG.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.arange(6, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": RNG.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.array([3, 9], dtype=np.uint8),
    }
    served, table = {}, {}
    for name, arr in arrays.items():
        write_idx(tmp_path / name, arr)
        data = (tmp_path / name).read_bytes()
        served[vision.IDX_SETS["kmnist"]["mirrors"][0] + name] = data
        table[name] = _sha(data)
    monkeypatch.setitem(vision.IDX_SETS["kmnist"], "sha256", table)
    monkeypatch.setattr(download.urllib.request, "urlopen", _FakeURL(served))
    ds = datasets.load("kmnist", data_dir=tmp_path / "cache", download=True, flatten=True)
    assert ds.X_train.shape == (6, 784) and ds.X_train.dtype == np.float32
    assert ds.X_train.max() <= 1.0 and ds.y_test.tolist() == [3, 9] and ds.y_test.dtype == np.int64
    np.testing.assert_allclose(
        ds.X_test * 255, arrays["t10k-images-idx3-ubyte.gz"].reshape(2, -1), atol=1e-4
    )


def test_published_checksum_table_is_complete():
    for name, spec in vision.IDX_SETS.items():
        assert len(spec["sha256"]) == 4 and spec["mirrors"], name
        assert all(re.fullmatch("[0-9a-f]{64}", s) for s in spec["sha256"].values())
    assert re.fullmatch("[0-9a-f]{64}", vision.CIFAR10["sha256"])
