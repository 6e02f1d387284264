"""Padding layers (torch.nn's names): Reflection/Replication/Circular/Zero/ConstantPad{1,2,3}d,
each ``F.pad`` with a fixed padding and mode.

``padding`` is an int (the same on every side) or a tuple of 2·n ints, (left, right) pairs
starting from the last dimension, as ``torch.nn.functional.pad``.
"""

from __future__ import annotations

from typing import Any

from gdlab.nn import functional as F
from gdlab.nn.module import Module
from gdlab.tensor import Tensor

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]  # fmt: skip


def _padding(padding: Any, n: int, name: str) -> tuple[int, ...]:
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    padding = tuple(int(p) for p in padding)
    if len(padding) != 2 * n:
        raise ValueError(f"{name}: padding must be an int or a {2 * n}-tuple, got {padding}")
    return padding


class _PadNd(Module):
    _n = 1
    _mode = "constant"

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        self.padding = _padding(padding, self._n, type(self).__name__)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if self._mode == "constant":
            return F.pad(input, self.padding, value=self.value)
        return F.pad(input, self.padding, mode=self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pads with a constant ``value``. Example: ``ConstantPad2d((1, 0, 2, 0), -1.0)``."""

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_PadNd):
    """Pads with zeros."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)


def _make(base: type, name: str, n: int, mode: str, doc: str) -> type:
    return type(name, (base,), {"_n": n, "_mode": mode, "__doc__": doc, "__module__": __name__})


_DOCS = {
    "reflect": "Mirror padding without repeating the edge: [a b c] -> c b | a b c | b a.",
    "replicate": "Edge padding: the border value is repeated.",
    "circular": "Periodic padding: the input wraps around.",
}
ReflectionPad1d = _make(_PadNd, "ReflectionPad1d", 1, "reflect", _DOCS["reflect"])
ReflectionPad2d = _make(_PadNd, "ReflectionPad2d", 2, "reflect", _DOCS["reflect"])
ReflectionPad3d = _make(_PadNd, "ReflectionPad3d", 3, "reflect", _DOCS["reflect"])
ReplicationPad1d = _make(_PadNd, "ReplicationPad1d", 1, "replicate", _DOCS["replicate"])
ReplicationPad2d = _make(_PadNd, "ReplicationPad2d", 2, "replicate", _DOCS["replicate"])
ReplicationPad3d = _make(_PadNd, "ReplicationPad3d", 3, "replicate", _DOCS["replicate"])
CircularPad1d = _make(_PadNd, "CircularPad1d", 1, "circular", _DOCS["circular"])
CircularPad2d = _make(_PadNd, "CircularPad2d", 2, "circular", _DOCS["circular"])
CircularPad3d = _make(_PadNd, "CircularPad3d", 3, "circular", _DOCS["circular"])
ConstantPad1d = _make(_ConstantPadNd, "ConstantPad1d", 1, "constant", _ConstantPadNd.__doc__)
ConstantPad2d = _make(_ConstantPadNd, "ConstantPad2d", 2, "constant", _ConstantPadNd.__doc__)
ConstantPad3d = _make(_ConstantPadNd, "ConstantPad3d", 3, "constant", _ConstantPadNd.__doc__)
ZeroPad1d = _make(_ZeroPadNd, "ZeroPad1d", 1, "constant", _ZeroPadNd.__doc__)
ZeroPad2d = _make(_ZeroPadNd, "ZeroPad2d", 2, "constant", _ZeroPadNd.__doc__)
ZeroPad3d = _make(_ZeroPadNd, "ZeroPad3d", 3, "constant", _ZeroPadNd.__doc__)
