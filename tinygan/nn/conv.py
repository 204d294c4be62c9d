"""Conv2d and ConvTranspose2d (``torch.nn.Conv2d``, ``torch.nn.ConvTranspose2d``): the DCGAN layers.

The two are adjoint: ConvTranspose2d with Conv2d's weight computes the gradient of Conv2d
with respect to its input, which is how a generator upsamples (Radford et al. 2016).
"""
from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .linear import _new_parameter, _reset_weight_and_bias
from .module import Module


def _pair(v) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: geometry, weight, bias, init and repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 weight_shape, device, dtype):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.dilation = _pair(kernel_size), _pair(stride), _pair(dilation)
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self.weight = _new_parameter(weight_shape + self.kernel_size, device, dtype)
        self.register_parameter("bias", _new_parameter((out_channels,), device, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_weight_and_bias(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + (", bias=False" if self.bias is None else "")


class Conv2d(_ConvNd):
    """2-D cross-correlation; weight (out_channels, in_channels / groups, kh, kw)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, device=None, dtype=None):
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(f"Conv2d: invalid padding string {padding!r}, should be one of 'valid', 'same'")
        if padding == "same" and _pair(stride) != (1, 1):
            raise ValueError("Conv2d: padding='same' is not supported for strided convolutions")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         (out_channels, in_channels // groups), device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                        dilation=self.dilation, groups=self.groups)


class ConvTranspose2d(_ConvNd):
    """The adjoint of Conv2d (a generator's upsampling layer).

    weight (in_channels, out_channels / groups, kh, kw): note C_in comes first, as in PyTorch.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1, device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         (in_channels, out_channels // groups), device, dtype)
        self.output_padding = _pair(output_padding)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                                  output_padding=self.output_padding, groups=self.groups,
                                  dilation=self.dilation)
