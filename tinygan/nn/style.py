"""The layers of progressive GANs and StyleGAN (Karras et al. 2018, "Progressive Growing of GANs";
Karras et al. 2019, "A Style-Based Generator Architecture for GANs"), which ``torch.nn`` does not have.

* ``EqualizedLinear`` / ``EqualizedConv2d``, the equalized learning rate (ProGAN, Sec. 4.1): the
  weights start N(0, 1) and are scaled at every use by He's constant c = gain / sqrt(fan_in), so
  w_hat = c w. Adam's step is about the same size for every weight, so with the scale applied at
  run time every layer learns at the same speed whatever its fan-in. ``lr_mul`` slows a layer down
  further (StyleGAN's mapping network uses 0.01): the weights start N(0, 1 / lr_mul^2) and both the
  weight and the bias are multiplied by lr_mul.
* ``PixelNorm`` (ProGAN, Sec. 4.2): b = a / sqrt(mean_c a_c^2 + 1e-8) at each pixel (StyleGAN
  applies it to z).
* ``NoiseInjection`` (StyleGAN, Sec. 2): x + B * noise, one N(0, 1) value per pixel shared by the
  channels, B a learned per-channel scale (starting at 0). The noise comes from tinygan's seeded
  generator, as dropout's masks, unless it is given.
* ``MinibatchStdDev`` (ProGAN, Sec. 3): the standard deviation of each feature over a group of
  samples, averaged into one number per group and appended as a constant feature map, so D can see
  how varied a batch is.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..factories import default_generator
from ..ops.shape import cat
from ..tensor import Tensor
from . import functional as F
from . import init
from .linear import _new_parameter
from .module import Module


class EqualizedLinear(Module):
    """y = x (c W)^T + lr_mul b with c = gain lr_mul / sqrt(in_features); W starts N(0, 1 / lr_mul^2)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, gain: float = math.sqrt(2),
                 lr_mul: float = 1.0, bias_init: float = 0.0):
        super().__init__()
        self.in_features, self.out_features, self.lr_mul = in_features, out_features, lr_mul
        self.scale = gain * lr_mul / math.sqrt(in_features)
        self.weight = _new_parameter((out_features, in_features), None, None)
        init.normal_(self.weight, 0.0, 1.0 / lr_mul)
        self.register_parameter("bias", _new_parameter((out_features,), None, None) if bias else None)
        if bias:
            init.constant_(self.bias, bias_init / lr_mul)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, None if self.bias is None else self.bias * self.lr_mul)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, lr_mul={self.lr_mul}"


class EqualizedConv2d(Module):
    """A stride-1 convolution with 'same' padding and the weight scaled by c = gain / sqrt(C_in k^2)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True,
                 gain: float = math.sqrt(2)):
        super().__init__()
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.scale = gain / math.sqrt(in_channels * kernel_size ** 2)
        self.weight = _new_parameter((out_channels, in_channels, kernel_size, kernel_size), None, None)
        init.normal_(self.weight, 0.0, 1.0)
        self.register_parameter("bias", _new_parameter((out_channels,), None, None) if bias else None)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.kernel_size // 2)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"


class PixelNorm(Module):
    """b_{x,y} = a_{x,y} / sqrt(1/C sum_c (a^c_{x,y})^2 + eps) over the channels (dim 1)."""

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return x / ((x * x).mean(dim=1, keepdim=True) + self.eps).sqrt()


class NoiseInjection(Module):
    """x + B_c * noise, noise (N, 1, H, W) ~ N(0, 1) (drawn from tinygan's generator unless given)."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = _new_parameter((channels,), None, None)        # B, zero at the start

    def forward(self, x: Tensor, noise: Tensor | None = None) -> Tensor:
        if noise is None:
            n, _, h, w = x.shape
            draw = default_generator().standard_normal((n, 1, h, w)).astype(np.float32)
            noise = Tensor(backend.to_device(draw.astype(x.dtype), x.device))
        return x + self.weight.reshape(1, -1, 1, 1) * noise


class MinibatchStdDev(Module):
    """Append one feature map: the std of every feature over groups of ``group_size`` samples, averaged
    over the features, pixels and channels (ProGAN, Sec. 3). A batch that is not a multiple of the group
    is taken as one group."""

    def __init__(self, group_size: int = 4):
        super().__init__()
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        g = self.group_size if n % self.group_size == 0 else n
        y = x.reshape(g, n // g, c, h, w)                                   # sample i sits in group i % (n/g)
        y = y - y.mean(dim=0, keepdim=True)
        std = ((y * y).mean(dim=0) + 1e-8).sqrt()                          # (n/g, C, H, W)
        s = std.mean(dim=(1, 2, 3)).reshape(1, n // g, 1, 1, 1)            # one number per group
        s = s.expand(g, n // g, 1, h, w).reshape(n, 1, h, w)
        return cat([x, s], 1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"
