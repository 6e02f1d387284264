"""Loss functions (torch.nn.functional signatures), composed from primitives.

``reduction`` is 'mean' | 'sum' | 'none'. Unlike torch, element-wise losses refuse inputs and
targets of different shapes (torch broadcasts (64,) against (64, 1) with only a warning,
silently giving a 64×64 loss). A user's own loss is any function of tensors: whatever it
computes with gdlab operations is differentiated automatically, e.g.
``def my_loss(pred, y): return ((pred - y).abs() ** 3).mean()``.

This module holds the class losses (cross_entropy with its class-index fast path, nll_loss)
and re-exports the element-wise ones from :mod:`gdlab.nn._pointwise_loss`; the shared
``reduction`` helpers live in :mod:`gdlab.nn._loss_common`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# REDUCTIONS, _check_reduction and _legacy stay importable from here (gdlab.nn.loss uses them)
from gdlab.nn._loss_common import REDUCTIONS, _check_reduction, _legacy, _raw
from gdlab.nn._pointwise_loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
)
from gdlab.ops import nn_ops
from gdlab.ops import reduce as R
from gdlab.ops.dispatch import apply
from gdlab.ops.shape import permute, reshape
from gdlab.tensor import Tensor

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]


# ------------------------------------------------------------------------- class losses
def _rows(input: Tensor) -> Tensor:  # noqa: A002
    """(N, C, d1, ...) -> (N·d1·..., C) with the class dimension last."""
    if input.ndim <= 2:
        return reshape(input, (1, -1)) if input.ndim == 1 else input
    dims = (0, *range(2, input.ndim), 1)
    return reshape(permute(input, dims), (-1, input.shape[1]))


def _index_target(input: Tensor, t: np.ndarray, name: str) -> np.ndarray:  # noqa: A002
    expected = () if input.ndim == 1 else (input.shape[0], *input.shape[2:])
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: expected target of class indices with an integer dtype (shape {expected}) "
            f"or class probabilities of the input's shape {tuple(input.shape)}; got target of "
            f"dtype {t.dtype} and shape {t.shape}"
        )
    if t.shape != expected:
        raise ValueError(
            f"{name}: for input of shape {tuple(input.shape)} (classes in dimension "
            f"{0 if input.ndim == 1 else 1}), expected target of shape {expected}, got {t.shape}"
        )
    return t.reshape(-1)


def _weights(weight: Any, c: int, dtype: np.dtype, name: str) -> np.ndarray | None:
    if weight is None:
        return None
    w = np.asarray(_raw(weight), dtype=dtype)
    if w.shape != (c,):
        raise ValueError(f"{name}: weight of shape {w.shape} should have {c} elements (classes)")
    return w


def _index_coefficients(t, c, w, ignore_index, smoothing, dtype, name):
    """q (M, C) with loss_i = −Σ_c q_ic·log p_ic, and the 'mean' denominator Σ w[t_i]."""
    if w is None and not smoothing and not (t == ignore_index).any():
        # the common case: one-hot rows, 'mean' over all M rows
        if t.size and (t.min() < 0 or t.max() >= c):
            bad = t.max() if t.max() >= c else t.min()
            raise IndexError(f"{name}: Target {bad} is out of bounds (classes are 0..{c - 1}).")
        q = np.zeros((t.size, c), dtype=dtype)
        q[np.arange(t.size), t] = 1
        return q, float(t.size)
    valid = t != ignore_index
    tv = t[valid]
    if tv.size and (tv.min() < 0 or tv.max() >= c):
        bad = tv.max() if tv.max() >= c else tv.min()
        raise IndexError(f"{name}: Target {bad} is out of bounds (classes are 0..{c - 1}).")
    rows = np.flatnonzero(valid)
    wt = np.ones(tv.shape, dtype=dtype) if w is None else w[tv]
    q = np.zeros((t.size, c), dtype=dtype)
    q[rows, tv] = (1.0 - smoothing) * wt
    if smoothing:
        q[rows] += (smoothing / c) * (np.ones(c, dtype=dtype) if w is None else w)
    return q, float(wt.sum())


def cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: Any = None,  # noqa: A002
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """−Σ_c q_c·log_softmax(x)_c, with q the one-hot class (or the class probabilities),
    smoothed as (1 − ε)·q + ε/C and weighted per class; one fused, stable primitive.

    'mean' divides by the summed weights of the non-ignored targets (class indices) or by
    the number of samples (probabilities), as torch. Gradients flow to ``input`` and to a
    probability target that requires grad (−(1 − ε)·w·log_softmax(x) per row, as torch).

    Args:
        input: logits (N, C), (N, C, d1, ...) or unbatched (C,).
        target: int class indices (N, d1, ...) in [0, C), or float probabilities shaped like
            ``input``.
        weight: per-class weights (C,).
        ignore_index: targets equal to it contribute nothing (class indices only).
        reduction: 'mean' | 'sum' | 'none'.
        label_smoothing: ε in [0, 1].

    Example:
        >>> logits = gdlab.tensor([[2.0, 0.5, -1.0]])
        >>> round(cross_entropy(logits, np.array([0])).item(), 4)
        0.2413

    Reference: Szegedy et al. (2016), label smoothing, https://arxiv.org/abs/1512.00567
    """
    if weight is None and not label_smoothing and size_average is None and reduce is None:
        fast = _fast_index_target(input, target, ignore_index)
        if fast is not None and reduction in REDUCTIONS:
            return _index_cross_entropy(input, fast, reduction, input)
    name = "cross_entropy"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, name)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor")
    c = input.shape[0 if input.ndim == 1 else 1]
    t = np.asarray(_raw(target))
    w = _weights(weight, c, input.dtype, name)
    z = _rows(input)
    if isinstance(target, Tensor) and target.requires_grad and t.shape == tuple(input.shape):
        return _soft_cross_entropy(z, target, w, c, reduction, label_smoothing, input)
    if t.dtype.kind == "f" and t.shape == tuple(input.shape):
        q = _rows(Tensor._wrap(t.astype(input.dtype, copy=False))).data
        q = q * (1.0 - label_smoothing) + label_smoothing / c if label_smoothing else q
        q = q * w if w is not None else q
        denom = float(z.shape[0])
    else:
        flat = _index_target(input, t, name)
        fast = w is None and not label_smoothing and input.data.dtype.kind == "f"
        if fast and _plain_indices(flat, c, ignore_index):
            return _index_cross_entropy(z, flat, reduction, input)
        q, denom = _index_coefficients(flat, c, w, ignore_index, label_smoothing, input.dtype, name)
    if reduction == "none":
        loss = apply(nn_ops.CROSS_ENTROPY, z, q=q)
        return reshape(loss, () if input.ndim == 1 else (input.shape[0], *input.shape[2:]))
    return apply(nn_ops.CROSS_ENTROPY, z, q=q, denom=denom if reduction == "mean" else 1.0)


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _plain_indices(flat: np.ndarray, c: int, ignore_index: int) -> bool:
    """Whether every target is a class in [0, c) and none is ``ignore_index``: one reduction
    (negative indices viewed as unsigned are huge), plus a second only if ``ignore_index``
    is itself a class. Otherwise the general path validates and reports."""
    if not flat.size or flat.view(_UNSIGNED[flat.itemsize]).max() >= c:
        return False
    return not (0 <= ignore_index < c and (flat == ignore_index).any())


def _fast_index_target(input: Tensor, target: Any, ignore_index: int) -> np.ndarray | None:  # noqa: A002
    """The class indices of the common case, (N, C) float logits and (N,) valid integer
    targets, else None (the general path then validates, reshapes and reports)."""
    t = target.data if isinstance(target, Tensor) else target
    x = input.data
    if (
        type(t) is np.ndarray
        and t.ndim == 1
        and x.ndim == 2
        and t.dtype.kind in "iu"
        and x.dtype.kind == "f"
        and t.shape[0] == x.shape[0]
        and _plain_indices(t, x.shape[1], ignore_index)
    ):
        return t
    return None


def _index_cross_entropy(z: Tensor, flat: np.ndarray, reduction: str, input: Tensor) -> Tensor:  # noqa: A002
    """Class indices without weights, smoothing or ignored targets: gather −log p[i, t_i]
    (no one-hot matrix); the VJP reuses the forward's softmax through ``ws``."""
    if reduction == "none":
        loss = apply(nn_ops.CROSS_ENTROPY_INDEX, z, target=flat, ws={})
        return reshape(loss, () if input.ndim == 1 else (input.shape[0], *input.shape[2:]))
    denom = float(flat.size) if reduction == "mean" else 1.0
    return apply(nn_ops.CROSS_ENTROPY_INDEX, z, target=flat, denom=denom, ws={})


def _soft_cross_entropy(z, target, w, c, reduction, label_smoothing, input):  # noqa: A002
    """Probability targets that require grad: the target is the op's second input."""
    q = _rows(target)
    if label_smoothing:
        q = q * (1.0 - label_smoothing) + label_smoothing / c
    if w is not None:
        q = q * Tensor._wrap(w)
    if reduction == "none":
        loss = apply(nn_ops.SOFT_CROSS_ENTROPY, z, q)
        return reshape(loss, () if input.ndim == 1 else (input.shape[0], *input.shape[2:]))
    denom = float(z.shape[0]) if reduction == "mean" else 1.0
    return apply(nn_ops.SOFT_CROSS_ENTROPY, z, q, denom=denom)


def nll_loss(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: Any = None,  # noqa: A002
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """−w[y]·x[y] for log-probabilities x (after log_softmax); 'mean' divides by Σ w[y]."""
    name = "nll_loss"
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, name)
    c = input.shape[0 if input.ndim == 1 else 1]
    flat = _index_target(input, np.asarray(_raw(target)), name)
    w = _weights(weight, c, input.dtype, name)
    q, denom = _index_coefficients(flat, c, w, ignore_index, 0.0, input.dtype, name)
    loss = -R.sum(_rows(input) * q, 1)
    if reduction == "none":
        return reshape(loss, () if input.ndim == 1 else (input.shape[0], *input.shape[2:]))
    total = R.sum(loss)
    if reduction == "mean" and denom == 0:  # every target ignored: torch's NaN, zero grads
        return total * 0.0 + float("nan")
    return total / denom if reduction == "mean" else total
