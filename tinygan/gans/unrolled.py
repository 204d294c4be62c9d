"""Unrolled GAN (Metz, Poole, Pfau & Sohl-Dickstein 2017, "Unrolled Generative Adversarial Networks").

G is trained against the discriminator it *will face* after K more updates:

    theta_D^0 = theta_D,   theta_D^{k+1} = theta_D^k - eta * dL_D(theta_G, theta_D^k)/dtheta_D^k   (Eq. 5-6)
    f_K(theta_G, theta_D) = L(theta_G, theta_D^K)                                               (Eq. 7)

and G descends df_K/dtheta_G, which includes how D's updates react to G's samples (Eq. 8,
the term that discourages mode collapse). We differentiate through the K updates:
each gradient is taken with ``create_graph=True``, so theta_D^K is a differentiable function
of G's output. Only G's update uses the unrolled D; D itself is trained normally.
K = 5 by default (the paper uses 1 to 10). The unrolled steps are plain gradient steps (Eq. 6)
with D's own learning rate, eta = lr_d, so that the surrogate D^K moves no further than D will.
With eta = 10 lr_d (our old default 1e-2) the surrogate overshoots, G descends a D that will never
exist, and the 2D runs fall apart after about a thousand steps (0 of 8 ring8 modes).
``unroll_optimizer="adam"`` unrolls D's actual optimizer instead, from its current moments, as the
authors' code does (Keras' Adam updates): m, v and the step are carried through the K steps.
"""
from contextlib import contextmanager
from dataclasses import dataclass, replace

from .. import backend, losses
from ..tensor import Tensor, grad
from .common import GAN, GANConfig


@dataclass
class Config(GANConfig):
    unroll_steps: int = 5              # K
    unroll_lr: float | None = None     # eta of the unrolled (plain gradient) updates; None: lr_d
    unroll_optimizer: str = "sgd"      # "sgd": Eq. 6; "adam": D's own Adam steps, as the authors' code


@contextmanager
def parameters_replaced(module, tensors: dict):
    """Run ``module`` with some parameters replaced by arbitrary tensors (torch.func.functional_call)."""
    owners = []
    for name, t in tensors.items():
        *path, leaf = name.split(".")
        owner = module
        for part in path:
            owner = owner._modules[part]
        owners.append((owner, leaf, owner._parameters[leaf]))
        owner._parameters[leaf] = t
    try:
        yield module
    finally:
        for owner, leaf, original in owners:
            owner._parameters[leaf] = original


class UnrolledGAN(GAN):
    name = "unrolled"
    Config = Config
    # each G step costs K + 1 D gradients with create_graph: 3000 steps on 2D data
    run_defaults = {**GAN.run_defaults, "points": replace(GAN.run_defaults["points"], steps=3000)}

    def __init__(self, cfg, data, device="cpu"):
        if cfg.unroll_optimizer not in ("sgd", "adam"):
            raise ValueError(f"unrolled: unroll_optimizer must be 'sgd' or 'adam', got {cfg.unroll_optimizer!r}")
        super().__init__(cfg, data, device)
        if self.cfg.unroll_lr is None:  # eta = D's own learning rate
            self.cfg = replace(self.cfg, unroll_lr=self.cfg.lr_d)

    def g_step(self, real, y, rng):
        n = real.shape[0]
        fake = self.generate(self.sample_z(n, rng), y)
        theta = dict(self.D.named_parameters())
        step = self.unrolled_adam() if self.cfg.unroll_optimizer == "adam" else self.unrolled_sgd()
        for _ in range(self.cfg.unroll_steps):       # theta^{k+1} = theta^k - eta grad L_D  (Eq. 6)
            with parameters_replaced(self.D, theta):
                loss_d = GAN.d_loss(self, real, fake, y, rng)  # fake is NOT detached: Eq. 8's second term
            grads = grad(loss_d, list(theta.values()), create_graph=True)
            theta = {k: step(k, p, g) for (k, p), g in zip(theta.items(), grads)}
        self.opt_g.zero_grad()
        with parameters_replaced(self.D, theta):     # f_K = L(theta_G, theta_D^K)  (Eq. 7)
            loss = losses.LOSSES[self.cfg.loss][1](self.D(fake, y))
        params = list(self.G.parameters())
        for p, g in zip(params, grad(loss, params)):
            p.grad = g
        self.opt_g.step()
        return {"g_loss": loss.item()}

    def unrolled_sgd(self):
        """theta' = theta - eta g (Eq. 6)."""
        return lambda name, p, g: p - self.cfg.unroll_lr * g

    def unrolled_adam(self):
        """theta' = D's next Adam step (optim.Adam's equations, written with tinygan ops so that theta'
        stays differentiable in G's output), continuing from the moments D's optimizer holds now."""
        group = self.opt_d.param_groups[0]
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        params = dict(self.D.named_parameters())
        moments = {}  # name -> [m, v, t], from D's optimizer (zeros before its first step)
        for name, p in params.items():
            state = self.opt_d.state.get(p) or {}
            zero = backend.xp_of(p.data).zeros_like(p.data)
            moments[name] = [Tensor(state.get("exp_avg", zero)), Tensor(state.get("exp_avg_sq", zero)),
                             state.get("step", 0)]

        def step(name, p, g):
            m, v, t = moments[name]
            m, v, t = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g, t + 1
            moments[name] = [m, v, t]
            return p - lr / (1 - beta1 ** t) * m / ((v / (1 - beta2 ** t)).sqrt() + eps)
        return step


VARIANT = UnrolledGAN
