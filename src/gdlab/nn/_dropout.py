"""Inverted dropout (torch.nn.functional.dropout), in its own module so that the layers
composed of it (attention, transformer) and ``gdlab.nn.functional`` can all import it."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.random import get_generator
from gdlab.tensor import Tensor

__all__ = ["dropout"]


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    generator: Any = None,
) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1−p),
    so the expectation is unchanged; the identity when not ``training``.

    Args:
        input: any tensor.
        p: drop probability in [0, 1].
        training: apply dropout (False: return ``input`` unchanged).
        inplace: accepted for torch compatibility; the input is never modified.
        generator: numpy Generator or int seed for the mask (default: gdlab's generator).

    Example:
        >>> y = dropout(gdlab.ones(4), p=0.5, generator=0)   # entries are 0 or 2

    Reference: Srivastava et al. (2014), "Dropout", JMLR 15.
    """
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * np.zeros((), dtype=input.dtype)
    rng = get_generator(generator)
    dt = input.dtype if input.dtype.kind == "f" else np.dtype(np.float32)
    keep = rng.random(input.shape, dtype=np.float64 if dt == np.float64 else np.float32) >= p
    mask = keep.astype(dt)
    mask *= dt.type(1.0 / (1.0 - p))
    return input * mask
