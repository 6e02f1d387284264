"""scikit-learn-style estimators on gdlab: ``MLPClassifier`` and ``MLPRegressor``.

Same argument names, defaults and fitted attributes as ``sklearn.neural_network`` (``coefs_``,
``intercepts_``, ``loss_curve_``, ``n_iter_``, ``classes_``, ``n_features_in_``, ...), trained
by a lean gdlab training loop, with any gdlab optimizer as ``solver`` (a name such as ``"rmsprop"``
or an ``optim`` class). With scikit-learn installed (the ``data`` extra) they are real
``BaseEstimator`` subclasses and pass ``check_estimator``; without it they still work.

Behaviour is scikit-learn's, checked by running scikit-learn's own ``test_mlp.py`` against
these classes (tests/test_sklearn_upstream.py): the same initial weights, shuffles and
early-stopping split for the same ``random_state`` (the same ``RandomState`` draws), so SGD
trajectories equal scikit-learn's to rounding; ``sample_weight``; multilabel targets; SciPy
sparse ``X`` (densified); ``loss="poisson"``; assignable ``coefs_`` / ``intercepts_``;
``verbose`` printing scikit-learn's progress lines (the one place gdlab's library code
prints, because that is what the argument is documented to do).

Loss (as scikit-learn): Σw·loss / Σw + (alpha / 2)·Σ‖W‖² / Σw over each batch (Σw = the batch
size without ``sample_weight``), weights only, where the data loss is the log-loss (softmax
cross-entropy; binary and multilabel: logistic per output), half the squared error or half
the Poisson deviance.

Note:
    ``solver="adam"`` is torch's Adam (eps added to the bias-corrected √v̂); scikit-learn adds
    eps to the uncorrected √v. Both converge alike; trajectories differ, most for weights whose
    gradient is ~0. ``solver="lbfgs"`` is gdlab's ``LBFGS`` (torch's algorithm with a
    strong-Wolfe line search), not SciPy's L-BFGS-B: it stops on ``tol`` (largest gradient
    entry), ``max_iter`` or ``max_fun``, often after fewer evaluations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.estimators._api import (
    HAVE_SKLEARN,  # noqa: F401 - public: whether scikit-learn's base classes are in use
    ClassifierMixin,
    RegressorMixin,
    available_if,
    check_classification_targets,
)
from gdlab.estimators._base import _BaseMLP, _not_lbfgs

__all__ = ["MLPClassifier", "MLPRegressor"]


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier (``sklearn.neural_network.MLPClassifier``'s API).

    Softmax output with cross-entropy for 3+ classes, one logistic unit for 2.

    Args (scikit-learn's names and defaults; the others as ``sklearn.neural_network``):
        hidden_layer_sizes: units per hidden layer. Default ``(100,)``.
        activation: ``"relu"`` (default), ``"tanh"``, ``"logistic"`` or ``"identity"``.
        solver: ``"adam"`` (default), ``"sgd"``, ``"lbfgs"``, any other name in
            ``gdlab.optim.OPTIMIZERS`` (``"rmsprop"``, ``"lion"``, ``"sam"``,
            ``"adamw_schedule_free"``, ...: its registry defaults, lr =
            ``learning_rate_init``; SAM steps with a closure, a schedule-free solver trains
            at y and predicts at x) or an optimizer class.
        alpha: L2 penalty (alpha / 2)·Σ‖W‖² / Σw_batch on the weights. Default 1e-4.
        batch_size: mini-batch size; ``"auto"`` is min(200, n_samples).
        learning_rate: ``"constant"``, ``"invscaling"`` or ``"adaptive"`` (``sgd`` only).
        learning_rate_init: the optimizer's lr. Default 1e-3.
        max_iter: epochs (stochastic solvers) or iterations (``lbfgs``). Default 200.
        tol, n_iter_no_change: stop when the loss (or validation score) has not improved
            by ``tol`` for ``n_iter_no_change`` epochs.
        early_stopping, validation_fraction: hold out a validation set and keep the best
            weights on it.
        random_state: seed, ``RandomState`` or ``Generator`` of the initialisation, split and
            shuffling (an int gives scikit-learn's own draws, per call as scikit-learn).
        verbose: print "Iteration i, loss = ..." per epoch (and the validation score and
            the stopping reason), as scikit-learn.

    ``fit(X, y, sample_weight=None)``; ``y`` may be a 0/1 indicator matrix (multilabel: one
    logistic output per label, ``predict`` returns the indicator matrix).

    Example:
        >>> from gdlab.sklearn import MLPClassifier
        >>> clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0)
        >>> clf.fit(X_train, y_train).score(X_test, y_test)  # doctest: +SKIP

    Reference: scikit-learn, ``sklearn/neural_network/_multilayer_perceptron.py``.
    """

    @property
    def _loss_kind(self) -> str:
        return "log" if self.out_activation_ == "softmax" else "binary"

    def _out_activation(self) -> str:
        return "logistic" if self._multilabel or len(self.classes_) <= 2 else "softmax"

    def _stratified_split(self) -> bool:
        return self.n_outputs_ == 1  # scikit-learn stratifies single-output targets only

    def _encode_targets(self, y: np.ndarray, incremental: bool) -> np.ndarray:
        """scikit-learn's rules for ``classes_`` (set by a fresh fit, checked under
        ``warm_start`` and ``partial_fit``) and its label binarization: one 0/1 column for two
        classes, one-hot for more, the indicator matrix itself for multilabel targets."""
        check_classification_targets(y)
        multilabel = y.ndim == 2
        if multilabel and not np.isin(y, (0, 1)).all():
            raise ValueError("Multioutput target data is not supported with label binarization")
        labels = np.arange(y.shape[1]) if multilabel else np.unique(y)
        if not hasattr(self, "classes_") or not (self.warm_start or incremental):
            self.classes_, self._multilabel = labels, multilabel
        elif self.warm_start:
            if set(labels) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as in the "
                    f"previous call to fit. Previously got {self.classes_}, `y` has {labels}"
                )
        elif len(np.setdiff1d(labels, self.classes_)):
            raise ValueError(
                f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                f"'y' has {labels}."
            )
        if self._multilabel:
            return y.astype(np.float64)
        idx = np.searchsorted(self.classes_, y)
        if len(self.classes_) <= 2:
            return (idx == 1).astype(np.float64).reshape(-1, 1)
        return np.eye(len(self.classes_))[idx]

    @available_if(_not_lbfgs)
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> MLPClassifier:
        """One epoch; ``classes`` (all labels) is required on the first call, as scikit-learn."""
        if classes is not None and hasattr(self, "classes_"):
            if not np.array_equal(self.classes_, np.unique(classes)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call to partial_fit, "
                    f"was: {self.classes_!r}"
                )
        elif not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            y_arr = np.asarray(y)
            multilabel = y_arr.ndim == 2 and y_arr.shape[1] > 1
            self._multilabel = multilabel
            self.classes_ = np.arange(y_arr.shape[1]) if multilabel else np.unique(classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Fit the model to data X (n_samples, n_features) and class labels y (or a 0/1
        indicator matrix for multilabel targets), optionally weighted per sample."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _proba_from_logits(self, logits: np.ndarray) -> np.ndarray:
        if self.out_activation_ == "logistic":
            p = 1.0 / (1.0 + np.exp(-logits))
            return p if self._multilabel else np.column_stack([1.0 - p[:, 0], p[:, 0]])
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_`` (multilabel: one
        independent probability per label)."""
        return self._proba_from_logits(self._raw_predict(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def _labels(self, logits: np.ndarray) -> np.ndarray:
        if self._multilabel:
            return (logits > 0).astype(np.int64)
        if self.out_activation_ == "logistic":
            return self.classes_[(logits[:, 0] > 0).astype(np.int64) * (len(self.classes_) - 1)]
        return self.classes_[logits.argmax(axis=1)]

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample (multilabel: the indicator matrix)."""
        return self._labels(self._raw_predict(X))

    def _validation_score(
        self, X: np.ndarray, target: np.ndarray, weight: np.ndarray | None
    ) -> float:
        """Accuracy (subset accuracy for multilabel) on the encoded targets."""
        logits = self._logits(X)
        if self._multilabel:
            hit = ((logits > 0) == (target > 0.5)).all(axis=1)
        elif self.out_activation_ == "logistic":
            hit = (logits[:, 0] > 0) == (target[:, 0] > 0.5)
        else:
            hit = logits.argmax(axis=1) == target.argmax(axis=1)
        return float(np.average(hit, weights=weight))


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor (``sklearn.neural_network.MLPRegressor``'s API).

    ``loss="squared_error"`` (default): identity output, loss ½·mean((y − ŷ)²);
    ``loss="poisson"``: ŷ = exp(output), loss the half Poisson deviance
    mean(y·log(y/ŷ) − y + ŷ); both plus (alpha / 2n)·Σ‖W‖².

    Args: ``loss`` as above, the others as :class:`MLPClassifier`.

    Example:
        >>> from gdlab.sklearn import MLPRegressor
        >>> reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=500, random_state=0)
        >>> reg.fit(X, y).predict(X[:2]).shape  # doctest: +SKIP
        (2,)
    """

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: Any = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
    ) -> None:
        # the signature is scikit-learn's (get_params reads it); all but loss are the base's
        base = {k: v for k, v in locals().items() if k not in ("self", "loss", "__class__")}
        super().__init__(**base)
        self.loss = loss

    @property
    def _loss_kind(self) -> str:
        return self.loss

    def _validate_params_values(self) -> None:
        if self.loss not in ("squared_error", "poisson"):
            raise ValueError(
                "The 'loss' parameter of MLPRegressor must be a str among "
                f"{{'poisson', 'squared_error'}}. Got {self.loss!r} instead."
            )
        super()._validate_params_values()

    def _out_activation(self) -> str:
        return "exp" if self.loss == "poisson" else "identity"

    def _stratified_split(self) -> bool:
        return False

    def _encode_targets(self, y: np.ndarray, incremental: bool) -> np.ndarray:
        return y.reshape(len(y), -1).astype(np.float64)

    def _output(self, logits: np.ndarray) -> np.ndarray:
        out = np.exp(logits) if self.out_activation_ == "exp" else logits
        return out.ravel() if self.n_outputs_ == 1 else out

    def predict(self, X: Any) -> np.ndarray:
        """Predictions, 1-D for a single output."""
        return self._output(self._raw_predict(X))

    def _validation_score(
        self, X: np.ndarray, target: np.ndarray, weight: np.ndarray | None
    ) -> float:
        """R² (averaged over outputs, scikit-learn's ``r2_score``); NaN when the predictions
        are not finite, as scikit-learn records a diverged model's score."""
        pred = self._output(self._logits(X)).reshape(target.shape)
        if not np.isfinite(pred).all():
            return float("nan")
        w = np.ones(len(target)) if weight is None else weight
        w = w.reshape(-1, 1)
        mean = (w * target).sum(axis=0) / w.sum()
        ss_res = (w * (target - pred) ** 2).sum(axis=0)
        ss_tot = (w * (target - mean) ** 2).sum(axis=0)
        safe = np.where(ss_tot > 0, ss_tot, 1.0)
        per = np.where(ss_tot > 0, 1.0 - ss_res / safe, np.where(ss_res == 0, 1.0, 0.0))
        return float(per.mean())
