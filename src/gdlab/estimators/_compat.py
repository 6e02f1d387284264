"""Minimal stand-ins for the scikit-learn pieces :mod:`gdlab.sklearn` uses.

They follow scikit-learn's behaviour and messages closely enough for the estimators to work
(fit/predict/score/get_params/set_params, the n_features_in_ check) without the extra; with
scikit-learn installed the real ones are used instead.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np

from gdlab.data.preprocessing import NotFittedError
from gdlab.data.validation import check_array, check_consistent_length

__all__ = [
    "BaseEstimator",
    "ClassifierMixin",
    "ConvergenceWarning",
    "RegressorMixin",
    "available_if",
    "check_classification_targets",
    "check_is_fitted",
    "column_or_1d",
    "validate_data",
]


class ConvergenceWarning(UserWarning):
    """The optimizer stopped at max_iter before meeting its tolerance."""


class BaseEstimator:
    """get_params / set_params from the constructor's signature (scikit-learn's contract)."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p for p in sig.parameters if p != "self")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> BaseEstimator:
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {self}. Valid parameters are: "
                    f"{valid!r}."
                )
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __sklearn_tags__(self) -> Any:
        class _Input:
            allow_nan = False

        class _Tags:
            input_tags = _Input()

        return _Tags()


class ClassifierMixin:
    def score(self, X: Any, y: Any) -> float:
        return float(np.mean(self.predict(X) == np.asarray(y)))


class RegressorMixin:
    def score(self, X: Any, y: Any) -> float:
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        pred = np.asarray(self.predict(X), dtype=np.float64).reshape(len(y), -1)
        ss_res = ((y - pred) ** 2).sum(axis=0)
        ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        return float(np.mean(np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), 0)))


def check_classification_targets(y: np.ndarray) -> None:
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise ValueError(
            "Unknown label type: continuous. Maybe you are trying to fit a "
            "classifier, which expects discrete classes on a regression target "
            "with continuous values."
        )


def check_is_fitted(estimator: Any, attributes: str) -> None:
    if not hasattr(estimator, attributes):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        )


def column_or_1d(y: np.ndarray, warn: bool = False) -> np.ndarray:
    if warn:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change "
            "the shape of y to (n_samples, ), for example using ravel().",
            UserWarning,
            stacklevel=2,
        )
    return np.ravel(y)


def validate_data(
    estimator: Any,
    X: Any,
    y: Any = None,
    *,
    reset: bool = True,
    dtype: Any = (np.float64,),
    multi_output: bool = False,
    y_numeric: bool = False,
) -> Any:
    X = check_array(X, dtype=None)  # scikit-learn's messages: 2-D, non-empty, finite
    if X.dtype not in dtype:
        X = X.astype(dtype[0])
    if reset:
        estimator.n_features_in_ = X.shape[1]
    elif X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    if y is None:
        return X
    y = np.asarray(y)
    check_consistent_length(X, y)
    if y_numeric:
        y = check_array(y, dtype="float64", ensure_2d=False, input_name="y")
    return X, y


class _AvailableIf:
    """A method that exists only when ``check(self)`` is true (scikit-learn's available_if)."""

    def __init__(self, fn: Any, check: Any) -> None:
        self.fn, self.check = fn, check

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self.fn
        if not self.check(obj):
            raise AttributeError(f"This {owner.__name__} has no attribute {self.fn.__name__!r}")
        return self.fn.__get__(obj, owner)


def available_if(check: Any) -> Any:
    return lambda fn: _AvailableIf(fn, check)
