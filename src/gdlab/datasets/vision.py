"""MNIST, Fashion-MNIST, KMNIST and CIFAR-10: explicit download, SHA-256 verified.

Files go to ``<cache>/<name>/`` (cache: ``data_dir=``, ``$GDLAB_DATA`` or ``~/.cache/gdlab``).
The SHA-256 values are the published ones (the same table as torchvision's prototype datasets
and TensorFlow Datasets' checksums); the mirrors are tried in order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gdlab.datasets._bunch import Bunch, cache_dir, presplit
from gdlab.datasets.download import fetch
from gdlab.datasets.readers import read_cifar10_tar, read_idx

__all__ = ["IDX_SETS", "load_cifar10", "load_idx_set"]

_IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")  # fmt: skip

# name -> mirrors, {file: sha256}, class names, description
IDX_SETS: dict[str, dict[str, Any]] = {
    "mnist": {
        "mirrors": (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        "sha256": dict(
            zip(
                _IDX_FILES,
                (
                    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                ),
                strict=True,
            )
        ),  # fmt: skip
        "classes": [str(d) for d in range(10)],
        "description": "MNIST handwritten digits, 28x28 grey, 60000 train / 10000 test (download)",
    },
    "fashion_mnist": {
        "mirrors": (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        "sha256": dict(
            zip(
                _IDX_FILES,
                (
                    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                ),
                strict=True,
            )
        ),  # fmt: skip
        "classes": [
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ],  # fmt: skip
        "description": "Fashion-MNIST clothing, 28x28 grey, 60000 train / 10000 test (download)",
    },
    "kmnist": {
        "mirrors": ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        "sha256": dict(
            zip(
                _IDX_FILES,
                (
                    "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
                    "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
                    "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
                    "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
                ),
                strict=True,
            )
        ),  # fmt: skip
        "classes": ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
        "description": "Kuzushiji-MNIST cursive Japanese, 28x28 grey, 60000 / 10000 (download)",
    },
}

CIFAR10 = {
    "mirrors": ("https://www.cs.toronto.edu/~kriz/",),
    "filename": "cifar-10-binary.tar.gz",
    "sha256": "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
    "description": "CIFAR-10 colour photos, 3x32x32, 50000 train / 10000 test (download)",
}


def _images(raw: np.ndarray, dtype: Any, flatten: bool) -> np.ndarray:
    x = raw.astype(dtype) / np.asarray(255, dtype=dtype)  # pixels in [0, 1]
    return x.reshape(len(x), -1) if flatten else x


def _folder(name: str, data_dir: str | Path | None) -> Path:
    return cache_dir(data_dir) / name


def load_idx_set(
    name: str,
    *,
    download: bool = False,
    data_dir: str | Path | None = None,
    flatten: bool = False,
    val_size: float | int = 0.0,
    seed: int = 0,
    dtype: Any = np.float32,
) -> Bunch:
    """MNIST, Fashion-MNIST or KMNIST from their gzip IDX files.

    Images are ``(n, 28, 28)`` (or ``(n, 784)`` with ``flatten``) scaled to [0, 1]; labels
    int64. Nothing is downloaded unless ``download=True``.

    Args:
        name: ``mnist``, ``fashion_mnist`` or ``kmnist``.
        download: download missing files (SHA-256 verified).
        data_dir: cache directory (default ``$GDLAB_DATA`` or ``~/.cache/gdlab``).
        flatten: flatten images to vectors.
        val_size: fraction or count of the training set held out for validation.
        seed: seed of the validation split.
        dtype: image dtype. Default float32.

    Example:
        >>> ds = load_idx_set("mnist", download=True)  # doctest: +SKIP
        >>> ds.X_train.shape  # doctest: +SKIP
        (60000, 28, 28)
    """
    spec = IDX_SETS[name]
    folder = _folder(name, data_dir)
    paths = {f: fetch(f, mirrors=spec["mirrors"], sha256=sha, folder=folder, download=download)
             for f, sha in spec["sha256"].items()}  # fmt: skip
    arrays = [read_idx(paths[f]) for f in _IDX_FILES]
    X_tr, y_tr, X_te, y_te = arrays
    return presplit(
        name, (_images(X_tr, dtype, flatten), y_tr.astype(np.int64)),
        (_images(X_te, dtype, flatten), y_te.astype(np.int64)),
        task="classification", val_size=val_size, seed=seed, n_classes=10,
        target_names=list(spec["classes"]), description=spec["description"],
    )  # fmt: skip


def load_cifar10(
    *,
    download: bool = False,
    data_dir: str | Path | None = None,
    flatten: bool = False,
    val_size: float | int = 0.0,
    seed: int = 0,
    dtype: Any = np.float32,
) -> Bunch:
    """CIFAR-10 from its binary release (never the pickled Python release).

    Images are ``(n, 3, 32, 32)`` channels-first as torch (or ``(n, 3072)`` with ``flatten``),
    scaled to [0, 1]; labels int64; class names from ``batches.meta.txt``.

    Args: as :func:`load_idx_set`.
    """
    folder = _folder("cifar10", data_dir)
    path = fetch(CIFAR10["filename"], mirrors=CIFAR10["mirrors"], sha256=CIFAR10["sha256"],
                 folder=folder, download=download)  # fmt: skip
    train_names = [f"data_batch_{i}.bin" for i in range(1, 6)]
    found = read_cifar10_tar(path, [*train_names, "test_batch.bin", "batches.meta.txt"])
    X_tr = np.concatenate([found[n][0] for n in train_names])
    y_tr = np.concatenate([found[n][1] for n in train_names])
    X_te, y_te = found["test_batch.bin"]
    classes = [c for c in str(found["batches.meta.txt"]).split() if c]
    return presplit(
        "cifar10", (_images(X_tr, dtype, flatten), y_tr), (_images(X_te, dtype, flatten), y_te),
        task="classification", val_size=val_size, seed=seed, n_classes=10,
        target_names=classes, description=CIFAR10["description"],
    )  # fmt: skip
