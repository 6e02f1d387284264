"""Loss functions (torch.nn.functional signatures), composed from primitives.

``reduction`` is 'mean' | 'sum' | 'none'. Unlike torch, element-wise losses refuse inputs and
targets of different shapes (torch broadcasts (64,) against (64, 1) with only a warning,
silently giving a 64×64 loss). A user's own loss is any function of tensors: whatever it
computes with gdlab operations is differentiated automatically, e.g.
``def my_loss(pred, y): return ((pred - y).abs() ** 3).mean()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.ops import elementwise as E
from gdlab.ops import nn_ops
from gdlab.ops import reduce as R
from gdlab.ops.registry import apply
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

REDUCTIONS = ("mean", "sum", "none")


def _legacy(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """torch's deprecated size_average/reduce arguments, mapped to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _check_reduction(reduction: str, name: str, valid: tuple = REDUCTIONS) -> None:
    if reduction not in valid:
        choices = " | ".join(f"'{r}'" for r in valid)
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction; use {choices}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return R.mean(loss)
    if reduction == "sum":
        return R.sum(loss)
    return loss


def _target(target: Any, like: Tensor) -> Any:
    if isinstance(target, Tensor):
        return target
    return np.asarray(target, dtype=like.dtype)


def _same_shape(input: Tensor, target: Any, name: str) -> None:  # noqa: A002
    if tuple(input.shape) != tuple(np.shape(_raw(target))):
        raise ValueError(
            f"{name}: input of shape {tuple(input.shape)} and target of shape "
            f"{tuple(np.shape(_raw(target)))} differ; they must match "
            "(no silent broadcasting: reshape one of them, e.g. target.reshape(input.shape))"
        )


def _pointwise(name: str, input: Tensor, target: Any, reduction: str) -> Any:  # noqa: A002
    _check_reduction(reduction, name)
    target = _target(target, input)
    _same_shape(input, target, name)
    return target


def _weighted(
    loss: Tensor, weight: Any, reduction: str, name: str, input: Tensor, by_weights: bool = True
) -> Tensor:
    """torch's elementwise ``weight``: w·loss, and 'mean' = Σ w·loss / Σ w (``by_weights``,
    mse and l1) or the plain mean of w·loss (huber)."""
    w = _target(weight, input)
    if tuple(np.shape(_raw(w))) != tuple(input.shape):
        raise ValueError(
            f"{name}: Weights and input must have the same size, got weight of shape "
            f"{tuple(np.shape(_raw(w)))} and input of shape {tuple(input.shape)}"
        )
    loss = loss * w
    if reduction == "mean" and by_weights:
        return R.sum(loss) / (R.sum(w) if isinstance(w, Tensor) else float(np.sum(w)))
    return _reduce(loss, reduction)


def mse_loss(
    input: Tensor,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,  # noqa: A002
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Mean squared error: mean((x − y)²) (the articles' squared error).

    Args:
        input, target: tensors (or arrays) of the same shape; different shapes raise
            ValueError instead of broadcasting.
        reduction: 'mean' | 'sum' | 'none'.
        weight: optional per-element weights w of the input's shape (torch 2.13):
            'mean' becomes Σ w·(x − y)² / Σ w.

    Example:
        >>> mse_loss(gdlab.tensor([1.0, 2.0]), gdlab.tensor([1.0, 4.0])).item()
        2.0
    """
    reduction = _legacy(size_average, reduce, reduction)
    target = _pointwise("mse_loss", input, target, reduction)
    diff = input - target
    if weight is not None:
        return _weighted(diff * diff, weight, reduction, "mse_loss", input)
    return _reduce(diff * diff, reduction)


def l1_loss(
    input: Tensor,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,  # noqa: A002
    reduction: str = "mean",
    weight: Any = None,
) -> Tensor:
    """Mean absolute error: mean(|x − y|); with per-element ``weight`` w (torch 2.13),
    'mean' is Σ w·|x − y| / Σ w."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _pointwise("l1_loss", input, target, reduction)
    if weight is not None:
        return _weighted(E.abs(input - target), weight, reduction, "l1_loss", input)
    return _reduce(E.abs(input - target), reduction)


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Any = None,
) -> Tensor:
    """½d² where |d| < delta, delta·(|d| − ½delta) elsewhere (d = x − y; Huber, 1964).

    With per-element ``weight`` w (torch 2.13), the loss is w times that, and 'mean' is its
    plain mean (not divided by Σ w, unlike mse_loss and l1_loss: torch's choice)."""
    if delta <= 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta, got {delta}")
    target = _pointwise("huber_loss", input, target, reduction)
    diff = input - target
    ad = E.abs(diff)
    loss = E.where(ad.data < delta, 0.5 * diff * diff, delta * (ad - 0.5 * delta))
    if weight is not None:
        return _weighted(loss, weight, reduction, "huber_loss", input, by_weights=False)
    return _reduce(loss, reduction)


def smooth_l1_loss(
    input: Tensor,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,  # noqa: A002
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """½d²/beta where |d| < beta, |d| − ½beta elsewhere; L1 when beta = 0 (Girshick, 2015)."""
    reduction = _legacy(size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    target = _pointwise("smooth_l1_loss", input, target, reduction)
    diff = input - target
    ad = E.abs(diff)
    if beta == 0:
        return _reduce(ad, reduction)
    loss = E.where(ad.data < beta, (0.5 / beta) * diff * diff, ad - 0.5 * beta)
    return _reduce(loss, reduction)


def binary_cross_entropy(
    input: Tensor,
    target: Any,
    weight: Any = None,
    size_average: Any = None,  # noqa: A002
    reduce: Any = None,
    reduction: str = "mean",
) -> Tensor:
    """−w·(y·log x + (1 − y)·log(1 − x)) for probabilities x; each log is clamped at −100
    (torch), so x = 0 or 1 gives a finite loss."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _pointwise("binary_cross_entropy", input, target, reduction)
    x = input.data
    if not np.all((x >= 0) & (x <= 1)):
        raise ValueError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (got values "
            f"in [{np.nanmin(x):.4g}, {np.nanmax(x):.4g}]; use binary_cross_entropy_with_logits "
            "for logits)"
        )
    loss = apply(nn_ops.BINARY_CROSS_ENTROPY, input, target)
    if weight is not None:
        loss = loss * _target(weight, input)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Any = None,  # noqa: A002
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """BCE(σ(x), y) computed stably from logits:
    (1 − y)·x + (1 + (pos_weight − 1)·y)·log(1 + e^−x), with log(1 + e^−x) = softplus(−x)."""
    reduction = _legacy(size_average, reduce, reduction)
    target = _pointwise("binary_cross_entropy_with_logits", input, target, reduction)
    sp = E.softplus(-input)
    if pos_weight is not None:
        sp = sp * ((_target(pos_weight, input) - 1) * target + 1)
    loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * _target(weight, input)
    return _reduce(loss, reduction)


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


def kl_div(
    input: Tensor,
    target: Any,
    size_average: Any = None,
    reduce: Any = None,  # noqa: A002
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Pointwise y·(log y − x) for log-probabilities x (0 where y = 0), or e^y·(y − x) with
    ``log_target``; 'batchmean' divides the sum by the batch size (the true KL divergence)."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction, "kl_div", (*REDUCTIONS, "batchmean"))
    target = _target(target, input)
    _same_shape(input, target, "kl_div")
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        t = _raw(target)
        log_t = (
            E.log(E.where(t > 0, target, 1.0))
            if isinstance(target, Tensor)
            else (np.log(np.where(t > 0, t, 1.0)))
        )
        loss = target * (log_t - input)
    if reduction == "batchmean":
        return R.sum(loss) / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def _raw(x: Any) -> Any:
    """A tensor's array; anything else unchanged (``ndarray.data`` is a memoryview)."""
    return x.data if isinstance(x, Tensor) else x
