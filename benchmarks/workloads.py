"""The three reference GAN workloads, written once for any library with PyTorch's API.

``lib`` is either ``tinygan`` or ``torch``: both have ``lib.nn`` layers with the same names
and arguments, so the same function builds the same networks in either, and a step timed
in one can be compared with the step timed in the other.
"""
from __future__ import annotations

WORKLOADS = {
    # name: (batch size, noise dim, image shape or feature count)
    "mlp_gan": (100, 100, (784,)),
    "dcgan28": (128, 100, (1, 28, 28)),
    "dcgan64": (128, 100, (3, 64, 64)),
}


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


BUILDERS = {"mlp_gan": mlp_gan, "dcgan28": dcgan28, "dcgan64": dcgan64}


def noise_shape(name: str) -> tuple:
    batch, zdim, _ = WORKLOADS[name]
    return (batch, zdim, 1, 1) if name == "dcgan64" else (batch, zdim)


def make_step(lib, name: str, device: str = "cpu", capturable: bool = False):
    """Build G, D, two Adam(2e-4, (0.5, 0.999)) optimizers and return ``step(real, z)``.

    One step is the standard alternating update with BCE-with-logits losses:
    a D update on a real and a (detached) fake batch, then a G update through D.
    ``capturable=True`` keeps Adam's step count on the GPU, so the step can be captured in a
    CUDA graph (``tinygan.cuda.GraphedStep``). The step reads nothing on the host.
    """
    nn, F = lib.nn, lib.nn.functional
    G, D = BUILDERS[name](nn)
    G, D = G.to(device), D.to(device)
    opt_g = lib.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), capturable=capturable)
    opt_d = lib.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999), capturable=capturable)
    batch = WORKLOADS[name][0]
    ones = lib.ones(batch, 1, device=device)
    zeros = lib.zeros(batch, 1, device=device)

    def step(real, z):
        fake = G(z)
        opt_d.zero_grad()
        d_loss = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
        g_loss.backward()
        opt_g.step()
        return d_loss, g_loss

    return step, G, D
