"""Conditional GAN (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets").

    min_G max_D  E_x[log D(x | y)] + E_z[log(1 - D(G(z | y) | y))]              (Eq. 2)

Both networks see the class label y: G gets an embedding of y concatenated to z, D gets it
concatenated to its input (as K constant channels for images). The sample grid's row r
shows class r, and ``python -m tinygan sample RUN --label k`` draws class k.
"""
from dataclasses import dataclass, replace

from .common import GAN, GANConfig


@dataclass
class Config(GANConfig):
    conditional: bool = True
    z_dim: int = 100


class ConditionalGAN(GAN):
    name = "cgan"
    Config = Config
    # images: 4000 steps. MNIST samples classified as the requested digit (tinygan eval, seed 0):
    # 92% after 2000 steps, 95.2% after 3000, 96.6% after 3500 (README, "Scoring image runs")
    run_defaults = {**GAN.run_defaults, "images": replace(GAN.run_defaults["images"], steps=4000)}


VARIANT = ConditionalGAN
