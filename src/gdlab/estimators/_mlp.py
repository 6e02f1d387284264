"""The network, loss and stopping rules behind :mod:`gdlab.sklearn`'s MLP estimators."""

from __future__ import annotations

from typing import Any

import numpy as np

import gdlab
from gdlab.nn.module import Module
from gdlab.nn.parameter import Parameter
from gdlab.train.callbacks import Callback

__all__ = ["ACTIVATIONS", "DenseNet", "PenalizedLoss", "SklearnSchedule"]

ACTIVATIONS = {
    "identity": lambda x: x,
    "logistic": gdlab.sigmoid,
    "tanh": gdlab.tanh,
    "relu": gdlab.relu,
}


class DenseNet(Module):
    """Dense layers with weights stored (in, out), as scikit-learn's ``coefs_``."""

    def __init__(
        self,
        sizes: list[int],
        activation: str,
        out_logistic: bool,
        dtype: Any,
        rng: np.random.Generator,
    ) -> None:
        super().__init__()
        self.activation = activation
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            # Glorot uniform, factor 2 for logistic units (scikit-learn's _init_coef)
            factor = (
                2.0 if activation == "logistic" or (out_logistic and i == len(sizes) - 2) else 6.0
            )
            bound = np.sqrt(factor / (fan_in + fan_out))
            setattr(
                self,
                f"W{i}",
                Parameter(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype)),
            )
            setattr(self, f"b{i}", Parameter(rng.uniform(-bound, bound, fan_out).astype(dtype)))
        self.n_layers = len(sizes) - 1

    def forward(self, x: Any) -> Any:
        act = ACTIVATIONS[self.activation]
        for i in range(self.n_layers):
            x = x @ getattr(self, f"W{i}") + getattr(self, f"b{i}")
            if i < self.n_layers - 1:
                x = act(x)
        return x

    def weights(self) -> list[Parameter]:
        return [getattr(self, f"W{i}") for i in range(self.n_layers)]


class PenalizedLoss:
    """Data loss + (alpha / 2)·Σ‖W‖² / n, computed on the output logits."""

    def __init__(self, kind: str, model: DenseNet, alpha: float) -> None:
        self.kind, self.model, self.alpha = kind, model, alpha

    def __call__(self, out: Any, target: Any) -> Any:
        n = out.shape[0]
        if self.kind == "squared":
            loss = ((out - target) ** 2).mean() * 0.5
        elif self.kind == "binary":  # stable: softplus(z) − y·z = −[y log σ(z) + (1−y) log(1−σ(z))]
            loss = (gdlab.softplus(out) - target * out).mean()
        else:
            loss = -(gdlab.log_softmax(out, dim=1) * target).sum() / n
        if self.alpha:
            loss = loss + (0.5 * self.alpha / n) * sum((w * w).sum() for w in self.model.weights())
        return loss


class SklearnSchedule(Callback):
    """scikit-learn's stopping rules (tol, n_iter_no_change, early_stopping) and SGD's
    'invscaling' / 'adaptive' learning rates, as a training callback."""

    def __init__(self, est: Any, X_val: Any, y_val: Any, incremental: bool) -> None:
        self.est, self.X_val, self.y_val, self.incremental = est, X_val, y_val, incremental

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        est = self.est
        est.n_iter_ += 1
        est.t_ += self.trainer.samples_seen - est._samples_before
        est._samples_before = self.trainer.samples_seen
        if est._solver_name() == "sgd" and est.learning_rate == "invscaling":
            lr = est.learning_rate_init / (est.t_ + 1) ** est.power_t
            for g in self.trainer.optimizer.param_groups:
                g["lr"] = lr
        est.loss_ = float((logs or {})["loss"])
        est.loss_curve_.append(est.loss_)
        if est.early_stopping and self.X_val is not None:
            score = est._score_raw(self.X_val, self.y_val)
            est.validation_scores_.append(score)
            if score < est.best_validation_score_ + est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                est._best_state = est._model.state_dict()
        else:
            if est.best_loss_ is None:  # early_stopping estimator trained by partial_fit
                est.best_loss_ = np.inf
            if est.loss_ > est.best_loss_ - est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            est.best_loss_ = min(est.best_loss_, est.loss_)
        if est._no_improvement_count > est.n_iter_no_change:
            if not self._lower_lr():
                est._converged = True
                self.trainer.stop_training = True
            else:
                est._no_improvement_count = 0
        if self.incremental:
            self.trainer.stop_training = True

    def _lower_lr(self) -> bool:
        est = self.est
        if est._solver_name() != "sgd" or est.learning_rate != "adaptive":
            return False
        groups = self.trainer.optimizer.param_groups
        if groups[0]["lr"] <= 1e-6:
            return False
        for g in groups:
            g["lr"] = g["lr"] / 5.0
        return True
