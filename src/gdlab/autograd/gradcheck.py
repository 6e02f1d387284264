"""Numerical gradients by central differences, and checks of analytic gradients against them.

The numerical gradient is the articles' "second way" of computing a gradient: slow, but it
needs nothing but the function, so it is the check of backpropagation.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gdlab.autograd.engine import grad
from gdlab.autograd.grad_mode import no_grad
from gdlab.random import get_generator

__all__ = ["GradcheckError", "gradcheck", "gradcheck_direction", "numerical_grad"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when an analytic gradient disagrees with the numerical one."""


def _tensor_cls() -> type:
    from gdlab.tensor import Tensor

    return Tensor


def _array_of(x: Any) -> Any:
    """A tensor's array; an ndarray as it is (``ndarray.data`` is its memory buffer)."""
    return x.data if isinstance(x, _tensor_cls()) else x


def _scalar_value(out: Any) -> np.ndarray:
    return np.asarray(_array_of(out), dtype=np.float64)


def numerical_grad(
    f: Callable[..., Any], *inputs: Any, eps: float = 1e-6
) -> tuple[np.ndarray, ...]:
    """d sum(f(*inputs) · v) / d input by central differences, for each input (v = 1).

    Each element is perturbed by ±eps in place; ``f`` must return a tensor or array.
    The function's output is summed, so for a non-scalar output this is the gradient of the
    sum (the vector-Jacobian product with ones).

    Example:
        >>> x = gdlab.tensor([1.0, 2.0], dtype="float64")
        >>> numerical_grad(lambda x: (x ** 2).sum(), x)[0]     # ≈ [2, 4]
    """
    grads = []
    for x in inputs:
        data = _array_of(x)
        if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
            raise TypeError(
                f"numerical_grad: inputs must be floating tensors or arrays, got {type(x).__name__}"
            )
        if not data.flags.writeable:
            raise ValueError("numerical_grad: inputs must be writeable (not read-only views)")
        g = np.zeros(data.shape, dtype=np.float64)
        # a multi-index, not a flat view: a transposed or sliced input has no flat view
        for i in np.ndindex(data.shape):
            orig = data[i]
            data[i] = orig + eps
            plus = _scalar_value(f(*inputs)).sum()
            data[i] = orig - eps
            minus = _scalar_value(f(*inputs)).sum()
            data[i] = orig
            g[i] = (plus - minus) / (2 * eps)
        grads.append(g)
    return tuple(grads)


def _analytic(f: Callable[..., Any], inputs: Sequence[Any]) -> list[np.ndarray | None]:
    Tensor = _tensor_cls()
    out = f(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: f must return a Tensor, got {type(out).__name__}")
    wanted = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if not out.requires_grad:
        return [np.zeros(x.shape) for x in wanted]
    gs = grad(out, wanted, grad_outputs=np.ones_like(out.data), allow_unused=True)
    return [np.zeros(x.shape) if g is None else g for x, g in zip(wanted, gs, strict=True)]


def gradcheck(
    f: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare backpropagated gradients of ``f`` with central differences, element by element.

    Checks every input tensor with ``requires_grad=True``; inputs should be float64 (a warning
    is issued otherwise, since float32 round-off swamps the differences). Returns True, or
    raises ``GradcheckError`` naming the input, the element, both values and the error.

    Args:
        f: function of the inputs returning a Tensor (non-scalar outputs are summed).
        inputs: a Tensor or a tuple of Tensors.
        eps: finite-difference step.
        atol, rtol: the check passes where |analytic − numeric| <= atol + rtol·|numeric|.
        raise_exception: return False instead of raising.

    Example:
        >>> x = gdlab.tensor(np.random.rand(3, 4), requires_grad=True)     # float64
        >>> gradcheck(lambda x: x.tanh().sum(), (x,))
        True
    """
    inputs, positions = _checked_inputs(inputs, "gradcheck")
    wanted = [inputs[p] for p in positions]
    analytic = _analytic(f, inputs)
    numeric = numerical_grad(_detached(f, inputs, positions), *wanted, eps=eps)
    for k, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
        bad = ~np.isclose(a, n, atol=atol, rtol=rtol, equal_nan=False)
        if bad.any():
            if not raise_exception:
                return False
            raise GradcheckError(_report(positions[k], a, n, bad))
    return True


def _checked_inputs(inputs: Any, name: str) -> tuple[tuple, list[int]]:
    """The inputs as a tuple and the positions of those requiring grad (at least one; a
    warning when one is not float64)."""
    Tensor = _tensor_cls()
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    positions = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not positions:
        raise ValueError(f"{name}: expected at least one input tensor with requires_grad=True")
    if any(inputs[p].dtype != np.float64 for p in positions):
        warnings.warn(
            f"{name}: inputs are not float64; finite differences in float32 are unreliable",
            UserWarning,
            stacklevel=3,
        )
    return inputs, positions


def _detached(f: Callable[..., Any], inputs: Sequence[Any], positions: list[int]) -> Callable:
    """f as a function of the checked inputs' arrays, evaluated without recording a graph."""
    Tensor = _tensor_cls()

    def g(*arrays: Any) -> Any:
        args = list(inputs)
        for p, arr in zip(positions, arrays, strict=True):
            args[p] = Tensor._wrap(_array_of(arr))
        with no_grad():
            return f(*args)

    return g


def _report(position: int, analytic: np.ndarray, numeric: np.ndarray, bad: np.ndarray) -> str:
    err = np.abs(analytic - numeric)
    worst = np.unravel_index(np.argmax(np.where(bad, err, -1)), analytic.shape)
    a, n = float(analytic[worst]), float(numeric[worst])
    rel = abs(a - n) / max(abs(n), 1e-12)
    return (
        f"Jacobian mismatch for input {position}: {int(bad.sum())} of {bad.size} elements differ; "
        f"worst at index {tuple(int(i) for i in worst)}: analytic {a:.8g} vs numeric {n:.8g} "
        f"(absolute error {abs(a - n):.3g}, relative error {rel:.3g})"
    )


def gradcheck_direction(
    f: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-7,
    generator: np.random.Generator | int | None = None,
    raise_exception: bool = True,
) -> bool:
    """A cheap check for large inputs: the directional derivative along a random direction v,
    ⟨∇f, v⟩ by backpropagation, against (f(x + εv) − f(x − εv)) / 2ε.

    Two evaluations of ``f`` whatever the input size (``gradcheck`` needs two per element),
    at the price of checking one random combination of the gradient's elements.

    Args:
        f: function of the inputs returning a Tensor (non-scalar outputs are summed).
        inputs: a Tensor or a tuple of Tensors; those with ``requires_grad`` are perturbed.
        eps: finite-difference step along v.
        rtol, atol: the check passes where |analytic − numeric| <= atol + rtol·|numeric|.
        generator: draws v (a Generator, an int seed; None: seed 0, so the check repeats).
        raise_exception: return False instead of raising.

    Example:
        >>> x = gdlab.tensor(np.random.rand(200, 300), requires_grad=True)     # float64
        >>> gradcheck_direction(lambda x: (x.tanh() ** 2).sum(), x)
        True
    """
    rng = get_generator(0 if generator is None else generator)
    inputs, positions = _checked_inputs(inputs, "gradcheck_direction")
    analytic = _analytic(f, inputs)
    directions = [rng.standard_normal(inputs[p].shape) for p in positions]
    predicted = sum(float(np.sum(a * v)) for a, v in zip(analytic, directions, strict=True))
    g = _detached(f, inputs, positions)

    def shifted(sign: float) -> float:
        pairs = zip(positions, directions, strict=True)
        arrays = [inputs[p].data + sign * eps * v for p, v in pairs]
        return float(_scalar_value(g(*arrays)).sum())

    measured = (shifted(1.0) - shifted(-1.0)) / (2 * eps)
    if np.isclose(predicted, measured, rtol=rtol, atol=atol):
        return True
    if not raise_exception:
        return False
    rel = abs(predicted - measured) / max(abs(measured), 1e-12)
    raise GradcheckError(
        f"directional derivative mismatch: analytic {predicted:.10g} vs numeric "
        f"{measured:.10g} (relative error {rel:.3g})"
    )
