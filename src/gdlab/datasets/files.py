"""A user's own data: CSV files and NumPy arrays, validated and split like the built-in sets."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import numpy as np

from gdlab.data.validation import check_array, check_X_y
from gdlab.datasets._bunch import Bunch, package

__all__ = ["from_arrays", "from_csv"]

_MAX_CLASSES = 20  # integer targets with at most this many values are taken as class labels


def infer_task(y: np.ndarray) -> str:
    """``classification`` for strings or few distinct integer values, else ``regression``."""
    if y.dtype.kind in "OUSb":
        return "classification"
    if y.ndim == 2 and y.shape[1] > 1:
        return "regression"
    values = np.unique(y)
    integral = y.dtype.kind in "iu" or bool(np.all(values == np.round(values)))
    return "classification" if integral and len(values) <= _MAX_CLASSES else "regression"


def _encode_labels(y: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Class indices 0..k-1 and the class names (sorted unique values)."""
    classes, idx = np.unique(y.reshape(-1), return_inverse=True)
    return idx.astype(np.int64), [str(c) for c in classes]


def from_arrays(
    X: Any,
    y: Any,
    *,
    task: str | None = None,
    test_size: float | int = 0.25,
    val_size: float | int = 0.0,
    seed: int = 0,
    feature_names: list[str] | None = None,
    name: str = "arrays",
    dtype: Any = "float32",
) -> Bunch:
    """Wrap a user's ``(X, y)`` arrays as a Bunch: validated, labels encoded, split by seed.

    ``X`` must be 2-D and finite (scikit-learn's messages otherwise). Classification labels
    (strings or integers) are encoded as 0..k-1 with the original values as ``target_names``;
    the split is stratified for classification.

    Args:
        X: features, (n_samples, n_features).
        y: targets, (n_samples,) or (n_samples, n_targets).
        task: ``"classification"``, ``"regression"`` or None to infer (strings or at most 20
            distinct integral values -> classification).
        test_size, val_size: fractions or counts of the whole. Defaults 0.25 and 0.
        seed: split seed.
        feature_names: column names.
        name: a name for the Bunch.
        dtype: feature dtype, ``"float32"`` (default) or ``"float64"``.

    Example:
        >>> ds = from_arrays(np.arange(20.0).reshape(10, 2), ["a", "b"] * 5, test_size=0.2)
        >>> ds.task, ds.target_names, ds.X_test.shape
        ('classification', ['a', 'b'], (2, 2))
    """
    y_raw = np.asarray(y)
    task = task or infer_task(y_raw)
    if task == "classification":
        X_arr = check_array(X, dtype=dtype)
        y_arr, classes = _encode_labels(y_raw)
        check_X_y(X_arr, y_arr, dtype=dtype)
    else:
        X_arr, y_arr = check_X_y(X, y_raw, dtype=dtype)
        classes = None
    if feature_names is not None and len(feature_names) != X_arr.shape[1]:
        raise ValueError(
            f"from_arrays: {len(feature_names)} feature_names for {X_arr.shape[1]} features"
        )
    return package(
        name, X_arr, y_arr, task=task, test_size=test_size, val_size=val_size, seed=seed,
        dtype=X_arr.dtype, feature_names=feature_names, target_names=classes,
        n_classes=len(classes) if classes else None,
        description=f"user data {name}: {X_arr.shape[0]} samples x {X_arr.shape[1]} features",
    )  # fmt: skip


def _read_rows(path: Path, delimiter: str) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = [
            row for row in csv.reader(f, delimiter=delimiter) if row and any(c.strip() for c in row)
        ]
    if not rows:
        raise ValueError(f"from_csv: {path} is empty")
    return rows


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return cell.strip() == ""
    return True


def _has_header(rows: list[list[str]]) -> bool:
    """A header if some column is text in the first row but a number in the second."""
    if len(rows) < 2:
        return not all(_is_number(c) for c in rows[0])
    return any(not _is_number(a) and _is_number(b) for a, b in zip(rows[0], rows[1], strict=False))


def _to_float(rows: list[list[str]], path: Path, columns: list[str]) -> np.ndarray:
    out = np.empty((len(rows), len(columns)), dtype=np.float64)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            try:
                out[i, j] = float(cell) if cell.strip() else np.nan
            except ValueError:
                raise ValueError(
                    f"from_csv: {path}, data row {i + 1}, column {columns[j]!r}: could not "
                    f"convert {cell!r} to float"
                ) from None
    return out


def from_csv(
    path: str | os.PathLike[str],
    target: int | str = -1,
    *,
    delimiter: str = ",",
    header: bool | None = None,
    task: str | None = None,
    test_size: float | int = 0.25,
    val_size: float | int = 0.0,
    seed: int = 0,
    dtype: Any = "float32",
) -> Bunch:
    """Load a CSV file of numeric features and one target column (csv module, no pandas).

    Empty cells become NaN and are then rejected (``Input X contains NaN.``); a non-numeric
    feature cell raises naming its row and column. The target column may hold strings
    (class names).

    Args:
        path: the CSV file.
        target: the target column, by index (default -1: the last) or header name.
        delimiter: field separator. Default ",".
        header: whether the first row holds column names; None detects it (a column that is
            text in the first row and a number in the second).
        task, test_size, val_size, seed, dtype: as :func:`from_arrays`.

    Example:
        >>> ds = from_csv("measurements.csv", target="price")  # doctest: +SKIP
    """
    path = Path(path)
    rows = _read_rows(path, delimiter)
    if header is None:
        header = _has_header(rows)
    width = len(rows[0])
    columns = [c.strip() for c in rows[0]] if header else [f"x{j}" for j in range(width)]
    body = rows[1:] if header else rows
    for i, row in enumerate(body):
        if len(row) != width:
            raise ValueError(
                f"from_csv: {path}, data row {i + 1} has {len(row)} fields, expected {width}"
            )
    if isinstance(target, str):
        if target not in columns:
            raise ValueError(f"from_csv: target column {target!r} not in {columns}")
        t = columns.index(target)
    else:
        t = range(width)[target]
    y_cells = [row[t].strip() for row in body]
    features = [c for j, c in enumerate(columns) if j != t]
    X = _to_float([[c for j, c in enumerate(row) if j != t] for row in body], path, features)
    try:
        y = np.array([float(c) if c else np.nan for c in y_cells])
    except ValueError:
        y = np.array(y_cells)  # string class labels, encoded by from_arrays
    return from_arrays(
        X, y, task=task, test_size=test_size, val_size=val_size, seed=seed,
        feature_names=features, name=path.stem, dtype=dtype,
    )  # fmt: skip
