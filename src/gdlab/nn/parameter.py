"""Parameter: a leaf tensor that a Module registers and an optimizer updates."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.tensor import Tensor, as_array

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A tensor that is a module parameter: ``requires_grad=True`` by default.

    Wrapping a Tensor or a NumPy array shares its memory (as ``torch.nn.Parameter``).
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        arr = data.data if isinstance(data, Tensor) else as_array(data, copy=False)
        super().__init__(arr, requires_grad=False)
        self.data = arr  # Tensor.__init__ copies; a Parameter shares, as torch
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
