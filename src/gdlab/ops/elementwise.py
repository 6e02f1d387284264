"""Elementwise primitives: forward and VJP side by side, one row each.

Binary VJPs are written as if both inputs had the output's shape; the engine unbroadcasts.
Numerically delicate functions (sigmoid, softplus) use stable formulas.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab._compiled import CompiledKernels
from gdlab.dtypes import get_default_dtype, is_floating
from gdlab.ops.constants import CONSTANTS
from gdlab.ops.dispatch import apply, as_floating, binary, promote, unary
from gdlab.ops.registry import Op, defop, passthrough
from gdlab.tensor import Tensor

__all__ = [
    "abs",
    "add",
    "clamp",
    "cos",
    "cosh",
    "div",
    "exp",
    "log",
    "maximum",
    "minimum",
    "mul",
    "neg",
    "pow",
    "relu",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "square",
    "sub",
    "tanh",
    "to_dtype",
    "where",
]


# torch's type promotion lives with apply (dispatch), where the binary fast path needs it.
_operands = promote
_floating = as_floating
# 0-d arrays per dtype: NumPy is faster with them than with Python scalars (ops.constants)
_ZERO, _ONE, _TWO = CONSTANTS.zero, CONSTANTS.one, CONSTANTS.two


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: e^-|x| is at most 1."""
    e = np.exp(-np.abs(x))
    r = 1.0 / (1.0 + e)
    return np.where(x >= 0, r, e * r)


def _unary(op: Op, doc: str, *, floating: bool = False) -> Callable[[Tensor], Tensor]:
    """The public function of a one-input op (``exp(x)``): ``dispatch.unary`` of ``op``, named
    after it. With ``floating``, integer inputs first become the default float dtype (torch's
    exp and sin do; abs, sign and relu keep the dtype)."""
    function = unary(op, floating)
    function.__doc__ = doc
    return function


# ------------------------------------------------------------------------- arithmetic
ADD = defop("add", np.add, passthrough, passthrough)
SUB = defop("sub", np.subtract, passthrough, lambda g, out, a, b: -g)
MUL = defop("mul", np.multiply, lambda g, out, a, b: g * b, lambda g, out, a, b: g * a)
DIV = defop(
    "div",
    np.true_divide,
    lambda g, out, a, b: g / b,
    lambda g, out, a, b: -g * out / b,
)
NEG = defop("neg", np.negative, lambda g, out, x: -g)


def _pow_base_vjp(g: np.ndarray, out: np.ndarray, x: np.ndarray, p: Any) -> np.ndarray:
    if np.ndim(p) == 0:
        if p == 0:
            return np.zeros_like(g * x)  # torch: 0, even at x = 0 where p·x^(p-1) is 0·inf
        if p == 2:
            return g * 2 * x
    with np.errstate(divide="ignore", invalid="ignore"):
        gx = g * p * np.power(x, p - 1)
    return np.where(p == 0, 0, gx) if np.ndim(p) else gx


def _pow_exponent_vjp(g: np.ndarray, out: np.ndarray, x: Any, p: np.ndarray) -> np.ndarray:
    # torch: the exponent's gradient is 0 where the base is 0 and the exponent non-negative
    with np.errstate(divide="ignore", invalid="ignore"):
        gp = g * out * np.log(x)
    return np.where((x == 0) & (p >= 0), 0, gp)


POW = defop("pow", np.power, _pow_base_vjp, _pow_exponent_vjp)
_add, _sub, _mul, _div, _pow = (binary(op) for op in (ADD, SUB, MUL, DIV, POW))


def add(a: Any, b: Any, alpha: float = 1) -> Tensor:
    """a + alpha·b, broadcasting as NumPy (and torch) do."""
    return _add(a, b if alpha == 1 else mul(b, alpha))


def sub(a: Any, b: Any, alpha: float = 1) -> Tensor:
    """a − alpha·b, broadcasting as NumPy (and torch) do."""
    return _sub(a, b if alpha == 1 else mul(b, alpha))


def mul(a: Any, b: Any) -> Tensor:
    """a · b elementwise; d/da = b, d/db = a."""
    return _mul(a, b)


def div(a: Any, b: Any) -> Tensor:
    """a / b elementwise (true division: integers give the default float); d/db = −a/b²."""
    if _kind(a) != "f" and _kind(b) != "f":  # true division of integers: default float
        a, b = _default_float_operand(a), _default_float_operand(b)
    return _div(a, b)


def _default_float_operand(x: Any) -> Any:
    if isinstance(x, int):  # Python ints and bools
        return float(x)
    return as_floating(x if isinstance(x, Tensor) else Tensor(x))


neg = _unary(NEG, "−x.")


def pow(x: Any, exponent: Any) -> Tensor:  # noqa: A001 - torch's name
    """x ** exponent; the exponent may be a number or a tensor."""
    return _pow(x, exponent)


# ------------------------------------------------------------------------- unary functions
EXP = defop("exp", np.exp, lambda g, out, x: g * out)
LOG = defop("log", np.log, lambda g, out, x: g / x)
SQRT = defop("sqrt", np.sqrt, lambda g, out, x: g / (_TWO[out.dtype] * out))
ABS = defop("abs", np.abs, lambda g, out, x: g * np.sign(x))
SIN = defop("sin", np.sin, lambda g, out, x: g * np.cos(x))
COS = defop("cos", np.cos, lambda g, out, x: -g * np.sin(x))
TANH = defop("tanh", np.tanh, lambda g, out, x: g * (_ONE[out.dtype] - out * out))
SINH = defop("sinh", np.sinh, lambda g, out, x: g * np.cosh(x))
COSH = defop("cosh", np.cosh, lambda g, out, x: g * np.sinh(x))
SQUARE = defop("square", np.square, lambda g, out, x: g * (_TWO[out.dtype] * x))
# piecewise constant: the gradient is 0, as torch's
SIGN = defop("sign", np.sign, lambda g, out, x: np.zeros_like(g))
SIGMOID = defop("sigmoid", stable_sigmoid, lambda g, out, x: g * out * (_ONE[out.dtype] - out))
RELU_MIN_SIZE = 1 << 16  # elements; smaller arrays take NumPy
_RELU_KERNELS = CompiledKernels("gdlab.ops._relu_kernels")


def _relu_vjp(g, out, x):
    """g·(out > 0): one compiled pass over large float arrays (ops/_relu_kernels.py, the
    same numbers) once numba is loaded (by pooling's, BatchNorm's or the optimizers' kernels:
    ReLU alone saves too little to pay numba's import), else NumPy's two and a mask."""
    fast = (
        type(g) is np.ndarray
        and g.dtype == out.dtype
        and g.dtype.char in "fd"
        and g.size >= RELU_MIN_SIZE
        and g.flags.c_contiguous
        and out.flags.c_contiguous
        and _RELU_KERNELS.get(only_if_numba_loaded=True)
    )
    if fast:
        return fast.relu_backward(g, out)
    return g * (out > _ZERO[out.dtype])


RELU = defop("relu", lambda x: np.maximum(x, _ZERO[x.dtype]), _relu_vjp)

# their public functions (gdlab.exp, and Tensor.exp through ops.methods), one row each
exp = _unary(EXP, "e^x; its derivative is e^x itself (the VJP reuses the output).", floating=True)
log = _unary(LOG, "Natural logarithm; d/dx = 1/x.", floating=True)
sqrt = _unary(SQRT, "√x; d/dx = 1/(2√x).", floating=True)
abs = _unary(ABS, "|x|; the gradient is sign(x) (0 at 0, as torch).")  # noqa: A001 - torch's name
sin = _unary(SIN, "sin x; d/dx = cos x.", floating=True)
cos = _unary(COS, "cos x; d/dx = −sin x.", floating=True)
tanh = _unary(TANH, "tanh x; d/dx = 1 − tanh² x (the VJP reuses the output).", floating=True)
sinh = _unary(SINH, "sinh x; d/dx = cosh x.", floating=True)
cosh = _unary(COSH, "cosh x; d/dx = sinh x.", floating=True)
square = _unary(
    SQUARE, "x²; d/dx = 2x (one primitive, as torch.square, rather than x·x's two paths)."
)
sign = _unary(
    SIGN, "−1, 0 or 1 by the sign of x (dtype kept); its gradient is 0 everywhere (torch)."
)
sigmoid = _unary(SIGMOID, "1 / (1 + e^-x), computed without overflow for any x.", floating=True)
relu = _unary(RELU, "max(x, 0); the gradient is 1 where x > 0 and 0 elsewhere (0 at 0, as torch).")


def _softplus(x: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    bx = x * beta
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)


def _softplus_vjp(g, out, x, beta=1.0, threshold=20.0):
    bx = x * beta
    # under create_graph the sigmoid row itself: stable_sigmoid's e^-|x| would take abs's
    # subgradient 0 at x = 0 and lose σ'(0) = 1/4 from softplus's second derivative
    sig = stable_sigmoid(bx) if isinstance(bx, np.ndarray) else sigmoid(bx)
    return np.where(bx > threshold, g, g * sig)


SOFTPLUS = defop(
    "softplus",
    _softplus,
    _softplus_vjp,
)


def _clamp_vjp(g, out, x, min=None, max=None):  # noqa: A002
    keep = np.ones(x.shape, dtype=bool)
    if min is not None:
        keep = keep & (x >= min)
    if max is not None:
        keep = keep & (x <= max)
    return g * keep  # torch passes the gradient on the boundary itself


CLAMP = defop(
    "clamp",
    lambda x, min=None, max=None: np.clip(x, min, max),  # noqa: A006
    _clamp_vjp,
)


def _pick_vjp(first: bool, larger: bool):
    """maximum/minimum: the gradient goes to the winner; ties split it in half, as torch."""

    def vjp(g, out, a, b):
        mine, other = (a, b) if first else (b, a)
        wins = mine > other if larger else mine < other
        return np.where(wins, g, np.where(mine == other, g / 2, 0))

    return vjp


MAXIMUM = defop("maximum", np.maximum, _pick_vjp(True, True), _pick_vjp(False, True))
MINIMUM = defop("minimum", np.minimum, _pick_vjp(True, False), _pick_vjp(False, False))
_maximum, _minimum = binary(MAXIMUM), binary(MINIMUM)
WHERE = defop(
    "where",
    lambda a, b, condition: np.where(condition, a, b),
    lambda g, out, a, b, condition: np.where(condition, g, 0),
    lambda g, out, a, b, condition: np.where(condition, 0, g),
)
CAST = defop(
    "to",
    lambda x, dtype: x.astype(dtype),
    lambda g, out, x, dtype: np.astype(g, x.dtype),  # a function: it runs on Tensors too
)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta·x)) / beta, linear above ``threshold`` (torch's formula)."""
    return apply(SOFTPLUS, _floating(x), beta=beta, threshold=threshold)


def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Limit values to [min, max]; the gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    return apply(CLAMP, x, min=min, max=max)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max(a, b); the winner gets the gradient, ties split it in half (torch)."""
    return _maximum(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min(a, b); the winner gets the gradient, ties split it in half (torch)."""
    return _minimum(a, b)


def where(condition: Any, input: Any, other: Any) -> Tensor:  # noqa: A002 - torch's name
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    return apply(WHERE, *_operands(input, other), condition=cond)


def to_dtype(x: Tensor, dtype: np.dtype) -> Tensor:
    """Cast; a gradient flows between floating dtypes only (integer tensors have none)."""
    if x.data.dtype == dtype:
        return x
    if not is_floating(dtype):
        return Tensor._wrap(x.data.astype(dtype))
    return apply(CAST, x, dtype=dtype)


def _kind(x: Any) -> str:
    if isinstance(x, float):
        return "f"
    return (x.data if isinstance(x, Tensor) else np.asarray(x)).dtype.kind


def default_float(x: np.ndarray) -> np.ndarray:
    """Integer and bool arrays as the default float dtype (for ops that need floats)."""
    return x if is_floating(x.dtype) else x.astype(get_default_dtype())


_ = builtins  # builtins stays importable for modules that shadow abs/pow/min/max
