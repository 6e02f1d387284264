"""The suite's problems: data, model and loss of each workload, built from a seed.

A :class:`Problem` is what one trial trains: the model (its initial weights drawn from the
trial's seed), the training and validation arrays, the training loss of a batch and the
validation metric. The data are fixed (MNIST-1D and digits with a fixed split; the noisy
quadratic's Hessian from a fixed seed), so only the initial weights and the batch order
depend on the trial's seed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import gdlab
import gdlab.nn as nn
import gdlab.nn.functional as F
from gdlab.datasets import load
from gdlab.lab.models import SequenceClassifier, conv1d_classifier

__all__ = ["PROBLEMS", "Problem", "build_problem"]

#: The data are split once, with this seed, whatever the trial's seed.
DATA_SEED = 0


class Problem(NamedTuple):
    """One workload's trainable problem.

    ``loss(model, x, y)`` is the training loss of a batch (a scalar Tensor);
    ``metric(model)`` is the validation metric the target is stated in (accuracy, or a loss);
    ``higher_is_better`` says which way the target is reached.
    """

    model: nn.Module
    x_train: np.ndarray
    y_train: np.ndarray
    loss: Callable[[nn.Module, np.ndarray, np.ndarray], Any]
    metric: Callable[[nn.Module], float]
    higher_is_better: bool


@functools.lru_cache(maxsize=4)
def _data(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_val, y_val) of a data set, split once with ``DATA_SEED``.

    MNIST-1D's validation set is its official test set (the paper reports test accuracy);
    digits holds out a fifth of its training split.
    """
    if name == "mnist1d":
        b = load("mnist1d", seed=DATA_SEED)
        return b.X_train, b.y_train, b.X_test, b.y_test
    b = load(name, seed=DATA_SEED, val_size=0.2)
    return b.X_train, b.y_train, b.X_val, b.y_val


def _accuracy(x_val: np.ndarray, y_val: np.ndarray) -> Callable[[nn.Module], float]:
    def metric(model: nn.Module) -> float:
        with gdlab.no_grad():
            logits = model(gdlab.tensor(x_val)).numpy()
        return float(np.mean(logits.argmax(axis=1) == y_val))

    return metric


def _cross_entropy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> Any:
    return F.cross_entropy(model(gdlab.tensor(x)), gdlab.tensor(y))


def _classifier(data: str, make: Callable[[np.random.Generator], nn.Module], seed: int) -> Problem:
    x, y, xv, yv = _data(data)
    model = make(np.random.default_rng(seed))
    return Problem(model, x, y, _cross_entropy, _accuracy(xv, yv), True)


def logistic(seed: int) -> Problem:
    """Multinomial logistic regression on MNIST-1D (40 features, 10 classes): convex."""
    return _classifier("mnist1d", lambda g: nn.Linear(40, 10, generator=g), seed)


def mlp(seed: int) -> Problem:
    """MLP 40-100-100-10 (ReLU) on MNIST-1D, the paper's MLP."""

    def make(g: np.random.Generator) -> nn.Module:
        return nn.Sequential(
            nn.Linear(40, 100, generator=g), nn.ReLU(),
            nn.Linear(100, 100, generator=g), nn.ReLU(),
            nn.Linear(100, 10, generator=g),
        )  # fmt: skip

    return _classifier("mnist1d", make, seed)


def cnn(seed: int) -> Problem:
    """1-D CNN on MNIST-1D: two stride-2 convolutions (16 channels, kernel 5) and a linear head
    (``lab.models.conv1d_classifier``, the network of ``gdlab compare --model cnn``)."""
    return _classifier("mnist1d", lambda g: conv1d_classifier(40, 10, channels=16, generator=g),
                       seed)  # fmt: skip


def gru(seed: int) -> Problem:
    """GRU (hidden 32) on MNIST-1D read as a sequence of 40 values, every second value
    skipped (20 steps), which keeps a CPU step short."""
    x, y, xv, yv = _data("mnist1d")
    model = SequenceClassifier("gru", 32, 10, np.random.default_rng(seed))
    x, xv = x[:, ::2], xv[:, ::2]
    return Problem(model, x, y, _cross_entropy, _accuracy(xv, yv), True)


def autoencoder(seed: int) -> Problem:
    """Autoencoder 64-32-8-32-64 (tanh) on the 8x8 digits scaled to [0, 1]; target in
    validation MSE."""
    x, _, xv, _ = _data("digits")
    scale = float(x.max())
    x, xv = x / scale, xv / scale
    g = np.random.default_rng(seed)
    model = nn.Sequential(
        nn.Linear(64, 32, generator=g), nn.Tanh(), nn.Linear(32, 8, generator=g), nn.Tanh(),
        nn.Linear(8, 32, generator=g), nn.Tanh(), nn.Linear(32, 64, generator=g),
    )  # fmt: skip

    def loss(m: nn.Module, xb: np.ndarray, _: np.ndarray) -> Any:
        t = gdlab.tensor(xb)
        return F.mse_loss(m(t), t)

    def metric(m: nn.Module) -> float:
        with gdlab.no_grad():
            return float(np.mean((m(gdlab.tensor(xv)).numpy() - xv) ** 2))

    return Problem(model, x, x, loss, metric, False)


class _Point(nn.Module):
    """The noisy quadratic's only parameter θ, starting at ones (DeepOBS)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.theta = nn.Parameter(np.ones(dim, dtype=np.float32))


@functools.lru_cache(maxsize=1)
def _quadratic() -> tuple[np.ndarray, np.ndarray]:
    """DeepOBS's ``quadratic_deep``: H = Qᵀ diag(λ) Q in 100 dimensions, 90 eigenvalues
    uniform in [0, 1] and 10 in [30, 60], Q a random rotation; 1000 training noise samples
    x ~ N(0, I). Fixed by ``DATA_SEED``."""
    rng = np.random.default_rng(DATA_SEED)
    eig = np.concatenate([rng.uniform(0.0, 1.0, 90), rng.uniform(30.0, 60.0, 10)])
    q, _ = np.linalg.qr(rng.standard_normal((100, 100)))
    hessian = (q.T * eig) @ q
    noise = rng.standard_normal((1000, 100)).astype(np.float32)
    return hessian.astype(np.float32), noise


def noisy_quadratic(seed: int) -> Problem:
    """DeepOBS's noisy quadratic: loss(θ; x) = ½ (θ − x)ᵀ H (θ − x), x ~ N(0, I); the
    validation metric is the noise-free loss ½ θᵀ H θ (its expectation minus ½ tr H).
    ``seed`` only orders the batches: θ starts at ones, as in DeepOBS."""
    hessian, noise = _quadratic()
    model = _Point(100)
    h = gdlab.tensor(hessian)

    def loss(m: nn.Module, xb: np.ndarray, _: np.ndarray) -> Any:
        d = m.theta - gdlab.tensor(xb)
        return 0.5 * ((d @ h) * d).sum(axis=1).mean()

    def metric(m: nn.Module) -> float:
        t = m.theta.detach().numpy().astype(np.float64)
        return float(0.5 * t @ hessian.astype(np.float64) @ t)

    del seed
    return Problem(model, noise, noise, loss, metric, False)


#: Modular addition's modulus and the fraction of the p² pairs it trains on.
MODULUS, TRAIN_FRACTION = 23, 0.8


@functools.lru_cache(maxsize=1)
def _modular_pairs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every "a b =" of a, b < p as three tokens (``=`` is token p) and (a + b) mod p, split
    once with ``DATA_SEED``: ``TRAIN_FRACTION`` of the pairs to train on, the rest to
    validate."""
    a, b = np.divmod(np.arange(MODULUS * MODULUS), MODULUS)
    x = np.stack([a, b, np.full_like(a, MODULUS)], axis=1)
    y = (a + b) % MODULUS
    order = np.random.default_rng(DATA_SEED).permutation(len(y))
    n = int(TRAIN_FRACTION * len(y))
    return x[order[:n]], y[order[:n]], x[order[n:]], y[order[n:]]


class _TinyTransformer(nn.Module):
    """Token and position embeddings, one post-norm encoder layer (4 heads), a linear read-out
    of the last position (Power et al.'s grokking task, one layer instead of two)."""

    def __init__(self, d_model: int, generator: np.random.Generator) -> None:
        super().__init__()
        g = generator
        self.tokens = nn.Embedding(MODULUS + 1, d_model, generator=g)
        self.positions = nn.Embedding(3, d_model, generator=g)
        self.layer = nn.TransformerEncoderLayer(
            d_model, 4, 4 * d_model, dropout=0.0, batch_first=True, generator=g
        )
        self.head = nn.Linear(d_model, MODULUS, generator=g)

    def forward(self, x: Any) -> Any:
        h = self.tokens(x) + self.positions(gdlab.arange(x.shape[1]))
        return self.head(self.layer(h)[:, -1])


def modular_addition(seed: int) -> Problem:
    """A one-layer transformer (d 32) learns (a + b) mod 23 from 80 % of the pairs: it
    memorises the training pairs within a few hundred steps and generalises to the held-out
    ones only later, and only with enough weight decay (grokking, Power et al. 2022)."""
    x, y, xv, yv = _modular_pairs()
    model = _TinyTransformer(32, np.random.default_rng(seed))
    return Problem(model, x, y, _cross_entropy, _accuracy(xv, yv), True)


#: Workload name -> the function building its problem from a seed.
PROBLEMS: dict[str, Callable[[int], Problem]] = {
    "logistic": logistic,
    "mlp": mlp,
    "cnn": cnn,
    "gru": gru,
    "autoencoder": autoencoder,
    "noisy_quadratic": noisy_quadratic,
    "modular_addition": modular_addition,
}


def build_problem(name: str, seed: int) -> Problem:
    """The problem of workload ``name`` with initial weights from ``seed``."""
    if name not in PROBLEMS:
        raise ValueError(f"build_problem: unknown workload {name!r} (choose from "
                         f"{', '.join(PROBLEMS)})")  # fmt: skip
    return PROBLEMS[name](seed)
