"""Devices with torch's names, on a library that computes with NumPy on the CPU only.

``gdlab.device("cpu")``, ``device=`` arguments and ``.to(device)`` are accepted so that code
written for torch runs unchanged; every tensor is on the CPU. A CUDA (or MPS, XPU...) device
can be named, as torch allows without a GPU, but using it for a tensor or a module raises an
error that says gdlab is CPU-only, instead of failing later or silently computing elsewhere.
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = ["KNOWN_TYPES", "as_device", "device", "is_device"]

# torch's device types: a name among them is a real device gdlab does not have, anything
# else is a typo (ValueError, as torch's "Expected one of cpu, cuda, ... device type").
KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "mtia")


class device:  # noqa: N801 - torch's spelling
    """A device: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``.

    Compares equal to another device of the same type and index (not to a string, as
    torch's). ``type`` and ``index`` as torch's.

    Example:
        >>> gdlab.device("cuda" if gdlab.cuda.is_available() else "cpu")
        device(type='cpu')
    """

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type  # torch: a bare ordinal is a CUDA device
        if not isinstance(type, str):
            raise TypeError(
                f"device: expected a device string such as 'cpu', got {type!r} "
                f"({builtins.type(type).__name__})"
            )
        name, _, ordinal = type.partition(":")
        if name not in KNOWN_TYPES:
            raise ValueError(
                f"device: expected one of {', '.join(KNOWN_TYPES)} device type at start of "
                f"device string: {type!r}"
            )
        if ordinal:
            if index is not None:
                raise ValueError(f"device: type {type!r} already holds an index; got index={index}")
            if not ordinal.isdigit():
                raise ValueError(f"device: invalid device string {type!r}")
            index = int(ordinal)
        self.type = name
        self.index = index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"


CPU = device("cpu")


def is_device(arg: Any) -> bool:
    """Whether ``arg`` names a device (a ``device``, or a string of a known device type)
    rather than a dtype: how ``to(x)`` tells ``to("cpu")`` from ``to("float64")``."""
    if isinstance(arg, device):
        return True
    return isinstance(arg, str) and arg.partition(":")[0] in KNOWN_TYPES


def as_device(value: Any, where: str) -> device:
    """The CPU device for ``value`` (None, ``"cpu"``, ``"cpu:0"``, ``device("cpu")``); a
    GPU-type device raises RuntimeError naming it, a misspelled one ValueError naming
    ``where`` (the function and argument, e.g. ``"zeros: device"``)."""
    if value is None:
        return CPU
    try:
        d = value if isinstance(value, device) else device(value)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{where}: {str(e).removeprefix('device: ')}") from None
    if d.type != "cpu":
        raise RuntimeError(
            f"{where} {str(d)!r} is not available: gdlab computes with NumPy on the CPU "
            "only (gdlab.cuda.is_available() is False); use 'cpu', or pick the device with "
            "gdlab.device('cuda' if gdlab.cuda.is_available() else 'cpu')"
        )
    return d
