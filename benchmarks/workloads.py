"""The reference GAN workloads, written once for any library with PyTorch's API.

``lib`` is either ``tinygan`` or ``torch``: both have ``lib.nn`` layers with the same names
and arguments, so the same function builds the same networks in either, and a step timed
in one can be compared with the step timed in the other.
"""
from __future__ import annotations

WORKLOADS = {
    # name: (batch size, noise dim (None: G maps an image to an image), sample shape)
    "toy2d": (256, 2, (2,)),
    "mlp_gan": (100, 100, (784,)),
    "dcgan28": (128, 100, (1, 28, 28)),
    "dcgan64": (128, 100, (3, 64, 64)),
    "pix2pix64": (8, None, (3, 64, 64)),
    "cyclegan64": (4, None, (3, 64, 64)),
}
PATCH = (1, 6, 6)  # the 64x64 PatchGAN's output per image


def toy2d(nn):
    """The main job's networks (``python -m tinygan train``: gan on ring8): MLPs of 3 x 128 on z of 2 dims."""
    G = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                      nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 2))
    D = nn.Sequential(nn.Linear(2, 128), nn.LeakyReLU(0.2), nn.Linear(128, 128), nn.LeakyReLU(0.2),
                      nn.Linear(128, 128), nn.LeakyReLU(0.2), nn.Linear(128, 1))
    return G, D


def mlp_gan(nn):
    """The MLP pair of Goodfellow et al. (2014) as used in most tutorials."""
    D = nn.Sequential(
        nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Linear(1024, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Linear(256, 1))
    G = nn.Sequential(
        nn.Linear(100, 256), nn.LeakyReLU(0.2),
        nn.Linear(256, 512), nn.LeakyReLU(0.2),
        nn.Linear(512, 1024), nn.LeakyReLU(0.2),
        nn.Linear(1024, 784), nn.Tanh())
    return G, D


def dcgan28(nn):
    """A small DCGAN for 28x28 images (MNIST)."""
    G = nn.Sequential(
        nn.Linear(100, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),   # (N, 64, 14, 14)
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())                         # (N, 1, 28, 28)
    D = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),                          # (N, 64, 14, 14)
        nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),   # (N, 128, 7, 7)
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    return G, D


def dcgan64(nn):
    """The DCGAN paper's 64x64 pair (Radford et al. 2016, Fig. 1), without biases."""
    G = nn.Sequential(  # z as (N, 100, 1, 1)
        nn.ConvTranspose2d(100, 512, 4, 1, 0, bias=False), nn.BatchNorm2d(512), nn.ReLU(),  # 4x4
        nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.ReLU(),  # 8x8
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),  # 16x16
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),    # 32x32
        nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn.Tanh())                          # 64x64
    D = nn.Sequential(
        nn.Conv2d(3, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),                           # 32x32
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),    # 16x16
        nn.Conv2d(128, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2),   # 8x8
        nn.Conv2d(256, 512, 4, 2, 1, bias=False), nn.BatchNorm2d(512), nn.LeakyReLU(0.2),   # 4x4
        nn.Conv2d(512, 1, 4, 1, 0, bias=False), nn.Flatten())                               # (N, 1)
    return G, D


def patch_d(nn, c_in: int, norm):
    """pix2pix's 70x70 PatchGAN (Isola et al. 2017, Sec. 3.2.2; 3 strided layers): (N, c_in, 64, 64) -> (N, 1, 6, 6)."""
    return nn.Sequential(
        nn.Conv2d(c_in, 64, 4, 2, 1), nn.LeakyReLU(0.2),                                  # 32x32
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), norm(128), nn.LeakyReLU(0.2),            # 16x16
        nn.Conv2d(128, 256, 4, 2, 1, bias=False), norm(256), nn.LeakyReLU(0.2),           # 8x8
        nn.Conv2d(256, 512, 4, 1, 1, bias=False), norm(512), nn.LeakyReLU(0.2),           # 7x7
        nn.Conv2d(512, 1, 4, 1, 1))                                                       # 6x6


def pix2pix64(nn, lib):
    """pix2pix's U-Net 64 -> 1 (Isola et al. 2017, App. 6.1.1: C64-C128-C256-C512-C512-C512 down, the
    mirror up with skips, dropout 0.5 in the three innermost up layers) and its PatchGAN on (input, output)."""

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [3, 64, 128, 256, 512, 512, 512]  # 64, 32, 16, 8, 4, 2, 1 pixels
            self.down = nn.ModuleList(
                [nn.Sequential(*([] if i == 0 else [nn.LeakyReLU(0.2)]),
                               nn.Conv2d(widths[i], widths[i + 1], 4, 2, 1, bias=i in (0, 5)),
                               *([] if i in (0, 5) else [nn.BatchNorm2d(widths[i + 1])]))
                 for i in range(6)])
            ins = [512, 1024, 1024, 512, 256, 128]  # innermost first: the skip doubles every input but the first
            outs = [512, 512, 256, 128, 64, 3]
            self.up = nn.ModuleList(
                [nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(ins[i], outs[i], 4, 2, 1, bias=i == 5),
                               *([nn.Tanh()] if i == 5 else [nn.BatchNorm2d(outs[i])]),
                               *([nn.Dropout(0.5)] if i < 3 else []))
                 for i in range(6)])

        def forward(self, x):
            skips = []
            for layer in self.down:
                x = layer(x)
                skips.append(x)
            x = self.up[0](skips.pop())
            for layer in self.up[1:]:
                x = layer(lib.cat([x, skips.pop()], 1))
            return x

    return UNet(), patch_d(nn, 6, nn.BatchNorm2d)


def cyclegan64(nn, lib):
    """One of CycleGAN's generator / discriminator pairs (Zhu et al. 2017, App. 7.2): the ResNet
    generator c7s1-64, d128, d256, R256 x 6, u128, u64, c7s1-3 (reflection padding, instance norm)
    and the PatchGAN with instance norm. (The full model trains two such pairs.)"""

    def conv_in_relu(c_in, c_out, k, s, p, transposed=False):
        conv = (nn.ConvTranspose2d(c_in, c_out, k, s, p, output_padding=1) if transposed
                else nn.Conv2d(c_in, c_out, k, s, p))
        return [conv, nn.InstanceNorm2d(c_out), nn.ReLU()]

    class ResBlock(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(),
                                      nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c))

        def forward(self, x):
            return x + self.body(x)

    G = nn.Sequential(
        nn.ReflectionPad2d(3), *conv_in_relu(3, 64, 7, 1, 0),                         # 64x64
        *conv_in_relu(64, 128, 3, 2, 1), *conv_in_relu(128, 256, 3, 2, 1),          # 32x32, 16x16
        *[ResBlock(256) for _ in range(6)],
        *conv_in_relu(256, 128, 3, 2, 1, True), *conv_in_relu(128, 64, 3, 2, 1, True),  # 32x32, 64x64
        nn.ReflectionPad2d(3), nn.Conv2d(64, 3, 7), nn.Tanh())
    return G, patch_d(nn, 3, nn.InstanceNorm2d)


BUILDERS = {"toy2d": toy2d, "mlp_gan": mlp_gan, "dcgan28": dcgan28, "dcgan64": dcgan64,
            "pix2pix64": pix2pix64, "cyclegan64": cyclegan64}
IMAGE_TO_IMAGE = ("pix2pix64", "cyclegan64")  # builders that also take ``lib`` (for cat)


def build(lib, name: str):
    """(G, D) of a workload in ``lib``."""
    return BUILDERS[name](lib.nn, lib) if name in IMAGE_TO_IMAGE else BUILDERS[name](lib.nn)


def noise_shape(name: str) -> tuple:
    """The shape of G's input: noise, or for the image-to-image workloads the source image."""
    batch, zdim, shape = WORKLOADS[name]
    if zdim is None:
        return (batch,) + shape
    return (batch, zdim, 1, 1) if name == "dcgan64" else (batch, zdim)


def inputs(lib, name: str, device: str = "cpu", count: int = 1, seed: int = 0):
    """(a real batch, [count of G's inputs]) as float32 tensors: images in [-1, 1], and N(0, 1) noise or,
    for the image-to-image workloads, source images in [-1, 1]."""
    import numpy as np

    rng = np.random.default_rng(seed)
    batch, zdim, shape = WORKLOADS[name]
    real = lib.tensor(rng.uniform(-1, 1, (batch,) + shape).astype(np.float32), device=device)
    draw = rng.standard_normal if zdim else (lambda size: rng.uniform(-1, 1, size))
    return real, [lib.tensor(draw(noise_shape(name)).astype(np.float32), device=device) for _ in range(count)]


def d_output_shape(name: str) -> tuple:
    batch = WORKLOADS[name][0]
    return (batch,) + PATCH if name in IMAGE_TO_IMAGE else (batch, 1)


def make_step(lib, name: str, device: str = "cpu", capturable: bool = False):
    """Build G, D, two Adam(2e-4, (0.5, 0.999)) optimizers and return ``step(real, z)``.

    One step is the standard alternating update: a D update on a real and a (detached) fake
    batch, then a G update through D. The losses are BCE with logits, except for the two
    image-to-image workloads, where ``z`` is the source image: pix2pix's D judges (source, image)
    pairs and G adds 100 x L1 to the real image (Isola et al. 2017, Eq. 4); CycleGAN's pair uses
    the least-squares loss (Zhu et al. 2017, Sec. 4; cycle terms need the second pair).
    ``capturable=True`` keeps Adam's step count on the GPU, so the step can be captured in a
    CUDA graph (``tinygan.cuda.GraphedStep``). The step reads nothing on the host.
    """
    F = lib.nn.functional
    G, D = build(lib, name)
    G, D = G.to(device), D.to(device)
    opt_g = lib.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), capturable=capturable)
    opt_d = lib.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999), capturable=capturable)
    ones = lib.ones(*d_output_shape(name), device=device)
    zeros = lib.zeros(*d_output_shape(name), device=device)
    gan_loss = F.mse_loss if name == "cyclegan64" else F.binary_cross_entropy_with_logits

    def judge(z, image):  # pix2pix's D sees the source beside the image
        return D(lib.cat([z, image], 1)) if name == "pix2pix64" else D(image)

    def step(real, z):
        fake = G(z)
        opt_d.zero_grad()
        d_loss = gan_loss(judge(z, real), ones) + gan_loss(judge(z, fake.detach()), zeros)
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        g_loss = gan_loss(judge(z, fake), ones)
        if name == "pix2pix64":
            g_loss = g_loss + 100.0 * F.l1_loss(fake, real)
        g_loss.backward()
        opt_g.step()
        return d_loss, g_loss

    return step, G, D
