"""The network behind :mod:`gdlab.sklearn`'s MLP estimators: dense layers stored as
scikit-learn stores them (``coefs_[i]`` of shape (in, out), ``intercepts_[i]``)."""

from __future__ import annotations

from typing import Any

import numpy as np

import gdlab
from gdlab.nn.module import Module
from gdlab.nn.parameter import Parameter

__all__ = ["ACTIVATIONS", "DenseNet", "glorot_arrays"]

ACTIVATIONS = {
    "identity": lambda x: x,
    "logistic": gdlab.sigmoid,
    "tanh": gdlab.tanh,
    "relu": gdlab.relu,
}


def glorot_arrays(
    sizes: list[int], activation: str, dtype: Any, rng: Any
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Glorot-uniform weights and intercepts, drawn layer by layer in scikit-learn's order
    (``_init_coef``): bound √(6 / (fan_in + fan_out)), factor 2 instead of 6 when the hidden
    activation is logistic (every layer, the output layer included, as scikit-learn)."""
    coefs, intercepts = [], []
    factor = 2.0 if activation == "logistic" else 6.0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype, copy=False))
        intercepts.append(rng.uniform(-bound, bound, fan_out).astype(dtype, copy=False))
    return coefs, intercepts


class DenseNet(Module):
    """Dense layers ``x @ W{i} + b{i}`` with a hidden activation; the output is the logits.

    The parameters share memory with the arrays they are built from (as ``nn.Parameter``),
    so the estimator's ``coefs_`` / ``intercepts_`` are the live weights.
    """

    def __init__(
        self, coefs: list[np.ndarray], intercepts: list[np.ndarray], activation: str
    ) -> None:
        super().__init__()
        self.activation = activation
        self.n_layers = len(coefs)
        for i, (w, b) in enumerate(zip(coefs, intercepts, strict=True)):
            setattr(self, f"W{i}", Parameter(w))
            setattr(self, f"b{i}", Parameter(b))

    def forward(self, x: Any) -> Any:
        act = ACTIVATIONS[self.activation]
        for i in range(self.n_layers):
            x = x @ getattr(self, f"W{i}") + getattr(self, f"b{i}")
            if i < self.n_layers - 1:
                x = act(x)
        return x

    def weights(self) -> list[Parameter]:
        return [getattr(self, f"W{i}") for i in range(self.n_layers)]

    def biases(self) -> list[Parameter]:
        return [getattr(self, f"b{i}") for i in range(self.n_layers)]
