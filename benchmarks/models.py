"""The MLP every benchmark trains, written once for any framework with torch's API.

gdlab follows PyTorch's names, so ``build_mlp(fw, ...)`` and ``train_step`` run unchanged on
``fw = torch`` and ``fw = gdlab``: the two are timed on the same code, the same initial
weights and the same data. ``NumpyMLP`` is the hand-written NumPy forward/backward with
preallocated buffers: the floor any NumPy-based framework can reach.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from types import ModuleType

import numpy as np

__all__ = ["NumpyMLP", "build_mlp", "framework", "gdlab_nn_missing", "init_params", "make_step"]

MLP_SIZES = (784, 256, 256, 10)


def framework(name: str) -> ModuleType:
    """``torch`` or ``gdlab``, imported by name with its ``nn``, ``nn.functional``, ``optim``."""
    for sub in ("nn", "nn.functional", "optim"):
        importlib.import_module(f"{name}.{sub}")
    return importlib.import_module(name)


def gdlab_nn_missing() -> str | None:
    """Why gdlab's nn/optim stack cannot be benchmarked yet, or ``None`` if it can."""
    try:
        gdlab = framework("gdlab")
        for path in ("nn.Linear", "nn.ReLU", "nn.Sequential", "nn.functional.cross_entropy"):
            obj = gdlab
            for part in path.split("."):
                obj = getattr(obj, part)
        gdlab.optim.SGD  # noqa: B018
        gdlab.optim.Adam  # noqa: B018
    except (ImportError, AttributeError) as e:
        return f"gdlab.nn/optim not available yet ({e})"
    return None


def init_params(sizes: Sequence[int], seed: int = 0) -> list[np.ndarray]:
    """torch.nn.Linear's default init (U(-1/sqrt(fan_in), 1/sqrt(fan_in))), float32.

    Returns ``[W1, b1, W2, b2, ...]`` with ``W`` of shape ``(out, in)`` as torch stores it.
    """
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1.0 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return params


def build_mlp(fw: ModuleType, sizes: Sequence[int], params: Sequence[np.ndarray]) -> object:
    """``Sequential(Linear, ReLU, ..., Linear)`` in framework ``fw``, loaded with ``params``."""
    layers: list = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        if i:
            layers.append(fw.nn.ReLU())
        layers.append(fw.nn.Linear(fan_in, fan_out))
    model = fw.nn.Sequential(*layers)
    with fw.no_grad():
        for p, value in zip(model.parameters(), params, strict=True):
            p.copy_(fw.from_numpy(np.ascontiguousarray(value)))
    return model


def make_step(
    fw: ModuleType,
    model: object,
    optimizer: object,
    x: np.ndarray,
    y: np.ndarray,
) -> Callable[[], None]:
    """One training step (forward, cross-entropy, backward, optimizer step) on a fixed batch."""
    xt, yt = fw.from_numpy(x), fw.from_numpy(y)
    cross_entropy = fw.nn.functional.cross_entropy

    def step() -> None:
        optimizer.zero_grad()
        loss = cross_entropy(model(xt), yt)
        loss.backward()
        optimizer.step()

    return step


def train_step(fw: ModuleType, model: object, optimizer: object, x: object, y: object) -> None:
    """One step on framework tensors ``x``, ``y`` (used inside epoch loops)."""
    optimizer.zero_grad()
    loss = fw.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()


class NumpyMLP:
    """Hand-written MLP: ReLU hidden layers, softmax cross-entropy, SGD, all buffers reused.

    Forward ``h = a W^T + b``, backward ``dW = dh^T a``, ``da = dh W``, ``dh = da * [h > 0]``,
    softmax cross-entropy gradient ``(softmax(z) - onehot(y)) / B``; SGD ``W -= lr dW``.

    Example:
        >>> mlp = NumpyMLP((4, 8, 3), init_params((4, 8, 3)))
        >>> x, y = np.ones((2, 4), np.float32), np.array([0, 2])
        >>> loss = mlp.step(x, y, lr=0.1)
    """

    def __init__(self, sizes: Sequence[int], params: Sequence[np.ndarray]) -> None:
        self.params = [np.array(p, dtype=np.float32) for p in params]
        self.grads = [np.empty_like(p) for p in self.params]
        self.sizes = tuple(sizes)
        self._batch = -1

    def _buffers(self, batch: int) -> None:
        if batch == self._batch:
            return
        self._batch = batch
        widths = self.sizes[1:]
        self.h = [np.empty((batch, w), np.float32) for w in widths]  # pre-activations
        self.a = [np.empty((batch, w), np.float32) for w in widths[:-1]]  # after ReLU
        self.mask = [np.empty((batch, w), bool) for w in widths[:-1]]
        self.d = [np.empty((batch, w), np.float32) for w in widths]  # grads of h
        self.rowmax = np.empty((batch, 1), np.float32)
        self.rowsum = np.empty((batch, 1), np.float32)
        self.rows = np.arange(batch)

    def step(self, x: np.ndarray, y: np.ndarray, lr: float = 0.01) -> float:
        """One SGD step on the batch ``(x, y)``; returns the mean cross-entropy loss."""
        batch = x.shape[0]
        self._buffers(batch)
        n = len(self.h)
        inputs = [x, *self.a]
        for i in range(n):
            w, b = self.params[2 * i], self.params[2 * i + 1]
            np.matmul(inputs[i], w.T, out=self.h[i])
            self.h[i] += b
            if i < n - 1:
                np.maximum(self.h[i], 0.0, out=self.a[i])
        z, dz = self.h[-1], self.d[-1]
        np.max(z, axis=1, keepdims=True, out=self.rowmax)
        np.subtract(z, self.rowmax, out=dz)
        np.exp(dz, out=dz)
        np.sum(dz, axis=1, keepdims=True, out=self.rowsum)
        loss = float(np.mean(np.log(self.rowsum[:, 0]) + self.rowmax[:, 0] - z[self.rows, y]))
        dz /= self.rowsum
        dz[self.rows, y] -= 1.0
        dz *= np.float32(1.0 / batch)
        for i in reversed(range(n)):
            gw, gb = self.grads[2 * i], self.grads[2 * i + 1]
            np.matmul(self.d[i].T, inputs[i], out=gw)
            np.sum(self.d[i], axis=0, out=gb)
            if i:
                np.matmul(self.d[i], self.params[2 * i], out=self.d[i - 1])
                np.greater(self.h[i - 1], 0.0, out=self.mask[i - 1])
                np.multiply(self.d[i - 1], self.mask[i - 1], out=self.d[i - 1])
        scale = np.float32(lr)
        for p, g in zip(self.params, self.grads, strict=True):
            g *= scale
            p -= g
        return loss


class CoreMLP:
    """The same MLP on gdlab's core ops only (matmul, relu, log_softmax, gather) with plain SGD.

    A stand-in used while ``gdlab.nn`` / ``gdlab.optim`` are missing, so the engine can be
    profiled on the real workload; rows timed with it say so in their notes.
    """

    def __init__(self, sizes: Sequence[int], params: Sequence[np.ndarray]) -> None:
        import gdlab

        self.gd = gdlab
        self.params = [gdlab.tensor(np.array(p), requires_grad=True) for p in params]

    def step(self, x: object, y: object, lr: float = 0.01) -> None:
        gd = self.gd
        h = x
        n = len(self.params) // 2
        for i in range(n):
            h = h @ self.params[2 * i].transpose(0, 1) + self.params[2 * i + 1]
            if i < n - 1:
                h = gd.relu(h)
        loss = -gd.log_softmax(h, 1).gather(1, y).mean()
        for p in self.params:
            p.grad = None
        loss.backward()
        scale = np.float32(lr)
        for p in self.params:
            p.data -= scale * p.grad
