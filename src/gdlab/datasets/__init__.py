"""Data sets for the lab, offline first.

``datasets.load(name, **kw)`` returns a :class:`Bunch` (train / val / test arrays, feature
and target names, task, number of classes); ``datasets.available()`` lists the names with a
one-line description. Generated problems (the articles' experiments, moons, circles, spirals,
noisy linear regression) and MNIST-1D need nothing but NumPy (and the ``mnist1d`` package);
scikit-learn's bundled sets need the ``data`` extra; MNIST, Fashion-MNIST, KMNIST and
CIFAR-10 are downloaded only with ``download=True`` into ``$GDLAB_DATA`` (default
``~/.cache/gdlab``) or ``data_dir=``, SHA-256 verified.

Example:
    >>> from gdlab import datasets
    >>> ds = datasets.load("article_uniform")
    >>> ds.X_train.shape, ds.y_train.shape
    ((100, 8), (100, 1))
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from gdlab.datasets import synthetic
from gdlab.datasets._bunch import Bunch, cache_dir
from gdlab.datasets.bundled import BUNDLED, load_bundled
from gdlab.datasets.download import ChecksumError, fetch
from gdlab.datasets.files import from_arrays, from_csv
from gdlab.datasets.mnist1d import load_mnist1d
from gdlab.datasets.readers import read_cifar10_binary, read_cifar10_tar, read_idx, write_idx
from gdlab.datasets.vision import CIFAR10, IDX_SETS, load_cifar10, load_idx_set

__all__ = [
    "Bunch",
    "ChecksumError",
    "available",
    "cache_dir",
    "fetch",
    "from_arrays",
    "from_csv",
    "load",
    "read_cifar10_binary",
    "read_cifar10_tar",
    "read_idx",
    "write_idx",
]


def _first_line(func: Callable[..., Any]) -> str:
    return (func.__doc__ or "").strip().splitlines()[0].rstrip(".").replace("``", "")


def _registry() -> dict[str, tuple[Callable[..., Bunch], str]]:
    reg: dict[str, tuple[Callable[..., Bunch], str]] = {}
    for name in synthetic.__all__:
        func = getattr(synthetic, name)
        reg[name] = (func, _first_line(func))
    for name, (_, _, description) in BUNDLED.items():
        reg[name] = (functools.partial(load_bundled, name), f"{description} (scikit-learn)")
    reg["mnist1d"] = (load_mnist1d, "MNIST-1D, 40-point 1-D digits, 4000 / 1000, generated offline")
    for name, spec in IDX_SETS.items():
        reg[name] = (functools.partial(load_idx_set, name), spec["description"])
    reg["cifar10"] = (load_cifar10, CIFAR10["description"])
    return reg


_REGISTRY = _registry()


def available() -> dict[str, str]:
    """Names of the data sets ``load`` knows, each with a one-line description.

    Example:
        >>> "mnist1d" in available()
        True
    """
    return {name: description for name, (_, description) in _REGISTRY.items()}


def load(name: str, **kwargs: Any) -> Bunch:
    """Load a data set by name; keyword arguments go to its loader (``seed``, ``test_size``...).

    Args:
        name: one of :func:`available` (case-insensitive, ``-`` accepted for ``_``).
        **kwargs: the loader's options, e.g. ``seed=0``, ``val_size=0.1``, ``download=True``,
            ``data_dir=...``, ``dtype=np.float64``. Every loader accepts ``seed``: it seeds the
            splits (and the draws of generated problems) but never changes fixed data such as
            the six-sample regression, MNIST-1D (``data_seed``) or MNIST.

    Raises:
        ValueError: unknown name (the message lists the available ones).

    Example:
        >>> load("iris", seed=0).n_classes
        3
    """
    key = name.lower().replace("-", "_") if isinstance(name, str) else name
    if key not in _REGISTRY:
        raise ValueError(f"Unknown dataset {name!r}. Available: {', '.join(_REGISTRY)}")
    return _REGISTRY[key][0](**kwargs)
