"""The image-to-image networks: pix2pix's U-Net generator and its PatchGAN discriminator
(Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks", Sec. 3.2
and App. 6.1), CycleGAN's ResNet generator (Zhu et al. 2017, App. 7.2), which reuses the PatchGAN,
and SPADE's generator of residual blocks and its multi-scale PatchGAN (Park et al. 2019, App. A).

Written as in the paper's appendix, where Ck is Convolution-Norm-ReLU with k filters and CDk adds
Dropout(0.5); every convolution is 4x4 with stride 2, so each encoder layer halves the image and
each decoder layer doubles it:

    encoder:   C64-C128-C256-C512-C512-C512-C512-C512      (no norm on the first, nor on the 1x1 innermost)
    U-Net decoder: CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128   (widths doubled by the skips)

The encoder's ReLUs are leaky (0.2), the decoder's are not; a last convolution maps to the 3
output channels and a tanh. The depth follows the image: log2(S) layers take an S x S image down
to 1 x 1 (8 for 256, 7 for 128, 6 for 64), the first four widths as above and 512 from then on.

Norm: the paper trains facades with batch size 1 and batch norm, which is instance norm
(Ulyanov et al. 2016); instance norm (no affine, as the authors' code) keeps that per-image
normalization at any batch size. A convolution followed by a norm has no bias: the norm
subtracts it again.
"""
from __future__ import annotations

import math

from .. import nn
from ..nn import functional as F
from ..ops.shape import cat


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    raise ValueError(f"unknown norm {kind!r}; expected 'instance' or 'batch'")


def unet_widths(size: int, base: int = 64) -> list[int]:
    """The encoder's widths for an S x S image: base, 2 base, 4 base, then 8 base until 1 x 1."""
    depth = int(math.log2(size))
    if 2 ** depth != size or depth < 5:
        raise ValueError(f"UNet: image size must be a power of two >= 32, got {size}")
    return [base * min(2 ** i, 8) for i in range(depth)]


class UNet(nn.Module):
    """G(x): the encoder-decoder with skips. Decoder layer i (innermost first) takes the previous
    decoder output concatenated with the encoder output of the same size (Sec. 3.2.1, Fig. 3).
    Dropout in the three innermost decoder layers is G's only noise (Sec. 3.2): z is not used."""

    def __init__(self, size: int, in_channels: int = 3, out_channels: int = 3, base: int = 64,
                 norm: str = "instance", dropout: float = 0.5):
        super().__init__()
        widths = unet_widths(size, base)                    # encoder output widths, outermost first
        depth = len(widths)
        ins = [in_channels] + widths[:-1]
        self.down = nn.ModuleList()
        for i in range(depth):                              # image S / 2^(i+1) after layer i
            normed = 0 < i < depth - 1                      # no norm on the first layer and on 1 x 1
            self.down.append(nn.Sequential(
                *([nn.LeakyReLU(0.2)] if i else []),
                nn.Conv2d(ins[i], widths[i], 4, 2, 1, bias=not normed),
                *([_norm(norm, widths[i])] if normed else [])))
        self.up = nn.ModuleList()
        for j in range(depth):                              # innermost first: j = 0 takes the 1 x 1 code
            i = depth - 1 - j                               # the encoder layer it mirrors
            c_in = widths[i] * (1 if j == 0 else 2)         # the skip doubles every input but the first
            last = i == 0
            c_out = out_channels if last else widths[i - 1]
            self.up.append(nn.Sequential(
                nn.ReLU(), nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=last),
                *([nn.Tanh()] if last else [_norm(norm, c_out)]),
                *([nn.Dropout(dropout)] if j < 3 and dropout else [])))

    def forward(self, x):
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        x = self.up[0](skips.pop())
        for layer in self.up[1:]:
            x = layer(cat([x, skips.pop()], 1))
        return x


def patch_discriminator(in_channels: int, base: int = 64, layers: int = 3, norm: str = "instance") -> nn.Sequential:
    """The PatchGAN D (Sec. 3.2.2, App. 6.1.2): C64-C128-C256 with stride 2, C512 with stride 1, then a
    4x4 convolution to one logit per patch. With ``layers`` = 3 each logit sees a 70 x 70 patch of the
    input (the receptive field, 4 + 3 + 3 * 2 * 2 + ... = 70); D judges every patch and the loss
    averages over them. No norm on the first layer."""
    mods, c = [nn.Conv2d(in_channels, base, 4, 2, 1), nn.LeakyReLU(0.2)], base
    for i in range(1, layers + 1):
        width, stride = base * min(2 ** i, 8), 2 if i < layers else 1
        mods += [nn.Conv2d(c, width, 4, stride, 1, bias=False), _norm(norm, width), nn.LeakyReLU(0.2)]
        c = width
    mods.append(nn.Conv2d(c, 1, 4, 1, 1))
    return nn.Sequential(*mods)


class ResnetBlock(nn.Module):
    """R256 (Zhu et al. 2017, App. 7.2): x + [reflect-pad, 3x3 conv, norm, ReLU, reflect-pad, 3x3 conv, norm](x),
    the residual block of He et al. (2016) as in Johnson et al. (2016)."""

    def __init__(self, c: int, norm: str = "instance"):
        super().__init__()
        self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=False), _norm(norm, c), nn.ReLU(),
                                  nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=False), _norm(norm, c))

    def forward(self, x):
        return x + self.body(x)


def resnet_generator(in_channels: int = 3, out_channels: int = 3, blocks: int = 6, base: int = 64,
                     norm: str = "instance") -> nn.Sequential:
    """CycleGAN's G (App. 7.2): c7s1-64, d128, d256, R256 x ``blocks`` (6 for 128 x 128 images, 9 for
    256), u128, u64, c7s1-3. c7s1-k: 7x7 Conv-InstanceNorm-ReLU with k filters, stride 1, reflection
    padding; dk: 3x3 Conv-Norm-ReLU with stride 2; uk: 3x3 fractional-strided (transposed) conv with
    stride 1/2; the last c7s1 ends in tanh instead of norm and ReLU. Any size divisible by 4."""
    def conv(c_in, c_out, k, stride, pad, transposed=False):
        layer = (nn.ConvTranspose2d(c_in, c_out, k, stride, pad, output_padding=1, bias=False) if transposed
                 else nn.Conv2d(c_in, c_out, k, stride, pad, bias=False))
        return [layer, _norm(norm, c_out), nn.ReLU()]

    b = base
    return nn.Sequential(
        nn.ReflectionPad2d(3), *conv(in_channels, b, 7, 1, 0),              # c7s1-64   S
        *conv(b, 2 * b, 3, 2, 1), *conv(2 * b, 4 * b, 3, 2, 1),             # d128, d256: S/2, S/4
        *[ResnetBlock(4 * b, norm) for _ in range(blocks)],                 # R256 x blocks
        *conv(4 * b, 2 * b, 3, 2, 1, True), *conv(2 * b, b, 3, 2, 1, True),  # u128, u64: S/2, S
        nn.ReflectionPad2d(3), nn.Conv2d(b, out_channels, 7), nn.Tanh())    # c7s1-3


class SPADEResBlock(nn.Module):
    """SPADE ResBlk (Park et al. 2019, Fig. 4 / App. A): two [SPADE, LeakyReLU(0.2), 3x3 conv] steps on a
    residual path; where the width changes, the shortcut is [SPADE, 1x1 conv] too. Every SPADE layer
    reads the segmentation map at the block's resolution."""

    def __init__(self, c_in: int, c_out: int, label_nc: int, hidden: int = 128):
        super().__init__()
        mid = min(c_in, c_out)
        self.norm_0, self.conv_0 = nn.SPADE(c_in, label_nc, hidden), nn.Conv2d(c_in, mid, 3, padding=1)
        self.norm_1, self.conv_1 = nn.SPADE(mid, label_nc, hidden), nn.Conv2d(mid, c_out, 3, padding=1)
        self.learned_shortcut = c_in != c_out
        if self.learned_shortcut:
            self.norm_s, self.conv_s = nn.SPADE(c_in, label_nc, hidden), nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x, seg):
        shortcut = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 0.2))
        return shortcut + dx


class SPADEGenerator(nn.Module):
    """SPADE's G without its image encoder (Park et al. 2019, App. A): the segmentation map, downsampled
    to 4 x 4, goes through a 3x3 conv to 16 nf channels; then one SPADE ResBlk at each of 4, 8, 16, ...
    pixels, with a nearest 2x upsampling between, their outputs ending 16 nf, 8 nf, 4 nf, 2 nf, nf at
    the image size (the authors' 256 x 256 widths, counted from the end); the last block's output goes through LeakyReLU, a 3x3 conv to RGB and tanh. Its only input is the
    map: like pix2pix (and SPADE trained without its VAE encoder), the output for a map is fixed."""

    def __init__(self, size: int, label_nc: int, out_channels: int = 3, base: int = 64, hidden: int = 128):
        super().__init__()
        ups = int(math.log2(size)) - 2                                 # 4 x 4 -> size in `ups` doublings
        if 2 ** (ups + 2) != size or ups < 1:
            raise ValueError(f"SPADEGenerator: image size must be a power of two >= 8, got {size}")
        outs = [base * min(2 ** j, 16) for j in reversed(range(ups + 1))]   # block outputs, 4 x 4 first: ..., 2 nf, nf
        ins = [16 * base] + outs[:-1]
        self.fc = nn.Conv2d(label_nc, ins[0], 3, padding=1)
        self.blocks = nn.ModuleList(SPADEResBlock(c_in, c_out, label_nc, hidden) for c_in, c_out in zip(ins, outs))
        self.conv_img = nn.Conv2d(outs[-1], out_channels, 3, padding=1)

    def forward(self, seg):
        x = self.fc(F.interpolate(seg, size=(4, 4)))
        for i, block in enumerate(self.blocks):
            x = block(x, seg)
            if i < len(self.blocks) - 1:
                x = F.interpolate(x, scale_factor=2)
        return F.tanh(self.conv_img(F.leaky_relu(x, 0.2)))


class MultiscalePatchGAN(nn.Module):
    """pix2pixHD's discriminator as SPADE uses it (Wang et al. 2018, Sec. 3.2): ``scales`` PatchGANs of the
    same shape, the k-th judging the input average-pooled k times (3x3, stride 2). ``forward`` returns,
    per scale, the output of every LeakyReLU and the final logits: the features that feature matching
    compares, the last entry what the GAN loss reads."""

    def __init__(self, in_channels: int, base: int = 64, layers: int = 3, scales: int = 2, norm: str = "instance"):
        super().__init__()
        self.scales = nn.ModuleList(patch_discriminator(in_channels, base, layers, norm) for _ in range(scales))

    def forward(self, x):
        outputs = []
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            features, h = [], x
            for layer in d:
                h = layer(h)
                if isinstance(layer, nn.LeakyReLU):
                    features.append(h)
            outputs.append(features + [h])
        return outputs
