"""DCGAN (Radford, Metz & Chintala 2016, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks").

The loss is the original GAN's (non-saturating); what is new is the architecture (Sec. 3):
strided convolutions instead of pooling, transposed convolutions in G, batch norm in both
networks (not in G's output nor D's input layer), ReLU in G with Tanh at the output,
LeakyReLU(0.2) in D, weights drawn from N(0, 0.02), Adam(2e-4, beta1 = 0.5) (Sec. 4).
The networks are ``common.dcgan_networks`` (28x28 images).
"""
from dataclasses import dataclass

from .common import GAN, GANConfig


@dataclass
class Config(GANConfig):
    arch: str = "dcgan"
    z_dim: int = 100
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple = (0.5, 0.999)


class DCGAN(GAN):
    name = "dcgan"
    Config = Config


VARIANT = DCGAN
