"""Input validation in scikit-learn's words: shapes, sample counts, NaN/inf, dtypes.

The messages are scikit-learn's (``sklearn.utils.validation``), which users recognise; gdlab
adds the function and argument name where scikit-learn has none. The dtype policy is gdlab's:
features become float32 unless float64 is asked for; integer labels stay integers (int64).
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "NonFinite",
    "as_numpy",
    "check_X_y",
    "check_array",
    "check_consistent_length",
    "first_nonfinite",
    "num_samples",
]

_FLOAT_DTYPES = {"float32": np.float32, "float64": np.float64}


def as_numpy(data: Any, name: str = "X", func: str = "check_array") -> np.ndarray:
    """``data`` as an ndarray (arrays and Tensors are not copied); ragged lists raise."""
    data = getattr(data, "data", data) if type(data).__name__ == "Tensor" else data
    if isinstance(data, np.ndarray):
        return data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.VisibleDeprecationWarning)
            return np.asarray(data)
    except (ValueError, np.exceptions.VisibleDeprecationWarning) as e:
        raise ValueError(
            f"{func}: could not convert {name} to an array; nested sequences of different "
            f"lengths (ragged lists) are not supported: {e}"
        ) from None


def num_samples(x: Any) -> int:
    """Number of samples (length of the first axis) of an array-like."""
    shape = getattr(x, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise TypeError(
                f"Singleton array {np.asarray(x)!r} cannot be considered a valid collection."
            )
        return int(shape[0])
    return len(x)


def check_consistent_length(*arrays: Any) -> None:
    """Raise if the arrays do not all have the same number of samples (first dimension).

    Example:
        >>> check_consistent_length(np.zeros((100, 2)), np.zeros(99))
        Traceback (most recent call last):
        ...
        ValueError: Found input variables with inconsistent numbers of samples: [100, 99]
    """
    lengths = [num_samples(a) for a in arrays if a is not None]
    if len(set(lengths)) > 1:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"{[int(n) for n in lengths]}"
        )


def _resolve_float_dtype(dtype: Any) -> np.dtype | None:
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in _FLOAT_DTYPES:
        return np.dtype(_FLOAT_DTYPES[dtype])
    d = np.dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"check_array: dtype must be float32, float64 or None, got {d}")
    return d


def _check_dims(arr: np.ndarray, ensure_2d: bool, allow_nd: bool, func: str) -> None:
    reshape_hint = (
        "Reshape your data either using array.reshape(-1, 1) if your data has a single feature "
        "or array.reshape(1, -1) if it contains a single sample."
    )
    if ensure_2d and arr.ndim == 0:
        raise ValueError(
            f"Expected 2D array, got scalar array instead:\narray={arr}.\n{reshape_hint}"
        )
    if ensure_2d and arr.ndim == 1:
        raise ValueError(f"Expected 2D array, got 1D array instead:\narray={arr}.\n{reshape_hint}")
    if not allow_nd and arr.ndim >= 3:
        raise ValueError(f"Found array with dim {arr.ndim}. {func} expected <= 2.")


def _check_sizes(arr: np.ndarray, ensure_min_samples: int, ensure_min_features: int) -> None:
    n = arr.shape[0] if arr.ndim else 1
    if ensure_min_samples > 0 and n < ensure_min_samples:
        raise ValueError(
            f"Found array with {n} sample(s) (shape={arr.shape}) while a minimum of "
            f"{ensure_min_samples} is required."
        )
    if ensure_min_features > 0 and arr.ndim == 2 and arr.shape[1] < ensure_min_features:
        raise ValueError(
            f"Found array with {arr.shape[1]} feature(s) (shape={arr.shape}) while a minimum of "
            f"{ensure_min_features} is required."
        )


class NonFinite(NamedTuple):
    """The first NaN/inf of an array: its index and value."""

    index: tuple[int, ...]
    value: float

    def where(self) -> str:
        """``row 37, column 3`` (``row 37`` for 1-D data, ``row 37, position (3, 1)`` beyond)."""
        row = f"row {self.index[0]}"
        if len(self.index) == 1:
            return row
        rest = self.index[1:]
        return f"{row}, column {rest[0]}" if len(rest) == 1 else f"{row}, position {rest}"


def first_nonfinite(arr: Any) -> NonFinite | None:
    """The first NaN or infinite element of a floating array (C order), or None."""
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fc" or arr.size == 0 or np.isfinite(arr).all():
        return None
    flat = int(np.flatnonzero(~np.isfinite(arr))[0])
    index = tuple(int(i) for i in np.unravel_index(flat, arr.shape))
    return NonFinite(index, float(arr.reshape(-1)[flat].real))


def _check_finite(arr: np.ndarray, name: str) -> None:
    if arr.dtype.kind != "f":
        return
    if np.isfinite(arr).all():  # one fast pass in the common case
        return
    if np.isnan(arr).any():
        raise ValueError(f"Input {name} contains NaN.")
    raise ValueError(f"Input {name} contains infinity or a value too large for {arr.dtype!r}.")


def _convert(
    arr: np.ndarray, dtype: np.dtype | None, name: str, func: str, copy: bool
) -> np.ndarray:
    if arr.dtype.kind in "OUS":
        try:
            arr = arr.astype(dtype or np.float64)
        except (ValueError, TypeError) as e:
            raise ValueError(f"{func}: {name} must be numeric, could not convert: {e}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{func}: {name} has unsupported dtype {arr.dtype}")
    if dtype is not None and arr.dtype != dtype:
        with np.errstate(over="ignore"):  # overflow to inf is reported by _check_finite
            return arr.astype(dtype)
    return arr.copy() if copy else arr


def check_array(
    X: Any,
    *,
    dtype: Any = "float32",
    ensure_2d: bool = True,
    allow_nd: bool = False,
    ensure_min_samples: int = 1,
    ensure_min_features: int = 1,
    ensure_all_finite: bool = True,
    copy: bool = False,
    input_name: str = "X",
) -> np.ndarray:
    """Validate an input array (``sklearn.utils.check_array`` with gdlab's dtype policy).

    Checks, in order: conversion (ragged lists rejected), number of dimensions, minimum numbers
    of samples and features, NaN/inf. Arrays already of the right dtype are not copied.

    Args:
        X: array-like, list of lists, or gdlab Tensor.
        dtype: ``"float32"`` (default, gdlab's default dtype), ``"float64"``, a float NumPy
            dtype, or ``None`` to keep the input's dtype (integers stay integers).
        ensure_2d: raise on 0-D and 1-D input (scikit-learn's reshape message).
        allow_nd: allow 3-D and higher (images, sequences).
        ensure_min_samples: minimum number of rows; 0 disables the check.
        ensure_min_features: minimum number of columns of a 2-D array; 0 disables the check.
        ensure_all_finite: raise ``Input X contains NaN.`` / ``... infinity ...``.
        copy: return a copy even when no conversion is needed.
        input_name: name used in messages (``"X"``, ``"y"``).

    Example:
        >>> check_array([[1, 2], [3, 4]]).dtype
        dtype('float32')
        >>> check_array([[1.0, float("nan")]])
        Traceback (most recent call last):
        ...
        ValueError: Input X contains NaN.
    """
    arr = as_numpy(X, input_name)
    arr = _convert(arr, _resolve_float_dtype(dtype), input_name, "check_array", copy)
    _check_dims(arr, ensure_2d, allow_nd, "check_array")
    _check_sizes(arr, ensure_min_samples, ensure_min_features if ensure_2d else 0)
    if ensure_all_finite:
        _check_finite(arr, input_name)
    return arr


def _check_y(y: Any, dtype: Any, multi_output: bool, finite: bool) -> np.ndarray:
    arr = as_numpy(y, "y", "check_X_y")
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.int64, copy=False)  # integer labels stay integers (class indices)
    elif arr.dtype.kind in "OUS":
        raise TypeError(
            "check_X_y: y has non-numeric dtype "
            f"{arr.dtype}; encode string labels first (e.g. np.unique(y, return_inverse=True))"
        )
    else:
        arr = _convert(arr, _resolve_float_dtype(dtype), "y", "check_X_y", False)
    if arr.ndim == 0:
        raise ValueError(f"check_X_y: y must be 1-D or 2-D, got a scalar {arr!r}")
    if arr.ndim > 2 or (arr.ndim == 2 and arr.shape[1] != 1 and not multi_output):
        raise ValueError(f"y should be a 1d array, got an array of shape {arr.shape} instead.")
    if finite:
        _check_finite(arr, "y")
    return arr


def check_X_y(
    X: Any,
    y: Any,
    *,
    dtype: Any = "float32",
    allow_nd: bool = False,
    multi_output: bool = True,
    ensure_min_samples: int = 1,
    ensure_all_finite: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate features and targets together (``sklearn.utils.check_X_y``).

    ``X`` goes through :func:`check_array` (2-D, float32 by default). ``y`` may be 1-D (labels
    or a single target) or 2-D (``(n, 1)`` regression targets are kept 2-D, as the articles'
    (100, 1) problem); integer labels become int64, float targets ``dtype``. NaN/inf in ``y``
    raise ``Input y contains NaN.``; different lengths raise scikit-learn's
    ``Found input variables with inconsistent numbers of samples: [100, 99]``.

    Args:
        X: features.
        y: targets.
        dtype: float dtype for ``X`` and float ``y`` (``"float32"``, ``"float64"``, ``None``).
        allow_nd: allow ``X`` with more than two dimensions.
        multi_output: allow 2-D ``y`` with several columns.
        ensure_min_samples: minimum number of samples.
        ensure_all_finite: reject NaN/inf.

    Example:
        >>> X, y = check_X_y([[0.0, 1.0], [1.0, 0.0]], [0, 1])
        >>> X.dtype, y.dtype
        (dtype('float32'), dtype('int64'))
    """
    if y is None:
        raise ValueError("check_X_y requires y to be passed, but the target y is None")
    X_arr = check_array(
        X,
        dtype=dtype,
        allow_nd=allow_nd,
        ensure_min_samples=ensure_min_samples,
        ensure_all_finite=ensure_all_finite,
    )
    y_arr = _check_y(y, dtype, multi_output, ensure_all_finite)
    check_consistent_length(X_arr, y_arr)
    return X_arr, y_arr
