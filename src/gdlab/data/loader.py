"""The DataLoader: batch, stochastic and mini-batch gradient descent from one object.

``batch_size=None`` is the full batch (batch GD), ``1`` is stochastic GD, ``b`` is mini-batch
GD. Each ``iter()`` is an independent pass (epoch) that visits every sample exactly once; with
``shuffle=True`` epoch ``e`` uses a permutation derived from ``(seed, e)`` alone, so it is the
same whatever happened before, and the loader's position (epoch, cursor) is part of its
``state_dict`` for an exact mid-epoch resume.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from gdlab.data.dataset import TensorDataset
from gdlab.data.samplers import BatchSampler
from gdlab.random import get_generator
from gdlab.tensor import Tensor

__all__ = ["DataLoader", "default_collate"]

_SEED_BOUND = 2**63


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch of gdlab Tensors (``torch``'s ``default_collate``).

    Tuples/lists of fields become a tuple of stacked fields, dicts a dict; Tensors and arrays are
    stacked along a new first axis keeping their dtype; Python floats become float64 and ints
    int64 (as torch).

    Example:
        >>> xb, yb = default_collate([(np.ones(2, np.float32), 0), (np.zeros(2, np.float32), 1)])
        >>> xb.shape, xb.dtype, yb.dtype
        ((2, 2), dtype('float32'), dtype('int64'))
    """
    first = batch[0]
    if isinstance(first, Mapping):
        return {k: default_collate([s[k] for s in batch]) for k in first}
    if isinstance(first, tuple | list):
        return tuple(default_collate(list(field)) for field in zip(*batch, strict=True))
    if isinstance(first, Tensor):
        return Tensor._wrap(np.stack([s.data for s in batch]))
    if isinstance(first, bool):
        return Tensor._wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(first, int):
        return Tensor._wrap(np.asarray(batch, dtype=np.int64))
    if isinstance(first, float):
        return Tensor._wrap(np.asarray(batch, dtype=np.float64))
    return Tensor._wrap(np.stack([np.asarray(s) for s in batch]))


def _check_batch_size(batch_size: Any) -> None:
    msg = (
        f"batch_size should be a positive integer value or None, but got batch_size={batch_size!r}"
    )
    if batch_size is None:
        return
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise TypeError(f"DataLoader: {msg}")
    if batch_size <= 0:
        raise ValueError(f"DataLoader: {msg}")


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"DataLoader: {name} should be a bool, but got {name}={value!r}")
    return bool(value)


def _check_workers(
    num_workers: Any, prefetch_factor: Any, persistent_workers: Any, timeout: Any
) -> None:
    """torch's checks of the worker options (the workers themselves are not started)."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, int | np.integer):
        raise TypeError(f"DataLoader: num_workers should be an int, but got {num_workers!r}")
    if num_workers < 0:
        raise ValueError(
            "DataLoader: num_workers option should be non-negative; use num_workers=0 to "
            "disable multiprocessing."
        )
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError(
            "DataLoader: prefetch_factor option could only be specified in multiprocessing. "
            "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
        )
    if prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError("DataLoader: prefetch_factor option should be non-negative")
    if persistent_workers and num_workers == 0:
        raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
    if timeout < 0:
        raise ValueError("DataLoader: timeout option should be non-negative")


def _check_samplers(
    sampler: Any, batch_sampler: Any, batch_size: Any, shuffle: bool, drop_last: bool
) -> None:
    """torch's rules for combining sampler, batch_sampler, batch_size, shuffle, drop_last."""
    if sampler is not None and shuffle:
        raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError(
                "DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                "shuffle, sampler, and drop_last"
            )
    if sampler is not None and batch_size is None:
        raise ValueError(
            "DataLoader: with a sampler, batch_size must be an int (batch_size=None is gdlab's "
            "full batch, which takes every sample once, in order)"
        )


def _empty_message(dataset: Any) -> str:
    arrays = getattr(dataset, "arrays", None)
    shape = arrays[0].shape if arrays else (0,)
    return f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 is required."


class DataLoader:
    """Iterate over a data set in batches: full batch, stochastic or mini-batch.

    Same arguments and semantics as ``torch.utils.data.DataLoader`` except:

    * ``batch_size=None`` means the **full batch** (batch gradient descent: one batch of all
      ``n`` samples per epoch). In torch, ``None`` disables batching (samples one by one,
      without a batch axis); gdlab has no use for that, and ``1`` gives per-sample batches.
    * ``seed`` (or ``generator``) fixes the shuffle: epoch ``e``'s order is
      ``default_rng([seed, e]).permutation(n)``, independent of how many epochs were iterated
      before. Given a ``numpy.random.Generator`` (or neither, in which case gdlab's default
      generator is used, see ``gdlab.manual_seed``), one seed is drawn from it when the loader is
      built.
    * Every ``iter()`` is its own pass, as in torch: two live iterators do not share a position
      (a loop over the loader inside a loop over the same loader works), and iterating again
      after a ``break`` starts a new epoch with its own order (the next epoch number, so the
      order is drawn from the loader's seed). ``set_epoch(e)`` makes the next ``iter()`` start
      at the beginning of epoch ``e``.
    * ``state_dict()`` holds the position of the batch last yielded (epoch, cursor, seed,
      samples seen): after ``load_state_dict`` the next ``iter()`` continues that epoch, so its
      next batch is the one an uninterrupted run would produce. With a ``sampler`` or
      ``batch_sampler`` the order is the sampler's, drawn anew at each ``iter()`` (torch's
      rule); a resumed pass skips the batches already yielded of a new draw, which is the
      same order only when the sampler's is deterministic.
    * ``num_workers``, ``pin_memory``, ``persistent_workers``, ``prefetch_factor``,
      ``worker_init_fn``, ``timeout``, ``multiprocessing_context``, ``pin_memory_device`` and
      ``in_order`` are accepted and validated as torch validates them, and batches are
      always made in this process: an array-backed batch is one fancy index per array
      (microseconds), which a worker process would have to pickle and send back, so workers
      cannot make it faster (README, "Porting from PyTorch", has the measurement); there is
      no GPU to pin memory for. ``worker_init_fn`` is therefore never called, as in torch
      with ``num_workers=0``.

    Array-backed data sets (:class:`TensorDataset`) are batched by one fancy index per array
    per batch (slice views without shuffling), never by collating samples, and never copy the
    whole data set per epoch; dtypes are preserved. Other data sets go through ``collate_fn``
    (default :func:`default_collate`). Batches are tuples of gdlab Tensors.

    Args:
        dataset: a :class:`TensorDataset` or any object with ``__len__`` and ``__getitem__``.
        batch_size: ``None`` (full batch), ``1`` (stochastic) or ``b`` (mini-batch). Default 1.
        shuffle: reshuffle every epoch. Default False.
        sampler: the order of the indices (``gdlab.data.RandomSampler``...), grouped into
            batches of ``batch_size``; excludes ``shuffle``.
        batch_sampler: yields lists of indices, one per batch; excludes ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers: accepted (>= 0); batches are made in this process (see above).
        collate_fn: merges a list of samples into a batch; forces the per-sample path.
        drop_last: drop the last incomplete batch. Default False.
        generator: ``gdlab.Generator``, ``numpy.random.Generator`` (or int) to draw the
            shuffle seed from.
        seed: int seed of the shuffle (mutually exclusive with ``generator``).

    Attributes:
        epoch: index of the epoch in progress (or the next one once a pass ended), from 0.
        samples_seen: number of samples yielded so far, over all epochs.

    Example:
        >>> X = np.arange(10, dtype=np.float32).reshape(5, 2)
        >>> loader = DataLoader(TensorDataset(X), batch_size=2)
        >>> len(loader), [xb.shape for (xb,) in loader]
        (3, [(2, 2), (2, 2), (1, 2)])
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool | None = False,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
    ) -> None:
        _check_batch_size(batch_size)
        shuffle = False if shuffle is None else shuffle  # torch's default is None
        self.shuffle = _check_flag("shuffle", shuffle)
        self.drop_last = _check_flag("drop_last", drop_last)
        _check_workers(num_workers, prefetch_factor, persistent_workers, timeout)
        self.pin_memory = _check_flag("pin_memory", pin_memory)
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = bool(persistent_workers)
        self.worker_init_fn = worker_init_fn
        self.timeout = timeout
        self.multiprocessing_context = multiprocessing_context
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                "DataLoader: dataset must have __len__ and __getitem__, "
                f"got {type(dataset).__name__}"
            )
        n = len(dataset)
        if n == 0:
            raise ValueError(f"DataLoader: {_empty_message(dataset)}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: pass either seed or generator, not both")
        _check_samplers(sampler, batch_sampler, batch_size, self.shuffle, self.drop_last)
        if sampler is not None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, self.drop_last)
        self.dataset = dataset
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.batch_size = None if batch_sampler is not None and sampler is None else batch_size
        self.collate_fn = collate_fn
        self.generator = generator
        self._n = n
        self._b = n if batch_size is None else int(batch_size)
        if self.drop_last and n < self._b and batch_sampler is None:
            raise ValueError(
                f"DataLoader: drop_last=True with batch_size={batch_size} and {n} samples leaves "
                "no batch in an epoch; use a smaller batch_size or drop_last=False"
            )
        self.seed = self._resolve_seed(seed, generator) if self.shuffle else None
        self.epoch = 0
        self.samples_seen = 0
        self._cursor = 0  # batches of epoch ``self.epoch`` already yielded
        self._next_epoch = 1  # the epoch a new pass takes when it does not resume
        self._resume = True  # the next iter() continues (epoch, cursor): new, loaded, set_epoch

    def _resolve_seed(self, seed: int | None, generator: Any) -> int:
        if seed is not None:
            msg = f"DataLoader: seed must be a non-negative int, got {seed!r}"
            if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
                raise TypeError(msg)
            if seed < 0:
                raise ValueError(msg)
            return int(seed)
        return int(get_generator(generator).integers(_SEED_BOUND))

    # ------------------------------------------------------------------ order
    def __len__(self) -> int:
        """Number of batches per epoch: ceil(n / b), or floor(n / b) with ``drop_last``; with
        a sampler, its length grouped so; with a batch sampler, its length."""
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return self._n // self._b if self.drop_last else math.ceil(self._n / self._b)

    def permutation(self, epoch: int | None = None) -> np.ndarray | None:
        """The sample order of ``epoch`` (default: the current one), or None without shuffle."""
        if self.batch_sampler is not None:
            raise ValueError(
                "DataLoader.permutation: the order comes from the sampler, drawn at each iter()"
            )
        if not self.shuffle:
            return None
        e = self.epoch if epoch is None else epoch
        return np.random.default_rng([self.seed, e]).permutation(self._n)

    def batch_indices(self, epoch: int | None = None) -> list[np.ndarray]:
        """The index arrays of every batch of ``epoch`` (for inspection and tests)."""
        perm = self.permutation(epoch)
        order = np.arange(self._n) if perm is None else perm
        return [order[i * self._b : (i + 1) * self._b] for i in range(len(self))]

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` start epoch ``epoch`` (``DistributedSampler.set_epoch``)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer) or epoch < 0:
            raise ValueError(
                f"DataLoader.set_epoch: epoch must be a non-negative int, got {epoch!r}"
            )
        self.epoch = int(epoch)
        self._cursor = 0
        self._resume = True

    # -------------------------------------------------------------- iteration
    def __iter__(self) -> Iterator[Any]:
        if self.batch_sampler is not None:
            return self._iter_sampled()
        return self._iter_ordered()

    def _fast(self) -> bool:
        return isinstance(self.dataset, TensorDataset) and self.collate_fn is None

    def _iter_sampled(self) -> Iterator[Any]:
        """A pass in the batch sampler's order (skipping the batches a resumed pass yielded)."""
        epoch, cursor = self._start()
        fast = self._fast()
        for i, indices in enumerate(self.batch_sampler):
            if i < cursor:
                continue
            idx = np.asarray(indices, dtype=np.int64)
            batch = self.dataset.gather(idx) if fast else self._collate(idx)
            self.epoch, self._cursor = epoch, i + 1
            self.samples_seen += len(idx)
            yield batch
        self.epoch, self._cursor = self._next_epoch, 0

    def _iter_ordered(self) -> Iterator[Any]:
        epoch, cursor = self._start()
        perm = self.permutation(epoch)
        fast = self._fast()
        num_batches = len(self)
        for i in range(cursor, num_batches):
            start, stop = i * self._b, min((i + 1) * self._b, self._n)
            idx = slice(start, stop) if perm is None else perm[start:stop]
            batch = self.dataset.gather(idx) if fast else self._collate(idx)
            # the position advances before the yield: a checkpoint taken while the caller
            # holds this batch resumes after it
            self.epoch, self._cursor = epoch, i + 1
            self.samples_seen += stop - start
            yield batch
        self.epoch, self._cursor = self._next_epoch, 0

    def _start(self) -> tuple[int, int]:
        """The (epoch, first batch) of a new pass: the saved position once, else a new epoch."""
        if self._resume and self._cursor < len(self):
            epoch, cursor = self.epoch, self._cursor
        elif self._resume:
            epoch, cursor = self.epoch + 1, 0
        else:
            epoch, cursor = self._next_epoch, 0
        self._resume = False
        self._next_epoch = epoch + 1
        self.epoch, self._cursor = epoch, cursor
        return epoch, cursor

    def _collate(self, idx: np.ndarray | slice) -> Any:
        indices = range(idx.start, idx.stop) if isinstance(idx, slice) else idx.tolist()
        samples = [self.dataset[i] for i in indices]
        return (self.collate_fn or default_collate)(samples)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The loader's position: plain ints and bools (JSON-serialisable).

        Keys: ``epoch``, ``cursor`` (batches of that epoch already yielded), ``seed`` (the
        shuffle seed; None without shuffle), ``samples_seen``, and ``num_samples``,
        ``batch_size``, ``shuffle``, ``drop_last`` to check the loader it is loaded into.
        """
        return {
            "epoch": self.epoch,
            "cursor": self._cursor,
            "seed": self.seed,
            "samples_seen": self.samples_seen,
            "num_samples": self._n,
            "batch_size": self._b,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a position saved by :meth:`state_dict` (also the shuffle seed).

        Raises:
            ValueError: the saved loader had a different number of samples, batch size,
                shuffle or drop_last setting, or a key is missing.
        """
        missing = {"epoch", "cursor", "seed", "samples_seen"} - set(state_dict)
        if missing:
            raise ValueError(f"DataLoader.load_state_dict: missing keys {sorted(missing)}")
        for key, mine in (
            ("num_samples", self._n),
            ("batch_size", self._b),
            ("shuffle", self.shuffle),
            ("drop_last", self.drop_last),
        ):
            if key in state_dict and state_dict[key] != mine:
                raise ValueError(
                    f"DataLoader.load_state_dict: saved {key}={state_dict[key]!r} does not match "
                    f"this loader's {key}={mine!r}"
                )
        cursor = int(state_dict["cursor"])
        if not 0 <= cursor <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: cursor {cursor} not in [0, {len(self)}]")
        self.epoch = int(state_dict["epoch"])
        self._cursor = cursor
        self._next_epoch = self.epoch + 1
        self._resume = True
        self.samples_seen = int(state_dict["samples_seen"])
        seed = state_dict["seed"]
        self.seed = None if seed is None else int(seed)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {self._n}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, epoch={self.epoch})"
        )
