"""The GAN zoo: one short file per variant, each a small difference from ``common.GAN``.

``VARIANTS`` is the one table of what exists: name -> (module, default dataset, summary).
Each module defines its paper's ``Config`` and a ``VARIANT`` class.
"""
from __future__ import annotations

import importlib

VARIANTS = {
    "gan": ("gan", "ring8", "Goodfellow et al. 2014: minimax game, saturating or non-saturating G loss"),
    "dcgan": ("dcgan", "mnist", "Radford et al. 2016: convolutional G and D with batch norm"),
    "cgan": ("cgan", "mnist", "Mirza & Osindero 2014: G and D conditioned on the class label"),
    "infogan": ("infogan", "mnist", "Chen et al. 2016: maximise I(c; G(z, c)) with a Q head on D's trunk"),
    "sgan": ("sgan", "mnist", "Salimans et al. 2016: semi-supervised, D a K+1-class classifier, 100 labels, G by FM"),
    "lsgan": ("lsgan", "ring8", "Mao et al. 2017: least-squares losses"),
    "wgan": ("wgan", "ring8", "Arjovsky et al. 2017: Wasserstein critic with weight clipping"),
    "wgan_gp": ("wgan_gp", "ring8", "Gulrajani et al. 2017: Wasserstein critic with a gradient penalty"),
    "hinge": ("hinge", "ring8", "Lim & Ye 2017 / Miyato et al. 2018: hinge loss"),
    "fgan": ("fgan", "ring8", "Nowozin et al. 2016: any f-divergence (--divergence) through its variational bound"),
    "ebgan": ("ebgan", "ring8", "Zhao et al. 2017: autoencoder D as an energy, margin loss, pull-away term"),
    "began": ("began", "ring8", "Berthelot et al. 2017: autoencoder D, L1 energy, k_t equilibrium control"),
    "consensus": ("consensus", "ring8", "Mescheder et al. 2017: simultaneous steps on L_D, L_G + gamma/2 ||v||^2"),
    "unrolled": ("unrolled", "ring8", "Metz et al. 2017: G's loss through k unrolled D updates"),
    "pix2pix": ("pix2pix", "facades", "Isola et al. 2017: U-Net G, PatchGAN D on (source, image), cGAN + 100 L1"),
    "cyclegan": ("cyclegan", "mnist-fashion", "Zhu et al. 2017: two ResNet Gs, two PatchGANs, LSGAN + 10 cycle L1"),
    "stylegan": ("stylegan", "mnist32", "Karras et al. 2019: mapping net, AdaIN styles, noise; grown 4 -> 32 (ProGAN)"),
    "spade": ("spade", "facades-classes", "Park et al. 2019: SPADE ResBlk G from a class map, 2-scale PatchGAN, hinge + FM"),
}


def get_variant(name: str):
    """The GAN class of variant ``name`` (ValueError listing the valid names otherwise)."""
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; choose from: {', '.join(VARIANTS)}")
    module = importlib.import_module(f"{__name__}.{VARIANTS[name][0]}")
    return module.VARIANT
