"""The shared base of :mod:`gdlab.sklearn`'s MLP estimators: parameters, validation, model
and optimizer set-up, and the stochastic / L-BFGS fitting loops (trained by
:class:`gdlab.train.Trainer`).

``MLPClassifier`` and ``MLPRegressor`` themselves (target encoding, prediction, scoring) stay
in :mod:`gdlab.sklearn`, their public home.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

import gdlab
from gdlab import optim
from gdlab.data import DataLoader, TensorDataset
from gdlab.estimators._mlp import ACTIVATIONS as _ACTIVATIONS
from gdlab.estimators._mlp import DenseNet as _MLP
from gdlab.estimators._mlp import PenalizedLoss as _Loss
from gdlab.estimators._mlp import SklearnSchedule as _SklearnSchedule
from gdlab.train.trainer import Trainer

try:  # scikit-learn is an extra: use its base classes and validation when it is there
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
    "ClassifierMixin",
    "RegressorMixin",
    "_BaseMLP",
    "_not_lbfgs",
    "available_if",
    "check_classification_targets",
]

_SOLVERS = {  # the registry's classes under the solver names scikit-learn users write
    name: optim.OPTIMIZERS[name].cls
    for name in ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam",
                 "radam", "lbfgs")
}  # fmt: skip


def _not_lbfgs(self: Any) -> bool:
    """partial_fit exists only for the stochastic solvers (as scikit-learn)."""
    if isinstance(self.solver, str) and self.solver.lower() == "lbfgs":
        raise AttributeError(
            f"partial_fit is only available for stochastic optimizers. "
            f"{self.solver} is not stochastic."
        )
    return True


class _BaseMLP(BaseEstimator):
    _loss_kind = "squared"

    def __init__(
        self,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    # ------------------------------------------------------------------ validation
    def _solver_name(self) -> str:
        return self.solver.lower() if isinstance(self.solver, str) else ""

    def _validate_params_values(self) -> None:
        sizes = self._hidden_sizes()
        if any(s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(
                f"The 'activation' parameter of {type(self).__name__} must be a str among "
                f"{sorted(_ACTIVATIONS)}. Got {self.activation!r} instead."
            )
        if isinstance(self.solver, str) and self._solver_name() not in _SOLVERS:
            raise ValueError(
                f"The 'solver' parameter of {type(self).__name__} must be a str among "
                f"{sorted(_SOLVERS)} or a gdlab optimizer class. Got {self.solver!r} instead."
            )
        if self.learning_rate not in ("constant", "invscaling", "adaptive"):
            raise ValueError(
                "learning_rate must be 'constant', 'invscaling' or 'adaptive', "
                f"got {self.learning_rate!r}"
            )
        for name in ("alpha", "tol", "momentum", "power_t"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}.")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction}"
            )
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be > 0, got {self.max_iter}.")
        if self.learning_rate_init <= 0:
            raise ValueError(f"learning_rate_init must be > 0, got {self.learning_rate_init}.")

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        return [int(s) for s in sizes]

    def _rng(self) -> np.random.Generator:
        rs = self.random_state
        if rs is None:
            return np.random.default_rng()
        if isinstance(rs, np.random.RandomState):
            return np.random.default_rng(rs.randint(np.iinfo(np.int32).max))
        if isinstance(rs, np.random.Generator):
            return rs
        return np.random.default_rng(int(rs))

    # ------------------------------------------------------------------ model pieces
    def _initialize(self, n_features: int, n_outputs: int, dtype: Any) -> None:
        self._random = self._rng()
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(self._hidden_sizes()) + 2
        self.out_activation_ = self._out_activation()
        sizes = [n_features, *self._hidden_sizes(), n_outputs]
        logistic_out = self.out_activation_ == "logistic"
        self._model = _MLP(sizes, self.activation, logistic_out, dtype, self._random)
        self._optimizer = self._make_optimizer()
        self.loss_curve_: list[float] = []
        self.n_iter_, self.t_ = 0, 0
        self._no_improvement_count = 0
        self.best_loss_ = np.inf
        if self.early_stopping:
            self.validation_scores_: list[float] = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None

    def _make_optimizer(self) -> Any:
        params = list(self._model.parameters())
        name = self._solver_name()
        if name == "sgd":
            nesterov = bool(self.nesterovs_momentum and self.momentum > 0)
            return optim.SGD(
                params, lr=self.learning_rate_init, momentum=self.momentum, nesterov=nesterov
            )
        if name in ("adam", "adamw"):
            return _SOLVERS[name](
                params,
                lr=self.learning_rate_init,
                betas=(self.beta_1, self.beta_2),
                eps=self.epsilon,
            )
        if name == "lbfgs":
            return optim.LBFGS(
                params,
                lr=1,
                max_iter=self.max_iter,
                max_eval=self.max_fun,
                tolerance_grad=self.tol,
                tolerance_change=0.0,
                history_size=10,
                line_search_fn="strong_wolfe",
            )
        cls = _SOLVERS[name] if name else self.solver
        return cls(params, lr=self.learning_rate_init)

    @property
    def coefs_(self) -> list[np.ndarray]:
        check_is_fitted(self, "n_outputs_")
        return [w.data for w in self._model.weights()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        check_is_fitted(self, "n_outputs_")
        return [getattr(self._model, f"b{i}").data for i in range(self._model.n_layers)]

    def _forward(self, X: np.ndarray) -> np.ndarray:
        with gdlab.no_grad():
            return self._model(gdlab.Tensor(X.astype(self._dtype, copy=False))).data

    # ------------------------------------------------------------------ fitting
    def _fit(self, X: Any, y: Any, incremental: bool) -> _BaseMLP:
        self._validate_params_values()
        first = not (incremental or self.warm_start) or not hasattr(self, "_model")
        regression = isinstance(self, RegressorMixin)
        X, y = validate_data(
            self,
            X,
            y,
            reset=first,
            dtype=(np.float64, np.float32),
            multi_output=regression,
            y_numeric=regression,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # DataConversionWarning, as scikit-learn
        target = self._encode_targets(y, first)
        if first:
            self._dtype = X.dtype
            self._initialize(X.shape[1], target.shape[1], X.dtype)
        target = target.astype(self._dtype)
        if self._solver_name() == "lbfgs":
            if incremental:
                raise AttributeError("partial_fit is not available for solver 'lbfgs'")
            return self._fit_lbfgs(X, target)
        return self._fit_stochastic(X, target, incremental)

    def _batch_size(self, n: int) -> int:
        if self.batch_size == "auto":
            return min(200, n)
        if not 1 <= self.batch_size <= n:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going "
                "to be clipped",
                stacklevel=3,
            )
        return int(np.clip(self.batch_size, 1, n))

    def _fit_stochastic(self, X: np.ndarray, target: np.ndarray, incremental: bool) -> _BaseMLP:
        X_val = y_val = None
        if self.early_stopping and not incremental:
            idx = self._random.permutation(len(X))
            n_val = max(1, int(round(self.validation_fraction * len(X))))
            if n_val >= len(X):
                raise ValueError(
                    f"With n_samples={len(X)}, validation_fraction={self.validation_fraction}, "
                    "the resulting train set will be empty. Adjust validation_fraction or "
                    "set early_stopping=False."
                )
            X_val, y_val = X[idx[:n_val]], target[idx[:n_val]]
            X, target = X[idx[n_val:]], target[idx[n_val:]]
        seed = int(self._random.integers(2**31))
        batch_size = self._batch_size(len(X))
        shuffle = bool(self.shuffle)
        dataset = TensorDataset(X, target)
        loader = DataLoader(dataset, batch_size, shuffle=shuffle, seed=seed if shuffle else None)
        self._samples_before, self._converged = 0, False
        schedule = _SklearnSchedule(self, X_val, y_val, incremental)
        loss = _Loss(self._loss_kind, self._model, self.alpha)
        trainer = Trainer(self._model, loss, self._optimizer, loader, callbacks=[schedule])
        with np.errstate(over="ignore"):
            trainer.fit(1 if incremental else self.max_iter)
        if self.early_stopping and not incremental and getattr(self, "_best_state", None):
            self._model.load_state_dict(self._best_state)
        if not incremental and not self._converged and self.n_iter_ >= self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _fit_lbfgs(self, X: np.ndarray, target: np.ndarray) -> _BaseMLP:
        loss_fn = _Loss(self._loss_kind, self._model, self.alpha)
        loader = DataLoader(TensorDataset(X, target), batch_size=None)
        trainer = Trainer(self._model, loss_fn, self._optimizer, loader)
        trainer.fit(1)
        state = self._optimizer.state[next(iter(self._model.parameters()))]
        self.n_iter_ = int(state.get("n_iter", 1))
        with gdlab.no_grad():
            self.loss_ = float(loss_fn(self._model(gdlab.Tensor(X)), gdlab.Tensor(target)).item())
        self.loss_curve_ = [self.loss_]
        self.best_loss_ = self.loss_
        if self.n_iter_ >= self.max_iter:
            warnings.warn(
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) (max_iter="
                f"{self.max_iter}). Increase the number of iterations to improve the convergence.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def fit(self, X: Any, y: Any) -> _BaseMLP:
        """Fit the model to data X (n_samples, n_features) and targets y."""
        return self._fit(X, y, incremental=False)

    @available_if(_not_lbfgs)
    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> _BaseMLP:
        """One epoch over (X, y), keeping the weights and optimizer state between calls."""
        return self._fit(X, y, incremental=True)

    def _raw_predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_outputs_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self._forward(X)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
