"""Convolution and pooling layers: Conv1d, Conv2d, MaxPool1d/2d, AvgPool1d/2d,
AdaptiveAvgPool1d/2d (torch.nn's arguments, parameter shapes and default init)."""

from __future__ import annotations

from typing import Any

from gdlab.nn import functional as F
from gdlab.nn.layers import _FanInLayer
from gdlab.nn.module import Module
from gdlab.tensor import Tensor

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "Conv1d",
    "Conv2d",
    "MaxPool1d",
    "MaxPool2d",
]


def _tuple(v: Any, n: int) -> tuple:
    return tuple(v) if isinstance(v, tuple | list) else (v,) * n


class _ConvNd(_FanInLayer):
    _n = 2
    _function = staticmethod(F.conv2d)  # the functional form, (input, weight, bias, ...)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: Any = None,
        generator: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups} must be positive and divide in_channels={in_channels} "
                f"and out_channels={out_channels}"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(
                "padding_mode must be one of {'reflect', 'zeros', 'replicate', 'circular'}, "
                f"but got padding_mode={padding_mode!r}"
            )
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of 'valid', 'same'"
            )
        n = self._n
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _tuple(kernel_size, n), _tuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, n)
        self.dilation, self.groups, self.padding_mode = _tuple(dilation, n), groups, padding_mode
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        self._mode_padding = self._explicit_padding()
        shape = (out_channels, in_channels // groups, *self.kernel_size)  # fan_in = C/groups·∏k
        self._make_parameters(shape, bias, dtype, generator)

    def _explicit_padding(self) -> tuple[int, ...]:
        """F.pad's (left, right) pairs, last dimension first, for a non-zeros padding_mode
        (torch's ``_reversed_padding_repeated_twice``; 'same' puts the odd extra on the right).
        """
        pairs: list[int] = []
        for j in reversed(range(self._n)):
            if self.padding == "valid":
                pairs += [0, 0]
            elif self.padding == "same":
                total = self.dilation[j] * (self.kernel_size[j] - 1)
                pairs += [total // 2, total - total // 2]
            else:
                pairs += [self.padding[j]] * 2
        return tuple(pairs)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check(input)
        x, padding = input, self.padding
        if self.padding_mode != "zeros":
            x, padding = F.pad(input, self._mode_padding, mode=self.padding_mode), 0
        args = (self.weight, self.bias, self.stride, padding, self.dilation, self.groups)
        return self._function(x, *args)

    def _check(self, input: Tensor) -> None:  # noqa: A002
        n = self._n
        if input.ndim not in (n + 1, n + 2) or input.shape[-n - 1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} expected {n + 1}D or {n + 2}D input with "
                f"{self.in_channels} channels, got input of shape {tuple(input.shape)}"
            )

    def extra_repr(self) -> str:
        n = self._n
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        s += f", stride={self.stride}"
        if self.padding != (0,) * n:
            s += (
                f", padding={self.padding!r}"
                if isinstance(self.padding, str)
                else (f", padding={self.padding}")
            )
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D cross-correlation over (N, C_in, H, W) -> (N, C_out, H_out, W_out), with
    H_out = ⌊(H + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1.

    ``weight`` is (C_out, C_in/groups, kh, kw); computed as im2col + a matrix product per
    sample (see ``gdlab.ops.conv``). Initialisation (torch): W, b ~ U(−1/√fan_in, 1/√fan_in).

    Args:
        in_channels, out_channels: C_in and C_out.
        kernel_size, stride (1), dilation (1): ints or pairs.
        padding: an int, a pair, 'valid' or 'same' (default 0).
        groups: split channels into this many independent convolutions (default 1).
        bias: learn a per-channel bias (default True).
        padding_mode: 'zeros' | 'reflect' | 'replicate' | 'circular'.
        dtype, generator: parameter dtype (default float32) and initialisation generator.

    Example:
        >>> conv = nn.Conv2d(1, 8, 3, padding=1)
        >>> conv(gdlab.randn(2, 1, 28, 28)).shape
        (2, 8, 28, 28)
    """

    _n = 2


class Conv1d(_ConvNd):
    """1-D cross-correlation over (N, C_in, L) -> (N, C_out, L_out); ``weight`` is
    (C_out, C_in/groups, k). Arguments as ``Conv2d``, with ints for the sizes.

    Example:
        >>> nn.Conv1d(2, 4, 3, padding="same")(gdlab.randn(5, 2, 10)).shape
        (5, 4, 10)
    """

    _n = 1
    _function = staticmethod(F.conv1d)


class _PoolNd(Module):
    """A pooling layer: its functional form applied with the layer's arguments; the window
    steps by its own size unless a ``stride`` is given (torch)."""

    _function: Any

    def __init__(self, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode

    def _args(self) -> tuple:
        """The functional form's arguments after the input, in its order."""
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return self._function(input, *self._args())

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_PoolNd):
    """Maximum over each kernel window of (N, C, H, W) or (C, H, W) inputs; the gradient goes
    to each window's first maximum (torch's rule).

    Args:
        kernel_size: window size, an int or a pair.
        stride: window step (default: the kernel size).
        padding: implicit −∞ padding on both sides, at most half the kernel (default 0).
        dilation: spacing between window elements (default 1).
        return_indices: also return the flat position of each maximum (default False).
        ceil_mode: round the output size up, so the last partial window counts (default False).

    Example:
        >>> nn.MaxPool2d(2)(gdlab.randn(1, 3, 28, 28)).shape
        (1, 3, 14, 14)
    """

    _function = staticmethod(F.max_pool2d)

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation, self.return_indices = dilation, return_indices

    def _args(self) -> tuple:
        k, s, p, d = self.kernel_size, self.stride, self.padding, self.dilation
        return k, s, p, d, self.ceil_mode, self.return_indices

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class MaxPool1d(MaxPool2d):
    """Maximum over each window of (N, C, L) or (C, L) inputs; arguments as ``MaxPool2d``."""

    _function = staticmethod(F.max_pool1d)


class AvgPool2d(_PoolNd):
    """Mean over each kernel window of (N, C, H, W) or (C, H, W) inputs.

    Args:
        kernel_size, stride (default: the kernel size), padding (zeros, default 0), ceil_mode:
            as ``MaxPool2d``.
        count_include_pad: count the zero padding in each window's divisor (default True).
        divisor_override: divide every window's sum by this instead (default None).

    Example:
        >>> nn.AvgPool2d(2)(gdlab.ones(1, 1, 4, 4)).shape
        (1, 1, 2, 2)
    """

    _function = staticmethod(F.avg_pool2d)

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def _args(self) -> tuple:
        k, s, p = self.kernel_size, self.stride, self.padding
        return k, s, p, self.ceil_mode, self.count_include_pad, self.divisor_override


class AvgPool1d(AvgPool2d):
    """Mean over each window of (N, C, L) or (C, L) inputs; arguments as ``AvgPool2d``."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    _function = staticmethod(F.avg_pool1d)

    def _args(self) -> tuple:
        return super()._args()[:-1]  # avg_pool1d has no divisor_override


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` (an int, a pair, None keeps a size)
    whatever the input size: output cell i averages input rows ⌊i·H/OH⌋ .. ⌈(i+1)·H/OH⌉ − 1.

    Example:
        >>> nn.AdaptiveAvgPool2d(1)(gdlab.randn(2, 8, 7, 5)).shape
        (2, 8, 1, 1)
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, L) or (C, L) inputs to a fixed length ``output_size``."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.adaptive_avg_pool1d(input, self.output_size)
