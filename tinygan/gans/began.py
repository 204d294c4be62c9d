"""BEGAN (Berthelot, Schumm & Metz 2017, "BEGAN: Boundary Equilibrium Generative Adversarial Networks").

D is an autoencoder with L1 reconstruction loss L(v) = |v - D(v)|. Its losses (Eq. 4):

    L_D = L(x) - k_t L(G(z_D))        L_G = L(G(z_G))
    k_{t+1} = k_t + lambda_k (gamma L(x) - L(G(z_G)))        (k clipped to [0, 1])

k_t keeps the equilibrium E[L(G(z))] = gamma E[L(x)]: gamma (the diversity ratio) trades
sample diversity for quality. M_global = L(x) + |gamma L(x) - L(G(z))| (Sec. 3.4.1) is a
convergence measure that is logged with the losses. Paper defaults: gamma = 0.5,
lambda_k = 0.001, k_0 = 0.
"""
from dataclasses import dataclass

from .. import losses
from .common import GAN, GANConfig, descend
from .ebgan import autoencoder_networks, energy_map


@dataclass
class Config(GANConfig):
    gamma: float = 0.5
    lambda_k: float = 0.001
    code: int = 32
    lr_g: float = 1e-4
    lr_d: float = 1e-4


class BEGAN(GAN):
    name = "began"
    Config = Config

    def __init__(self, cfg, data, device="cpu"):
        super().__init__(cfg, data, device)
        self.equilibrium = losses.BEGANEquilibrium(cfg.gamma, cfg.lambda_k)

    def build_networks(self):
        return autoencoder_networks(self.cfg, self.data.shape, self.data.kind)

    def energy(self, x):
        return losses.began_energy(x, self.D(x)[0])

    def d_step(self, real, y, rng):
        """L_D = L(x) - k_t L(G(z_D)) (Eq. 4), then k_t's update from the same energies."""
        fake = self.fake_batch(real.shape[0], None, rng)
        real_e, fake_e = self.energy(real), self.energy(fake)            # L(x), L(G(z_D)): (N,) each
        loss = losses.began_d_loss(real_e, fake_e, self.equilibrium.k)
        descend(loss, self.opt_d)
        m_global = self.equilibrium.update(real_e.mean().item(), fake_e.mean().item())
        return {"d_loss": loss.item(), "k": self.equilibrium.k, "m_global": m_global}

    def g_loss(self, fake, y, real):
        return losses.began_g_loss(self.energy(fake))

    def critic_map(self, points):
        return energy_map(self, points, self.energy)

    def extra_state(self):
        return {"equilibrium": self.equilibrium.state()}

    def load_extra_state(self, state):
        self.equilibrium.load_state(state["equilibrium"])


VARIANT = BEGAN
