"""``gdlab.backends.mps``: Apple's GPU backend, absent (gdlab computes on the CPU only), so
``"mps" if torch.backends.mps.is_available() else "cpu"`` picks the CPU."""

from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: gdlab has no GPU backend."""
    return False


def is_built() -> bool:
    """False: gdlab is not built with MPS."""
    return False
