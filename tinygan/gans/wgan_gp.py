"""WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"), Algorithm 1.

    L = E[D(G(z))] - E[D(x)] + lambda E[(||grad_x_hat D(x_hat)||_2 - 1)^2]       (Eq. 3)

with x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per example. The penalty needs the
gradient of D's output *as a function* of D's weights: ``tinygan.grad(...,
create_graph=True)`` builds that graph and the critic's backward goes through it.
Paper defaults: lambda = 10, n_critic = 5, Adam(1e-4, beta1 = 0, beta2 = 0.9) -- we use
beta1 = 0.5 as the issue asks; and no batch norm in the critic (it would make the
penalty's per-example gradients depend on the rest of the batch).
"""
from dataclasses import dataclass

from .. import losses
from .common import GAN, GANConfig


@dataclass
class Config(GANConfig):
    loss: str = "wasserstein"
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple = (0.5, 0.9)
    n_critic: int = 5
    lambda_gp: float = 10.0
    d_batchnorm: bool = False


class WGANGP(GAN):
    name = "wgan_gp"
    Config = Config

    def d_loss(self, real, fake, y):
        wasserstein = losses.wasserstein_d_loss(self.D(real, y), self.D(fake, y))
        critic = (lambda x: self.D(x, y))
        return wasserstein + losses.gradient_penalty(critic, real, fake, lambda_=self.cfg.lambda_gp)


VARIANT = WGANGP
