"""Weight initialisers with torch.nn.init's names, formulas and defaults.

Each fills a tensor in place (without recording a graph) from ``generator`` (a
``numpy.random.Generator`` or an int seed; None uses gdlab's default generator, which
``gdlab.manual_seed`` reseeds) and returns it. fan_in and fan_out are the weight's
dimensions 1 and 0 times its receptive field (the product of the kernel dimensions).

Example:
    >>> w = nn.Linear(256, 128).weight
    >>> _ = nn.init.kaiming_normal_(w, nonlinearity="relu", generator=0)   # std √(2/256)
    >>> _ = nn.init.zeros_(nn.Linear(3, 4).bias)

References: Glorot & Bengio (2010), "Understanding the difficulty of training deep
feedforward neural networks"; He et al. (2015), "Delving Deep into Rectifiers",
https://arxiv.org/abs/1502.01852; Saxe et al. (2013), https://arxiv.org/abs/1312.6120.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdlab.autograd.grad_mode import no_grad
from gdlab.random import get_generator
from gdlab.tensor import Tensor

__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

Generator = Any  # np.random.Generator | int | None


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    with no_grad():
        tensor.copy_(values)
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity: 1 (linear, conv, sigmoid), 5/3 (tanh),
    √2 (relu), √(2 / (1 + slope²)) (leaky_relu, slope 0.01 by default), 3/4 (selu)."""
    linear = [
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    ]
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator = None) -> Tensor:
    """Fill with U(a, b)."""
    return _fill(tensor, get_generator(generator).uniform(a, b, tensor.shape))


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator = None
) -> Tensor:
    """Fill with N(mean, std²)."""
    return _fill(tensor, get_generator(generator).normal(mean, std, tensor.shape))


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator = None,
) -> Tensor:
    """Fill with N(mean, std²) truncated to [a, b] (by resampling values outside)."""
    rng = get_generator(generator)
    values = rng.normal(mean, std, tensor.shape)
    bad = (values < a) | (values > b)
    for _ in range(1000):
        if not bad.any():
            break
        values[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (values < a) | (values > b)
    return _fill(tensor, np.clip(values, a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(tensor, np.asarray(val))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator = None) -> Tensor:
    """U(−a, a) with a = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator = None) -> Tensor:
    """N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator = None,
) -> Tensor:
    """U(−bound, bound) with bound = gain·√(3 / fan) (He et al., 2015).

    ``nn.Linear`` and the conv layers use ``a=√5``, which gives bound = 1/√fan_in.

    Args:
        tensor: the weight to fill (at least 2-D).
        a: the negative slope of the leaky_relu after this layer (0: ReLU).
        mode: 'fan_in' keeps the forward variance, 'fan_out' the backward one.
        nonlinearity: the activation after this layer, for ``calculate_gain``.
        generator: a numpy Generator or an int seed (None: gdlab's default generator).
    """
    if tensor.data.size == 0:  # torch: "Initializing zero-element tensors is a no-op"
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator = None,
) -> Tensor:
    """N(0, std²) with std = gain / √fan (He et al., 2015); arguments as
    ``kaiming_uniform_``."""
    if tensor.data.size == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator = None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (Saxe et al.);
    dimensions after the first are flattened."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    rows = tensor.shape[0]
    cols = tensor.data.size // max(rows, 1)
    flat = get_generator(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))  # makes the decomposition unique (uniform over O(n))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))
