"""Batch helpers of the training loop: unpacking ``(inputs..., target)`` and the gradient norm."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdlab.data.validation import first_nonfinite
from gdlab.tensor import Tensor

__all__ = ["as_array", "batch_count", "grad_norm", "nonfinite_data", "split_batch"]


def grad_norm(grads: list[np.ndarray], scratch: list[Any]) -> float:
    """The total L2 norm of ``grads``, equal bit for bit to ``get_total_norm(grads)``.

    The same float64 dot products (``linalg.norm``'s 1-D rule) without its per-call overhead
    and without a new float64 copy of every float32 gradient per step: ``scratch[i]`` is a
    reused float64 buffer for the i-th gradient.
    """
    norms = np.empty(len(grads))
    scratch.extend(None for _ in range(len(grads) - len(scratch)))
    for i, g in enumerate(grads):
        if g.dtype != np.float64:
            buf = scratch[i]
            if buf is None or buf.shape != g.shape:
                buf = scratch[i] = np.empty(g.shape)
            np.copyto(buf, g)
            g = buf
        v = g.reshape(-1)
        norms[i] = math.sqrt(v.dot(v))
    return math.sqrt(norms.dot(norms))


def split_batch(batch: Any) -> tuple[tuple[Any, ...], Any]:
    """``(inputs..., target)`` -> ``(inputs, target)``; a TypeError for anything else."""
    if isinstance(batch, tuple | list) and len(batch) >= 2:
        return tuple(batch[:-1]), batch[-1]
    raise TypeError(
        "fit: each batch must be a tuple (inputs..., target), got "
        f"{type(batch).__name__}{'' if not isinstance(batch, tuple | list) else ' of length 1'}"
    )


def batch_count(batch: Any) -> int:
    """Number of samples in a batch (the length of its first input)."""
    return len(split_batch(batch)[0][0])


def as_array(x: Any) -> np.ndarray:
    """The NumPy array under a Tensor (or ``x`` as an array)."""
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def nonfinite_data(group: list[Any]) -> str | None:
    """Where a step's batches hold NaN/inf (``"inputs[0] nan at row 3, column 1 of the
    batch"``), or None: a diverged loss on such data is the data's fault, not the lr's."""
    for b, batch in enumerate(group):
        inputs, target = split_batch(batch)
        for name, x in [*((f"inputs[{i}]", x) for i, x in enumerate(inputs)), ("target", target)]:
            bad = first_nonfinite(as_array(x))
            if bad is not None:
                micro = f" of micro-batch {b}" if len(group) > 1 else ""
                return f"{name} {bad.value} at {bad.where()} of the batch{micro}"
    return None
