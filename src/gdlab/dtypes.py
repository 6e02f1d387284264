"""Data types: NumPy dtypes under PyTorch's names, and the default floating dtype."""

from __future__ import annotations

import numpy as np

__all__ = [
    "bool_",
    "float16",
    "float32",
    "float64",
    "get_default_dtype",
    "int32",
    "int64",
    "resolve_dtype",
    "set_default_dtype",
]

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

_ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32}


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


def resolve_dtype(dtype: object) -> np.dtype:
    """A NumPy dtype from a dtype, a type, or a name such as ``"float64"`` or ``"double"``."""
    if isinstance(dtype, str) and dtype in _ALIASES:
        return _ALIASES[dtype]
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"invalid dtype: {dtype!r}") from None
    if d.kind not in "fiub":
        raise TypeError(f"unsupported dtype {d}: gdlab tensors are floating, integer or bool")
    return d


def is_floating(dtype: np.dtype) -> bool:
    """Whether ``dtype`` is a floating dtype (the ones that can require grad)."""
    return dtype.kind == "f"
