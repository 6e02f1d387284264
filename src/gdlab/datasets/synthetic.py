"""Generated problems: the articles' experiments and classic 2-D toy sets (NumPy only).

Every generator takes a ``seed`` and draws from its own ``numpy.random.Generator``; the global
NumPy random state is never touched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.datasets._bunch import Bunch, package

__all__ = [
    "article_six_samples",
    "article_three_inputs",
    "article_uniform",
    "circles",
    "linear_regression",
    "moons",
    "spirals",
]


def article_uniform(
    n_samples: int = 100, n_features: int = 8, *, seed: int = 0, dtype: Any = np.float64
) -> Bunch:
    """The (100, 8) -> (100, 1) regression of article 002: x ~ U(0, 1), y ~ U(0, 5).

    The targets are independent of the inputs (the article only shows the loss falling), so
    there is no test split. float64 by default, as the article.

    Args:
        n_samples: number of rows. Default 100.
        n_features: number of inputs. Default 8.
        seed: seed of the draws.
        dtype: float dtype. Default float64.

    Example:
        >>> ds = article_uniform()
        >>> ds.X_train.shape, ds.y_train.shape, ds.X_train.dtype
        ((100, 8), (100, 1), dtype('float64'))
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, size=(n_samples, n_features))
    y = rng.uniform(0.0, 5.0, size=(n_samples, 1))
    return package(
        "article_uniform", X, y, task="regression", test_size=0, dtype=dtype,
        feature_names=[f"x{i}" for i in range(n_features)], target_names=["y"],
        description="article 002: x ~ U(0,1) (100, 8), y ~ U(0,5) (100, 1), float64",
    )  # fmt: skip


def article_six_samples(*, seed: int = 0, dtype: Any = np.float64) -> Bunch:
    """The six-sample linear regression of article 003 (Adam, per-sample updates).

    x = [(1,1,1), (1,2,1), (2,2,1), (3,1,1), (1,3,1), (2,4,1)] (the last column is the bias),
    y = [6, 8, 9, 8, 10, 13] as a (6, 1) column. No test split. The data are fixed: ``seed`` is
    accepted (and ignored) so that every loader takes ``load(name, seed=...)``.

    Example:
        >>> article_six_samples().y_train.ravel()
        array([ 6.,  8.,  9.,  8., 10., 13.])
    """
    X = [(1, 1, 1), (1, 2, 1), (2, 2, 1), (3, 1, 1), (1, 3, 1), (2, 4, 1)]
    y = [6, 8, 9, 8, 10, 13]
    return package(
        "article_six_samples", X, y, task="regression", test_size=0, dtype=dtype,
        feature_names=["x1", "x2", "bias"], target_names=["y"],
        description="article 003: six-sample linear regression with a bias column (Adam demo)",
    )  # fmt: skip


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for any z


def article_three_inputs(
    n_samples: int = 200, *, seed: int = 0, test_size: float = 0.25, dtype: Any = np.float64
) -> Bunch:
    """A 3-input binary problem for article 001's 3-4-1 sigmoid network.

    The article draws the network (inputs x1, x2, x3 and a bias, 4 sigmoid hidden units, one
    sigmoid output, squared error) but gives no data, so gdlab generates a problem the network
    can represent exactly: x ~ U(-1, 1)^3, labels from a random 3-4-1 sigmoid "teacher" network
    thresholded at its median output (balanced classes). Targets are 0./1. floats of shape
    (n, 1), to match a sigmoid output trained with squared error or BCE; the teacher's weights
    are in ``extras``.

    Example:
        >>> ds = article_three_inputs(seed=0)
        >>> ds.X_train.shape, ds.y_train.shape, np.unique(ds.y_train).tolist()
        ((150, 3), (150, 1), [0.0, 1.0])
    """
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(0.0, 3.0, size=(3, 4)), rng.normal(0.0, 1.0, size=4)
    W2, b2 = rng.normal(0.0, 3.0, size=(4, 1)), rng.normal(0.0, 1.0, size=1)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 3))
    out = _sigmoid(_sigmoid(X @ W1 + b1) @ W2 + b2)
    y = (out > np.median(out)).astype(np.float64)
    bunch = package(
        "article_three_inputs", X, y, task="regression", test_size=test_size, seed=seed,
        dtype=dtype, feature_names=["x1", "x2", "x3"], target_names=["0", "1"],
        description="article 001: 3 inputs -> 4 sigmoid -> 1, labels of a random teacher net",
        extras={"teacher": {"W1": W1, "b1": b1, "W2": W2, "b2": b2}},
    )  # fmt: skip
    bunch.task, bunch.n_classes = "classification", 2  # binary, with 0./1. float targets
    return bunch


def _halves(n_samples: int) -> tuple[int, int]:
    """The sizes of the outer (class 0) and inner (class 1) sets: the inner one takes the odd
    sample, as scikit-learn's."""
    return n_samples // 2, n_samples - n_samples // 2


def _on_circle(t: np.ndarray) -> np.ndarray:
    """The points (cos t, sin t) of the unit circle, one row per angle."""
    return np.column_stack([np.cos(t), np.sin(t)])


def _two_classes(
    outer: np.ndarray, inner: np.ndarray, noise: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Both sets stacked (labels 0 then 1), with N(0, noise²) added to every coordinate."""
    rng = np.random.default_rng(seed)
    X = np.vstack([outer, inner]) + rng.normal(scale=noise, size=(len(outer) + len(inner), 2))
    y = np.r_[np.zeros(len(outer), np.int64), np.ones(len(inner), np.int64)]
    return X, y


def moons(
    n_samples: int = 200, *, noise: float = 0.1, seed: int = 0, test_size: float = 0.25
) -> Bunch:
    """Two interleaving half circles (``sklearn.datasets.make_moons``' construction).

    Example:
        >>> moons(n_samples=100, seed=0).X_train.shape
        (75, 2)
    """
    n_out, n_in = _halves(n_samples)
    outer = _on_circle(np.linspace(0, np.pi, n_out))
    inner = 1 - _on_circle(np.linspace(0, np.pi, n_in)) - [0.0, 0.5]
    X, y = _two_classes(outer, inner, noise, seed)
    return package(
        "moons", X, y, task="classification", test_size=test_size, seed=seed,
        feature_names=["x1", "x2"], target_names=["0", "1"], description="two moons (2-D)",
    )  # fmt: skip


def circles(
    n_samples: int = 200,
    *,
    noise: float = 0.05,
    factor: float = 0.5,
    seed: int = 0,
    test_size: float = 0.25,
) -> Bunch:
    """A small circle inside a large one (``sklearn.datasets.make_circles``' construction).

    Example:
        >>> circles(n_samples=100, seed=0).n_classes
        2
    """
    if not 0 <= factor < 1:
        raise ValueError(f"circles: factor has to be between 0 and 1, got {factor}")
    n_out, n_in = _halves(n_samples)
    outer = _on_circle(np.linspace(0, 2 * np.pi, n_out, endpoint=False))
    inner = factor * _on_circle(np.linspace(0, 2 * np.pi, n_in, endpoint=False))
    X, y = _two_classes(outer, inner, noise, seed)
    return package(
        "circles", X, y, task="classification", test_size=test_size, seed=seed,
        feature_names=["x1", "x2"], target_names=["outer", "inner"],
        description="two concentric circles (2-D)",
    )  # fmt: skip


def spirals(
    n_samples: int = 300,
    *,
    n_classes: int = 3,
    noise: float = 0.2,
    seed: int = 0,
    test_size: float = 0.25,
) -> Bunch:
    """Interleaved spiral arms, one per class (the CS231n spiral data).

    Arm k: r = linspace(0, 1), θ = linspace(4k, 4(k+1)) + noise·N(0, 1), x = r·(sin θ, cos θ).

    Example:
        >>> spirals(n_samples=300, n_classes=3, seed=0).n_classes
        3
    """
    rng = np.random.default_rng(seed)
    per_class = np.full(n_classes, n_samples // n_classes)
    per_class[: n_samples % n_classes] += 1
    X, y = [], []
    for k, m in enumerate(per_class):
        r = np.linspace(0.0, 1.0, m)
        theta = np.linspace(4.0 * k, 4.0 * (k + 1), m) + rng.normal(scale=noise, size=m)
        X.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
        y.append(np.full(m, k, dtype=np.int64))
    return package(
        "spirals", np.vstack(X), np.concatenate(y), task="classification", test_size=test_size,
        seed=seed, feature_names=["x1", "x2"], target_names=[str(k) for k in range(n_classes)],
        description="interleaved spirals, one arm per class (2-D)",
    )  # fmt: skip


def linear_regression(
    n_samples: int = 200,
    n_features: int = 5,
    *,
    noise: float = 0.1,
    bias: float = 0.0,
    seed: int = 0,
    test_size: float = 0.25,
) -> Bunch:
    """Noisy linear regression: y = X·w + bias + noise·N(0, 1), X ~ N(0, 1), w ~ N(0, 1).

    The true ``coef`` (shape (n_features, 1)) and ``bias`` are in ``extras``, so a fit can be
    compared with them.

    Example:
        >>> ds = linear_regression(n_samples=40, n_features=3, seed=0)
        >>> ds.X_train.shape, ds.y_train.shape, ds.extras["coef"].shape
        ((30, 3), (30, 1), (3, 1))
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    coef = rng.normal(size=(n_features, 1))
    y = X @ coef + bias + noise * rng.normal(size=(n_samples, 1))
    return package(
        "linear_regression", X, y, task="regression", test_size=test_size, seed=seed,
        feature_names=[f"x{i}" for i in range(n_features)], target_names=["y"],
        description="noisy linear regression y = Xw + b + noise",
        extras={"coef": coef, "bias": bias},
    )  # fmt: skip
