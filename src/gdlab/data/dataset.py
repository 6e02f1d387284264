"""Data sets: the map-style protocol and a data set of aligned arrays (``torch.utils.data``)."""

from __future__ import annotations

import warnings
from typing import Any, Protocol, runtime_checkable

import numpy as np

from gdlab.data.validation import as_numpy, check_consistent_length, first_nonfinite
from gdlab.tensor import Tensor, as_array

__all__ = ["Dataset", "NonFiniteDataWarning", "TensorDataset"]


class NonFiniteDataWarning(RuntimeWarning):
    """A data set holds NaN or infinite values."""


@runtime_checkable
class Dataset(Protocol):
    """A map-style data set: anything with ``__len__`` and ``__getitem__(int)``.

    Subclass it (as ``torch.utils.data.Dataset``) or just provide the two methods; the
    :class:`~gdlab.data.DataLoader` fetches ``dataset[i]`` for each index of a batch and
    collates the samples. Array-backed data sets (:class:`TensorDataset`) take a faster path:
    one gather per array per batch.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return np.float64(i), np.float64(i * i)
        >>> len(Squares())
        4
    """

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


class TensorDataset:
    """Aligned arrays (features, targets, ...) indexed together along their first dimension.

    ``dataset[i]`` is the tuple ``(a[i], b[i], ...)`` of gdlab Tensors. The arrays are kept as
    given (no copy of NumPy arrays or Tensors, dtype preserved: float32 stays float32);
    lists are converted with gdlab's rules (Python floats -> float32, ints -> int64).

    Args:
        *tensors: gdlab Tensors, NumPy arrays or nested lists, all with the same first
            dimension.

    Raises:
        ValueError: ``Found input variables with inconsistent numbers of samples: [100, 99]``
            (scikit-learn's message), or an array without a first dimension.

    Warns:
        NonFiniteDataWarning: a floating array holds NaN or inf (the message names the tensor,
            row and column of the first one). Not an error, so that NaN can be injected on
            purpose; file loaders (``datasets.from_csv``) refuse such data outright.

    Example:
        >>> ds = TensorDataset(np.zeros((100, 8), np.float32), np.zeros((100, 1), np.float32))
        >>> len(ds), ds[0][0].shape
        (100, (8,))
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: at least one tensor or array is required")
        arrays = tuple(self._as_array(t, i) for i, t in enumerate(tensors))
        check_consistent_length(*arrays)
        self.arrays = arrays
        for i, arr in enumerate(arrays):
            bad = first_nonfinite(arr)
            if bad is not None:  # a warning, not an error: NaN injection is a legitimate test
                warnings.warn(
                    f"TensorDataset: tensors[{i}] contains {bad.value} at {bad.where()}; "
                    "training on it stops with a DivergenceError at the step that uses this "
                    "sample (clean the data first)",
                    NonFiniteDataWarning,
                    stacklevel=2,
                )

    @staticmethod
    def _as_array(t: Any, i: int) -> np.ndarray:
        if isinstance(t, Tensor):
            arr = t.data
        elif isinstance(t, np.ndarray):
            arr = t
        else:
            arr = as_array(as_numpy(t, f"tensors[{i}]", "TensorDataset"), copy=False)
        if arr.ndim == 0:
            raise ValueError(
                f"TensorDataset: tensors[{i}] is a 0-d array (a scalar); every tensor needs a "
                "first (sample) dimension"
            )
        return arr

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The arrays as gdlab Tensors sharing memory (``torch``'s attribute name)."""
        return tuple(Tensor._wrap(a) for a in self.arrays)

    def __len__(self) -> int:
        return int(self.arrays[0].shape[0])

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(Tensor._wrap(np.asarray(a[index])) for a in self.arrays)

    def gather(self, indices: np.ndarray | slice) -> tuple[Tensor, ...]:
        """The batch ``(a[indices], b[indices], ...)``: one fancy-index (or slice view) per array.

        This is the loader's fast path: no per-sample Python work, dtype preserved. Slices give
        read-only views of the data set (no copy); index arrays give fresh arrays.
        """
        out = []
        for a in self.arrays:
            batch = a[indices]
            if isinstance(indices, slice):
                batch = batch.view()
                batch.flags.writeable = False  # a view: in-place edits would corrupt the data set
            out.append(Tensor._wrap(batch))
        return tuple(out)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"TensorDataset({shapes})"
