"""scikit-learn's bundled data sets (no network): digits, iris, wine, breast_cancer, diabetes.

scikit-learn is an optional dependency (the ``data`` extra), imported only when one of these
is loaded.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from gdlab.datasets._bunch import Bunch, package

__all__ = ["BUNDLED", "load_bundled"]

# name -> (sklearn loader, task, one-line description)
BUNDLED: dict[str, tuple[str, str, str]] = {
    "digits": ("load_digits", "classification", "8x8 handwritten digits, 1797 x 64, 10 classes"),
    "iris": ("load_iris", "classification", "iris flowers, 150 x 4, 3 classes"),
    "wine": ("load_wine", "classification", "wine cultivars, 178 x 13, 3 classes"),
    "breast_cancer": (
        "load_breast_cancer",
        "classification",
        "breast cancer diagnosis, 569 x 30, 2 classes",
    ),  # fmt: skip
    "diabetes": ("load_diabetes", "regression", "diabetes progression, 442 x 10, regression"),
}


def _sklearn_datasets() -> Any:
    try:
        return importlib.import_module("sklearn.datasets")
    except ImportError as e:
        raise ImportError(
            "the scikit-learn data sets need scikit-learn: pip install 'gdlab[data]'"
        ) from e


def load_bundled(
    name: str,
    *,
    test_size: float | int = 0.25,
    val_size: float | int = 0.0,
    seed: int = 0,
    dtype: Any = np.float32,
) -> Bunch:
    """Load one of scikit-learn's bundled data sets, split with a seed.

    Classification sets are split stratified by class; the split is deterministic for a
    given ``seed``. Features are raw (not scaled): fit a ``StandardScaler`` on the training
    part.

    Args:
        name: ``digits``, ``iris``, ``wine``, ``breast_cancer`` or ``diabetes``.
        test_size: fraction or count for the test part. Default 0.25.
        val_size: fraction or count for a validation part (of the whole). Default 0.
        seed: split seed. Default 0.
        dtype: feature dtype. Default float32.

    Example:
        >>> ds = load_bundled("iris", seed=0)
        >>> ds.X_train.shape, ds.X_test.shape, ds.n_classes
        ((112, 4), (38, 4), 3)
    """
    loader, task, description = BUNDLED[name]
    raw = getattr(_sklearn_datasets(), loader)()
    if task == "classification":
        target_names = [str(t) for t in raw.target_names]
    else:
        target_names = ["progression"]  # one year after baseline (scikit-learn's description)
    return package(
        name, raw.data, raw.target, task=task, test_size=test_size, val_size=val_size,
        seed=seed, dtype=dtype, feature_names=[str(f) for f in raw.feature_names],
        target_names=target_names, description=description,
    )  # fmt: skip
