"""Seeded train/test and train/validation/test splits, optionally stratified."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.data.validation import as_numpy, check_consistent_length, num_samples
from gdlab.random import get_generator

__all__ = ["train_test_split", "train_val_test_split"]


def _count(size: float | int | None, n: int, name: str) -> int:
    """A split size (fraction in (0, 1) or count in [0, n)) as a number of samples."""
    if size is None:
        return 0
    bad = f"{name}={size} should be either positive and smaller than the number of samples {n} "
    bad += "or a float in the (0, 1) range"
    if isinstance(size, bool) or not isinstance(size, int | float | np.integer | np.floating):
        raise TypeError(f"Invalid value for {name}: {size!r}")
    if isinstance(size, float | np.floating):
        if not 0.0 <= size < 1.0:
            raise ValueError(bad)
        return int(np.ceil(size * n)) if size > 0 else 0
    if not 0 <= size < n:
        raise ValueError(bad)
    return int(size)


def _stratified_counts(y: np.ndarray, n_part: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class sizes of a part of ``n_part`` samples, proportional (largest remainders)."""
    classes, y_idx, counts = np.unique(y, axis=0, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            "The least populated class in y has only 1 member, which is too few. The minimum "
            "number of groups for any class cannot be less than 2."
        )
    if 0 < n_part < len(classes):
        raise ValueError(
            f"The test_size = {n_part} should be greater or equal to the number of classes = "
            f"{len(classes)}"
        )
    exact = counts * n_part / counts.sum()
    part = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - part), kind="stable")  # deterministic tie-break by class
    part[order[: n_part - part.sum()]] += 1
    return y_idx.reshape(-1), part


def _partition(
    n: int, sizes: list[int], rng: np.random.Generator, stratify: Any
) -> list[np.ndarray]:
    """Index arrays of parts of sizes ``sizes`` followed by the rest (the training part)."""
    if stratify is None:
        perm = rng.permutation(n)
        bounds = np.cumsum([0, *sizes])
        parts = [perm[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]
        return [*parts, perm[bounds[-1] :]]
    y = as_numpy(stratify, "stratify", "train_test_split")
    check_consistent_length(np.empty(n), y)
    parts = []
    remaining = np.arange(n)
    for size in sizes:
        if size == 0:
            parts.append(remaining[:0])
            continue
        y_idx, per_class = _stratified_counts(y[remaining], size)
        taken, kept = [], []
        for c, k in enumerate(per_class):
            members = remaining[rng.permutation(np.flatnonzero(y_idx == c))]
            taken.append(members[:k])
            kept.append(members[k:])
        parts.append(rng.permutation(np.concatenate(taken)))
        remaining = np.sort(np.concatenate(kept))
    return [*parts, rng.permutation(remaining)]


def _split(
    arrays: tuple[Any, ...], sizes: dict[str, Any], seed: Any, stratify: Any
) -> list[np.ndarray]:
    """Parts of the given sizes (in order) plus the training rest, per array."""
    if not arrays:
        raise ValueError("At least one array required as input")
    check_consistent_length(*arrays)
    n = num_samples(arrays[0])
    counts = [_count(size, n, name) for name, size in sizes.items()]
    if n - sum(counts) < 1:
        described = ", ".join(f"{k}={v}" for k, v in sizes.items())
        raise ValueError(
            f"With n_samples={n}, {described}, the resulting train set will be empty. "
            "Adjust any of the aforementioned parameters."
        )
    return _partition(n, counts, get_generator(seed), stratify)


def _take(arrays: tuple[Any, ...], parts: list[np.ndarray]) -> list[Any]:
    out = []
    for a in arrays:
        arr = as_numpy(a, "arrays", "train_test_split")
        out.extend(arr[p] for p in parts)
    return out


def train_test_split(
    *arrays: Any,
    test_size: float | int = 0.25,
    seed: int | np.random.Generator | None = None,
    stratify: Any = None,
) -> list[np.ndarray]:
    """Split arrays into random train and test subsets (``sklearn.model_selection``'s order).

    Returns ``[a_train, a_test, b_train, b_test, ...]``. A float ``test_size`` is a fraction
    (the test part has ``ceil(test_size * n)`` samples, as scikit-learn), an int a count. With
    ``stratify=y`` each class keeps its proportion in both parts (largest-remainder rounding).

    Args:
        *arrays: arrays (or lists/Tensors) with the same number of samples.
        test_size: fraction in (0, 1) or number of test samples. Default 0.25.
        seed: int seed or ``numpy.random.Generator``; None uses gdlab's default generator.
        stratify: class labels to stratify by, or None.

    Example:
        >>> X, y = np.arange(20).reshape(10, 2), np.arange(10)
        >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, seed=0)
        >>> X_tr.shape, X_te.shape
        ((7, 2), (3, 2))
    """
    test, train = _split(arrays, {"test_size": test_size}, seed, stratify)
    return _take(arrays, [train, test])


def train_val_test_split(
    *arrays: Any,
    val_size: float | int = 0.1,
    test_size: float | int = 0.2,
    seed: int | np.random.Generator | None = None,
    stratify: Any = None,
) -> list[np.ndarray]:
    """Split arrays into train, validation and test subsets.

    Returns ``[a_train, a_val, a_test, b_train, b_val, b_test, ...]``. Sizes are fractions of
    the whole data set (or counts); the training part takes the rest. The test part is drawn
    first, so for a given seed it is the same as ``train_test_split``'s.

    Args:
        *arrays: arrays with the same number of samples.
        val_size: fraction or count of validation samples. Default 0.1.
        test_size: fraction or count of test samples. Default 0.2.
        seed: int seed or ``numpy.random.Generator``; None uses gdlab's default generator.
        stratify: class labels to stratify by, or None.

    Example:
        >>> parts = train_val_test_split(np.arange(10), val_size=0.2, test_size=0.2, seed=0)
        >>> [len(p) for p in parts]
        [6, 2, 2]
    """
    sizes = {"test_size": test_size, "val_size": val_size}
    test, val, train = _split(arrays, sizes, seed, stratify)
    return _take(arrays, [train, val, test])
