"""scikit-learn-style estimators on gdlab: ``MLPClassifier`` and ``MLPRegressor``.

Same argument names, defaults and fitted attributes as ``sklearn.neural_network`` (``coefs_``,
``intercepts_``, ``loss_curve_``, ``n_iter_``, ``classes_``, ``n_features_in_``, ...), trained
by :func:`gdlab.train.fit`, with any gdlab optimizer as ``solver`` (a name such as ``"rmsprop"``
or an ``optim`` class). With scikit-learn installed (the ``data`` extra) they are real
``BaseEstimator`` subclasses and pass ``check_estimator``; without it they still work.

Loss (as scikit-learn): data loss + (alpha / 2)·Σ‖W‖² / n_batch, weights only, where the
data loss is the log-loss (softmax cross-entropy; binary: logistic) or half the squared error.

Note:
    ``solver="adam"`` is torch's Adam (eps added to the bias-corrected √v̂); scikit-learn adds
    eps to the uncorrected √v. Both converge alike; trajectories differ in the last digits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.estimators._base import (
    HAVE_SKLEARN,  # noqa: F401 - public: whether scikit-learn's base classes are in use
    ClassifierMixin,
    RegressorMixin,
    _BaseMLP,
    _not_lbfgs,
    available_if,
    check_classification_targets,
)

__all__ = ["MLPClassifier", "MLPRegressor"]


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier (``sklearn.neural_network.MLPClassifier``'s API).

    Softmax output with cross-entropy for 3+ classes, one logistic unit for 2.

    Args (scikit-learn's names and defaults; the others as ``sklearn.neural_network``):
        hidden_layer_sizes: units per hidden layer. Default ``(100,)``.
        activation: ``"relu"`` (default), ``"tanh"``, ``"logistic"`` or ``"identity"``.
        solver: ``"adam"`` (default), ``"sgd"``, ``"lbfgs"``, any other name in
            ``gdlab.optim`` (``"rmsprop"``, ``"adagrad"``, ...) or an optimizer class.
        alpha: L2 penalty (alpha / 2)·Σ‖W‖² / n_batch on the weights. Default 1e-4.
        batch_size: mini-batch size; ``"auto"`` is min(200, n_samples).
        learning_rate: ``"constant"``, ``"invscaling"`` or ``"adaptive"`` (``sgd`` only).
        learning_rate_init: the optimizer's lr. Default 1e-3.
        max_iter: epochs (stochastic solvers) or iterations (``lbfgs``). Default 200.
        tol, n_iter_no_change: stop when the loss (or validation score) has not improved
            by ``tol`` for ``n_iter_no_change`` epochs.
        early_stopping, validation_fraction: hold out a validation set and keep the best
            weights on it.
        random_state: seed, ``Generator`` or ``RandomState`` of the initialisation, split and
            shuffling.

    Example:
        >>> from gdlab.sklearn import MLPClassifier
        >>> clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0)
        >>> clf.fit(X_train, y_train).score(X_test, y_test)  # doctest: +SKIP

    Reference: scikit-learn, ``sklearn/neural_network/_multilayer_perceptron.py``.
    """

    def _out_activation(self) -> str:
        return "logistic" if len(self.classes_) == 2 else "softmax"

    def _encode_targets(self, y: np.ndarray, first: bool) -> np.ndarray:
        check_classification_targets(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError("MLPClassifier: multilabel / multi-output targets are not supported")
        if first and not getattr(self, "_classes_fixed", False):
            self.classes_ = np.unique(y)
            self._loss_kind = "binary" if len(self.classes_) == 2 else "log"
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"`y` has classes not in `self.classes_`: {unknown.tolist()}")
        idx = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return idx.reshape(-1, 1).astype(np.float64)
        return np.eye(len(self.classes_))[idx]

    @available_if(_not_lbfgs)
    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch; ``classes`` (all labels) is required on the first call, as scikit-learn."""
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.classes_ = np.unique(classes)
            self._loss_kind = "binary" if len(self.classes_) == 2 else "log"
            self._classes_fixed = True
        return super().partial_fit(X, y)

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Fit the model to data X (n_samples, n_features) and class labels y."""
        self._classes_fixed = False
        return super().fit(X, y)

    def _proba_from_logits(self, logits: np.ndarray) -> np.ndarray:
        if len(self.classes_) == 2:
            p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.column_stack([1.0 - p, p])
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        return self._proba_from_logits(self._raw_predict(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample."""
        logits = self._raw_predict(X)
        if len(self.classes_) == 2:
            return self.classes_[(logits[:, 0] > 0).astype(np.int64)]
        return self.classes_[logits.argmax(axis=1)]

    def _score_raw(self, X: np.ndarray, target: np.ndarray) -> float:
        logits = self._forward(X)
        pred = (logits[:, 0] > 0).astype(int) if len(self.classes_) == 2 else logits.argmax(1)
        truth = target[:, 0].astype(int) if len(self.classes_) == 2 else target.argmax(1)
        return float(np.mean(pred == truth))


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor (``sklearn.neural_network.MLPRegressor``'s API).

    Identity output, loss ½·mean((y − ŷ)²) + (alpha / 2n)·Σ‖W‖².

    Args: as :class:`MLPClassifier`.

    Example:
        >>> from gdlab.sklearn import MLPRegressor
        >>> reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=500, random_state=0)
        >>> reg.fit(X, y).predict(X[:2]).shape  # doctest: +SKIP
        (2,)
    """

    _loss_kind = "squared"

    def _out_activation(self) -> str:
        return "identity"

    def _encode_targets(self, y: np.ndarray, first: bool) -> np.ndarray:
        if first:
            self._y_1d = y.ndim == 1
        return y.reshape(len(y), -1).astype(np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions, 1-D if ``y`` was 1-D at fit time."""
        out = self._raw_predict(X)
        return out.ravel() if self._y_1d else out

    def _score_raw(self, X: np.ndarray, target: np.ndarray) -> float:
        from gdlab.train.metrics import r2_score

        return r2_score(self._forward(X), target)
