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

    Every parameter is a view into one flat array ``flat`` (weights first, then intercepts)
    and its ``.grad`` a view into ``flat_grad``, where backward accumulates in place: an
    element-wise optimizer then updates all layers in one call on ``flat`` (its result is
    the same as per tensor), and the L2 penalty is one operation on the weights' slice.
    The arrays passed in are copied into ``flat``.
    """

    def __init__(
        self, coefs: list[np.ndarray], intercepts: list[np.ndarray], activation: str
    ) -> None:
        super().__init__()
        self.activation = activation
        self.n_layers = len(coefs)
        self.shapes = [np.shape(w) for w in coefs] + [np.shape(b) for b in intercepts]
        self.n_weight_entries = sum(int(np.prod(s)) for s in self.shapes[: self.n_layers])
        dtype = np.result_type(coefs[0])
        total = sum(int(np.prod(s)) for s in self.shapes)
        self.flat = np.empty(total, dtype=dtype)
        self.flat_grad = np.zeros(total, dtype=dtype)
        for view, value in zip(self._views(self.flat), [*coefs, *intercepts], strict=True):
            view[...] = value
        self._link()

    def _views(self, flat: np.ndarray) -> list[np.ndarray]:
        views, start = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            views.append(flat[start : start + size].reshape(shape))
            start += size
        return views

    def _link(self) -> None:
        names = [f"W{i}" for i in range(self.n_layers)] + [f"b{i}" for i in range(self.n_layers)]
        for name, view in zip(names, self._views(self.flat), strict=True):
            setattr(self, name, Parameter(view))
        self._link_grads()

    def _link_grads(self) -> None:
        params = [*self.weights(), *self.biases()]
        self._grad_views = list(zip(params, self._views(self.flat_grad), strict=True))
        for param, grad in self._grad_views:
            param.grad = grad

    def __setstate__(self, state: dict) -> None:
        """Pickling copies views apart: make the parameters views of ``flat`` again."""
        self.__dict__.update(state)
        params = [*self.weights(), *self.biases()]
        for param, view in zip(params, self._views(self.flat), strict=True):
            param.data = view
        self._link_grads()

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

    def zero_flat_grad(self) -> None:
        """Zero every gradient in place (they stay views of ``flat_grad``)."""
        self.flat_grad.fill(0)
        for param, grad in self._grad_views:
            if param._grad is not grad:  # e.g. an optimizer's zero_grad() set it to None
                param.grad = grad

    def add_penalty(self, alpha: float, sw_sum: float) -> float:
        """Add alpha·W / Σw to the weights' gradients; return (alpha / 2)·Σ‖W‖² / Σw."""
        if not alpha:
            return 0.0
        w = self.flat[: self.n_weight_entries]
        g = self.flat_grad[: self.n_weight_entries]
        c = alpha / sw_sum
        g += c * w
        return 0.5 * c * float(w @ w)
