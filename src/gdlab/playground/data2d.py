"""The networks view's data: TensorFlow Playground's 2-D two-class sets, split train / test.

Spirals, moons and circles come from ``gdlab.datasets``; XOR and Gaussians are drawn here the
way TensorFlow Playground draws them (uniform points labelled by the sign of x·y; two
Gaussian blobs). ``noise`` is each generator's own noise scale; the split is stratified and
seeded, so the same settings always give the same points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from gdlab.playground import _uses
from gdlab.playground.settings import SettingsError, choice, integer, json_object, number

__all__ = ["DATASETS", "Data2D", "DataSettings", "make_data"]

DATASETS = ("spirals", "moons", "circles", "xor", "gaussians")
MAX_SAMPLES = 5000


@dataclass(frozen=True)
class DataSettings:
    """Which points: the set, how many, how noisy, the test fraction and the seed."""

    dataset: str = "spirals"
    n_samples: int = 500
    noise: float = 0.2
    test_fraction: float = 0.25
    seed: int = 0

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DataSettings:
        """Check the values sent by the page; missing keys take the defaults."""
        raw = json_object(raw, "data settings")
        d = cls()
        return cls(
            dataset=choice(raw.get("dataset", d.dataset), "dataset", DATASETS),
            n_samples=integer(raw.get("n_samples", d.n_samples), "points", 20, MAX_SAMPLES),
            noise=number(raw.get("noise", d.noise), "noise", 0.0, 1.0),
            test_fraction=number(
                raw.get("test_fraction", d.test_fraction), "test fraction", 0.1, 0.9
            ),
            seed=integer(raw.get("seed", d.seed), "seed", 0, 2**31 - 1),
        )


class Data2D(NamedTuple):
    """Train and test points (float32, labels 0./1. as a column) and the box to draw."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    bounds: tuple[tuple[float, float], tuple[float, float]]


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    X += np.sign(X) * 0.05  # a gap along the axes, as TensorFlow Playground's padding
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + rng.normal(scale=noise * 0.5, size=X.shape), y


def _gaussians(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % 2
    centres = np.where(y[:, None] == 1, 1.0, -1.0) * np.array([0.8, 0.8])
    return centres + rng.normal(scale=0.2 + noise, size=(n, 2)), y


def _raw_split(s: DataSettings) -> tuple[np.ndarray, ...]:
    kw = {"noise": s.noise, "seed": s.seed, "test_size": s.test_fraction}
    if s.dataset in ("xor", "gaussians"):
        make = _xor if s.dataset == "xor" else _gaussians
        X, y = make(s.n_samples, s.noise, np.random.default_rng(s.seed))
        parts = _uses.train_test_split(X, y, test_size=s.test_fraction, seed=s.seed, stratify=y)
        return tuple(parts)
    if s.dataset == "spirals":
        b = _uses.spirals(s.n_samples, n_classes=2, **kw)
    elif s.dataset == "moons":
        b = _uses.moons(s.n_samples, **kw)
    else:
        b = _uses.circles(s.n_samples, **kw)
    return b.X_train, b.X_test, b.y_train, b.y_test


def make_data(settings: DataSettings) -> Data2D:
    """The points for ``settings`` and a drawing box 10% wider than they are."""
    try:
        X_tr, X_te, y_tr, y_te = _raw_split(settings)
    except ValueError as exc:  # e.g. a split that leaves a class empty
        raise SettingsError(f"data: {exc}") from None
    allx = np.vstack([X_tr, X_te])
    lo, hi = allx.min(axis=0), allx.max(axis=0)
    pad = 0.1 * (hi - lo)
    bounds = ((float(lo[0] - pad[0]), float(hi[0] + pad[0])),
              (float(lo[1] - pad[1]), float(hi[1] + pad[1])))  # fmt: skip

    def col(y: np.ndarray) -> np.ndarray:
        return np.asarray(y, np.float32).reshape(-1, 1)

    f32 = np.float32
    return Data2D(X_tr.astype(f32), col(y_tr), X_te.astype(f32), col(y_te), bounds)
