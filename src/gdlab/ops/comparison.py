"""Closeness tests with torch's names and defaults: ``isclose``, ``allclose``, ``equal``.

|input − other| ≤ atol + rtol·|other|, with torch's defaults rtol=1e-5, atol=1e-8 (NumPy's
``allclose`` has the same formula and defaults). Comparisons carry no gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.tensor import Tensor

__all__ = ["allclose", "equal", "isclose"]


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


def isclose(
    input: Any,  # noqa: A002 - torch's argument name
    other: Any,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> Tensor:
    """Elementwise |input − other| ≤ atol + rtol·|other| as a bool tensor (torch.isclose)."""
    if rtol < 0 or atol < 0:
        raise ValueError(
            f"isclose: rtol and atol must be non-negative, got rtol={rtol}, atol={atol}"
        )
    a, b = _array(input), _array(other)
    try:
        out = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    except ValueError:
        raise ValueError(f"isclose: shapes {a.shape} and {b.shape} cannot be broadcast") from None
    return Tensor._wrap(np.asarray(out))


def allclose(
    input: Any,  # noqa: A002
    other: Any,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> bool:
    """Whether every element is close (torch.allclose): a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


def equal(input: Any, other: Any) -> bool:  # noqa: A002
    """Same shape and the same values (torch.equal): a Python bool."""
    a, b = _array(input), _array(other)
    return a.shape == b.shape and bool(np.array_equal(a, b))
