"""EBGAN (Zhao, Mathieu & LeCun 2017, "Energy-based Generative Adversarial Network").

D is an autoencoder and its energy is the reconstruction error D(x) = ||Dec(Enc(x)) - x||^2:

    L_D = D(x) + [m - D(G(z))]^+          L_G = D(G(z)) + lambda_PT * f_PT(Enc(G(z)))    (Eq. 1-2, 4)

Real data is pushed to low energy, fakes up to the margin m. The pull-away term f_PT
(Sec. 2.4) is the mean squared cosine similarity of the batch's encodings: it pushes G's
samples apart in D's code space, against mode collapse.
"""
from dataclasses import dataclass, replace

import numpy as np

from .. import backend, losses, nn
from ..tensor import Tensor, no_grad
from .common import GAN, GANConfig, Generator, normal_init


@dataclass
class Config(GANConfig):
    margin: float = 1.0        # m; scale with the data's energy (mean squared error per example)
    pullaway_weight: float = 0.1
    code: int = 32             # autoencoder bottleneck
    lr_g: float = 1e-3
    lr_d: float = 1e-3


class AutoencoderD(nn.Module):
    """D(x) = (reconstruction, code): an encoder and a decoder (points: MLPs, images: convs)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x, y=None):
        code = self.encoder(x)
        return self.decoder(code), code


def autoencoder_networks(cfg: GANConfig, shape: tuple, kind: str):
    """G and an autoencoder D for the data's shape (2D points or 28x28 images)."""
    if kind == "points":
        d, h, hd = shape[0], cfg.hidden, cfg.d_hidden or cfg.hidden
        g = nn.Sequential(nn.Linear(cfg.z_dim, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, d))
        enc = nn.Sequential(nn.Linear(d, hd), nn.LeakyReLU(0.2), nn.Linear(hd, cfg.code))
        dec = nn.Sequential(nn.Linear(cfg.code, hd), nn.LeakyReLU(0.2), nn.Linear(hd, d))
        return Generator(g), AutoencoderD(enc, dec)
    c = shape[0]
    g = nn.Sequential(nn.Linear(cfg.z_dim, 64 * 7 * 7), nn.Unflatten(1, (64, 7, 7)), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),   # (N, 32, 14, 14)
                      nn.ConvTranspose2d(32, c, 4, 2, 1), nn.Tanh())                        # (N, C, 28, 28)
    enc = nn.Sequential(nn.Conv2d(c, 32, 4, 2, 1), nn.LeakyReLU(0.2),                      # (N, 32, 14, 14)
                        nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),                     # (N, 64, 7, 7)
                        nn.Flatten(), nn.Linear(64 * 7 * 7, cfg.code))
    dec = nn.Sequential(nn.Linear(cfg.code, 64 * 7 * 7), nn.Unflatten(1, (64, 7, 7)), nn.ReLU(),
                        nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
                        nn.ConvTranspose2d(32, c, 4, 2, 1), nn.Tanh())
    G, D = Generator(g), AutoencoderD(enc, dec)
    normal_init(G, 0.02)
    return G, D


def energy_map(gan: GAN, points: np.ndarray, energy) -> np.ndarray:
    """Minus the energy of 2D points: high where the autoencoder D judges the data real."""
    x = Tensor(backend.to_device(points.astype(np.float32), gan.device))
    with no_grad():
        return -backend.to_numpy(energy(x).data)


class EBGAN(GAN):
    name = "ebgan"
    Config = Config
    # 2D runs take 10000 steps (ring8: 77-83% high quality after 5000 steps, 93% after 10000)
    run_defaults = {**GAN.run_defaults, "points": replace(GAN.run_defaults["points"], steps=10000, sample_every=1000)}

    def build_networks(self):
        return autoencoder_networks(self.cfg, self.data.shape, self.data.kind)

    def energy(self, x):
        reconstruction, code = self.D(x)
        return losses.ebgan_energy(x, reconstruction), code

    def d_loss(self, real, fake, y, rng):
        return losses.ebgan_d_loss(self.energy(real)[0], self.energy(fake)[0], self.cfg.margin)

    def g_loss(self, fake, y, real):
        energy, code = self.energy(fake)
        return losses.ebgan_g_loss(energy) + self.cfg.pullaway_weight * losses.pullaway_term(code)

    def critic_map(self, points):
        return energy_map(self, points, lambda x: self.energy(x)[0])


VARIANT = EBGAN
