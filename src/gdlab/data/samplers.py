"""Samplers with torch's names and arguments: the order in which a DataLoader visits samples.

``SequentialSampler`` (0, 1, ..., n-1), ``RandomSampler`` (a permutation, or draws with
replacement: the articles' mini-batch loop samples with ``np.random.choice``),
``SubsetRandomSampler``, ``WeightedRandomSampler`` and ``BatchSampler`` (indices grouped into
batches). Randomness comes from ``generator`` (a ``gdlab.Generator``, a NumPy Generator or
an int seed; gdlab's default generator when None), drawn anew at every ``iter()`` as torch's
samplers do; the draws differ from torch's (another random number generator).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import Any

import numpy as np

from gdlab.random import get_generator

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]


def _positive_int(name: str, where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(
            f"{where}: {name} should be a positive integer value, but got {name}={value!r}"
        )
    return int(value)


def _source(generator: Any) -> Any:
    """The generator to draw from at each pass: an int seed becomes a NumPy Generator once,
    here, so that passes differ (a seed re-read at every pass would repeat one order)."""
    get_generator(generator)  # a bad generator fails here, not at the first iter()
    if isinstance(generator, int | np.integer) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    return generator


def _flag(name: str, where: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{where}: {name} should be a boolean value, but got {name}={value!r}")
    return bool(value)


class Sampler:
    """The base of samplers: an iterable of dataset indices with a length (torch's Sampler)."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) − 1: a DataLoader's order without shuffle."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices: a fresh permutation per pass, or ``num_samples`` draws with replacement
    (torch.utils.data.RandomSampler).

    Without replacement and ``num_samples`` > n, whole permutations follow one another and
    the last is cut (torch's rule). With ``replacement=True`` each index is drawn uniformly
    and independently: the mini-batch sampling of ``np.random.choice(n, b)``.

    Args:
        data_source: the data set (only its length is used).
        replacement: draw with replacement. Default False.
        num_samples: indices per pass; default ``len(data_source)``.
        generator: ``gdlab.Generator``, NumPy Generator or int seed (default: gdlab's).

    Example:
        >>> list(RandomSampler(range(5), replacement=True, num_samples=3, generator=0))
        [4, 3, 2]
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Any = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = _flag("replacement", "RandomSampler", replacement)
        self._num_samples = num_samples
        if num_samples is not None:
            _positive_int("num_samples", "RandomSampler", num_samples)
        self.generator = _source(generator)

    @property
    def num_samples(self) -> int:
        """Indices per pass (``len(data_source)`` unless given)."""
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __iter__(self) -> Iterator[int]:
        n, k = len(self.data_source), self.num_samples
        rng = get_generator(self.generator)
        if self.replacement:
            return iter(rng.integers(0, n, size=k).tolist())
        whole, rest = divmod(k, n)
        parts = [rng.permutation(n) for _ in range(whole)] + [rng.permutation(n)[:rest]]
        return iter(np.concatenate(parts).tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a fresh random order per pass (torch's SubsetRandomSampler)."""

    def __init__(self, indices: Iterable[int], generator: Any = None) -> None:
        self.indices = list(indices)
        self.generator = _source(generator)

    def __iter__(self) -> Iterator[int]:
        order = get_generator(self.generator).permutation(len(self.indices))
        return iter([self.indices[i] for i in order])

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``
    (torch's WeightedRandomSampler; with replacement by default).

    Example:
        >>> sorted(set(WeightedRandomSampler([0.0, 1.0, 0.0], 4, generator=0)))
        [1]
    """

    def __init__(
        self,
        weights: Any,
        num_samples: int,
        replacement: bool = True,
        generator: Any = None,
    ) -> None:
        self.num_samples = _positive_int("num_samples", "WeightedRandomSampler", num_samples)
        self.replacement = _flag("replacement", "WeightedRandomSampler", replacement)
        w = np.asarray(getattr(weights, "data", weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"WeightedRandomSampler: weights should be a 1-D sequence, got shape {w.shape}"
            )
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be finite, non-negative and not all zero"
            )
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            raise ValueError(
                f"WeightedRandomSampler: cannot draw {self.num_samples} samples without "
                f"replacement from {np.count_nonzero(w)} non-zero weights"
            )
        self.weights = w
        self.generator = _source(generator)

    def __iter__(self) -> Iterator[int]:
        rng = get_generator(self.generator)
        p = self.weights / self.weights.sum()
        draws = rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return iter(draws.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group another sampler's indices into lists of ``batch_size`` (torch's BatchSampler).

    Example:
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        self.sampler = sampler
        self.batch_size = _positive_int("batch_size", "BatchSampler", batch_size)
        self.drop_last = _flag("drop_last", "BatchSampler", drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for idx in self.sampler:
            batch.append(int(idx))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
