"""Import PyTorch once, with an install hint instead of a bare ModuleNotFoundError."""

from __future__ import annotations

try:
    import torch
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "gdlab.interop.torch needs PyTorch, which is not installed: "
        "install gdlab[torch] (pip install 'gdlab[torch]')"
    ) from exc

__all__ = ["torch"]
