"""Random number generation: explicit ``numpy.random.Generator`` objects, torch-style seeding.

Library code takes a ``generator`` argument and falls back to gdlab's default generator, which
``manual_seed`` reseeds; NumPy's global random state is never touched.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

__all__ = ["Generator", "default_generator", "get_generator", "manual_seed"]


class Generator:
    """``torch.Generator``: a seedable source of random numbers, accepted wherever a
    function takes ``generator=`` (rand, randn, randint, randperm, normal, DataLoader,
    random_split, the samplers, dropout).

    It draws from NumPy's PCG64, not torch's Mersenne Twister: the same seed gives
    different numbers than torch (copy weights, not seeds, to compare with torch).

    Example:
        >>> g = gdlab.Generator().manual_seed(0)
        >>> state = g.get_state()
        >>> a = gdlab.rand(3, generator=g)
        >>> _ = g.set_state(state)
        >>> bool((gdlab.rand(3, generator=g) == a).all())
        True
    """

    def __init__(self, device: Any = "cpu") -> None:
        from gdlab.devices import as_device

        self.device = as_device(device, "Generator: device")
        self._initial_seed = int(np.random.SeedSequence().entropy % 2**63)
        self.numpy = np.random.default_rng(self._initial_seed)  # the NumPy generator drawn from

    def manual_seed(self, seed: int) -> Generator:
        """Reseed in place (every holder of ``numpy`` sees it) and return self."""
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise TypeError(f"Generator.manual_seed: seed must be an int, got {seed!r}")
        self._initial_seed = int(seed)
        self.numpy.bit_generator.state = np.random.PCG64(int(seed)).state
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the new seed."""
        seed = int(np.random.SeedSequence().entropy % 2**63)
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed last set (by ``manual_seed``, ``seed`` or the constructor)."""
        return self._initial_seed

    def get_state(self) -> Any:
        """The generator's state as a uint8 Tensor (torch's ByteTensor; JSON inside)."""
        from gdlab.tensor import Tensor

        state = json.dumps(self.numpy.bit_generator.state).encode()
        return Tensor(np.frombuffer(state, dtype=np.uint8).copy())

    def set_state(self, new_state: Any) -> Generator:
        """Restore a state returned by ``get_state``; returns self."""
        raw = np.asarray(getattr(new_state, "data", new_state))
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise TypeError(
                f"Generator.set_state: expected the uint8 tensor of get_state(), got "
                f"dtype {raw.dtype} and shape {raw.shape}"
            )
        try:
            self.numpy.bit_generator.state = json.loads(raw.tobytes().decode())
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f"Generator.set_state: not a state of get_state() ({e})") from None
        return self

    def __repr__(self) -> str:
        return f"<gdlab.Generator initial_seed={self._initial_seed}>"


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


def get_generator(generator: Generator | np.random.Generator | int | None) -> np.random.Generator:
    """The NumPy generator of a :class:`Generator`, ``generator`` itself, a new generator
    seeded with an int, or the default one."""
    if generator is None:
        return _Default.generator
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, Generator):
        return generator.numpy
    if isinstance(generator, int | np.integer) and not isinstance(generator, bool):
        return np.random.default_rng(generator)
    raise TypeError(
        f"generator must be a gdlab.Generator, a numpy.random.Generator, an int seed or None, "
        f"got {type(generator).__name__}"
    )
