"""The shared base of :mod:`gdlab.sklearn`'s MLP estimators: parameters and their
validation, input checks, the network's set-up and its fitted attributes.

``MLPClassifier`` and ``MLPRegressor`` themselves (targets, prediction, scoring) stay in
:mod:`gdlab.sklearn`, their public home; the loops are in :mod:`gdlab.estimators._loop`.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np

import gdlab
from gdlab import optim
from gdlab.creation import from_numpy
from gdlab.estimators import _api as sk
from gdlab.estimators._loop import fit_lbfgs, fit_stochastic
from gdlab.estimators._mlp import ACTIVATIONS as _ACTIVATIONS
from gdlab.estimators._mlp import DenseNet, glorot_arrays
from gdlab.nn.parameter import Parameter

__all__ = ["_BaseMLP", "_not_lbfgs"]

_SOLVERS = {  # element-wise solvers, stepped on the network's one flat parameter
    name: optim.OPTIMIZERS[name].cls
    for name in ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam",
                 "radam", "lbfgs", "lion", "adabelief", "yogi", "adan", "lamb", "lars",
                 "novograd", "madgrad", "adabound", "amsbound", "adopt", "ademamix")
}  # fmt: skip
# Every other registry name (lion, lookahead, sam, the schedule-free ones, ...) is built from
# its registry spec on the layers' tensors, as its rule may not be element-wise.


def _solver_names() -> list[str]:
    """The registry's optimizers, but the second-order ones (their closure would have to keep
    the gradient's graph, which the estimator's loop does not)."""
    return sorted(n for n, spec in optim.OPTIMIZERS.items()
                  if not getattr(spec.cls, "requires_create_graph", False))  # fmt: skip


def _not_lbfgs(self: Any) -> bool:
    """partial_fit exists only for the stochastic solvers (as scikit-learn)."""
    if isinstance(self.solver, str) and self.solver.lower() == "lbfgs":
        raise AttributeError(
            f"partial_fit is only available for stochastic optimizers. "
            f"{self.solver} is not stochastic."
        )
    return True


def _dense(X: Any) -> Any:
    """A SciPy sparse matrix or array as a dense ndarray (gdlab's tensors are dense); a
    sparse input can only exist when SciPy is already imported."""
    sparse = sys.modules.get("scipy.sparse")
    if sparse is not None and sparse.issparse(X):
        return X.toarray()
    return X


def _sample_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 0:
        return np.full(n, float(w))
    if w.shape != (n,):
        raise ValueError(f"sample_weight.shape == {w.shape}, expected {(n,)}!")
    if not np.isfinite(w).all():
        raise ValueError("Input sample_weight contains NaN or infinity.")
    if not w.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return w


class _BaseMLP(sk.BaseEstimator):
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

    def _flat_solver(self) -> bool:
        """A named element-wise solver steps on the one flat array of all weights; a layer-wise
        one (LAMB, LARS, NovoGrad: a norm per tensor) and a class on the layers' tensors."""
        name = self._solver_name()
        return name in _SOLVERS and _SOLVERS[name]._elementwise

    def _validate_params_values(self) -> None:
        sizes = self._hidden_sizes()
        if any(s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(
                f"The 'activation' parameter of {type(self).__name__} must be a str among "
                f"{sorted(_ACTIVATIONS)}. Got {self.activation!r} instead."
            )
        if isinstance(self.solver, str) and self._solver_name() not in _solver_names():
            raise ValueError(
                f"The 'solver' parameter of {type(self).__name__} must be a str among "
                f"{_solver_names()} or a gdlab optimizer class. Got {self.solver!r} instead."
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
        if self.max_fun < 1:
            raise ValueError(f"max_fun must be > 0, got {self.max_fun}.")
        if self.learning_rate_init <= 0:
            raise ValueError(f"learning_rate_init must be > 0, got {self.learning_rate_init}.")

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        return [int(s) for s in sizes]

    def _rng(self) -> Any:
        """The random source of one fit call, as scikit-learn's ``check_random_state``: an int
        seeds a new ``RandomState`` per call (so initial weights, validation split and shuffles
        are scikit-learn's own draws), a ``RandomState`` or ``Generator`` is used and advanced,
        None draws a fresh seed from the OS (the global NumPy state is never touched)."""
        rs = self.random_state
        if isinstance(rs, np.random.RandomState | np.random.Generator):
            return rs
        return np.random.RandomState(None if rs is None else int(rs))

    def _batch_size(self, n: int) -> int:
        if self.batch_size == "auto":
            return min(200, n)
        if not 1 <= self.batch_size <= n:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going "
                "to be clipped",
                stacklevel=4,
            )
        return int(np.clip(self.batch_size, 1, n))

    # ------------------------------------------------------------------ model pieces
    def _initialize(self, n_features: int, n_outputs: int, dtype: Any, rng: Any) -> None:
        """A new network and scikit-learn's fitted state for a first call to fit."""
        self.n_iter_, self.t_ = 0, 0
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(self._hidden_sizes()) + 2
        self.out_activation_ = self._out_activation()
        sizes = [n_features, *self._hidden_sizes(), n_outputs]
        coefs, intercepts = glorot_arrays(sizes, self.activation, dtype, rng)
        self._model = DenseNet(coefs, intercepts, self.activation)
        self._optimizer = None
        self._best_flat = self._model.flat.copy()
        self._publish()
        if self._solver_name() == "lbfgs":
            return
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_loss_: float | None = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _adopt_coefs(self) -> None:
        """Train from ``coefs_`` / ``intercepts_`` as they are now: the arrays fit left there
        (the live weights), or arrays the user assigned (scikit-learn lets users set them)."""
        arrays = [*self.coefs_, *self.intercepts_]
        model = getattr(self, "_model", None)
        params = [] if model is None else [*model.weights(), *model.biases()]
        shapes = [np.shape(a) for a in arrays]
        if model is None or shapes != [p.data.shape for p in params]:
            dtype = np.result_type(*arrays) if all(np.ndim(a) for a in arrays) else np.float64
            dtype = dtype if dtype in (np.float32, np.float64) else np.float64
            n = len(self.coefs_)
            copies = [np.array(a, dtype=dtype) for a in arrays]
            self._model = DenseNet(copies[:n], copies[n:], self.activation)
            self._optimizer = None
        else:
            for p, a in zip(params, arrays, strict=True):
                if a is not p.data:
                    np.copyto(p.data, a, casting="same_kind")
            model.activation = self.activation
        best = getattr(self, "_best_flat", None)
        if best is None or best.shape != self._model.flat.shape:
            self._best_flat = self._model.flat.copy()
        self._publish()

    def _publish(self) -> None:
        """``coefs_`` / ``intercepts_`` are lists of the network's own arrays (live)."""
        self.coefs_ = [w.data for w in self._model.weights()]
        self.intercepts_ = [b.data for b in self._model.biases()]

    def _make_optimizer(self) -> Any:
        """The solver; a named element-wise one steps on the network's single flat parameter
        (one update for all layers, the same numbers as per tensor); another registry name
        (its spec's defaults, lr = ``learning_rate_init``) or a class given as ``solver`` gets
        the layers' tensors, as its rule may not be element-wise."""
        name = self._solver_name()
        if self._flat_solver():
            flat = Parameter(self._model.flat)
            flat.grad = self._model.flat_grad
            params = [flat]
        else:
            params = list(self._model.parameters())
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
        if not name:
            return self.solver(params, lr=self.learning_rate_init)
        spec = optim.OPTIMIZERS[name]  # its defaults: e.g. amsbound's amsbound=True
        return spec.cls(params, lr=self.learning_rate_init, **spec.defaults)

    def _relink_optimizer(self) -> None:
        """A flat solver's parameter is the network's ``flat`` array itself; an unpickled
        estimator (joblib stores arrays apart) gets that link back, its state kept."""
        if not self._flat_solver():
            return
        (flat,) = [p for group in self._optimizer.param_groups for p in group["params"]]
        if flat.data is not self._model.flat:
            flat.data = self._model.flat
        if flat._grad is not self._model.flat_grad:
            flat.grad = self._model.flat_grad

    def _logits(self, X: np.ndarray) -> np.ndarray:
        dtype = self.coefs_[0].dtype
        with gdlab.no_grad():
            return self._model(from_numpy(np.asarray(X, dtype=dtype))).data

    # ------------------------------------------------------------------ fitting
    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> _BaseMLP:
        self._validate_params_values()
        first = not hasattr(self, "coefs_") or not (self.warm_start or incremental)
        X, y = sk.validate_data(
            self,
            _dense(X),
            y,
            reset=first,
            dtype=(np.float64, np.float32),
            multi_output=True,
            y_numeric=isinstance(self, sk.RegressorMixin),
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = sk.column_or_1d(y, warn=True)  # DataConversionWarning, as scikit-learn
        target = self._encode_targets(y, incremental)
        weight = _sample_weight(sample_weight, len(X))
        rng = self._rng()
        if first:
            self._initialize(X.shape[1], target.shape[1], X.dtype, rng)
        else:
            self._adopt_coefs()
        dtype = self.coefs_[0].dtype
        X, target = X.astype(dtype, copy=False), target.astype(dtype)
        weight = None if weight is None else weight.astype(dtype)
        with np.errstate(over="ignore", invalid="ignore"):  # the check below reports it
            if self._solver_name() == "lbfgs":
                fit_lbfgs(self, X, target, weight)
            else:
                if not incremental or getattr(self, "_optimizer", None) is None:
                    self._optimizer = self._make_optimizer()
                self._relink_optimizer()
                fit_stochastic(self, X, target, weight, incremental, rng)
        self._publish()
        if not all(np.isfinite(p.data).all() for p in self._model.parameters()):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _BaseMLP:
        """Fit the model to data X (n_samples, n_features) and targets y, optionally
        weighting each sample's loss by ``sample_weight``."""
        return self._fit(X, y, sample_weight, incremental=False)

    @sk.available_if(_not_lbfgs)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> _BaseMLP:
        """One epoch over (X, y), keeping the weights and optimizer state between calls."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _raw_predict(self, X: Any) -> np.ndarray:
        sk.check_is_fitted(self, "n_outputs_")
        X = sk.validate_data(self, _dense(X), reset=False, dtype=(np.float64, np.float32))
        return self._logits(X)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        if sk.HAVE_SKLEARN:
            tags.input_tags.sparse = True
        return tags
