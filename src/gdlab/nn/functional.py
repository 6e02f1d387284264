"""torch.nn.functional's functions on gdlab tensors: same names, signatures and defaults.

Layers (linear, conv, pooling, normalisation, dropout, embedding) live here and in
``gdlab.nn._conv_functional``; losses in ``gdlab.nn._loss_functional``; everything is
re-exported from this module. Functions are composed from primitives of the op table
(``gdlab.ops``), so none of them carries gradient code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gdlab.nn._attention_functional import scaled_dot_product_attention
from gdlab.nn._conv_functional import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    max_pool1d,
    max_pool2d,
)
from gdlab.nn._dropout import _check_p, dropout  # noqa: F401 - _check_p: nn.layers
from gdlab.nn._loss_functional import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from gdlab.ops import batch_norm as batch_norm_op
from gdlab.ops import elementwise as E
from gdlab.ops import nn_ops, norm_ops
from gdlab.ops import reduce as R
from gdlab.ops.dispatch import apply, as_floating
from gdlab.ops.shape import pad as _constant_pad
from gdlab.ops.shape import reshape
from gdlab.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv1d", "conv2d",
    "cross_entropy", "dropout", "elu", "embedding", "gelu", "hardtanh", "huber_loss", "kl_div",
    "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "max_pool1d", "max_pool2d",
    "mse_loss", "nll_loss", "one_hot", "pad", "prelu", "relu", "relu6",
    "scaled_dot_product_attention", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softplus",
    "tanh",
]  # fmt: skip


# ------------------------------------------------------------------------- linear
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """y = x·Wᵀ + b with W of shape (out_features, in_features): one fused primitive whose
    backward is two matrix products and one sum.

    Example:
        >>> linear(gdlab.ones(2, 3), gdlab.ones(4, 3)).shape
        (2, 4)
    """
    if input.shape[-1:] != weight.shape[1:]:
        raise ValueError(
            f"linear: input of shape {input.shape} does not match weight of shape "
            f"{weight.shape} (expected last dim {weight.shape[1]})"
        )
    if bias is None:
        return apply(nn_ops.LINEAR, input, weight)
    return apply(nn_ops.LINEAR, input, weight, bias)


# ------------------------------------------------------------------------- activations
def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """σ(x) = 1 / (1 + e^−x) (stable for any x)."""
    return E.sigmoid(input)


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """tanh x = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ); its derivative 1 − tanh² x is at most 1."""
    return E.tanh(input)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(x, 0); ``inplace`` is accepted for compatibility and ignored (no in-place graph)."""
    return E.relu(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(x, 0), 6): hardtanh on [0, 6]."""
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, negative_slope·x otherwise."""
    return apply(nn_ops.LEAKY_RELU, input, negative_slope=negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, α·(eˣ − 1) otherwise (Clevert et al., 2015, arXiv:1511.07289)."""
    return apply(nn_ops.ELU, input, alpha=alpha)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x for x > 0, a·x otherwise, with a learnable ``weight`` per channel (dim 1) or one
    shared value (He et al., 2015, arXiv:1502.01852)."""
    a = weight
    if weight.data.size > 1:
        if input.ndim < 2 or input.shape[1] != weight.data.size:
            raise ValueError(
                f"prelu: weight of size {weight.data.size} does not match the channel "
                f"dimension of input of shape {input.shape}"
            )
        a = reshape(weight, (-1,) + (1,) * (input.ndim - 2))
    return E.where(input.data > 0, input, a * input)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x·Φ(x) with the exact normal CDF (erf), or its tanh approximation with
    ``approximate='tanh'`` (Hendrycks & Gimpel, arXiv:1606.08415)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")
    x = as_floating(input)
    return apply(nn_ops.GELU, x, approximate=approximate, saved=nn_ops.GeluSaved())


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x·σ(x) (swish)."""
    return input * E.sigmoid(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + e^(β·x)) / β, and x itself where β·x > threshold."""
    return E.softplus(input, beta=beta, threshold=threshold)


def hardtanh(
    input: Tensor,  # noqa: A002
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """x clipped to [min_val, max_val]; no gradient on the boundary (torch)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} cannot be greater than max_val {max_val}")
    return apply(nn_ops.HARDTANH, input, min_val=min_val, max_val=max_val)


def _softmax_dim(ndim: int) -> int:
    return 0 if ndim in (0, 1, 3) else 1  # torch's legacy implicit dimension


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """exp(x_i) / Σ_j exp(x_j) along ``dim`` (shifted by the max: never overflows)."""
    x = input if dtype is None else input.to(dtype)
    return R.softmax(x, _softmax_dim(x.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:  # noqa: A002
    """x_i − log Σ_j exp(x_j) along ``dim``: never the log of a softmax."""
    x = input if dtype is None else input.to(dtype)
    return R.log_softmax(x, _softmax_dim(x.ndim) if dim is None else dim)


# ------------------------------------------------------------------------- normalisation
def batch_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """(x − mean) / √(var + eps)·γ + β per channel (dim 1). Training uses the batch's mean and
    biased variance and updates the running statistics in place with the unbiased variance:
    r ← (1 − momentum)·r + momentum·batch (Ioffe & Szegedy, 2015, arXiv:1502.03167)."""
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expected input with at least 2 dimensions, got {input.shape}"
        )
    c = input.shape[1]
    _check_per_channel(
        c, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    x = as_floating(input)
    args = (x, weight, bias) if bias is not None else (x, weight) if weight is not None else (x,)
    if training:
        n = input.data.size // c
        if n <= 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input size "
                f"{input.shape}"
            )
        saved = batch_norm_op.BatchNormSaved()
        out = apply(batch_norm_op.BATCH_NORM, *args, eps=eps, saved=saved)
        if running_mean is not None and running_var is not None:
            m = momentum
            rm, rv = _data(running_mean), _data(running_var)
            rm *= 1 - m
            rm += m * saved.mean.astype(rm.dtype)
            rv *= 1 - m
            rv += m * (saved.var * (n / (n - 1))).astype(rv.dtype)
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed in eval mode")
    # copies: the node keeps them, and the buffers change in place at the next training step
    mean = _data(running_mean).astype(x.dtype, copy=True)
    var = _data(running_var).astype(x.dtype, copy=True)
    saved = batch_norm_op.BatchNormSaved()
    return apply(batch_norm_op.BATCH_NORM, *args, eps=eps, mean=mean, var=var, saved=saved)


def _check_per_channel(c: int, **arrays: Any) -> None:
    """Checked before the running statistics are updated in place, so a bad call changes
    nothing."""
    for name, a in arrays.items():
        if a is not None and tuple(np.shape(_data(a))) != (c,):
            raise ValueError(
                f"batch_norm: {name} of shape {tuple(np.shape(_data(a)))} does not match the "
                f"{c} channels of the input"
            )


def _data(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dimensions, then γ·x̂ + β
    (Ba et al., 2016, arXiv:1607.06450): one primitive with a fused backward
    (``gdlab.ops.norm_ops``)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[input.ndim - len(shape) :] != shape:
        raise ValueError(
            f"layer_norm: input of shape {input.shape} does not end with normalized_shape {shape}"
        )
    for name, a in (("weight", weight), ("bias", bias)):
        if a is not None and tuple(a.shape) != shape:
            raise ValueError(
                f"layer_norm: Expected {name} to be of same shape as normalized_shape, but got "
                f"{name} of shape {tuple(a.shape)} and normalized_shape = {shape}"
            )
    x = as_floating(input)
    saved = norm_ops.LayerNormSaved()
    return apply(norm_ops.LAYER_NORM, x, weight, bias, ndim=len(shape), eps=eps, saved=saved)


# ------------------------------------------------------------------------- lookup, shape
def embedding(
    input: Any,  # noqa: A002
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` selected by integer ``input``; the ``padding_idx`` row gets no
    gradient. With ``scale_grad_by_freq``, each row's gradient is divided by the number of
    times the row occurs in ``input`` (torch's option; not the exact derivative). With
    ``sparse=True`` the weight's gradient is a
    :class:`~gdlab.autograd.sparse.RowSparseGrad`: only the rows ``input`` touched (the
    padding row left out), equal to the dense gradient once densified.

    With ``max_norm``, each referenced row whose ``norm_type``-norm exceeds it is first
    rescaled in place to max_norm / (norm + 1e−7) times itself (torch's embedding_renorm_).

    Example:
        >>> w = gdlab.tensor(np.array([[3.0, 4.0], [0.3, 0.4]]))  # float64
        >>> _ = embedding(np.array([0, 1]), w, max_norm=1.0)
        >>> w.data.round(4).tolist()
        [[0.6, 0.8], [0.3, 0.4]]
    """
    idx = _data(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D, got shape {tuple(weight.shape)}")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        _embedding_renorm_(weight, idx, float(max_norm), float(norm_type))
    if scale_grad_by_freq or sparse:
        return apply(
            nn_ops.EMBEDDING, weight, indices=idx, padding_idx=padding_idx,
            scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
        )  # fmt: skip
    return apply(nn_ops.EMBEDDING, weight, indices=idx, padding_idx=padding_idx)


def _embedding_renorm_(weight: Tensor, idx: np.ndarray, max_norm: float, p: float) -> None:
    rows = np.unique(idx)
    w = weight.data
    norms = np.linalg.norm(w[rows], ord=p, axis=1)
    big = norms > max_norm
    if big.any():
        # an in-place change of the weight, outside the graph, as torch's under no_grad
        w[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
        weight._version += 1


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding with a new last dimension of size ``num_classes`` (max + 1 when
    -1)."""
    idx = _data(tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensor, got dtype {idx.dtype}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got {bad}")
    return Tensor._wrap(np.eye(num_classes, dtype=np.int64)[idx])


def pad(
    input: Tensor,  # noqa: A002
    pad: Sequence[int],
    mode: str = "constant",
    value: float | None = None,
) -> Tensor:
    """Pad ``input``; ``pad`` lists (left, right) pairs from the last dimension backwards.

    Modes (torch's): 'constant' fills with ``value`` (0 by default); 'reflect' mirrors without
    repeating the edge (``[a b c]`` -> ``c b | a b c | b a``); 'replicate' repeats the edge;
    'circular' wraps around. The non-constant modes pad the last 1, 2 or 3 dimensions of an
    input with one or two more (batch, channel) dimensions.

    Example:
        >>> pad(gdlab.tensor([[[1.0, 2.0, 3.0]]]), (2, 1), mode="reflect").tolist()
        [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
    """
    if mode == "constant":
        return _constant_pad(input, pad, 0.0 if value is None else value)
    if mode not in nn_ops.NUMPY_PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise ValueError(f'Padding mode "{mode}" doesn\'t take in value argument')
    return apply(nn_ops.MODE_PAD, input, widths=_mode_pad_widths(input, pad, mode), mode=mode)


def _mode_pad_widths(input: Tensor, pad: Sequence[int], mode: str) -> tuple:  # noqa: A002
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise ValueError("Padding length must be divisible by 2")
    k, ndim = len(pad) // 2, input.ndim
    if k not in (1, 2, 3) or ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {ndim}D input tensor (non-constant "
            f"modes pad the last 1, 2 or 3 dimensions of an input with 1 or 2 more)"
        )
    widths = [(0, 0)] * ndim
    for j in range(k):
        dim, (a, b) = ndim - 1 - j, pad[2 * j : 2 * j + 2]
        size = input.shape[dim]
        if a < 0 or b < 0:
            raise ValueError(f"pad: negative padding {pad} is not supported in mode {mode!r}")
        if size == 0:
            raise ValueError(f"pad: mode {mode!r} needs a non-empty dimension {dim}")
        if mode == "reflect" and (a >= size or b >= size):
            raise ValueError(
                "Padding size should be less than the corresponding input dimension, but got: "
                f"padding ({a}, {b}) at dimension {dim} of input {list(input.shape)}"
            )
        if mode == "circular" and (a > size or b > size):
            raise ValueError("Padding value causes wrapping around more than once.")
        widths[dim] = (a, b)
    return tuple(widths)
