"""SPADE / GauGAN (Park et al. 2019, "Semantic Image Synthesis with Spatially-Adaptive Normalization").

G draws a photo from a segmentation map m alone: every normalization layer of its residual blocks
is a SPADE layer (``nn.SPADE``) whose per-pixel scale and shift are computed from m, so the layout
is not washed out by normalization the way it is when m is only G's input (Sec. 3). D is a
two-scale PatchGAN on (m, image). The losses (Sec. 4 and App. A, after pix2pixHD):

    L_D = E[max(0, 1 - D(m, x))] + E[max(0, 1 + D(m, G(m)))]                  (hinge, per scale)
    L_G = -E[D(m, G(m))] + lambda_FM sum_k sum_i (1/N_i) ||D_k^(i)(m, x) - D_k^(i)(m, G(m))||_1

with lambda_FM = 10, the feature matching summed over D's layers i and averaged over the scales k
(Wang et al. 2018, Eq. 4). Adam with beta = (0, 0.9), lr 1e-4 for G and 4e-4 for D (two time
scales). Left out: the VGG perceptual loss (it needs ImageNet weights), spectral norm, and the
image encoder (the VAE that gives G a style).
"""
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps

from .. import backend, losses, metrics
from ..ops.shape import cat
from ..tensor import Tensor, no_grad
from .common import AT_LEAST, GAN, GANConfig, RunDefaults, descend, frozen
from .image_nets import MultiscalePatchGAN, SPADEGenerator


@dataclass
class Config(GANConfig):
    lambda_fm: float = 10.0          # feature matching's weight
    base: int = 64                   # nf: G's last width and D's first
    spade_hidden: int = 128          # channels inside each SPADE layer
    scales: int = 2                  # D's scales
    patch_layers: int = 3            # each scale's PatchGAN
    betas: tuple = (0.0, 0.9)
    loss: str = "hinge"


class SPADE(GAN):
    name = "spade"
    Config = Config
    at_least = {**AT_LEAST, "z_dim": 0, "scales": 1}
    config_by_data = {"pairs": {"z_dim": 0, "lr_g": 1e-4, "lr_d": 4e-4}}
    run_defaults = {"pairs": RunDefaults(steps=5000, batch_size=4, sample_every=500)}

    def build_networks(self):
        c, size, cfg = self.data.shape[0], self.data.shape[-1], self.cfg
        G = SPADEGenerator(size, self.label_nc, c, cfg.base, cfg.spade_hidden)
        D = MultiscalePatchGAN(self.label_nc + c, cfg.base, cfg.patch_layers, cfg.scales)
        return G, D

    @property
    def label_nc(self) -> int:
        """The classes of the maps G reads (the facades: 12), the channels of its one-hot input."""
        if not self.data.num_classes:
            raise ValueError("spade: trains on one-hot class maps (--dataset facades-classes), not image pairs")
        return self.data.num_classes

    def generate(self, seg: Tensor, y=None) -> Tensor:
        return self.G(seg)

    def judge(self, seg: Tensor, image: Tensor) -> list:
        """Per scale: D's features and, last, its patch logits, for the pair (m, image)."""
        return self.D(cat([seg, image], 1))

    def d_step(self, real, seg, rng):
        """Hinge loss on every scale's logits, summed over the scales."""
        with no_grad():
            fake = self.G(seg)
        d_fn, _ = losses.LOSSES[self.cfg.loss]
        loss = sum(d_fn(r[-1], f[-1]) for r, f in zip(self.judge(seg, real), self.judge(seg, fake)))
        descend(loss, self.opt_d)
        return {"d_loss": loss.item()}

    def g_step(self, real, seg, rng):
        """-D(m, G(m)) summed over scales, plus lambda_FM times the feature matching (mean L1 per layer)."""
        _, g_fn = losses.LOSSES[self.cfg.loss]
        with frozen(self.D):
            fake = self.G(seg)
            fake_out = self.judge(seg, fake)
            with no_grad():
                real_out = self.judge(seg, real)
            adversarial = sum(g_fn(f[-1]) for f in fake_out)
            fm = sum(losses.l1_loss(f_i, r_i) for f, r in zip(fake_out, real_out)
                     for f_i, r_i in zip(f[:-1], r[:-1])) / len(fake_out)
            loss = adversarial + self.cfg.lambda_fm * fm
            descend(loss, self.opt_g)
        return {"g_loss": adversarial.item(), "fm_loss": fm.item()}

    def triples(self, fixed) -> np.ndarray:
        """(the class map in colour, G(map), photo) for the fixed pairs: (n, 3, 3, H, W)."""
        from ..train import generate_numpy
        seg, photo = fixed
        return np.stack([colour_classes(backend.to_numpy(seg.data)), generate_numpy(self, seg),
                         backend.to_numpy(photo.data)], 1)

    def test_scores(self, seg: np.ndarray, photos: np.ndarray) -> dict:
        """How well the output follows the map: for each image and class present, the mean colour of
        G's pixels of that class against the photo's (mean absolute difference over RGB, [-1, 1] units),
        averaged over classes and images; also the L1 to the photos and the sharpness."""
        from ..train import generate_numpy
        fake = generate_numpy(self, Tensor(backend.to_device(seg, self.device)))
        return {"class_colour_error": metrics.class_colour_error(fake, photos, seg),
                "l1": float(np.abs(fake - photos).mean()), "sharpness": metrics.sharpness(fake),
                "real_sharpness": metrics.sharpness(photos), "n": len(seg)}


def colour_classes(seg: np.ndarray) -> np.ndarray:
    """One-hot maps (N, K, H, W) drawn in colour (N, 3, H, W) in [-1, 1]: class k as jet(k / (K - 1))."""
    k = seg.shape[1]
    table = colormaps["jet"](np.linspace(0, 1, k))[:, :3].astype(np.float32) * 2 - 1     # (K, 3)
    return np.einsum("nkhw,kc->nchw", seg, table)


VARIANT = SPADE
