"""Activation modules (torch.nn's names and arguments); each calls ``nn.functional``.

The articles' activations: sigmoid (which saturates: σ'(x) ≤ 1/4, the vanishing gradient),
tanh, ReLU and its variants ELU and PReLU; plus LeakyReLU, GELU, SiLU, Softplus, Hardtanh,
Softmax and LogSoftmax. Each module holds its arguments and calls the function of the same
name in ``gdlab.nn.functional``; ``inplace`` is accepted for torch compatibility and ignored
(gdlab records no in-place operations).

Example:
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1))
    >>> nn.LeakyReLU(0.5)(gdlab.tensor([-2.0, 3.0])).tolist()
    [-1.0, 3.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.dtypes import get_default_dtype, resolve_dtype
from gdlab.nn import functional as F
from gdlab.nn.module import Module
from gdlab.nn.parameter import Parameter
from gdlab.tensor import Tensor

__all__ = [
    "ELU", "GELU", "Hardtanh", "LeakyReLU", "LogSoftmax", "PReLU", "ReLU", "ReLU6", "SiLU",
    "Sigmoid", "Softmax", "Softplus", "Tanh",
]  # fmt: skip


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^−x), computed without overflow; σ'(x) = σ(x)·(1 − σ(x)) ≤ 1/4."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x) = 2σ(2x) − 1, zero-centred; tanh'(x) = 1 − tanh²(x) ≤ 1."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.tanh(input)


class ReLU(Module):
    """max(x, 0); gradient 1 for x > 0 and 0 elsewhere (0 at 0, as torch)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU6(ReLU):
    """min(max(x, 0), 6)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.relu6(input)


class LeakyReLU(Module):
    """x for x > 0, negative_slope·x otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x for x > 0, α·(eˣ − 1) otherwise (Clevert et al. (2015),
    https://arxiv.org/abs/1511.07289)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """x for x > 0, a·x otherwise, with ``a`` learned: one value or one per channel
    (``num_parameters``), initialised to ``init`` = 0.25 (He et al., 2015)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: Any = None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        d = get_default_dtype() if dtype is None else resolve_dtype(dtype)
        self.weight = Parameter(np.full(num_parameters, init, dtype=d))

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GELU(Module):
    """x·Φ(x) (``approximate='none'``, with erf) or its tanh approximation
    0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (``approximate='tanh'``).

    Reference: Hendrycks & Gimpel (2016), https://arxiv.org/abs/1606.08415
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x·σ(x) (swish; Elfwing et al. (2017), https://arxiv.org/abs/1702.03118)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.silu(input)


class Softplus(Module):
    """log(1 + e^(β·x)) / β, linear above ``threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """x clipped to [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if min_val > max_val:
            raise ValueError(
                f"Hardtanh: min_val {min_val} cannot be greater than max_val {max_val}"
            )
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class Softmax(Module):
    """exp(x_i) / Σ_j exp(x_j) along ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log_softmax along ``dim`` (stable: x − logsumexp(x))."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.log_softmax(input, self.dim)
