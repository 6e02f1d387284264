"""The early-stopping hold-out split of the MLP estimators (scikit-learn's rules: a
``validation_fraction`` of the samples, stratified for single-output classifiers, and at least
two validation samples)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

try:
    from sklearn.model_selection import train_test_split
except ImportError:  # pragma: no cover - exercised only without the data extra
    train_test_split = None

__all__ = ["Split", "validation_split"]


class Split(NamedTuple):
    X: np.ndarray
    target: np.ndarray
    weight: np.ndarray | None
    X_val: np.ndarray
    target_val: np.ndarray
    weight_val: np.ndarray | None


def validation_split(
    X: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None,
    *,
    fraction: float,
    stratify: bool,
    seed: Any,
) -> Split:
    """Hold out ceil(fraction·n) samples; stratified on the (boolean) encoded target."""
    labels = target.astype(bool) if stratify else None
    arrays = (X, target) if weight is None else (X, target, weight)
    split = (train_test_split or _train_test_split)(
        *arrays, test_size=fraction, random_state=seed, stratify=labels
    )
    if split[1].shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' "
            "or the size of your dataset."
        )
    if weight is None:
        X_tr, X_val, t_tr, t_val = split
        return Split(X_tr, t_tr, None, X_val, t_val, None)
    X_tr, X_val, t_tr, t_val, w_tr, w_val = split
    return Split(X_tr, t_tr, w_tr, X_val, t_val, w_val)


def _train_test_split(
    *arrays: np.ndarray, test_size: float, random_state: Any, stratify: np.ndarray | None
) -> list[np.ndarray]:
    """scikit-learn's ``train_test_split`` when it is not installed: the same sizes and the
    same error for a class of one sample; the draw itself differs."""
    n = len(arrays[0])
    n_test = int(np.ceil(test_size * n))
    rng = random_state if isinstance(random_state, np.random.RandomState) else None
    rng = rng or np.random.default_rng(random_state)
    if n_test >= n:
        raise ValueError(
            f"With n_samples={n}, test_size={test_size} and train_size=None, the resulting "
            "train set will be empty. Adjust any of the aforementioned parameters."
        )
    if stratify is None:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        rows = np.array([" ".join(r.astype(str)) for r in stratify.reshape(n, -1)])
        classes, index, counts = np.unique(rows, return_inverse=True, return_counts=True)
        if counts.min() < 2:
            raise ValueError(
                "The least populated classes in y have only 1 member, which is too few. The "
                "minimum number of groups for any class cannot be less than 2. Classes with "
                f"too few members are: {classes[counts < 2].tolist()}"
            )
        shares = np.floor(n_test * counts / n).astype(int)
        rest = n_test - shares.sum()
        shares[np.argsort(-(n_test * counts / n - shares), kind="stable")[:rest]] += 1
        picks = [rng.permutation(np.flatnonzero(index == c)) for c in range(len(classes))]
        test = np.concatenate([p[:k] for p, k in zip(picks, shares, strict=True)])
        train = np.concatenate([p[k:] for p, k in zip(picks, shares, strict=True)])
        test, train = rng.permutation(test), rng.permutation(train)
    return [part for a in arrays for part in (a[train], a[test])]
