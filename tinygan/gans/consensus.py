"""Consensus optimization (Mescheder, Nowozin & Geiger 2017, "The Numerics of GANs", Sec. 3-4, Alg. 2).

A GAN is a game, and simultaneous gradient descent follows its vector field

    v(phi, theta) = (grad_phi L_D, grad_theta L_G)            (phi: D's weights, theta: G's)

Near an equilibrium the Jacobian of v has eigenvalues with a large imaginary part, and the
iteration circles around the equilibrium or away from it (on min_x max_y xy it spirals out:
``examples/theory/bilinear_game.py``). Consensus optimization lets both players also descend the
common regularizer L = 1/2 ||v||^2, whose gradient J^T v pulls towards points where v vanishes:

    phi   <- phi   - h (grad_phi L_D     + gamma grad_phi L)
    theta <- theta - h (grad_theta L_G   + gamma grad_theta L),      L = 1/2 ||v||^2     (Alg. 2)

Both players step at once, from the same weights (simultaneous, not alternating). grad L is a
derivative of gradients: the engine's double backward (``tinygan.grad(..., create_graph=True)``).
gamma = 0 is plain simultaneous gradient descent, the baseline the paper compares with.

Defaults: the authors' 2D experiment (their notebook ``mog-eigval-dist``): the ring of 8 Gaussians
(std 0.01), G and D 4 x 16 ReLU units, z of 16 dimensions, batch 512, RMSProp lr 1e-4 (TensorFlow's
decay 0.9), gamma = 10, the non-saturating loss, 50000 steps. Differences: D's units are
LeakyReLU(0.2) (as all of tinygan's point critics); TensorFlow adds RMSProp's eps under the root.
"""
from dataclasses import dataclass

from .. import optim
from ..tensor import Tensor, grad
from .common import GAN, GANConfig, RunDefaults


@dataclass
class Config(GANConfig):
    gamma: float = 10.0          # weight of L = 1/2 ||v||^2 (0: simultaneous gradient descent)
    z_dim: int = 16
    hidden: int = 16
    g_layers: int = 4
    d_layers: int = 4
    optimizer: str = "rmsprop"
    lr_g: float = 1e-4
    lr_d: float = 1e-4


class ConsensusGAN(GAN):
    name = "consensus"
    Config = Config
    config_by_data = {"points": {}}             # the 2D experiment of the paper: its own fields above
    run_defaults = {"points": RunDefaults(steps=50000, batch_size=512, sample_every=5000)}

    def __init__(self, cfg, data, device="cpu"):
        if cfg.n_critic != 1:
            raise ValueError(f"consensus: both players take one step together; n_critic must be 1, got {cfg.n_critic}")
        super().__init__(cfg, data, device)
        self._g_loss = float("nan")

    def make_optimizer(self, params, lr: float):
        return optim.RMSprop(params, lr=lr, alpha=0.9)   # TensorFlow's RMSProp decay, as the authors'

    def d_step(self, real, y, rng):
        """One simultaneous step of both players (Alg. 2). The trainer's G step only reports its loss."""
        d_params, g_params = list(self.D.parameters()), list(self.G.parameters())
        fake = self.generate(self.sample_z(real.shape[0], rng))          # one fake batch for both losses
        d_loss, g_loss = self.d_loss(real, fake, None, rng), self.g_loss(fake, None, real)
        keep = self.cfg.gamma > 0                                        # L needs the gradients' graphs
        v = grad(d_loss, d_params, create_graph=keep, retain_graph=True) + grad(g_loss, g_params, create_graph=keep)
        step = list(v)
        if keep:
            L = 0.5 * sum((g * g).sum() for g in v)                      # 1/2 ||v||^2
            step = [g + self.cfg.gamma * jv for g, jv in zip(v, grad(L, d_params + g_params))]
        for p, g in zip(d_params + g_params, step):
            p.grad = Tensor(g.data)                                      # a leaf: no graph kept
        self.opt_d.step()
        self.opt_g.step()
        self._g_loss = g_loss.item()
        return {"d_loss": d_loss.item()} | ({"consensus_L": L.item()} if keep else {})

    def g_step(self, real, y, rng):
        """Nothing to do: G moved with D in the simultaneous step."""
        return {"g_loss": self._g_loss}


VARIANT = ConsensusGAN
