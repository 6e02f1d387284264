"""MNIST-1D generated offline with the ``mnist1d`` package, cached as a pickle-free .npz.

``mnist1d.data.make_dataset`` reseeds NumPy's and Python's global random generators
(``set_seed``); gdlab saves both states before and restores them after, so loading the data
set never changes a user's global random state. The package's own ``get_dataset`` is never
used: it downloads and unpickles a file. The cache stores a SHA-256 of its arrays and is
verified on every load; a cache that does not verify is regenerated.

Reference: Greydanus & Kobak, "Scaling Down Deep Learning with MNIST-1D", ICML 2024,
https://arxiv.org/abs/2011.14439
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gdlab._checksum import arrays_sha256
from gdlab.datasets._bunch import Bunch, cache_dir, presplit
from gdlab.datasets._io import atomic_savez, load_npz

__all__ = ["load_mnist1d"]

_KEYS = ("x", "y", "x_test", "y_test", "t")


@contextlib.contextmanager
def preserved_global_random_state() -> Iterator[None]:
    """Restore NumPy's legacy global RandomState and Python's ``random`` state on exit."""
    # the legacy global state is exactly what mnist1d reseeds, so it is what must be saved
    np_state = np.random.get_state()  # noqa: NPY002
    py_state = random.getstate()
    try:
        yield
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)


def _mnist1d_data() -> Any:
    try:
        return importlib.import_module("mnist1d.data")
    except ImportError as e:
        raise ImportError("MNIST-1D needs the mnist1d package: pip install 'gdlab[data]'") from e


def _generate(overrides: dict[str, Any]) -> dict[str, np.ndarray]:
    mod = _mnist1d_data()
    args = mod.get_dataset_args(as_dict=False)
    for k, v in overrides.items():
        if not hasattr(args, k):
            raise ValueError(f"mnist1d: unknown generation argument {k!r}")
        setattr(args, k, v)
    with preserved_global_random_state():
        data = mod.make_dataset(args)
    return {k: np.asarray(data[k]) for k in _KEYS}


def _cache_path(folder: Path, overrides: dict[str, Any]) -> Path:
    key = json.dumps(overrides, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return folder / "mnist1d" / f"mnist1d-{digest}.npz"


_DIGEST = "sha256"  # the cache's member holding arrays_sha256 of the data arrays


def _load_or_generate(path: Path, overrides: dict[str, Any], cache: bool) -> dict[str, np.ndarray]:
    """The cached arrays if the cache verifies against its stored SHA-256, else generate (and
    rewrite the cache): the data are reproducible, so a damaged cache costs a second or two."""
    if cache and path.exists():
        try:
            data = load_npz(path)
            digest = data.pop(_DIGEST, np.zeros(0, np.uint8)).tobytes().decode("ascii")
            if set(data) == set(_KEYS) and digest == arrays_sha256(data):
                return data
        except (OSError, ValueError, zipfile.BadZipFile, EOFError):
            pass  # a corrupt cache is regenerated and overwritten below
    data = _generate(overrides)
    if cache:
        digest = np.frombuffer(arrays_sha256(data).encode("ascii"), dtype=np.uint8)
        atomic_savez(path, **data, **{_DIGEST: digest})
    return data


def load_mnist1d(
    *,
    seed: int = 0,
    data_seed: int = 42,
    shuffle_seq: bool = False,
    val_size: float | int = 0.0,
    data_dir: str | None = None,
    cache: bool = True,
    dtype: Any = np.float32,
    **generation_args: Any,
) -> Bunch:
    """MNIST-1D: 5000 one-dimensional digit signals of length 40, split 4000 / 1000 as the paper.

    The first call generates the data (a second or two) and caches the arrays as
    ``<cache>/mnist1d/mnist1d-<hash of the arguments>.npz``; later calls load the cache.

    Args:
        seed: seed of the validation split (as every loader's ``seed``: it never changes
            the data themselves, which stay the paper's).
        data_seed: the generator's seed (the paper's is 42).
        shuffle_seq: permute the 40 positions (the paper's "shuffled" variant).
        val_size: fraction or count of the 4000 training signals held out for validation.
        data_dir: cache directory (default ``$GDLAB_DATA`` or ``~/.cache/gdlab``).
        cache: read and write the .npz cache.
        dtype: feature dtype. Default float32.
        **generation_args: other ``get_dataset_args`` fields (``num_samples``, ``iid_noise_scale``,
            ...).

    Example:
        >>> ds = load_mnist1d()  # doctest: +SKIP
        >>> ds.X_train.shape, ds.X_test.shape  # doctest: +SKIP
        ((4000, 40), (1000, 40))
    """
    overrides = {"seed": data_seed, "shuffle_seq": shuffle_seq, **generation_args}
    path = _cache_path(cache_dir(data_dir), overrides)
    data = _load_or_generate(path, overrides, cache)
    return presplit(
        "mnist1d",
        (data["x"].astype(dtype), data["y"].astype(np.int64)),
        (data["x_test"].astype(dtype), data["y_test"].astype(np.int64)),
        task="classification", val_size=val_size, seed=seed, n_classes=10,
        feature_names=[f"t{i}" for i in range(data["x"].shape[1])],
        target_names=[str(d) for d in range(10)],
        description="MNIST-1D: 1-D digit signals of length 40, 4000 train / 1000 test, 10 classes",
        extras={"t": data["t"], "cache_path": str(path) if cache else None},
    )  # fmt: skip
