"""A user's own data: CSV files and NumPy arrays, validated and split like the built-in sets."""

from __future__ import annotations

import csv
import itertools
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

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


_CHUNK = 1 << 20


def _count_lines(path: Path) -> int:
    """An upper bound on the rows: the number of line breaks (+1 for a last unterminated line),
    counted in 1 MiB chunks, so the array can be allocated once."""
    count, last = 0, b"\n"
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _lines(path: Path) -> Iterator[str]:
    """The file's lines decoded as UTF-8; a bad byte is named by line and byte offset."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(
                    f"from_csv: {path}, line {lineno}, byte {e.start + 1} in the line: "
                    f"{raw[e.start : e.start + 4]!r} is not UTF-8 ({e.reason}); save the file "
                    "as UTF-8"
                ) from None


def _rows(path: Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of the non-blank rows."""
    reader = csv.reader(_lines(path), delimiter=delimiter)
    try:
        for row in reader:
            if row and any(c.strip() for c in row):
                yield reader.line_num, row
    except csv.Error as e:
        raise ValueError(f"from_csv: {path}, line {reader.line_num}: {e}") from None


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


def _cell_error(path: Path, row: int, line: int, column: str, problem: str) -> ValueError:
    return ValueError(
        f"from_csv: {path}, data row {row}, column {column!r}: {problem} (line {line})"
    )


def _finite(cell: str, path: Path, row: int, line: int, column: str) -> float:
    """``float(cell)``, or a ValueError naming the file, row and column of a cell that is
    empty, not a number, NaN or infinite."""
    if not cell.strip():
        raise _cell_error(path, row, line, column, "empty cell (a missing value); fill or drop it")
    try:
        value = float(cell)
    except ValueError:
        raise _cell_error(path, row, line, column, f"could not convert {cell!r} to float") from None
    if not math.isfinite(value):
        raise _cell_error(path, row, line, column, f"{cell.strip()!r} is not a finite number")
    return value


_ROWS_PER_CHUNK = 4096


def _fill(
    X: np.ndarray,
    start: int,
    chunk: list[list[str]],
    path: Path,
    lines: np.ndarray,
    features: list[str],
) -> None:
    """Parse a chunk of rows into ``X[start:]``; the cell-by-cell check runs only to name the
    cell when the chunk has a bad one (empty, not a number, NaN or infinite)."""
    if not chunk:
        return
    try:
        values = np.array([[float(c) for c in row] for row in chunk])
        bad = not np.isfinite(values).all()
    except ValueError:
        bad = True
    if bad:
        for i, row in enumerate(chunk):
            for cell, column in zip(row, features, strict=True):
                _finite(cell, path, start + i + 1, int(lines[start + i]), column)
    X[start : start + len(chunk)] = values


class _Table(NamedTuple):
    """A parsed CSV: features, target cells (as text) and their line numbers."""

    X: np.ndarray
    y_cells: list[str]
    y_lines: np.ndarray
    features: list[str]
    target: str


def _read_table(
    path: Path, delimiter: str, header: bool | None, target: int | str, dtype: Any
) -> _Table:
    """Stream the file once into a preallocated ``dtype`` array (no list of all the rows)."""
    n_max = _count_lines(path)
    rows = _rows(path, delimiter)
    head = [r for _, r in itertools.islice(_rows(path, delimiter), 2)]
    if not head:
        raise ValueError(f"from_csv: {path} is empty")
    if header is None:
        header = _has_header(head)
    width = len(head[0])
    columns = [c.strip() for c in head[0]] if header else [f"x{j}" for j in range(width)]
    if header:
        next(rows)
    if isinstance(target, str):
        if target not in columns:
            raise ValueError(f"from_csv: target column {target!r} not in {columns}")
        t = columns.index(target)
    elif -width <= target < width:
        t = range(width)[target]
    else:
        raise ValueError(
            f"from_csv: target column index {target} is out of range for {path}'s {width} "
            f"columns {columns}"
        )
    features = [c for j, c in enumerate(columns) if j != t]
    X = np.empty((n_max, width - 1), dtype=np.dtype(dtype))
    y_lines = np.empty(n_max, dtype=np.int64)
    y_cells: list[str] = []
    chunk: list[list[str]] = []
    n = 0
    for line, row in rows:
        if len(row) != width:
            raise ValueError(
                f"from_csv: {path}, data row {n + len(chunk) + 1} has {len(row)} fields, "
                f"expected {width} (line {line})"
            )
        chunk.append(row[:t] + row[t + 1 :] if t != width - 1 else row[:t])
        y_cells.append(row[t].strip())
        y_lines[n + len(chunk) - 1] = line
        if len(chunk) == _ROWS_PER_CHUNK:
            _fill(X, n, chunk, path, y_lines, features)
            n, chunk = n + len(chunk), []
    _fill(X, n, chunk, path, y_lines, features)
    n += len(chunk)
    return _Table(X[:n], y_cells, y_lines[:n], features, columns[t])


def _target(table: _Table, path: Path) -> np.ndarray:
    """Numbers (each finite, else named) or, if any cell is not a number, string labels."""
    if any(not _is_number(c) for c in table.y_cells):
        return np.array(table.y_cells)  # string class labels, encoded by from_arrays
    y = np.empty(len(table.y_cells))
    for i, (cell, line) in enumerate(zip(table.y_cells, table.y_lines, strict=True)):
        y[i] = _finite(cell, path, i + 1, int(line), table.target)
    return y


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

    The file is checked as it is read: an empty, non-numeric, NaN or infinite cell, a row with
    the wrong number of fields or bytes that are not UTF-8 raise ``ValueError`` naming the
    file, the row, the column and the line. The target column may hold strings (class names).
    The rows are streamed into one preallocated array of ``dtype`` (float32 by default), so a
    large file needs little more memory than its numbers.

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
    if np.dtype(dtype).kind != "f":
        raise ValueError(f"from_csv: dtype must be a floating dtype, got {dtype!r}")
    table = _read_table(path, delimiter, header, target, dtype)
    X, y, features = table.X, _target(table, path), table.features
    return from_arrays(
        X, y, task=task, test_size=test_size, val_size=val_size, seed=seed,
        feature_names=features, name=path.stem, dtype=dtype,
    )  # fmt: skip
