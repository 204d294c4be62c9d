"""The original GAN (Goodfellow et al. 2014, "Generative Adversarial Nets").

    min_G max_D  V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]                (Eq. 1)

Algorithm 1: for each iteration, k steps of ascending V in D's parameters, then one step
of descending log(1 - D(G(z))) in G's. Early in training D rejects G's samples with
confidence and log(1 - D(G(z))) saturates, so the paper suggests G maximise log D(G(z))
instead (Sec. 3): the non-saturating loss, our default. ``loss="minimax"`` gives Eq. 1 as is.

On images the networks are the MLPs of the reference ``mlp_gan``; on 2D mixtures, MLPs of
width ``hidden``. Everything else is ``common.GAN``.
"""
from dataclasses import dataclass

from .common import GAN, GANConfig


@dataclass
class Config(GANConfig):
    loss: str = "nonsaturating"  # or "minimax": G descends log(1 - D(G(z))) as in Eq. 1
    arch: str = "mlp"
    n_critic: int = 1            # k in Algorithm 1 ("we used k = 1")


class VanillaGAN(GAN):
    name = "gan"
    Config = Config


VARIANT = VanillaGAN
