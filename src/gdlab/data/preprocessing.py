"""Feature scaling fitted on the training set only, and one-hot encoding.

The scalers follow ``sklearn.preprocessing``: ``fit`` on training data, ``transform`` any
split with the training statistics (fitting on all data leaks the test set into training).
Statistics are computed in float64; outputs keep the input's float dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.data.validation import as_numpy, check_array
from gdlab.tensor import Tensor

__all__ = ["MinMaxScaler", "NotFittedError", "StandardScaler", "one_hot"]


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` (scikit-learn's exception and message)."""


def _handle_zeros_in_scale(scale: np.ndarray) -> np.ndarray:
    # A constant feature has zero spread: dividing by 1 leaves it centred instead of NaN.
    eps = 10 * np.finfo(scale.dtype).eps
    return np.where(scale < eps, 1.0, scale)


class _Scaler:
    n_features_in_: int

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _validate(self, X: Any, reset: bool) -> np.ndarray:
        arr = as_numpy(X, "X", type(self).__name__)
        arr = check_array(arr, dtype=arr.dtype if arr.dtype.kind == "f" else "float32")
        if not reset:
            self._check_fitted()
            if arr.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {arr.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
        return arr

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def fit(self, X: Any, y: Any = None) -> _Scaler:
        raise NotImplementedError

    def transform(self, X: Any) -> np.ndarray:
        raise NotImplementedError


class StandardScaler(_Scaler):
    """Standardise features: z = (x − mean) / std, statistics from the training set.

    ``std`` is the population standard deviation (ddof=0, as scikit-learn); a feature with zero
    variance gets scale 1 (it is only centred), so no NaN appears.

    Args:
        with_mean: subtract the mean. Default True.
        with_std: divide by the standard deviation. Default True.

    Attributes:
        mean_, var_, scale_: per-feature statistics (float64); ``None`` when disabled.
        n_features_in_, n_samples_seen_.

    Example:
        >>> sc = StandardScaler().fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
        >>> sc.transform(np.array([[1.0, 5.0], [4.0, 6.0]]))
        array([[0., 0.],
               [3., 1.]])
    """

    def __init__(self, *, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X: Any, y: Any = None) -> StandardScaler:
        """Compute the mean and standard deviation of each feature of ``X``."""
        arr = self._validate(X, reset=True).astype(np.float64)
        self.n_features_in_ = arr.shape[1]
        self.n_samples_seen_ = arr.shape[0]
        self.mean_ = arr.mean(axis=0) if self.with_mean else None
        self.var_ = arr.var(axis=0) if self.with_std else None
        self.scale_ = _handle_zeros_in_scale(np.sqrt(self.var_)) if self.with_std else None
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Standardise ``X`` with the fitted statistics (a new array, ``X``'s float dtype)."""
        arr = self._validate(X, reset=False)
        out = arr.copy()
        if self.with_mean:
            out -= self.mean_.astype(arr.dtype)
        if self.with_std:
            out /= self.scale_.astype(arr.dtype)
        return out

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform`: x = z · std + mean."""
        arr = self._validate(X, reset=False)
        out = arr.copy()
        if self.with_std:
            out *= self.scale_.astype(arr.dtype)
        if self.with_mean:
            out += self.mean_.astype(arr.dtype)
        return out


class MinMaxScaler(_Scaler):
    """Scale each feature to ``feature_range``: x' = (x − min) / (max − min) · (hi − lo) + lo.

    Statistics come from the training set; test values outside the training range map outside
    ``feature_range`` unless ``clip=True``. A constant feature gets range 1.

    Args:
        feature_range: ``(lo, hi)`` with lo < hi. Default ``(0, 1)``.
        clip: clip transformed values to ``feature_range``. Default False.

    Attributes:
        data_min_, data_max_, data_range_, scale_, min_ (x' = x · scale_ + min_).

    Example:
        >>> MinMaxScaler().fit_transform(np.array([[1.0], [3.0], [5.0]])).ravel()
        array([0. , 0.5, 1. ])
    """

    def __init__(self, feature_range: tuple[float, float] = (0, 1), *, clip: bool = False) -> None:
        self.feature_range = feature_range
        self.clip = clip

    def fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        """Compute the minimum and maximum of each feature of ``X``."""
        lo, hi = self.feature_range
        if lo >= hi:
            raise ValueError(
                "Minimum of desired feature range must be smaller than maximum. Got "
                f"{tuple(self.feature_range)!r}."
            )
        arr = self._validate(X, reset=True).astype(np.float64)
        self.n_features_in_ = arr.shape[1]
        self.n_samples_seen_ = arr.shape[0]
        self.data_min_ = arr.min(axis=0)
        self.data_max_ = arr.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (hi - lo) / _handle_zeros_in_scale(self.data_range_)
        self.min_ = lo - self.data_min_ * self.scale_
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Scale ``X`` with the fitted minimum and range (a new array, ``X``'s float dtype)."""
        arr = self._validate(X, reset=False)
        out = arr * self.scale_.astype(arr.dtype) + self.min_.astype(arr.dtype)
        if self.clip:
            np.clip(out, *self.feature_range, out=out)
        return out

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform`: x = (x' − min_) / scale_."""
        arr = self._validate(X, reset=False)
        return (arr - self.min_.astype(arr.dtype)) / self.scale_.astype(arr.dtype)


def one_hot(labels: Any, num_classes: int = -1, dtype: Any = np.int64) -> Any:
    """One-hot encode integer class labels (``torch.nn.functional.one_hot``).

    Output shape ``(*labels.shape, num_classes)``; ``num_classes=-1`` infers ``max + 1``.
    A gdlab Tensor in gives a Tensor out, anything else an ndarray.

    Args:
        labels: integer class indices in ``[0, num_classes)``.
        num_classes: number of classes, or -1 to infer it.
        dtype: output dtype. Default int64 (as torch); pass float32 for targets of a loss.

    Example:
        >>> one_hot(np.array([0, 2, 1]), 3)
        array([[1, 0, 0],
               [0, 0, 1],
               [0, 1, 0]])
    """
    arr = as_numpy(labels, "labels", "one_hot")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensor, got dtype {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise ValueError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(arr.max()) + 1 if arr.size else 0
    elif (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, int | np.integer)
        or num_classes < 1
    ):
        raise ValueError(f"one_hot: num_classes must be a positive int or -1, got {num_classes!r}")
    elif arr.size and arr.max() >= num_classes:
        raise ValueError("Class values must be smaller than num_classes.")
    out = np.zeros((*arr.shape, num_classes), dtype=dtype)
    np.put_along_axis(out, arr[..., None].astype(np.intp), 1, axis=-1)
    return Tensor._wrap(out) if isinstance(labels, Tensor) else out
