"""StyleGAN's generator and the progressive-growing discriminator, for small images (Karras et al.
2019, "A Style-Based Generator Architecture for Generative Adversarial Networks", Sec. 2 and App. C;
Karras et al. 2018, "Progressive Growing of GANs", Sec. 2 and Table 2).

G (Fig. 1b): a mapping network f (PixelNorm, then 8 fully connected layers with LeakyReLU(0.2) and a
learning-rate multiplier of 0.01) turns z into w. The synthesis network starts from a learned 4 x 4
constant; at each resolution r = 4, 8, ... it has two layers, each [(2x nearest upsampling, for the
first layer above 4 x 4), 3x3 conv (not on the constant), noise, LeakyReLU, AdaIN], and AdaIN
normalizes each feature map and applies the style (y_s, y_b) = A(w) of its layer:

    AdaIN(x_i, y) = y_{s,i} (x_i - mu(x_i)) / sigma(x_i) + y_{b,i}                       (Eq. 1)

``ws`` holds one w per layer (2 per resolution), so styles can be mixed. toRGB is a 1x1 conv.

Growing (ProGAN, Fig. 2): at stage s the networks work at 4 * 2^s pixels. While a new resolution
fades in, G's image is (1 - alpha) * upsample(toRGB_{s-1}(x_{s-1})) + alpha * toRGB_s(x_s) and D
mirrors it: (1 - alpha) * fromRGB_{s-1}(downsample(image)) + alpha * block_s(fromRGB_s(image)).
Both networks take and give images at the final size (G's output is upsampled, D pools its input),
so the trainer and the samplers see one shape throughout. All weights use the equalized learning rate.
"""
from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..nn import functional as F
from ..nn.style import EqualizedConv2d, EqualizedLinear, MinibatchStdDev, NoiseInjection, PixelNorm
from ..tensor import Tensor


def channels_at(resolution: int, fmap_base: int, fmap_max: int) -> int:
    """Feature maps at a resolution: min(fmap_base / r, fmap_max), as ProGAN's nf(stage)."""
    return min(fmap_base // resolution, fmap_max)


class MappingNetwork(nn.Module):
    """f: z -> w, PixelNorm then ``layers`` x [EqualizedLinear (lr_mul 0.01), LeakyReLU(0.2)]."""

    def __init__(self, z_dim: int, w_dim: int, layers: int = 8, lr_mul: float = 0.01):
        super().__init__()
        mods, width = [PixelNorm()], z_dim
        for _ in range(layers):
            mods += [EqualizedLinear(width, w_dim, lr_mul=lr_mul), nn.LeakyReLU(0.2)]
            width = w_dim
        self.net = nn.Sequential(*mods)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class StyleLayer(nn.Module):
    """[upsample], [3x3 conv], noise, bias, LeakyReLU(0.2), AdaIN with the style A(w): one synthesis layer.
    A's bias starts at (1, 0), so that y_s = 1 and y_b = 0 before training."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, conv: bool = True, upsample: bool = False):
        super().__init__()
        self.upsample = upsample
        self.conv = EqualizedConv2d(c_in, c_out, 3, bias=False) if conv else None
        self.noise = NoiseInjection(c_out)
        self.bias = nn.Parameter(np.zeros(c_out, np.float32))
        self.style = EqualizedLinear(w_dim, 2 * c_out, gain=1.0)
        self.style.bias.data[:c_out] = 1.0

    def forward(self, x: Tensor, w: Tensor, noise: Tensor | None = None) -> Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2)
        if self.conv is not None:
            x = self.conv(x)
        x = F.leaky_relu(self.noise(x, noise) + self.bias.reshape(1, -1, 1, 1), 0.2)
        c = x.shape[1]
        y = self.style(w)                                                  # (N, 2C): y_s, y_b
        y_s, y_b = y[:, :c].reshape(-1, c, 1, 1), y[:, c:].reshape(-1, c, 1, 1)
        return y_s * F.instance_norm(x) + y_b                              # Eq. 1


class StyleGenerator(nn.Module):
    """G = synthesis(f(z)) with the growing schedule; ``num_layers`` styles, 2 per resolution."""

    def __init__(self, size: int, channels: int, z_dim: int = 128, w_dim: int = 128, mapping_layers: int = 8,
                 fmap_base: int = 1024, fmap_max: int = 128):
        super().__init__()
        self.stages = int(math.log2(size)) - 1                            # 4, 8, ..., size
        if 2 ** (self.stages + 1) != size or self.stages < 1:
            raise ValueError(f"StyleGenerator: image size must be a power of two >= 8, got {size}")
        self.size, self.w_dim = size, w_dim
        res = [4 * 2 ** s for s in range(self.stages)]
        ch = [channels_at(r, fmap_base, fmap_max) for r in res]
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers)
        self.const = nn.Parameter(np.ones((1, ch[0], 4, 4), np.float32))
        self.layers = nn.ModuleList()
        for s in range(self.stages):
            first = StyleLayer(ch[s - 1] if s else ch[0], ch[s], w_dim, conv=s > 0, upsample=s > 0)
            self.layers.extend([first, StyleLayer(ch[s], ch[s], w_dim)])
        self.to_rgb = nn.ModuleList(EqualizedConv2d(c, channels, 1, gain=1.0) for c in ch)
        self.num_layers = len(self.layers)

    def synthesis(self, ws: Tensor, stage: int, alpha: float = 1.0, noise: list | None = None) -> Tensor:
        """The image at the final size from styles ``ws`` (N, num_layers, w_dim), grown to ``stage``."""
        x = self.const.expand(ws.shape[0], *self.const.shape[1:])
        previous = None
        for s in range(stage + 1):
            if s == stage:
                previous = x
            for i in (2 * s, 2 * s + 1):
                x = self.layers[i](x, ws[:, i], None if noise is None else noise[i])
        rgb = self.to_rgb[stage](x)
        if stage and alpha < 1.0:  # fade-in of the newest resolution
            rgb = (1 - alpha) * F.interpolate(self.to_rgb[stage - 1](previous), scale_factor=2) + alpha * rgb
        return F.interpolate(rgb, scale_factor=self.size // rgb.shape[-1]) if rgb.shape[-1] < self.size else rgb

    def forward(self, z: Tensor, stage: int | None = None, alpha: float = 1.0) -> Tensor:
        w = self.mapping(z)
        ws = w.reshape(w.shape[0], 1, self.w_dim).expand(w.shape[0], self.num_layers, self.w_dim)
        return self.synthesis(ws, self.stages - 1 if stage is None else stage, alpha)


class GrowingDiscriminator(nn.Module):
    """ProGAN's D, the mirror of G: fromRGB (1x1 conv) at the working resolution, then per resolution
    [3x3 conv, LeakyReLU, 3x3 conv, LeakyReLU, 2x2 average pool] down to 4 x 4, where minibatch stddev,
    a 3x3 conv, a 4x4-to-vector dense layer and a dense layer to one logit end it."""

    def __init__(self, size: int, channels: int, fmap_base: int = 1024, fmap_max: int = 128):
        super().__init__()
        self.stages, self.size = int(math.log2(size)) - 1, size
        res = [4 * 2 ** s for s in range(self.stages)]
        ch = [channels_at(r, fmap_base, fmap_max) for r in res]
        self.from_rgb = nn.ModuleList(nn.Sequential(EqualizedConv2d(channels, c, 1), nn.LeakyReLU(0.2)) for c in ch)
        self.blocks = nn.ModuleList(
            [nn.Sequential(MinibatchStdDev(4), EqualizedConv2d(ch[0] + 1, ch[0], 3), nn.LeakyReLU(0.2))]
            + [nn.Sequential(EqualizedConv2d(ch[s], ch[s], 3), nn.LeakyReLU(0.2),
                             EqualizedConv2d(ch[s], ch[s - 1], 3), nn.LeakyReLU(0.2))
               for s in range(1, self.stages)])
        self.head = nn.Sequential(nn.Flatten(), EqualizedLinear(ch[0] * 16, ch[0]), nn.LeakyReLU(0.2),
                                  EqualizedLinear(ch[0], 1, gain=1.0))

    def forward(self, image: Tensor, stage: int | None = None, alpha: float = 1.0) -> Tensor:
        stage = self.stages - 1 if stage is None else stage
        res = 4 * 2 ** stage
        x = _pool_to(image, res)
        h = self.from_rgb[stage](x)
        for s in range(stage, -1, -1):
            h = self.blocks[s](h)
            if s:
                h = F.avg_pool2d(h, 2)
                if s == stage and alpha < 1.0:  # fade-in: blend with the previous stage's input path
                    h = (1 - alpha) * self.from_rgb[s - 1](F.avg_pool2d(x, 2)) + alpha * h
        return self.head(h)


def _pool_to(image: Tensor, res: int) -> Tensor:
    """Average-pool an image down to res x res (the growing networks' working resolution)."""
    k = image.shape[-1] // res
    return F.avg_pool2d(image, k) if k > 1 else image
