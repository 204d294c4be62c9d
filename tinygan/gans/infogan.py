"""InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by Information
Maximizing Generative Adversarial Nets").

G's input is split into noise z and a latent code c; G is asked to keep c recoverable from
its output by maximising a variational lower bound L_I(G, Q) on the mutual information:

    min_{G,Q} max_D  V(D, G) - lambda L_I(G, Q)                                  (Eq. 5)
    L_I = E_{c ~ P(c), x ~ G(z, c)}[log Q(c | x)] + H(c)                         (Eq. 4)

Q is a small head on D's trunk (Sec. 6). On MNIST the code is one 10-way categorical c_1
(digit class, without labels) and two continuous c_2, c_3 ~ U(-1, 1) (width, slant),
lambda = 1 (Sec. 7.1). log Q is a cross entropy for c_1 and a Gaussian log-likelihood with
fixed unit variance for c_2, c_3. L_I is added to G's loss; the Q head has its own
optimizer (D's trunk is trained by D's loss only).
"""
from dataclasses import dataclass, replace

import numpy as np

from .. import backend, losses, nn, optim
from ..tensor import Tensor
from .common import GAN, Discriminator, GANConfig, Generator, descend, frozen, normal_init


@dataclass
class Config(GANConfig):
    z_dim: int = 62            # noise, as in the paper's MNIST model
    categories: int = 10       # one categorical code c_1
    continuous: int = 2        # continuous codes c_2, c_3 ~ U(-1, 1)
    info_weight: float = 1.0   # lambda
    lr_g: float = 1e-3         # Sec. 7.1: 1e-3 for G (and Q), 2e-4 for D
    lr_d: float = 2e-4
    paper_networks: bool = True  # images: the paper's MNIST networks (Appendix C.1); False: dcgan.py's pair


class InfoGAN(GAN):
    name = "infogan"
    Config = Config
    # images: batch 128, as the authors' code. MNIST code purity (tinygan eval, seed 0, paper networks) after
    # 2000 steps: 94% with batch 128, 65% with batch 64 (README, "Scoring image runs")
    run_defaults = {**GAN.run_defaults, "images": replace(GAN.run_defaults["images"], batch_size=128)}

    def __init__(self, cfg, data, device="cpu"):
        super().__init__(cfg, data, device)
        width, paper = self.D.head.in_features, self.uses_paper_networks()
        self.Q = nn.Sequential(nn.Linear(width, 128), *([nn.BatchNorm1d(128)] if paper else []), nn.LeakyReLU(0.2),
                               nn.Linear(128, cfg.categories + cfg.continuous))
        if paper:
            normal_init(self.Q, 0.02)
        self.Q.to(device)
        self.opt_q = optim.Adam(self.Q.parameters(), lr=cfg.lr_g, betas=tuple(cfg.betas))

    def uses_paper_networks(self) -> bool:
        return self.cfg.paper_networks and self.data.kind == "images" and tuple(self.data.shape) == (1, 28, 28)

    def build_networks(self):
        """On MNIST-sized images, the paper's networks (Chen et al. 2016, Appendix C.1, Table 1):

            G: z (74) -> FC 1024 BN ReLU -> FC 7x7x128 BN ReLU -> 4x4 upconv 64 s2 BN ReLU -> 4x4 upconv 1 s2 (tanh)
            D: 4x4 conv 64 s2 lReLU -> 4x4 conv 128 s2 BN lReLU -> FC 1024 BN lReLU -> FC 1 (D) / Q head
        (tanh for the data in [-1, 1]); DCGAN's N(0, 0.02) initialisation. Otherwise dcgan.py's or the
        point MLPs, as every variant."""
        if not self.uses_paper_networks():
            return super().build_networks()
        g = nn.Sequential(
            nn.Linear(self.g_input_dim(), 1024), nn.BatchNorm1d(1024), nn.ReLU(),
            nn.Linear(1024, 128 * 7 * 7), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),   # (N, 64, 14, 14)
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())                       # (N, 1, 28, 28)
        trunk = nn.Sequential(
            nn.Conv2d(self.cfg.pack, 64, 4, 2, 1), nn.LeakyReLU(0.1),              # (N, 64, 14, 14)
            nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.1),  # (N, 128, 7, 7)
            nn.Flatten(), nn.Linear(128 * 7 * 7, 1024), nn.BatchNorm1d(1024), nn.LeakyReLU(0.1))
        G, D = Generator(g), Discriminator(trunk, nn.Linear(1024, 1), pack=self.cfg.pack)
        normal_init(G, 0.02)
        normal_init(D, 0.02)
        return G, D

    def g_input_dim(self) -> int:
        """G's input is [z, one_hot(c_1), c_2, c_3]."""
        return self.cfg.z_dim + self.cfg.categories + self.cfg.continuous

    def sample_z(self, n, rng):
        """[z ~ N(0, I), one_hot(c_1 ~ Cat(K)), c_2.. ~ U(-1, 1)]: the codes ride along in G's input."""
        k = self.cfg.categories
        z = rng.standard_normal((n, self.cfg.z_dim))
        one_hot = np.eye(k)[rng.integers(0, k, n)]
        cont = rng.uniform(-1, 1, (n, self.cfg.continuous))
        return Tensor(backend.to_device(np.concatenate([z, one_hot, cont], 1).astype(np.float32), self.device))

    def latent_classes(self, z):
        """c_1 of each noise vector: the argmax of its one-hot part (N,)."""
        zd = self.cfg.z_dim
        return backend.to_numpy(z.data[:, zd:zd + self.cfg.categories]).argmax(1)

    def info_loss(self, fake, z):
        """-L_I up to the constant H(c): cross entropy of c_1 plus Gaussian NLL of c_2, c_3."""
        k, zd = self.cfg.categories, self.cfg.z_dim
        q = self.Q(self.D.features(fake))
        codes = self.latent_classes(z)
        return (losses.infogan_categorical_loss(q[:, :k], codes)
                + losses.infogan_continuous_loss(q[:, k:], None, z[:, zd + k:]))

    def g_step(self, real, y, rng):
        """G and Q descend V's G term + lambda (-L_I) together (Eq. 5), through a frozen D."""
        z = self.sample_z(real.shape[0], rng)
        with frozen(self.D):
            fake = self.generate(z)
            adversarial, info = self.g_loss(fake, None, real), self.info_loss(fake, z)
            descend(adversarial + self.cfg.info_weight * info, self.opt_g, self.opt_q)
        return {"g_loss": adversarial.item(), "info_loss": info.item()}

    def modules(self):
        return {**super().modules(), "Q": self.Q}

    def optimizers(self):
        return {**super().optimizers(), "opt_q": self.opt_q}


VARIANT = InfoGAN
