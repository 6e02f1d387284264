"""``gdlab.cuda``: torch's CUDA queries, answered for a CPU-only library.

``is_available()`` is False and ``device_count()`` 0, so the usual
``"cuda" if torch.cuda.is_available() else "cpu"`` picks the CPU. The seeding functions are
no-ops, as torch's are on a machine without CUDA.
"""

from __future__ import annotations

__all__ = ["device_count", "is_available", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    """False: gdlab has no GPU backend."""
    return False


def device_count() -> int:
    """0: no CUDA devices."""
    return 0


def manual_seed(seed: int) -> None:
    """Accepted and ignored, as torch.cuda.manual_seed without CUDA (seed the CPU generator
    with ``gdlab.manual_seed``)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"cuda.manual_seed: seed must be an int, got {type(seed).__name__}")


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored, as torch.cuda.manual_seed_all without CUDA."""
    manual_seed(seed)
