"""Metrics: functions on arrays and streaming accumulators that add up an epoch batch by batch.

The functions follow scikit-learn's names and formulas (``accuracy_score``, ``r2_score``,
``confusion_matrix``); the accumulators give the same number for a whole epoch as the function
on the concatenated arrays, without keeping the arrays.

Classification outputs: ``(N, C)`` scores or logits are turned into labels by ``argmax``;
``(N,)``/``(N, 1)`` outputs are binary: thresholded at 0.5 when they all lie in [0, 1]
(probabilities) and at 0 otherwise (logits), as torchmetrics does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.tensor import Tensor

__all__ = [
    "MAE",
    "MSE",
    "R2",
    "Accuracy",
    "ConfusionMatrix",
    "Mean",
    "Metric",
    "TopKAccuracy",
    "accuracy",
    "confusion_matrix",
    "get_metric",
    "mean_absolute_error",
    "mean_squared_error",
    "r2_score",
    "top_k_accuracy",
]


def _np(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def _check_lengths(name: str, output: np.ndarray, target: np.ndarray) -> None:
    if len(output) != len(target):
        raise ValueError(
            f"{name}: Found input variables with inconsistent numbers of samples: "
            f"[{len(output)}, {len(target)}]"
        )


def predicted_labels(output: Any) -> np.ndarray:
    """Class labels from scores: argmax over the last axis, or a binary threshold."""
    out = _np(output)
    if out.ndim >= 2 and out.shape[-1] > 1:
        return out.argmax(axis=-1)
    out = out.reshape(len(out)) if out.ndim else out.reshape(1)
    if out.dtype.kind in "iub":
        return out
    threshold = 0.5 if out.size and out.min() >= 0.0 and out.max() <= 1.0 else 0.0
    return (out > threshold).astype(np.int64)


def _labels(target: Any) -> np.ndarray:
    t = _np(target)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim == 2:  # one-hot or class probabilities
        t = t.argmax(axis=1)
    return t


def accuracy(output: Any, target: Any) -> float:
    """Fraction of samples whose predicted class equals the target class.

    accuracy = (1/N) Σ 1[argmax(output_i) = target_i]

    Args:
        output: scores ``(N, C)`` or binary outputs ``(N,)``/``(N, 1)`` or labels.
        target: class indices ``(N,)`` (or one-hot ``(N, C)``).

    Example:
        >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
        0.5
    """
    pred, t = predicted_labels(output), _labels(target)
    _check_lengths("accuracy", pred, t)
    return float(np.mean(pred == t)) if len(t) else 0.0


def _top_k_hits(output: Any, target: Any, k: int) -> np.ndarray:
    scores, t = _np(output), _labels(target)
    if scores.ndim != 2:
        raise ValueError(f"top_k_accuracy: expected scores of shape (N, C), got {scores.shape}")
    if not 1 <= k:
        raise ValueError(f"top_k_accuracy: k must be a positive int, got {k}")
    _check_lengths("top_k_accuracy", scores, t)
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return (top == t.reshape(-1, 1)).any(axis=1)


def top_k_accuracy(output: Any, target: Any, k: int = 5) -> float:
    """Fraction of samples whose target class is among the ``k`` highest scores.

    Example:
        >>> top_k_accuracy(np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]]), np.array([1, 0]), k=2)
        0.5
    """
    hits = _top_k_hits(output, target, k)
    return float(hits.mean()) if len(hits) else 0.0


def _reg_arrays(name: str, output: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    out, t = _np(output).astype(np.float64), _np(target).astype(np.float64)
    _check_lengths(name, out, t)
    if out.shape != t.shape:
        if out.size != t.size:
            raise ValueError(f"{name}: output shape {out.shape} and target shape {t.shape} differ")
        out = out.reshape(t.shape)
    return out, t


def mean_squared_error(output: Any, target: Any) -> float:
    """MSE = (1/n) Σ (output − target)², over all elements."""
    out, t = _reg_arrays("mean_squared_error", output, target)
    return float(np.mean((out - t) ** 2))


def mean_absolute_error(output: Any, target: Any) -> float:
    """MAE = (1/n) Σ |output − target|, over all elements."""
    out, t = _reg_arrays("mean_absolute_error", output, target)
    return float(np.mean(np.abs(out - t)))


def r2_score(output: Any, target: Any) -> float:
    """Coefficient of determination R² = 1 − SS_res / SS_tot, averaged uniformly over outputs.

    As scikit-learn's ``r2_score(y_true, y_pred)`` (note the argument order here: output first,
    as every gdlab metric). A constant target gives 1.0 for a perfect fit and 0.0 otherwise.
    """
    out, t = _reg_arrays("r2_score", output, target)
    return _r2_from_sums(
        np.sum((t - out) ** 2, axis=0), np.sum(t, axis=0), np.sum(t**2, axis=0), len(t)
    )


def _r2_from_sums(ss_res: Any, s: Any, s2: Any, n: int) -> float:
    ss_res, s, s2 = (np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (ss_res, s, s2))
    ss_tot = s2 - s * s / max(n, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), 0.0)
    scores = np.where((ss_tot <= 0) & (ss_res <= 0), 1.0, scores)
    return float(scores.mean())


def confusion_matrix(output: Any, target: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts C[i, j] of samples with true class i predicted as class j (scikit-learn's layout).

    Example:
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0])).tolist()
        [[1, 1], [0, 1]]
    """
    pred, t = predicted_labels(output).astype(np.int64), _labels(target).astype(np.int64)
    _check_lengths("confusion_matrix", pred, t)
    if num_classes is None:
        num_classes = int(max(pred.max(initial=-1), t.max(initial=-1))) + 1
    cm = np.bincount(t * num_classes + pred, minlength=num_classes * num_classes)
    return cm[: num_classes * num_classes].reshape(num_classes, num_classes)


# ---------------------------------------------------------------- streaming accumulators
class Metric:
    """A metric accumulated over batches: ``reset()``, ``update(output, target)``, ``compute()``.

    Its state is a few float64 numbers (``state_dict``), so a run resumed mid-epoch reports the
    same epoch metric as an uninterrupted run.
    """

    name = "metric"
    _fields: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        for f in self._fields:
            setattr(self, f, 0.0)

    def update(self, output: Any, target: Any) -> None:
        raise NotImplementedError

    def compute(self) -> Any:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self._fields}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for f in self._fields:
            value = state[f]
            setattr(self, f, np.array(value) if isinstance(value, list) else value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Mean(Metric):
    """Sample-weighted mean of a scalar (the epoch loss from per-batch mean losses)."""

    name = "mean"
    _fields = ("total", "count")

    def update(self, value: float, count: int = 1) -> None:  # type: ignore[override]
        self.total += float(value) * count
        self.count += count

    def compute(self) -> float:
        return self.total / self.count if self.count else float("nan")


class Accuracy(Metric):
    name = "accuracy"
    _fields = ("correct", "count")

    def update(self, output: Any, target: Any) -> None:
        pred, t = predicted_labels(output), _labels(target)
        _check_lengths(self.name, pred, t)
        self.correct += float(np.sum(pred == t))
        self.count += len(t)

    def compute(self) -> float:
        return self.correct / self.count if self.count else float("nan")


class TopKAccuracy(Accuracy):
    def __init__(self, k: int = 5) -> None:
        self.k = k
        self.name = f"top_{k}_accuracy"
        super().__init__()

    def update(self, output: Any, target: Any) -> None:
        hits = _top_k_hits(output, target, self.k)
        self.correct += float(hits.sum())
        self.count += len(hits)


class MSE(Metric):
    name = "mse"
    _fields = ("total", "count")

    def _term(self, diff: np.ndarray) -> np.ndarray:
        return diff**2

    def update(self, output: Any, target: Any) -> None:
        out, t = _reg_arrays(self.name, output, target)
        self.total += float(np.sum(self._term(out - t)))
        self.count += t.size

    def compute(self) -> float:
        return self.total / self.count if self.count else float("nan")


class MAE(MSE):
    name = "mae"

    def _term(self, diff: np.ndarray) -> np.ndarray:
        return np.abs(diff)


class R2(Metric):
    """Streaming R² from per-output sums (Σ residual², Σ y, Σ y², n)."""

    name = "r2"
    _fields = ("ss_res", "s", "s2", "count")

    def update(self, output: Any, target: Any) -> None:
        out, t = _reg_arrays(self.name, output, target)
        self.ss_res = self.ss_res + np.sum((t - out) ** 2, axis=0)
        self.s = self.s + np.sum(t, axis=0)
        self.s2 = self.s2 + np.sum(t**2, axis=0)
        self.count += len(t)

    def compute(self) -> float:
        if not self.count:
            return float("nan")
        return _r2_from_sums(self.ss_res, self.s, self.s2, int(self.count))

    def state_dict(self) -> dict[str, Any]:
        return {f: np.asarray(getattr(self, f), dtype=np.float64) for f in self._fields}


class ConfusionMatrix(Metric):
    name = "confusion_matrix"

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        super().__init__()

    def reset(self) -> None:
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, output: Any, target: Any) -> None:
        self.matrix += confusion_matrix(output, target, self.num_classes)

    def compute(self) -> np.ndarray:
        return self.matrix.copy()

    def state_dict(self) -> dict[str, Any]:
        return {"matrix": self.matrix.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.matrix = np.array(state["matrix"], dtype=np.int64)


_BY_NAME = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "mse": MSE,
    "mean_squared_error": MSE,
    "mae": MAE,
    "mean_absolute_error": MAE,
    "r2": R2,
    "r2_score": R2,
}


def get_metric(metric: str | Metric) -> Metric:
    """A metric object from a name (``"accuracy"``, ``"top_5_accuracy"``, ``"mse"``, ``"mae"``,
    ``"r2"``) or the object itself."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        key = metric.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]()
        if key.startswith("top_") and key.endswith("_accuracy") and key[4:-9].isdigit():
            return TopKAccuracy(int(key[4:-9]))
    names = sorted(_BY_NAME) + ["top_<k>_accuracy"]
    raise ValueError(f"get_metric: unknown metric {metric!r}; choose from {names}")
