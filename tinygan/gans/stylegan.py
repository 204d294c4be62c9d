"""A StyleGAN-style generator, grown progressively (Karras et al. 2019, "A Style-Based Generator
Architecture for Generative Adversarial Networks"; Karras et al. 2018, "Progressive Growing of GANs").

The networks are in ``style_nets.py``: z -> w by the mapping network, a learned 4 x 4 constant, and
per layer a style A(w) through AdaIN and per-pixel noise with a learned per-channel scale. Training:

    for each stage s = 0, 1, ... (4 x 4, 8 x 8, ...), stage_steps steps:
        alpha rises linearly from 0 to 1 over the first half (the new resolution fades in), then stays 1
        reals are averaged down to the stage's size and, while alpha < 1, blended with their own
        half-size version upsampled, as G's output is (ProGAN, Sec. 2)
        D step: the non-saturating logistic loss + R1 = gamma/2 E||grad D(x)||^2 on reals (StyleGAN, App. C)
        G step: -log D(G(z)), where with probability 0.9 two codes z1, z2 are mapped and the layers
                below a random crossover take w1, the rest w2 (style mixing, Sec. 3.1)
        w_avg <- the running mean of the mapped w (for the truncation trick)

``generate_styles(z, psi=0.7)`` draws with the truncation trick w' = w_avg + psi (w - w_avg)
(Sec. 3.1 and App. B); ``mix(z_coarse, z_fine, crossover)`` takes the coarse styles from one code and
the fine from another (Fig. 3). Adam lr 1e-3 with beta = (0, 0.99), as the authors' code for small images.
"""
from dataclasses import dataclass

import numpy as np

from .. import backend, losses
from ..tensor import Tensor, no_grad
from .common import GAN, GANConfig, RunDefaults, descend, frozen
from .style_nets import GrowingDiscriminator, StyleGenerator


@dataclass
class Config(GANConfig):
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 8
    fmap_base: int = 1024            # feature maps min(fmap_base / r, fmap_max) at resolution r
    fmap_max: int = 128
    stage_steps: int = 1000          # steps per resolution (half fading in, half stable)
    style_mixing: float = 0.9        # probability of mixing two codes in a training batch
    r1_gamma: float = 10.0           # R1's gamma (0 = off)
    w_avg_beta: float = 0.995        # the running mean of w for the truncation trick
    betas: tuple = (0.0, 0.99)


class StyleGAN(GAN):
    name = "stylegan"
    Config = Config
    config_by_data = {"images": {"lr_g": 1e-3, "lr_d": 1e-3}}
    # 4 stages (4 to 32 pixels) of 1000 steps and 2000 more at 32 x 32: README, "StyleGAN"
    run_defaults = {"images": RunDefaults(steps=6000, batch_size=32, sample_every=500)}

    def __init__(self, cfg, data, device="cpu"):
        super().__init__(cfg, data, device)
        self.step = 0                                    # steps taken: where the growing schedule is
        self.w_avg = np.zeros(cfg.w_dim, np.float32)

    def build_networks(self):
        c, size, cfg = self.data.shape[0], self.data.shape[-1], self.cfg
        G = StyleGenerator(size, c, cfg.z_dim, cfg.w_dim, cfg.mapping_layers, cfg.fmap_base, cfg.fmap_max)
        D = GrowingDiscriminator(size, c, cfg.fmap_base, cfg.fmap_max)
        return G, D

    # ---- the growing schedule ----------------------------------------------------------
    def stage_alpha(self, step: int | None = None) -> tuple[int, float]:
        """(stage, alpha) at ``step``: stage s works at 4 * 2^s pixels; alpha fades it in over half a stage."""
        step = self.step if step is None else step
        n = self.cfg.stage_steps
        stage = min(step // n, self.G.stages - 1)
        fade = (step - stage * n) / (n / 2)
        return stage, 1.0 if stage == 0 else min(1.0, fade)

    def reals_at(self, real: Tensor, stage: int, alpha: float) -> Tensor:
        """Reals as D sees them at this stage: at its size, blended like G's output while fading in; given
        back at the full size (nearest upsampling), as G's images are."""
        from ..nn import functional as F
        size, res = real.shape[-1], 4 * 2 ** stage
        x = F.avg_pool2d(real, size // res) if res < size else real
        if stage and alpha < 1.0:
            x = (1 - alpha) * F.interpolate(F.avg_pool2d(x, 2), scale_factor=2) + alpha * x
        return F.interpolate(x, scale_factor=size // res) if res < size else x

    # ---- styles --------------------------------------------------------------------------
    def per_layer(self, w: Tensor) -> Tensor:
        """One w for every synthesis layer: (N, w_dim) -> (N, num_layers, w_dim)."""
        G = self.G
        return w.reshape(len(w), 1, G.w_dim).expand(len(w), G.num_layers, G.w_dim)

    def crossover(self, first: Tensor, second: Tensor, layer: int) -> Tensor:
        """Styles from ``first`` below ``layer`` and from ``second`` from it on (style mixing, Sec. 3.1)."""
        mask = (np.arange(self.G.num_layers) >= layer).astype(np.float32).reshape(1, -1, 1)
        m = Tensor(backend.to_device(mask, self.device))
        return first * (1 - m) + second * m

    def styles(self, z: Tensor, rng: np.random.Generator | None = None) -> Tensor:
        """ws (N, num_layers, w_dim) for z; with ``rng``, mixed with a second code with probability
        style_mixing: the layers from a random crossover on take the second code's w."""
        ws = self.per_layer(self.G.mapping(z))
        if rng is not None and rng.random() < self.cfg.style_mixing:
            used = 2 * (self.stage_alpha()[0] + 1)                        # layers of the current stage
            layer = int(rng.integers(1, used)) if used > 1 else 1
            ws = self.crossover(ws, self.per_layer(self.G.mapping(self.sample_z(len(z), rng))), layer)
        return ws

    def generate(self, z: Tensor, y=None) -> Tensor:
        stage, alpha = self.stage_alpha()
        return self.G.synthesis(self.styles(z), stage, alpha)

    def generate_styles(self, z: Tensor, psi: float = 1.0, noise: list | None = None) -> Tensor:
        """Images with the truncation trick, w' = w_avg + psi (w - w_avg); fixed per-layer ``noise`` if given."""
        w_avg = Tensor(backend.to_device(self.w_avg, self.device))
        ws = w_avg + psi * (self.styles(z) - w_avg)
        return self.G.synthesis(ws, *self.stage_alpha(), noise=noise)

    def mix(self, z_coarse: Tensor, z_fine: Tensor, crossover: int) -> Tensor:
        """Layers below ``crossover`` styled by z_coarse, the rest by z_fine (Fig. 3), one image per pair."""
        return self.G.synthesis(self.crossover(self.styles(z_coarse), self.styles(z_fine), crossover),
                                *self.stage_alpha())

    # ---- the two updates ---------------------------------------------------------------------
    def d_step(self, real, y, rng):
        """Logistic loss on reals (at the stage's size) and mixed-style fakes, plus R1 on the reals."""
        stage, alpha = self.stage_alpha()
        real = self.reals_at(real, stage, alpha)
        with no_grad():
            fake = self.G.synthesis(self.styles(self.sample_z(real.shape[0], rng), rng), stage, alpha)

        def D(x):
            return self.D(x, stage, alpha)

        loss = losses.minimax_d_loss(D(real), D(fake))
        row = {"d_loss": loss.item()}
        if self.cfg.r1_gamma:
            r1 = losses.r1_penalty(D, real, self.cfg.r1_gamma)
            loss = loss + r1
            row["r1"] = r1.item()
        descend(loss, self.opt_d)
        return {**row, "stage": stage, "alpha": alpha}

    def g_step(self, real, y, rng):
        """-log D(G(z)) with style mixing; then w_avg follows the batch's mapped w."""
        stage, alpha = self.stage_alpha()
        z = self.sample_z(real.shape[0], rng)
        with frozen(self.D):
            loss = losses.nonsaturating_g_loss(self.D(self.G.synthesis(self.styles(z, rng), stage, alpha), stage, alpha))
            descend(loss, self.opt_g)
        with no_grad():
            w_mean = backend.to_numpy(self.G.mapping(z).data).mean(0)
        b = self.cfg.w_avg_beta
        self.w_avg = (b * self.w_avg + (1 - b) * w_mean).astype(np.float32)
        self.step += 1
        return {"g_loss": loss.item()}

    def extra_state(self) -> dict:
        return {"step": self.step, "w_avg": [float(v) for v in self.w_avg]}

    def load_extra_state(self, state: dict) -> None:
        self.step = int(state["step"])
        self.w_avg = np.asarray(state["w_avg"], np.float32)


VARIANT = StyleGAN
