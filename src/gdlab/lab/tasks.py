"""The pieces a training comparison is built from: a data set split, an MLP, loaders, a loss.

One place for the choices every lab command shares, so ``compare``, ``train`` and ``lr-find``
build the same model from the same settings:

- data: ``gdlab.datasets.load(name)`` split into train / validation / test with a seed, features
  standardised with statistics of the training part only;
- model: an MLP ``n_in -> hidden... -> n_out`` with torch's default initialisation drawn from an
  explicit generator (so the seed, not import order, fixes the weights);
- batch modes: ``bgd`` = the full batch (``batch_size=None``), ``sgd`` = one sample,
  ``mbgd`` = ``b`` samples, shuffled every epoch from the seed.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import gdlab
from gdlab import datasets, nn
from gdlab.data import DataLoader, TensorDataset, train_val_test_split
from gdlab.lab.config import option, positive_int
from gdlab.lab.models import (
    MODEL_KINDS,
    SequenceClassifier,
    conv1d_classifier,
    conv2d_classifier,
    image_side,
)
from gdlab.random import get_generator
from gdlab.train import metrics

__all__ = [
    "ACTIVATIONS",
    "BATCH_MODES",
    "Task",
    "CSV_HEADERS",
    "activation_option",
    "csv_options",
    "dataset_argument",
    "dataset_stem",
    "batch_size_option",
    "dataset_option",
    "hidden_option",
    "batch_size_for",
    "build_mlp",
    "build_model",
    "model_option",
    "dataset_names",
    "evaluate",
    "load_task",
    "make_loader",
]

#: batch mode -> batch size (None = the whole training set; "b" = the mini-batch size).
BATCH_MODES: dict[str, str | int | None] = {"bgd": None, "sgd": 1, "mbgd": "b"}

#: ``--activation`` name -> ``gdlab.nn`` class.
ACTIVATIONS = {
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "elu": "ELU", "gelu": "GELU",
    "silu": "SiLU", "leaky_relu": "LeakyReLU",
}  # fmt: skip


def dataset_names() -> list[str]:
    """The data sets that load offline (bundled or generated), for ``--dataset`` choices."""
    return list(datasets.available())


#: Data sets stored flat whose samples are images (a CNN reshapes them).
IMAGE_SHAPES: dict[str, tuple[int, ...]] = {"digits": (8, 8)}

#: ``--csv-header`` -> ``datasets.from_csv``'s ``header`` (None: detected).
CSV_HEADERS: dict[str, bool | None] = {"auto": None, "yes": True, "no": False}


def dataset_argument(text: str) -> str:
    """A data set name, or a CSV file (``*.csv``, made absolute so every worker finds it)."""
    if text.lower().endswith(".csv"):
        path = Path(text).expanduser()
        if not path.is_file():
            raise argparse.ArgumentTypeError(f"no such CSV file: {text!r}")
        return str(path.resolve())
    key = text.lower().replace("-", "_")
    names = dataset_names()
    if key not in names:
        raise argparse.ArgumentTypeError(
            f"unknown data set {text!r} (a CSV file path ending in .csv, or one of: "
            f"{', '.join(names)})"
        )
    return key


def dataset_stem(name: str) -> str:
    """A data set's name for file names: a CSV file's stem, else the name."""
    return Path(name).stem if name.lower().endswith(".csv") else name


# The model and data options ``compare`` and ``lr-find`` share, spelled once.
def dataset_option(many: bool = False) -> Any:
    """``--dataset NAME`` (with ``many``: ``--dataset NAME [NAME ...]``, a list); a name may be
    a CSV file (``csv_options`` say how to read it)."""
    if many:
        return option(["digits"], "--dataset", factory=True, nargs="+", type=dataset_argument,
                      metavar="NAME", help="data set(s) or CSV files; several give performance "
                      "profiles (one of: " + ", ".join(dataset_names()) + ")")  # fmt: skip
    return option("digits", "--dataset", type=dataset_argument, metavar="NAME",
                  help="data set or CSV file (default: digits; one of: "
                  + ", ".join(dataset_names()) + ")")  # fmt: skip


def csv_options() -> tuple[Any, Any]:
    """``--target-column COL`` and ``--csv-header auto|yes|no``: how a CSV data set is read."""
    target = option(None, "--target-column", metavar="COL",
                    help="CSV data sets: the target column, by header name or 0-based index "
                    "(default: the last)")  # fmt: skip
    header = option("auto", "--csv-header", choices=tuple(CSV_HEADERS),
                    help="CSV data sets: whether the first row holds column names (auto: "
                    "detected)")  # fmt: skip
    return target, header


def hidden_option() -> Any:
    return option([32], "--hidden", factory=True, type=positive_int, nargs="*", metavar="N",
                  help="hidden layer widths of the MLP (default: 32)")  # fmt: skip


def activation_option() -> Any:
    return option("relu", "--activation", choices=tuple(ACTIVATIONS))


def batch_size_option() -> Any:
    return option(32, "--batch-size", type=positive_int, help="mini-batch size")


@dataclass
class Task:
    """A data set ready for training: standardised float32 splits and what the model needs."""

    name: str
    kind: str  # "classification" or "regression"
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    n_features: int
    n_outputs: int
    # Regression targets may be trained standardised, y' = (y − target_mean) / target_scale
    # (statistics of the training part); a loss in training units times target_scale² is the
    # MSE in the data's own units. 0 and 1: the targets are as loaded.
    target_mean: np.ndarray | float = 0.0
    target_scale: float = 1.0
    # One sample's shape before flattening ((8, 8) for digits): what a CNN reshapes to.
    sample_shape: tuple[int, ...] = ()

    def loss(self) -> Any:
        """Cross-entropy for classification, mean squared error for regression."""
        return nn.CrossEntropyLoss() if self.kind == "classification" else nn.MSELoss()

    @property
    def metric(self) -> str:
        return "accuracy" if self.kind == "classification" else "r2"


def load_task(
    name: str,
    *,
    seed: int = 0,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    standardize: bool = True,
    standardize_target: bool = False,
    dtype: Any = np.float32,
    target_column: str | int | None = None,
    csv_header: str = "auto",
) -> Task:
    """Load ``name`` and split it (stratified for classification) with ``seed``.

    ``standardize`` scales the features by the training part's mean and standard deviation;
    ``standardize_target`` does the same to a regression's targets (one pooled scale for all
    outputs, so the MSE in original units is the trained MSE times ``target_scale²`` and R² is
    unchanged): without it, a target in the hundreds (diabetes) makes SGD's first steps huge.
    A ``name`` ending in ``.csv`` is a file read by ``datasets.from_csv`` with ``target_column``
    (a header name or an index; default the last) and ``csv_header`` (``CSV_HEADERS``).
    """
    if name.lower().endswith(".csv"):
        x_all, y_all, kind, n_classes = _load_csv(name, target_column, csv_header)
    else:
        x_all, y_all, kind, n_classes = _load_arrays(name, seed)
    shape = tuple(x_all.shape[1:]) if x_all.ndim > 2 else IMAGE_SHAPES.get(name, x_all.shape[1:])
    stratify = y_all if kind == "classification" else None
    x_tr, x_va, x_te, y_tr, y_va, y_te = train_val_test_split(
        x_all, y_all, val_size=val_fraction, test_size=test_fraction, seed=seed, stratify=stratify
    )
    xs = [np.asarray(x, dtype=dtype).reshape(len(x), -1) for x in (x_tr, x_va, x_te)]
    if standardize:
        mean, std = xs[0].mean(axis=0), xs[0].std(axis=0)
        std[std == 0] = 1.0  # constant pixels (digits' borders) stay 0, not NaN
        xs = [((x - mean) / std).astype(dtype) for x in xs]
    n_out = n_classes if kind == "classification" else int(y_all.reshape(len(y_all), -1).shape[1])
    ys = [_target(y, kind, dtype) for y in (y_tr, y_va, y_te)]
    mean, scale = 0.0, 1.0
    if standardize_target and kind == "regression":
        mean, scale = _target_statistics(ys[0])
        ys = [((y - mean) / scale).astype(dtype) for y in ys]
    return Task(
        name, kind, xs[0], ys[0], xs[1], ys[1], xs[2], ys[2], xs[0].shape[1], n_out, mean, scale,
        tuple(int(d) for d in shape),
    )  # fmt: skip


def _target_statistics(y: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-output means and one pooled standard deviation (1 for constant targets)."""
    y = np.asarray(y, dtype=np.float64)
    mean = y.mean(axis=0)
    scale = float(np.sqrt(((y - mean) ** 2).mean()))
    return mean, scale if scale > 0 else 1.0


def _load_csv(
    path: str, target: str | int | None, header: str
) -> tuple[np.ndarray, np.ndarray, str, int]:
    """All rows of a CSV file; ``from_csv``'s errors name the file, row and column."""
    if header not in CSV_HEADERS:
        raise ValueError(f"load_task: invalid csv_header {header!r} (choose from "
                         f"{', '.join(CSV_HEADERS)})")  # fmt: skip
    column: str | int = -1 if target is None else target
    if isinstance(column, str) and column.lstrip("-").isdigit():
        column = int(column)
    b = datasets.from_csv(path, target=column, header=CSV_HEADERS[header], test_size=0)
    return np.asarray(b.X_train), np.asarray(b.y_train), b.task, int(b.n_classes or 0)


def _load_arrays(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, str, int]:
    """All samples of a data set (its own splits joined), its task and number of classes."""
    try:
        b = datasets.load(name, seed=seed)
    except TypeError:  # a loader without a seed (fixed data, e.g. the six-sample regression)
        b = datasets.load(name)
    except RuntimeError as exc:  # the lab's commands never download: say how to, once
        if "download=True" not in str(exc):
            raise
        raise RuntimeError(
            f'{exc}; download it once with: python -c "from gdlab import datasets; '
            f'datasets.load({name!r}, download=True)"'
        ) from None
    parts = [(b.X_train, b.y_train), (b.X_val, b.y_val), (b.X_test, b.y_test)]
    x = np.concatenate([np.asarray(p[0]) for p in parts if p[0] is not None])
    y = np.concatenate([np.asarray(p[1]) for p in parts if p[0] is not None])
    return x, y, b.task, int(b.n_classes or 0)


def _target(y: Any, kind: str, dtype: Any) -> np.ndarray:
    if kind == "classification":
        return np.asarray(y, dtype=np.int64)
    y = np.asarray(y, dtype=dtype)
    return y.reshape(-1, 1) if y.ndim == 1 else y


def build_mlp(
    n_in: int,
    hidden: Sequence[int],
    n_out: int,
    *,
    activation: str = "relu",
    seed: int | np.random.Generator = 0,
    dtype: Any = np.float32,
) -> Any:
    """``nn.Sequential(Linear, act, ..., Linear)`` with torch's default init from ``seed``.

    Weights ~ U(−1/√fan_in, 1/√fan_in) (``kaiming_uniform_(a=√5)``) and biases likewise, as
    ``torch.nn.Linear``; drawn layer by layer from one generator.
    """
    if activation not in ACTIVATIONS:
        valid = ", ".join(repr(a) for a in ACTIVATIONS)
        raise ValueError(f"build_mlp: invalid activation {activation!r} (choose from {valid})")
    sizes = [int(n_in), *(int(h) for h in hidden), int(n_out)]
    layers: list[Any] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(getattr(nn, ACTIVATIONS[activation])())
    model = nn.Sequential(*layers)
    rng = get_generator(seed)
    for layer in layers:
        if isinstance(layer, nn.Linear):
            bound = 1.0 / math.sqrt(layer.weight.shape[1])
            nn.init.uniform_(layer.weight, -bound, bound, generator=rng)
            nn.init.uniform_(layer.bias, -bound, bound, generator=rng)
    return model.to(dtype) if np.dtype(dtype) != np.float32 else model


def model_option() -> Any:
    """``--model mlp|cnn|gru|lstm`` (``lab.models``; ``--hidden``'s first width sizes the
    others)."""
    return option("mlp", "--model", choices=tuple(MODEL_KINDS),
                  help="the network: mlp (--hidden widths), cnn (two convolutions, --hidden's "
                  "first value channels), gru or lstm (the features as a sequence, --hidden's "
                  "first value the state size)")  # fmt: skip


def build_model(
    kind: str, task: Task, hidden: Sequence[int], *, activation: str = "relu", seed: int = 0
) -> Any:
    """The ``kind`` of network for ``task`` (``MODEL_KINDS``), its weights from ``seed``.

    ``mlp``: ``build_mlp``. ``cnn``: a Conv2d network on image data (digits' 8x8), a Conv1d
    one on signals (MNIST-1D) with ``hidden[0]`` channels. ``gru``/``lstm``: the features as
    a sequence, state size ``hidden[0]``. The last three are classifiers.
    """
    if kind == "mlp":
        return build_mlp(task.n_features, hidden, task.n_outputs, activation=activation,
                         seed=seed)  # fmt: skip
    if kind not in MODEL_KINDS:
        valid = ", ".join(repr(k) for k in MODEL_KINDS)
        raise ValueError(f"build_model: invalid model {kind!r} (choose from {valid})")
    if task.kind != "classification":
        raise ValueError(f"build_model: a {kind} is a classifier; {task.name} is {task.kind}")
    width = int(hidden[0]) if hidden else 32
    g = np.random.default_rng(seed)
    if kind == "cnn":
        side = image_side(task.sample_shape)
        if side is not None:
            return conv2d_classifier(side, task.n_outputs, channels=width, generator=g)
        return conv1d_classifier(task.n_features, task.n_outputs, channels=width, generator=g)
    return SequenceClassifier(kind, width, task.n_outputs, g)


def evaluate(model: Any, loss_fn: Any, x: np.ndarray, y: np.ndarray, task: Task) -> tuple:
    """(loss, metric) of ``model`` on ``(x, y)`` in one batch without recording a graph; the
    metric is accuracy for classification and R² for regression."""
    with gdlab.no_grad():
        out = model(gdlab.tensor(x))
        loss = float(loss_fn(out, gdlab.tensor(y)).item())
    fn = metrics.accuracy if task.kind == "classification" else metrics.r2_score
    return loss, float(fn(out, y))


def batch_size_for(mode: str, mini_batch: int) -> int | None:
    """``bgd`` -> None (full batch), ``sgd`` -> 1, ``mbgd`` -> ``mini_batch``."""
    if mode not in BATCH_MODES:
        valid = ", ".join(repr(m) for m in BATCH_MODES)
        raise ValueError(f"invalid batch mode {mode!r} (choose from {valid})")
    size = BATCH_MODES[mode]
    return mini_batch if size == "b" else size  # type: ignore[return-value]


def make_loader(
    x: np.ndarray, y: np.ndarray, batch_size: int | None, *, shuffle: bool = True, seed: int = 0
) -> Any:
    """A DataLoader over ``(x, y)``; the full batch is never shuffled (order does not matter)."""
    shuffle = shuffle and batch_size is not None and batch_size < len(x)
    return DataLoader(
        TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, seed=seed if shuffle else None
    )
