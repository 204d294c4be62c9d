"""Hinge-loss GAN (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, Eq. 16-17).

    L_D = E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))]
    L_G = -E_z[D(G(z))]

D is a soft-margin SVM between real and fake; G moves its samples along D's normal.
"""
from dataclasses import dataclass

from .common import GAN, GANConfig


@dataclass
class Config(GANConfig):
    loss: str = "hinge"


class HingeGAN(GAN):
    name = "hinge"
    Config = Config


VARIANT = HingeGAN
