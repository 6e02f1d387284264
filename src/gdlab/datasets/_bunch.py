"""The container every loader returns, the split-and-package helper, and the cache directory."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gdlab.data.dataset import TensorDataset
from gdlab.data.split import train_test_split, train_val_test_split

__all__ = ["Bunch", "cache_dir"]

TASKS = ("classification", "regression")


def cache_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where data sets are cached: ``data_dir``, else ``$GDLAB_DATA``, else ``~/.cache/gdlab``."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get("GDLAB_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "gdlab"


@dataclass
class Bunch:
    """A data set split into train / (validation) / test arrays, with its description.

    Features ``X_*`` are float32 unless the loader says otherwise. Classification targets are
    int64 class indices of shape ``(n,)``; regression targets are float arrays of shape
    ``(n, n_targets)`` (2-D, as a network's output, so a loss never broadcasts ``(n,)`` against
    ``(n, 1)``). Splits that do not exist are None.

    Attributes:
        name: registry name.
        X_train, y_train, X_val, y_val, X_test, y_test: the arrays.
        task: ``"classification"`` or ``"regression"``.
        n_classes: number of classes (None for regression).
        feature_names, target_names: column names / class names when known.
        description: one line.
        extras: anything else (for example the true coefficients of a generated problem).

    Example:
        >>> from gdlab import datasets
        >>> ds = datasets.load("moons", n_samples=100, seed=0)
        >>> ds.X_train.shape, ds.task, ds.n_classes
        ((75, 2), 'classification', 2)
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    task: str = "classification"
    n_classes: int | None = None
    feature_names: list[str] | None = None
    target_names: list[str] | None = None
    description: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        """Number of input features (the size of one sample, flattened)."""
        return int(np.prod(self.X_train.shape[1:]))

    def dataset(self, split: str = "train") -> TensorDataset:
        """The ``(X, y)`` arrays of ``split`` (train, val or test) as a TensorDataset."""
        if split not in ("train", "val", "test"):
            raise ValueError(
                f"Bunch.dataset: split must be 'train', 'val' or 'test', got {split!r}"
            )
        X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
        if X is None:
            raise ValueError(f"Bunch.dataset: {self.name} has no {split} split")
        return TensorDataset(X, y)

    def __repr__(self) -> str:
        splits = {s: getattr(self, f"X_{s}") for s in ("train", "val", "test")}
        parts = [f"{s}={X.shape}" for s, X in splits.items() if X is not None]
        classes = f", n_classes={self.n_classes}" if self.n_classes else ""
        return f"Bunch({self.name!r}, {self.task}{classes}, {', '.join(parts)})"


def _target(y: np.ndarray, task: str, dtype: np.dtype) -> np.ndarray:
    if task == "classification":
        return np.asarray(y).astype(np.int64, copy=False)
    y = np.asarray(y, dtype=dtype)
    return y.reshape(-1, 1) if y.ndim == 1 else y


def package(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    task: str,
    test_size: float | int = 0.25,
    val_size: float | int = 0.0,
    seed: int = 0,
    dtype: Any = np.float32,
    **meta: Any,
) -> Bunch:
    """Split ``(X, y)`` with a seed (stratified for classification) and wrap it in a Bunch."""
    if task not in TASKS:
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    X = np.asarray(X, dtype=dtype)
    y = _target(y, task, np.dtype(dtype))
    if task == "classification" and "n_classes" not in meta:
        meta["n_classes"] = int(y.max()) + 1
    stratify = y if task == "classification" else None
    if not test_size and not val_size:
        return Bunch(name, X, y, task=task, **meta)
    if not val_size:
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=test_size, seed=seed, stratify=stratify
        )
        return Bunch(name, X_tr, y_tr, X_te, y_te, task=task, **meta)
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(
        X, y, val_size=val_size, test_size=test_size, seed=seed, stratify=stratify
    )
    if not test_size:
        X_te = y_te = None
    return Bunch(name, X_tr, y_tr, X_te, y_te, X_va, y_va, task=task, **meta)


def presplit(
    name: str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray] | None,
    *,
    task: str,
    val_size: float | int = 0.0,
    seed: int = 0,
    **meta: Any,
) -> Bunch:
    """A Bunch from an official train/test split; ``val_size`` carves validation from train."""
    X_tr, y_tr = train
    X_te, y_te = test if test is not None else (None, None)
    if not val_size:
        return Bunch(name, X_tr, y_tr, X_te, y_te, task=task, **meta)
    stratify = y_tr if task == "classification" else None
    X_tr, X_va, y_tr, y_va = train_test_split(
        X_tr, y_tr, test_size=val_size, seed=seed, stratify=stratify
    )
    return Bunch(name, X_tr, y_tr, X_te, y_te, X_va, y_va, task=task, **meta)
