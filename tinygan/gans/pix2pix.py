"""pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks").

G translates a source image x (a facade's label map) into a target y (its photo); D judges
(source, image) pairs, patch by patch. The objective (Eq. 1, 3, 4):

    L_cGAN(G, D) = E_{x,y}[log D(x, y)] + E_x[log(1 - D(x, G(x)))]
    L_L1(G)      = E_{x,y}[ ||y - G(x)||_1 ]
    G* = arg min_G max_D  L_cGAN(G, D) + lambda L_L1(G),        lambda = 100

L1 makes G right on average (low frequencies); the PatchGAN D only has to judge whether each
70 x 70 patch looks real, which pushes G towards sharp high frequencies (Sec. 3.2.2). As the
authors do, D's objective is halved (Sec. 3.3: D learns more slowly relative to G), and G maximises
log D(x, G(x)) (the non-saturating form). G has no z: its noise is the decoder's dropout.

``lambda_gan = 0`` trains the same U-Net on L1 alone (the paper's "L1" row in Table 1).
"""
from dataclasses import dataclass

import numpy as np

from .. import backend, losses, metrics
from ..ops.shape import cat
from ..tensor import Tensor, no_grad
from .common import AT_LEAST, GAN, GANConfig, RunDefaults, descend, frozen
from .image_nets import UNet, patch_discriminator


@dataclass
class Config(GANConfig):
    lambda_l1: float = 100.0        # lambda in Eq. 4
    lambda_gan: float = 1.0         # the weight of L_cGAN in G's loss; 0 = the L1-only baseline
    base: int = 64                  # G's and D's first widths (ngf, ndf)
    patch_layers: int = 3           # 3 = the 70 x 70 PatchGAN
    norm: str = "instance"          # batch norm at batch size 1 in the paper (see image_nets)
    dropout: float = 0.5            # in the three innermost decoder layers


class Pix2Pix(GAN):
    name = "pix2pix"
    Config = Config
    at_least = {**AT_LEAST, "z_dim": 0}
    config_by_data = {"pairs": {"z_dim": 0, "lr_g": 2e-4, "lr_d": 2e-4}}   # Adam 2e-4, betas (0.5, 0.999)
    # The paper: batch 1 for 200 epochs of the 400 facades (80,000 steps). Here batch 4 (2.5x the
    # images per second on a 2-core CPU) and 5000 steps, 50 epochs: README, "pix2pix".
    run_defaults = {"pairs": RunDefaults(steps=5000, batch_size=4, sample_every=500)}

    def build_networks(self):
        c, size = self.data.shape[0], self.data.shape[-1]
        G = UNet(size, c, c, self.cfg.base, self.cfg.norm, self.cfg.dropout)
        D = patch_discriminator(2 * c, self.cfg.base, self.cfg.patch_layers, self.cfg.norm)
        return G, D

    def generate(self, source: Tensor, y=None) -> Tensor:
        """G(x): the translation of a batch of source images."""
        return self.G(source)

    def judge(self, source: Tensor, image: Tensor) -> Tensor:
        """D(x, y): one logit per patch of the pair, the source stacked on the image as channels."""
        return self.D(cat([source, image], 1))

    def d_step(self, real, source, rng):
        """max_D L_cGAN, halved: real pairs (x, y) towards 1, (x, G(x)) towards 0."""
        with no_grad():
            fake = self.G(source)
        loss = 0.5 * losses.minimax_d_loss(self.judge(source, real), self.judge(source, fake))
        descend(loss, self.opt_d)
        return {"d_loss": loss.item()}

    def g_step(self, real, source, rng):
        """min_G  -log D(x, G(x)) + lambda ||y - G(x)||_1  (Eq. 4, non-saturating)."""
        with frozen(self.D):
            fake = self.G(source)
            adversarial = losses.nonsaturating_g_loss(self.judge(source, fake))
            l1 = losses.l1_loss(fake, real)
            loss = self.cfg.lambda_gan * adversarial + self.cfg.lambda_l1 * l1
            descend(loss, self.opt_g)
        return {"g_loss": adversarial.item(), "l1_loss": l1.item()}

    def triples(self, fixed) -> np.ndarray:
        """(source, G(source), target) for the fixed pairs of the sample frames: (n, 3, C, H, W)."""
        from ..train import generate_numpy
        source, target = fixed
        return np.stack([backend.to_numpy(source.data), generate_numpy(self, source), backend.to_numpy(target.data)], 1)

    def test_scores(self, source: np.ndarray, target: np.ndarray, batch: int = 16,
                    class_maps: np.ndarray | None = None) -> dict:
        """How G does on held-out pairs: the L1 to the real photos, the sharpness of its outputs
        (``metrics.sharpness``), how often the PatchGAN tells real patches from G's, and with the
        sources' one-hot ``class_maps``, SPADE's per-class colour error (``metrics.class_colour_error``)."""
        from ..train import generate_numpy
        fake = generate_numpy(self, Tensor(backend.to_device(source, self.device)))
        right = []                                       # per image: D right on its real and its fake patches
        self.D.eval()
        with no_grad():
            for i in range(0, len(source), batch):
                x, y, g = (Tensor(backend.to_device(a[i:i + batch], self.device)) for a in (source, target, fake))
                right.append((backend.to_numpy(self.judge(x, y).data) > 0).mean(axis=(1, 2, 3)) +
                             (backend.to_numpy(self.judge(x, g).data) < 0).mean(axis=(1, 2, 3)))
        self.D.train()
        extra = {} if class_maps is None else {"class_colour_error": metrics.class_colour_error(fake, target, class_maps)}
        return {**extra, "l1": float(np.abs(fake - target).mean()), "sharpness": metrics.sharpness(fake),
                "real_sharpness": metrics.sharpness(target),
                "patch_accuracy": float(np.concatenate(right).mean() / 2), "n": len(source)}


VARIANT = Pix2Pix
