"""WGAN (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN"), Algorithm 1.

    max_{||f||_L <= 1}  E_x[f(x)] - E_z[f(G(z))]                               (Eq. 3)

The critic f estimates the Earth-Mover distance; the Lipschitz constraint is enforced
crudely by clipping every weight to [-c, c] after each critic update. Paper defaults:
c = 0.01, RMSProp with lr 5e-5, n_critic = 5.
"""
from dataclasses import dataclass

from .. import backend
from .common import GAN, GANConfig


@dataclass
class Config(GANConfig):
    loss: str = "wasserstein"
    optimizer: str = "rmsprop"
    lr_g: float = 5e-5
    lr_d: float = 5e-5
    n_critic: int = 5
    clip: float = 0.01


class WGAN(GAN):
    name = "wgan"
    Config = Config

    def after_d_step(self):
        """w <- clip(w, -c, c) for every critic parameter (Algorithm 1, line 7)."""
        c = self.cfg.clip
        for p in self.D.parameters():
            backend.xp_of(p.data).clip(p.data, -c, c, out=p.data)


VARIANT = WGAN
