"""Views of data sets with torch's names: ``Subset``, ``ConcatDataset``, ``random_split``."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gdlab.random import get_generator

__all__ = ["ConcatDataset", "Subset", "random_split"]


class Subset:
    """The samples of ``dataset`` at ``indices``, in that order (torch.utils.data.Subset).

    Example:
        >>> Subset([10, 11, 12, 13], [3, 0])[0]
        13
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"Subset({type(self.dataset).__name__}, {len(self)} of {len(self.dataset)})"


class ConcatDataset:
    """Several data sets one after the other (torch.utils.data.ConcatDataset).

    Example:
        >>> d = ConcatDataset([[0, 1], [2, 3, 4]])
        >>> len(d), d[2], d[-1], d.cumulative_sizes
        (5, 2, 4, [2, 5])
    """

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes: list[int] = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError(
                    "ConcatDataset: absolute value of index should not exceed dataset length, "
                    f"got {idx} for length {len(self)}"
                )
            idx = len(self) + idx
        if idx >= len(self):
            raise IndexError(f"ConcatDataset: index {idx} out of range for length {len(self)}")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


def random_split(
    dataset: Any, lengths: Sequence[int | float], generator: Any = None
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets (torch.utils.data.random_split).

    ``lengths`` are sizes summing to ``len(dataset)``, or fractions summing to 1: then each
    gets ``floor(n·fraction)`` and the remainder is dealt one by one from the first (torch's
    rule). The permutation comes from ``generator`` (a NumPy Generator or seed; gdlab's
    default generator when None), not from torch's, so the subsets differ from torch's.

    Example:
        >>> [len(s) for s in random_split(range(10), [0.5, 0.3, 0.2], generator=0)]
        [5, 3, 2]
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not in [0, 1]: {frac}")
        sizes = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(sizes)):  # the remainder, one by one from the first
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if any(isinstance(x, bool) or not isinstance(x, int | np.integer) or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative ints, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(
            "Sum of input lengths does not equal the length of the input dataset! "
            f"({sum(lengths)} != {n})"
        )
    order = get_generator(generator).permutation(n).tolist()
    out, offset = [], 0
    for size in lengths:
        out.append(Subset(dataset, order[offset : offset + size]))
        offset += size
    return out
