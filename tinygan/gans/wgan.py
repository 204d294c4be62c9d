"""WGAN (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN"), Algorithm 1.

    max_{||f||_L <= 1}  E_x[f(x)] - E_z[f(G(z))]                               (Eq. 3)

The critic f estimates the Earth-Mover distance; the Lipschitz constraint is enforced
crudely by clipping every weight to [-c, c] after each critic update. Paper defaults (images):
c = 0.01, RMSProp with lr 5e-5, n_critic = 5. On the 2D mixtures c = 0.01 leaves the small MLP
critic nearly linear, so G's points spread along the ring between the modes (as in Gulrajani
et al. 2017, Fig. 1): 8 of 8 ring8 modes but 9% high quality after 10000 steps. There c = 0.1 and
lr 5e-4 (87% after 5000 steps).
"""
from dataclasses import dataclass

from .. import backend
from .common import BY_DATA, GAN, GANConfig


@dataclass
class Config(GANConfig):
    loss: str = "wasserstein"
    optimizer: str = "rmsprop"
    n_critic: int = 5
    clip: float | None = None  # c (None: by data, below)


class WGAN(GAN):
    name = "wgan"
    Config = Config
    config_by_data = {"points": {**BY_DATA["points"], "lr_g": 5e-4, "lr_d": 5e-4, "clip": 0.1},
                      "images": {**BY_DATA["images"], "lr_g": 5e-5, "lr_d": 5e-5, "clip": 0.01}}

    def after_d_step(self):
        """w <- clip(w, -c, c) for every critic parameter (Algorithm 1, line 7)."""
        c = self.cfg.clip
        for p in self.D.parameters():
            backend.xp_of(p.data).clip(p.data, -c, c, out=p.data)


VARIANT = WGAN
