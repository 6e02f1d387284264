"""Random number generation: explicit ``numpy.random.Generator`` objects, torch-style seeding.

Library code takes a ``generator`` argument and falls back to gdlab's default generator, which
``manual_seed`` reseeds; NumPy's global random state is never touched.
"""

from __future__ import annotations

import numpy as np

__all__ = ["default_generator", "get_generator", "manual_seed"]


class _Default:
    generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed gdlab's default generator (``torch.manual_seed``) and return it."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _Default.generator = np.random.default_rng(seed)
    return _Default.generator


def default_generator() -> np.random.Generator:
    """The generator used when a function is given none."""
    return _Default.generator


def get_generator(generator: np.random.Generator | int | None) -> np.random.Generator:
    """``generator`` itself, a new generator seeded with an int, or the default one."""
    if generator is None:
        return _Default.generator
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, int | np.integer) and not isinstance(generator, bool):
        return np.random.default_rng(generator)
    raise TypeError(
        f"generator must be a numpy.random.Generator, an int seed or None, "
        f"got {type(generator).__name__}"
    )
