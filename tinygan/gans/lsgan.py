"""LSGAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks").

    min_D  1/2 E_x[(D(x) - b)^2] + 1/2 E_z[(D(G(z)) - a)^2]
    min_G  1/2 E_z[(D(G(z)) - c)^2]                                             (Eq. 2)

with the 0-1 coding a = 0, b = c = 1 (Eq. 9). A least-squares D keeps pulling fake samples
that lie on the right side of its boundary but far from the data, where the sigmoid
cross entropy would have saturated. Adam(2e-4, beta1 = 0.5) as in the paper.
"""
from dataclasses import dataclass

from .common import GAN, GANConfig


@dataclass
class Config(GANConfig):
    loss: str = "lsgan"


class LSGAN(GAN):
    name = "lsgan"
    Config = Config


VARIANT = LSGAN
