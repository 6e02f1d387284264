"""The lab's models besides the MLP: a small CNN and a GRU/LSTM classifier, shared by
``compare``, ``train`` and the benchmark suite (``lab.suite.problems``).

- ``cnn``: two convolutions (kernel 5 stride 2 for a 1-D signal such as MNIST-1D; kernel 3,
  the second stride 2, for an image such as the 8x8 digits), ReLU, and a linear head;
- ``gru`` / ``lstm``: the features read as a sequence, one value per step; a linear head
  classifies the last hidden state.

Every builder draws its weights from an explicit generator, so the seed fixes them.

Example:
    >>> model = conv1d_classifier(40, 10, channels=16, generator=np.random.default_rng(0))
    >>> model(gdlab.randn(2, 40)).shape
    (2, 10)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import gdlab.nn as nn

__all__ = [
    "MODEL_KINDS",
    "SequenceClassifier",
    "conv1d_classifier",
    "conv2d_classifier",
    "image_side",
]

#: ``--model`` / ``[model] kind``: what ``hidden`` means for each.
MODEL_KINDS = {
    "mlp": "hidden layer widths",
    "cnn": "channels of both convolutions (the first width)",
    "gru": "hidden state size (the first width)",
    "lstm": "hidden state size (the first width)",
}


class _Reshape(nn.Module):
    """Flat samples ``(batch, n)`` as ``(batch, *shape)`` (channels first for convolutions)."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: Any) -> Any:
        return x.reshape(x.shape[0], *self.shape)


def conv1d_classifier(
    length: int, n_classes: int, *, channels: int = 16, generator: np.random.Generator
) -> nn.Module:
    """(batch, length) -> two stride-2 Conv1d (kernel 5, padding 2), ReLU -> linear head."""
    out = math.ceil(math.ceil(length / 2) / 2)  # two stride-2 convolutions, padding 2
    return nn.Sequential(
        _Reshape(1, length),
        nn.Conv1d(1, channels, 5, stride=2, padding=2, generator=generator), nn.ReLU(),
        nn.Conv1d(channels, channels, 5, stride=2, padding=2, generator=generator), nn.ReLU(),
        nn.Flatten(), nn.Linear(channels * out, n_classes, generator=generator),
    )  # fmt: skip


def conv2d_classifier(
    side: int, n_classes: int, *, channels: int = 16, generator: np.random.Generator
) -> nn.Module:
    """(batch, side²) images -> Conv2d 3x3, ReLU, Conv2d 3x3 stride 2, ReLU -> linear head."""
    out = math.ceil(side / 2)
    return nn.Sequential(
        _Reshape(1, side, side),
        nn.Conv2d(1, channels, 3, padding=1, generator=generator), nn.ReLU(),
        nn.Conv2d(channels, channels, 3, stride=2, padding=1, generator=generator), nn.ReLU(),
        nn.Flatten(), nn.Linear(channels * out * out, n_classes, generator=generator),
    )  # fmt: skip


class SequenceClassifier(nn.Module):
    """A GRU or LSTM reads the features one value per step; a linear head classifies its
    last hidden state."""

    def __init__(
        self, cell: str, hidden: int, n_classes: int, generator: np.random.Generator
    ) -> None:
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"SequenceClassifier: cell must be 'gru' or 'lstm', got {cell!r}")
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn(1, hidden, batch_first=True, generator=generator)
        self.head = nn.Linear(hidden, n_classes, generator=generator)

    def forward(self, x: Any) -> Any:
        _, state = self.rnn(x.reshape(x.shape[0], x.shape[1], 1))
        h = state[0] if isinstance(state, tuple) else state  # LSTM: (h, c)
        return self.head(h[-1])


def image_side(sample_shape: tuple[int, ...]) -> int | None:
    """The side of a square grey image of sample shape (s, s), else None (a 1-D signal)."""
    if len(sample_shape) == 2 and sample_shape[0] == sample_shape[1]:
        return int(sample_shape[0])
    return None
