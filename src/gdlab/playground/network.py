"""The networks view: a small classifier trained live on 2-D points, one or two side by side.

A configuration is a ``ModelSettings`` (layers, activation, optimizer and its settings, batch
mode, L1/L2/dropout); ``NetworkSession`` trains one or two of them on the same data from the
same seed, step by step, with gdlab's nn, optim and autograd: the torch loop
``zero_grad; loss.backward(); step`` on ``BCEWithLogitsLoss`` (+ the penalties). A frame is
what the page draws: the decision boundary on a grid, train and test loss and accuracy, and
the gradient norm of each layer's weights at the last step (vanishing gradients show as the
first layers' norms falling decades below the last one's).

Example:
    >>> session = NetworkSession(NetworkSettings.from_json({}))
    >>> session.advance(10)
    >>> session.frame()["runs"][0]["step"]
    10
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gdlab.playground import _uses
from gdlab.playground.data2d import Data2D, DataSettings, make_data
from gdlab.playground.optimizers import hparams, optimizer_names, slider
from gdlab.playground.settings import SettingsError, choice, integer, json_object, number

__all__ = [
    "ACTIVATIONS",
    "BATCH_MODES",
    "ModelSettings",
    "NetworkRun",
    "NetworkSession",
    "NetworkSettings",
]

ACTIVATIONS = {
    "tanh": lambda: _uses.nn.Tanh(),
    "relu": lambda: _uses.nn.ReLU(),
    "sigmoid": lambda: _uses.nn.Sigmoid(),
    "elu": lambda: _uses.nn.ELU(),
    "leaky_relu": lambda: _uses.nn.LeakyReLU(0.01),
    "silu": lambda: _uses.nn.SiLU(),
}
BATCH_MODES = ("full", "mini", "single")
MAX_WIDTH = 256  # neurons per hidden layer: more gains nothing on 2-D points and stalls the page
MAX_LAYERS = 6
MAX_STEPS_PER_FRAME = 200
BOUNDARY_GRID = 48  # boundary resolution per axis
# A run has diverged when its loss or a weight is not finite, a weight leaves ±WEIGHT_BOX, or
# the loss exceeds LOSS_BLOWUP × its first value: a classifier's loss grows linearly with its
# logits, so a far too large lr makes it explode without ever reaching inf.
WEIGHT_BOX = 1e6
LOSS_BLOWUP = 100.0


def _hidden(raw: Any) -> tuple[int, ...]:
    """``"8,8"`` or ``[8, 8]`` as widths; ``""`` or ``[]`` is a linear model."""
    if isinstance(raw, str):
        raw = [part for part in raw.replace(" ", "").split(",") if part]
    if not isinstance(raw, list | tuple):
        raise SettingsError(f"hidden layers must be widths like 8,8; got {raw!r}")
    if len(raw) > MAX_LAYERS:
        raise SettingsError(f"at most {MAX_LAYERS} hidden layers, got {len(raw)}")
    widths = []
    for i, w in enumerate(raw, 1):
        try:
            widths.append(integer(w, f"hidden layer {i}", 1, MAX_WIDTH))
        except SettingsError as exc:
            raise SettingsError(f"{exc} (the playground allows 1 to {MAX_WIDTH} neurons)") from None
    return tuple(widths)


@dataclass(frozen=True)
class ModelSettings:
    """One configuration: the network, its optimizer, batch mode and regularisation.

    ``batch_mode`` is ``full`` (batch GD: every training point per step), ``mini``
    (``batch_size`` points, reshuffled each epoch) or ``single`` (one point: stochastic GD).
    ``l1``/``l2`` add λ·Σ|W| / λ·ΣW² over the weight matrices to the loss; ``dropout`` drops
    hidden units with that probability while training.
    """

    hidden: tuple[int, ...] = (8, 8)
    activation: str = "tanh"
    optimizer: str = "adam"
    lr: float = 0.03
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)
    batch_mode: str = "full"
    batch_size: int = 32
    l1: float = 0.0
    l2: float = 0.0
    dropout: float = 0.0

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ModelSettings:
        """Check the values sent by the page; missing keys take the defaults."""
        raw = json_object(raw, "model settings")
        d = cls()
        return cls(
            hidden=_hidden(raw.get("hidden", list(d.hidden))),
            activation=choice(raw.get("activation", d.activation), "activation", ACTIVATIONS),
            optimizer=choice(raw.get("optimizer", d.optimizer), "optimizer", optimizer_names()),
            lr=number(raw.get("lr", d.lr), "lr", 1e-6, 1e9),
            momentum=slider(raw, "momentum", d.momentum),
            betas=(slider(raw, "beta1", d.betas[0]), slider(raw, "beta2", d.betas[1])),
            batch_mode=choice(raw.get("batch_mode", d.batch_mode), "batch mode", BATCH_MODES),
            batch_size=integer(raw.get("batch_size", d.batch_size), "batch size", 1, 5000),
            l1=number(raw.get("l1", d.l1), "L1", 0.0, 1.0),
            l2=number(raw.get("l2", d.l2), "L2", 0.0, 1.0),
            dropout=number(raw.get("dropout", d.dropout), "dropout", 0.0, 0.9),
        )

    def rebuild_needed(self, other: ModelSettings) -> bool:
        """Whether going to ``other`` needs a fresh network (lr, L1 and L2 change live)."""
        return replace(self, lr=other.lr, l1=other.l1, l2=other.l2) != other


@dataclass(frozen=True)
class NetworkSettings:
    """The view: the data, one or two configurations (A, B) and the steps between frames."""

    data: DataSettings = DataSettings()
    models: tuple[ModelSettings, ...] = (ModelSettings(),)
    steps_per_frame: int = 3

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> NetworkSettings:
        """Check the values sent by the page; missing keys take the defaults."""
        raw = json_object(raw, "network settings")
        models = raw.get("models", [{}])
        if not isinstance(models, list) or len(models) not in (1, 2):
            raise SettingsError(f"give one or two configurations, got {models!r}")
        spf = raw.get("steps_per_frame", cls.steps_per_frame)
        return cls(
            data=DataSettings.from_json(raw.get("data", {})),
            models=tuple(ModelSettings.from_json(m) for m in models),
            steps_per_frame=integer(spf, "steps per frame", 1, MAX_STEPS_PER_FRAME),
        )


def _build_model(s: ModelSettings, seed: int) -> Any:
    nn = _uses.nn
    init = np.random.default_rng(seed)  # the same seed gives A and B the same first layers
    drop = np.random.default_rng(seed + 1)
    layers: list[Any] = []
    width = 2
    for h in s.hidden:
        layers += [nn.Linear(width, h, generator=init), ACTIVATIONS[s.activation]()]
        if s.dropout:
            layers.append(nn.Dropout(s.dropout, generator=drop))
        width = h
    layers.append(nn.Linear(width, 1, generator=init))
    return nn.Sequential(*layers)


class NetworkRun:
    """One configuration being trained: model, optimizer, batch order and its history."""

    def __init__(self, data: Data2D, settings: ModelSettings, seed: int) -> None:
        self.data = data
        self.settings = settings
        self.model = _build_model(settings, seed)
        self.linears = [m for m in self.model if isinstance(m, _uses.nn.Linear)]
        hp = hparams(settings.optimizer, settings.momentum, settings.betas)
        try:
            self.optimizer = _uses.make_optimizer(
                settings.optimizer, list(self.model.parameters()), settings.lr, **hp
            )[0]
        except ValueError as exc:
            raise SettingsError(f"{settings.optimizer}: {exc}") from None
        self.loss_fn = _uses.nn.BCEWithLogitsLoss()
        self.rng = np.random.default_rng(seed + 2)  # the batch order
        self.order = np.arange(0)
        self.cursor = 0
        self.step = 0
        self.epoch = 0
        self.batch_loss = math.nan
        self.first_loss = math.nan
        self.grad_norms = [math.nan] * len(self.linears)
        self.diverged: str | None = None

    def set_live(self, settings: ModelSettings) -> None:
        """Apply a new lr / L1 / L2 without restarting (as TensorFlow Playground does)."""
        self.settings = settings
        for group in self.optimizer.param_groups:
            group["lr"] = settings.lr

    def _batch_size(self) -> int:
        n = len(self.data.X_train)
        mode = self.settings.batch_mode
        return n if mode == "full" else 1 if mode == "single" else min(self.settings.batch_size, n)

    def _next_batch(self) -> np.ndarray:
        n, b = len(self.data.X_train), self._batch_size()
        if b == n:
            self.epoch += 1
            return np.arange(n)
        if self.cursor >= len(self.order):
            self.order = self.rng.permutation(n)
            self.cursor = 0
            self.epoch += 1
        idx = self.order[self.cursor : self.cursor + b]
        self.cursor += b
        return idx

    def _loss(self, X: np.ndarray, y: np.ndarray) -> Any:
        out = self.loss_fn(self.model(_uses.Tensor(X)), _uses.Tensor(y))
        weights = [layer.weight for layer in self.linears]
        if self.settings.l1:
            out = out + _uses.l1_penalty(weights, self.settings.l1)
        if self.settings.l2:
            out = out + _uses.l2_penalty(weights, self.settings.l2)
        return out

    def train_step(self) -> None:
        """One optimizer step on the next batch; a non-finite loss or weight stops the run."""
        if self.diverged:
            return
        idx = self._next_batch()
        self.optimizer.zero_grad()
        with np.errstate(all="ignore"):
            loss = self._loss(self.data.X_train[idx], self.data.y_train[idx])
            loss.backward()
            self.grad_norms = [_grad_norm(layer) for layer in self.linears]
            self.optimizer.step()
        self.step += 1
        self.batch_loss = float(loss.item())
        if self.step == 1:
            self.first_loss = max(self.batch_loss, 1.0)
        what = self._divergence()
        if what:
            self.diverged = (
                f"diverged at step {self.step}: {what} ({self.settings.optimizer}, "
                f"lr {self.settings.lr:g} is too large)"
            )

    def _divergence(self) -> str | None:
        """Why the run counts as diverged now, or None."""
        with np.errstate(all="ignore"):
            largest = max(float(np.abs(p.data).max()) for p in self.model.parameters())
        if not math.isfinite(self.batch_loss):
            return f"the loss is {self.batch_loss:g}"
        if not largest <= WEIGHT_BOX:
            return f"a weight reached {largest:.3g}"
        if self.batch_loss > LOSS_BLOWUP * self.first_loss:
            return f"the loss grew to {self.batch_loss:.4g}"
        return None

    def _logits(self, X: np.ndarray) -> np.ndarray:
        with _uses.no_grad(), np.errstate(all="ignore"):
            return self.model(_uses.Tensor(X)).data

    def evaluate(self, grid: np.ndarray) -> dict[str, Any]:
        """Losses, accuracies (eval mode, without the penalties) and boundary probabilities
        (a schedule-free optimizer's at x, its eval mode)."""
        self.model.eval()
        params = list(self.model.parameters())
        try:
            with _uses.at_evaluation_point(self.optimizer, params):
                scores = {}
                for split in ("train", "test"):
                    X, y = getattr(self.data, f"X_{split}"), getattr(self.data, f"y_{split}")
                    z = self._logits(X).astype(np.float64)
                    scores[f"{split}_loss"] = _bce(z, y)
                    scores[f"{split}_acc"] = float(((z > 0) == (y > 0.5)).mean())
                with np.errstate(all="ignore"):
                    probs = 1.0 / (1.0 + np.exp(-self._logits(grid).astype(np.float64)))
        finally:
            self.model.train()
        g = BOUNDARY_GRID
        boundary = np.round(np.nan_to_num(probs.reshape(g, g), nan=0.5), 3)
        return {**scores, "boundary": boundary.tolist()}


def _grad_norm(layer: Any) -> float:
    grad = layer.weight._grad
    return math.nan if grad is None else float(np.linalg.norm(np.asarray(grad.data, np.float64)))


def _bce(z: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy from logits: max(z, 0) − z·y + log(1 + e^−|z|) (stable)."""
    with np.errstate(all="ignore"):
        loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    value = float(loss.mean())
    return value if math.isfinite(value) else math.inf


def _json_number(x: float) -> float | None:
    return x if math.isfinite(x) else None


class NetworkSession:
    """The networks view of one browser tab: the data and one or two runs, stepped together."""

    def __init__(self, settings: NetworkSettings) -> None:
        self.settings = settings
        self.data = make_data(settings.data)
        self.runs = [NetworkRun(self.data, m, settings.data.seed) for m in settings.models]
        (x_lo, x_hi), (y_lo, y_hi) = self.data.bounds
        self.grid_x = np.linspace(x_lo, x_hi, BOUNDARY_GRID)
        self.grid_y = np.linspace(y_lo, y_hi, BOUNDARY_GRID)
        gx, gy = np.meshgrid(self.grid_x, self.grid_y)
        self.grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)

    def configure(self, settings: NetworkSettings) -> NetworkSession:
        """This session with new settings: itself when only live values changed, else a new one
        (also after a divergence: a smaller lr then starts again instead of staying broken)."""
        same_shape = settings.data == self.settings.data and len(settings.models) == len(self.runs)
        diverged = any(run.diverged for run in self.runs)
        if (
            same_shape
            and not diverged
            and not any(
                old.rebuild_needed(new)
                for old, new in zip(self.settings.models, settings.models, strict=True)
            )
        ):
            for run, new in zip(self.runs, settings.models, strict=True):
                run.set_live(new)
            self.settings = settings
            return self
        return NetworkSession(settings)

    @property
    def finished(self) -> bool:
        """Every run has diverged: nothing left to train."""
        return all(run.diverged for run in self.runs)

    def advance(self, steps: int) -> None:
        """``steps`` training steps of every run that has not diverged."""
        for run in self.runs:
            for _ in range(steps):
                run.train_step()

    def data_message(self) -> dict[str, Any]:
        """The points and the boundary grid's axes, sent once per configuration."""
        d = self.data
        return {
            "type": "network_data",
            "train": {"x": d.X_train.tolist(), "y": d.y_train.ravel().tolist()},
            "test": {"x": d.X_test.tolist(), "y": d.y_test.ravel().tolist()},
            "grid_x": self.grid_x.tolist(),
            "grid_y": self.grid_y.tolist(),
            "layers": [len(run.linears) for run in self.runs],
        }

    def frame(self) -> dict[str, Any]:
        """What the page draws now, for every run."""
        runs = []
        for run in self.runs:
            scores = run.evaluate(self.grid)
            runs.append({
                "step": run.step,
                "epoch": run.epoch,
                "batch_loss": _json_number(run.batch_loss),
                "train_loss": _json_number(scores["train_loss"]),
                "test_loss": _json_number(scores["test_loss"]),
                "train_acc": scores["train_acc"],
                "test_acc": scores["test_acc"],
                "grad_norms": [_json_number(g) for g in run.grad_norms],
                "boundary": scores["boundary"],
                "diverged": run.diverged,
            })  # fmt: skip
        return {"type": "frame", "runs": runs}
