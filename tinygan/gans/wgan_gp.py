"""WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs"), Algorithm 1.

    L = E[D(G(z))] - E[D(x)] + lambda E[(||grad_x_hat D(x_hat)||_2 - 1)^2]       (Eq. 3)

with x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per example. The penalty needs the
gradient of D's output *as a function* of D's weights: ``tinygan.grad(...,
create_graph=True)`` builds that graph and the critic's backward goes through it.
Paper defaults: n_critic = 5, Adam(1e-4, beta1 = 0, beta2 = 0.9) -- we use beta1 = 0.5, as
the authors' toy code does; lambda = 10 for images (Alg. 1) but 0.1 on the 2D mixtures, as in
the authors' toy code ("smaller lambda seems to help for toy tasks"): with lambda 10 the critic
stays so smooth that G's points wander between the modes (1 of 8 ring8 modes after 5000 steps).
No batch norm in the critic (it would make the penalty's per-example gradients depend on the
rest of the batch).
"""
from dataclasses import dataclass

from .. import losses
from .common import BY_DATA, GAN, GANConfig


@dataclass
class Config(GANConfig):
    loss: str = "wasserstein"
    betas: tuple = (0.5, 0.9)
    n_critic: int = 5
    lambda_gp: float | None = None  # None: by data (below)
    d_batchnorm: bool = False


class WGANGP(GAN):
    name = "wgan_gp"
    Config = Config
    config_by_data = {"points": {**BY_DATA["points"], "lambda_gp": 0.1},
                      "images": {**BY_DATA["images"], "lambda_gp": 10.0, "lr_g": 1e-4, "lr_d": 1e-4}}

    def d_loss(self, real, fake, y, rng):
        wasserstein = losses.wasserstein_d_loss(self.D(real, y), self.D(fake, y))
        critic = (lambda x: self.D(x, y))
        # eps ~ U[0, 1] per example from the step's generator: a resumed run draws the same points
        return wasserstein + losses.gradient_penalty(critic, real, fake, rng, lambda_=self.cfg.lambda_gp)


VARIANT = WGANGP
