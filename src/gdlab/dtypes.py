"""Data types: NumPy dtypes under PyTorch's names, and the default floating dtype."""

from __future__ import annotations

import numpy as np

__all__ = [
    "TORCH_NAMES",
    "bool_",
    "float16",
    "float32",
    "float64",
    "get_default_dtype",
    "int8",
    "int16",
    "int32",
    "int64",
    "resolve_dtype",
    "set_default_dtype",
    "uint8",
]

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

# torch's other names of the same dtypes: ``gdlab.long`` is int64 as ``torch.long`` is
# (``gdlab/__init__.py`` binds them; here they would shadow the builtins float, int, bool).
TORCH_NAMES = {
    "float": float32,
    "double": float64,
    "half": float16,
    "long": int64,
    "int": int32,
    "short": int16,
    "bool": bool_,
}
_ALIASES = {**TORCH_NAMES, **{f"torch.{name}": d for name, d in TORCH_NAMES.items()}}
_SUPPORTED = (
    "float16/half, float32/float, float64/double, int8, int16, int32, int64/long, uint8, bool"
)


class _Default:
    dtype = float32


def get_default_dtype() -> np.dtype:
    """The dtype that Python floats and lists of floats become (float32 unless changed)."""
    return _Default.dtype


def set_default_dtype(dtype: object) -> None:
    """Set the dtype Python floats become; only float32 and float64 are allowed (as torch)."""
    d = resolve_dtype(dtype)
    if d not in (float32, float64):
        raise TypeError(f"set_default_dtype: only float32 or float64 are supported, got {d}")
    _Default.dtype = d


def resolve_dtype(dtype: object, where: str = "dtype") -> np.dtype:
    """A NumPy dtype from a dtype, a type, or a name such as ``"float64"`` or ``"double"``.

    ``where`` names the argument in the error (``"Tensor.to: dtype"``); a device string
    (``"cpu"``, ``"cuda"``) given as a dtype is told apart from a misspelled dtype.
    """
    if isinstance(dtype, str) and dtype in _ALIASES:
        return _ALIASES[dtype]
    try:
        d = np.dtype(dtype)
    except TypeError:
        hint = ""
        if isinstance(dtype, str) and dtype.split(":")[0] in _DEVICE_TYPES:
            hint = f" ({dtype!r} is a device, not a dtype; gdlab computes on the CPU only)"
        raise TypeError(
            f"{where}: invalid dtype {dtype!r}{hint}; expected one of {_SUPPORTED}"
        ) from None
    if d.kind not in "fiub":
        raise TypeError(
            f"{where}: unsupported dtype {d}: gdlab tensors are floating, integer or bool "
            f"({_SUPPORTED})"
        )
    return d


_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla")


def is_floating(dtype: np.dtype) -> bool:
    """Whether ``dtype`` is a floating dtype (the ones that can require grad)."""
    return dtype.kind == "f"
