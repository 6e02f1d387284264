"""scikit-learn's base classes and validation when the ``data`` extra is installed, gdlab's
stand-ins (:mod:`gdlab.estimators._compat`) otherwise."""

from __future__ import annotations

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised only without the extra
    HAVE_SKLEARN = False
    from gdlab.estimators._compat import (  # type: ignore[assignment]
        BaseEstimator,
        ClassifierMixin,
        ConvergenceWarning,
        RegressorMixin,
        available_if,
        check_classification_targets,
        check_is_fitted,
        column_or_1d,
        validate_data,
    )

__all__ = [
    "HAVE_SKLEARN",
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
