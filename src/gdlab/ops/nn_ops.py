"""Neural-network primitives: fused linear, activations with kinks or special functions, the
fused cross-entropy, binary cross-entropy, embedding lookup and reflect / replicate / circular
padding.

Each is one table row (forward + one VJP per input), so the generic tests in tests/ops check
them against finite differences. Everything else in ``gdlab.nn.functional`` is composed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlab.autograd.scatter import scatter_add_rows
from gdlab.autograd.sparse import RowSparseGrad
from gdlab.ops import gelu_fast
from gdlab.ops.constants import CONSTANTS
from gdlab.ops.dispatch import apply
from gdlab.ops.erf import erf
from gdlab.ops.registry import defop
from gdlab.ops.shape import scatter_add
from gdlab.tensor import Tensor

__all__ = [
    "BINARY_CROSS_ENTROPY",
    "CROSS_ENTROPY",
    "CROSS_ENTROPY_INDEX",
    "ELU",
    "EMBEDDING",
    "ERF",
    "GELU",
    "HARDTANH",
    "LEAKY_RELU",
    "LINEAR",
    "MODE_PAD",
    "SOFT_CROSS_ENTROPY",
]


# ------------------------------------------------------------------------- linear
def _linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    if x.ndim > 2:  # one (rows, features) product: NumPy's stacked matmul is several times slower
        out = (_rows(x, w.shape[1]) @ w.T).reshape(*x.shape[:-1], w.shape[0])
    else:
        out = x @ w.T
    if b is not None:
        out += b  # in place: the product is a fresh array
    return out


def _rows(a: np.ndarray, n: int) -> np.ndarray:
    return a.reshape(-1, n)


def _linear_vjp_x(g, out, x, w, b=None):
    if g.ndim > 2:
        return (_rows(g, w.shape[0]) @ w).reshape(x.shape)
    return g @ w


def _linear_vjp_w(g, out, x, w, b=None):
    if g.ndim == 2:  # the common (N, features) batch: no reshapes
        return g.T @ x
    return _rows(g, w.shape[0]).T @ _rows(x, w.shape[1])


def _linear_vjp_b(g, out, x, w, b=None):
    rows = g if g.ndim == 2 else _rows(g, w.shape[0])
    if isinstance(rows, np.ndarray):  # a BLAS product: 2-5x faster than NumPy's column sums
        # (on a contiguous copy of a broadcast g, as a loss's sum gives: BLAS cannot take it)
        ones = np.empty(rows.shape[0], rows.dtype)
        ones.fill(1)  # not np.ones: its Python layer takes twice as long to make the vector
        return ones @ np.ascontiguousarray(rows)
    return rows.sum(axis=0)  # a Tensor (create_graph): recorded


LINEAR = defop("linear", _linear, _linear_vjp_x, _linear_vjp_w, _linear_vjp_b)


# ------------------------------------------------------------------------- activations
ERF = defop(
    "erf",
    erf,
    lambda g, out, x: g * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x),
)

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_TANH_CUBIC = 0.044715


@dataclass(eq=False)
class GeluSaved:
    """What GELU's forward keeps for its VJP (one per call, held by the graph node): Φ(x)
    (exact form) or tanh(inner) (tanh form), so the backward does not evaluate erf again.
    ``out`` identifies the forward result the values belong to."""

    out: np.ndarray | None = None
    factor: np.ndarray | None = None


def _gelu(x: np.ndarray, approximate: str = "none", saved: GeluSaved | None = None) -> np.ndarray:
    if x.ndim == 0:  # the in-place steps below need arrays, and 0-d arithmetic gives scalars
        return _gelu(x.reshape(1), approximate, saved).reshape(())
    one, half = x.dtype.type(1.0), x.dtype.type(0.5)
    fast = approximate == "none" and x.dtype == np.float32 and gelu_fast.kernels(x.size)
    if fast:
        out, factor = fast.gelu_forward(x)
        if saved is not None:
            saved.out, saved.factor = out, factor
        return out
    if approximate == "tanh":
        x2 = x * x  # x*x*x, not x**3: NumPy's float32 power is a slow path
        x2 *= x.dtype.type(_SQRT_2_OVER_PI * _TANH_CUBIC)
        x2 += x.dtype.type(_SQRT_2_OVER_PI)
        x2 *= x
        factor = np.tanh(x2, out=x2)  # tanh(√(2/π)·(x + 0.044715·x³))
        gate = factor + one
    else:
        factor = erf(x * x.dtype.type(1.0 / math.sqrt(2.0)))
        factor += one
        factor *= half  # Φ(x)
        gate = factor
    out = x * gate
    if approximate == "tanh":
        out *= half
    if saved is not None:
        saved.out, saved.factor = out, factor
    return out


def _gelu_derivative(x: Any, approximate: str = "none") -> Any:
    """GELU'(x) out of place, for arrays or Tensors (then recorded, so differentiable again):
    the formula the in-place and compiled paths of ``_gelu_vjp`` evaluate faster.

    exact: Φ(x) + x·φ(x),  φ(x) = e^(−x²/2)/√(2π)
    tanh:  ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715·x²),  t = tanh(√(2/π)(x + 0.044715·x³))
    """
    x2 = x * x
    if approximate == "tanh":
        t = np.tanh((x2 * _TANH_CUBIC + 1.0) * x * _SQRT_2_OVER_PI)
        slope = (x2 * (3 * _TANH_CUBIC) + 1.0) * (x * _SQRT_2_OVER_PI)
        return ((1.0 - t * t) * slope + t + 1.0) * 0.5
    cdf = (_erf_any(x * (1.0 / math.sqrt(2.0))) + 1.0) * 0.5
    return cdf + x * np.exp(x2 * -0.5) * (1.0 / math.sqrt(2.0 * math.pi))


def _erf_any(x: Any) -> Any:
    """erf of an array, or of a Tensor through the ERF row (NumPy has no erf ufunc to hand
    back to gdlab)."""
    return apply(ERF, x) if isinstance(x, Tensor) else erf(x)


def _gelu_vjp(g, out, x, approximate="none", saved=None):
    if isinstance(g, Tensor) or isinstance(x, Tensor):  # differentiated (create_graph=True)
        return g * _gelu_derivative(x, approximate)
    if x.ndim == 0:
        return _gelu_vjp(np.reshape(g, 1), out, x.reshape(1), approximate).reshape(())
    if saved is not None and saved.out is out:
        factor = saved.factor
    else:  # called without the forward's values (a second backward, the op table's tests)
        factor = None
    half = x.dtype.type(0.5)
    if approximate == "tanh":
        t = (
            factor
            if factor is not None
            else np.tanh(_SQRT_2_OVER_PI * (x + _TANH_CUBIC * (x * x * x))).astype(
                x.dtype, copy=False
            )
        )
        # d/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715·x²)
        d = x * x
        d *= x.dtype.type(3 * _TANH_CUBIC * _SQRT_2_OVER_PI)
        d += x.dtype.type(_SQRT_2_OVER_PI)
        d *= x
        d *= 1 - t * t
        d += t
        d += 1
        d *= half
        d *= g
        return d
    cdf = factor if factor is not None else half * (1 + erf(x * x.dtype.type(1 / math.sqrt(2))))
    fast = x.dtype == np.float32 and g.dtype == np.float32 and gelu_fast.kernels(x.size)
    if fast:
        return fast.gelu_backward(np.broadcast_to(g, x.shape), x, cdf)
    # d/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2) / √(2π)
    d = x * x
    d *= -half
    np.exp(d, out=d)
    d *= x.dtype.type(1.0 / math.sqrt(2.0 * math.pi))
    d *= x
    d += cdf
    d *= g
    return d


GELU = defop("gelu", _gelu, _gelu_vjp)
LEAKY_RELU = defop(
    "leaky_relu",
    lambda x, negative_slope=0.01: np.where(x > 0, x, x * negative_slope),
    lambda g, out, x, negative_slope=0.01: np.where(x > 0, g, g * negative_slope),
)


def _elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


ELU = defop(
    "elu",
    _elu,
    lambda g, out, x, alpha=1.0: np.where(x > 0, g, g * (out + alpha)),
)
HARDTANH = defop(
    "hardtanh",
    lambda x, min_val=-1.0, max_val=1.0: np.clip(x, min_val, max_val),
    # torch passes no gradient on the boundary itself (unlike clamp)
    lambda g, out, x, min_val=-1.0, max_val=1.0: g * ((x > min_val) & (x < max_val)),
)


# ------------------------------------------------------------------------- losses
def _log_softmax_rows(z: np.ndarray) -> np.ndarray:
    m = np.max(z, axis=1, keepdims=True)
    shifted = z - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def _cross_entropy(z: np.ndarray, q: np.ndarray, denom: float | None = None) -> np.ndarray:
    """Per-row -Σ_c q_c·log_softmax(z)_c, or its sum divided by ``denom`` when given."""
    losses = -np.einsum("ij,ij->i", q, _log_softmax_rows(z))
    if denom is None:
        return losses.astype(z.dtype, copy=False)
    if denom == 0:  # every target ignored (or no rows): torch's NaN mean, without a warning
        return np.asarray(np.nan, dtype=z.dtype)
    return np.asarray(losses.sum() / denom, dtype=z.dtype)


def _row_scale(g: np.ndarray, denom: float | None) -> np.ndarray | float:
    """The output gradient per row: g itself (no reduction) or g / denom (one scalar loss);
    a zero denominator gives zero gradients, as torch's NaN mean does."""
    if denom is None:
        return g[:, None]
    return g / denom if denom else 0.0 * g


def _cross_entropy_vjp(g, out, z, q, denom=None):
    """d/dz of -Σ q·log_softmax(z) is softmax(z)·Σq − q (per row)."""
    p = np.exp(_log_softmax_rows(z))
    grad = p * q.sum(axis=1, keepdims=True)
    grad -= q
    return grad * _row_scale(g, denom)


CROSS_ENTROPY = defop(
    "cross_entropy",
    _cross_entropy,
    _cross_entropy_vjp,
)


def _cross_entropy_vjp_q(g, out, z, q, denom=None):
    """d/dq of -Σ q·log_softmax(z) is -log_softmax(z): torch's probability targets are
    differentiable (distillation, learned soft labels)."""
    return -_log_softmax_rows(z) * _row_scale(g, denom)


# the same loss with the target as a second, differentiable input
SOFT_CROSS_ENTROPY = defop(
    "soft_cross_entropy",
    _cross_entropy,
    _cross_entropy_vjp,
    _cross_entropy_vjp_q,
)

# class indices, no weights, smoothing or ignored targets (the common case): the loss of row i
# is log Σ_c e^(z_ic − m_i) − (z_it − m_i), a gather instead of a one-hot product
_arange = CONSTANTS.arange  # read-only row indices, shared (ops.constants)


def _cross_entropy_index(
    z: np.ndarray, target: np.ndarray, denom: float | None = None, ws: dict | None = None
) -> np.ndarray:
    """Per-row −log_softmax(z)[i, t_i], or its sum divided by ``denom`` when given.

    ``ws`` (a dict the caller makes per call, kept in the graph node) receives z − max z and
    log Σ e^(z − max z), so the VJP gets softmax(z) with one subtraction and one exp instead
    of recomputing log_softmax. Every value is rounded as in CROSS_ENTROPY with a one-hot q
    (bit for bit: float32 training runs do not move).
    """
    # ndarray methods, not np.max / np.sum: their Python wrappers cost more than the work here
    shifted = z - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    losses = lse.reshape(-1) - shifted[_arange(z.shape[0]), target]
    out = losses if denom is None else np.asarray(losses.sum() / denom, dtype=z.dtype)
    if ws is not None:
        ws.update(out=out, shifted=shifted, lse=lse)
    return out


def _cross_entropy_index_vjp(g, out, z, target, denom=None, ws=None):
    """softmax(z) − onehot(t), per row times g (or g / denom)."""
    if ws is not None and ws.get("out") is out and "shifted" in ws:
        p = ws.pop("shifted")  # taken, not shared: a second backward recomputes
        p -= ws.pop("lse")
        np.exp(p, out=p)
    else:
        p = np.exp(_log_softmax_rows(z))
    if not isinstance(p, np.ndarray):  # a Tensor (create_graph): the one-hot row's rule
        onehot = np.zeros(z.shape, dtype=z.dtype)
        onehot[_arange(z.shape[0]), target] = 1
        return _cross_entropy_vjp(g, out, z, onehot, denom)
    p[_arange(p.shape[0]), target] -= 1
    p *= g[:, None] if denom is None else g / denom
    return p


CROSS_ENTROPY_INDEX = defop(
    "cross_entropy_index",
    _cross_entropy_index,
    _cross_entropy_index_vjp,
)

# torch's binary_cross_entropy_backward clamps the denominator here; its EPSILON is a C float
_BCE_EPS = float(np.float32(1e-12))


def _bce(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(x), -100.0)  # torch clamps the logs at -100
        log_1mx = np.maximum(np.log1p(-x), -100.0)
    return -(y * log_x + (1 - y) * log_1mx)


def _bce_vjp_x(g, out, x, y):
    return g * (x - y) / np.maximum((1 - x) * x, _BCE_EPS)


def _bce_vjp_y(g, out, x, y):
    # not clamped (torch's binary_cross_entropy_target_backward): ±inf at x = 0 or 1
    with np.errstate(divide="ignore"):
        return g * (np.log1p(-x) - np.log(x))


BINARY_CROSS_ENTROPY = defop("binary_cross_entropy", _bce, _bce_vjp_x, _bce_vjp_y)


# ------------------------------------------------------------------------- embedding
def _embedding_vjp(g, out, weight, indices, padding_idx=None, scale_grad_by_freq=False,
                   sparse=False):  # fmt: skip
    flat = indices.reshape(-1)
    if sparse:  # only the rows the batch touched (torch's sparse gradient), never the table
        return _embedding_sparse_vjp(g, indices, weight.shape, padding_idx, scale_grad_by_freq)
    if isinstance(g, np.ndarray):  # np.add.at's sums, bit for bit; g may be a broadcast view
        gw = scatter_add_rows(indices, g, weight.shape[0])
    else:  # a Tensor (create_graph): the index_scatter op, differentiable again
        gw = scatter_add(g.reshape(-1, weight.shape[1]), flat, weight.shape)
    if scale_grad_by_freq:  # torch's option: each row's gradient divided by its count
        counts = np.bincount(flat, minlength=weight.shape[0])
        gw = gw / np.maximum(counts, 1).astype(gw.dtype)[:, None]
    if padding_idx is not None:  # the padding row never learns (torch)
        if isinstance(gw, np.ndarray):
            gw[padding_idx] = 0
        else:  # a Tensor (create_graph): out of place
            keep = np.ones((weight.shape[0], 1), dtype=gw.dtype)
            keep[padding_idx] = 0
            gw = gw * keep
    return gw


def _embedding_sparse_vjp(g, indices, shape, padding_idx, scale_grad_by_freq):
    """The dense VJP's rows, summed per index in the same order: equal once densified. As
    torch's sparse backward, the padding row is left out rather than zeroed."""
    if padding_idx is not None:
        keep = indices != padding_idx
        indices, g = indices[keep], g[keep]
    grad = RowSparseGrad.from_rows(indices, g, shape)
    if scale_grad_by_freq:
        counts = np.bincount(indices.reshape(-1), minlength=shape[0])[grad.indices]
        grad.values /= counts.astype(g.dtype)[:, None]
    return grad


def _embedding(weight, indices, padding_idx=None, scale_grad_by_freq=False, sparse=False):
    # weight[indices], faster; the options only shape the gradient
    return np.take(weight, indices, axis=0)


EMBEDDING = defop("embedding", _embedding, _embedding_vjp)


# ------------------------------------------------------------------------- padding modes
# torch's names -> NumPy's: reflect excludes the edge value, replicate repeats it, circular wraps
NUMPY_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _mode_pad(x: np.ndarray, widths: tuple, mode: str) -> np.ndarray:
    return np.pad(x, widths, mode=NUMPY_PAD_MODES[mode])


def _mode_pad_vjp(g, out, x, widths, mode):
    """Each padded position copies one source position: add its gradient back there, one
    padded axis at a time (the source index of every position is ``np.pad`` of an arange)."""
    for axis, (a, b) in enumerate(widths):
        if not (a or b):
            continue
        n = x.shape[axis]
        src = np.pad(np.arange(n), (a, b), mode=NUMPY_PAD_MODES[mode])
        if not isinstance(g, np.ndarray):  # a Tensor (create_graph): the same sums, as an op
            shape = (*g.shape[:axis], n, *g.shape[axis + 1 :])
            g = scatter_add(g, (slice(None),) * axis + (src,), shape)
            continue
        moved = np.moveaxis(g, axis, 0)
        acc = moved[a : a + n].copy()
        np.add.at(acc, src[:a], moved[:a])
        np.add.at(acc, src[a + n :], moved[a + n :])
        g = np.moveaxis(acc, 0, axis)
    return g


MODE_PAD = defop("mode_pad", _mode_pad, _mode_pad_vjp)
