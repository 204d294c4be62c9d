"""f-GAN (Nowozin, Cseke & Tomioka 2016, "f-GAN: Training Generative Neural Samplers using Variational
Divergence Minimization").

Every f-divergence D_f(P || Q) = E_Q[f(p(x)/q(x))] is bounded below by (Eq. 4, tight at T* = f'(p/q))

    D_f(P || Q) >= sup_T  E_P[T(x)] - E_Q[f*(T(x))].

With T = g_f(V_omega), V_omega the discriminator and g_f Table 2's output activation (``losses.F_DIVERGENCES``),
and Q_theta the generator's distribution:

    min_theta max_omega  F(theta, omega) = E_P[g_f(V_omega(x))] - E_Q[f*(g_f(V_omega(G(z))))]     (Eq. 6)

Algorithm 1 (single-step gradient method): for t = 0, 1, ...
    omega <- omega + eta grad_omega F        (D ascends the variational bound)
    theta <- theta - eta grad_theta F        (G descends it: g_update="saddle"), or, Sec. 3.2,
    theta <- theta + eta grad_theta E_Q[g_f(V_omega(G(z)))]                   (g_update="alternative")
The paper takes both gradients at the same point; tinygan's loop (train.py) alternates, D's step first.

Which divergence G descends: with V at its optimum, the saddle update descends D_f(P || Q) itself; the
alternative descends another one (its gradient is that of E_Q[-f'(p/q)] with p/q held fixed). For kl that is
KL(Q || P), the mode-seeking reverse KL; for pearson it is 2 KL(P || Q), maximum likelihood's divergence; for
gan the non-saturating loss (gans/gan.py, of which divergence="gan" is a copy, step for step). "auto" takes the
alternative, the paper's practical choice, except for reverse_kl and squared_hellinger, whose alternative loss
-g_f(V) grows as exp(-V) on the fakes that D rejects (on ring8 it overflows within 1500 steps): for those the
saddle update, whose loss is V - 1 and 1 - exp(V).

Defaults (ring8, 5000 steps, seeds 0-2): the divergence is pearson, which with the paper's own G update
descends the mass-covering KL(P || Q) and trains with nothing special. Adam's beta2 is 0.9 (not 0.999): the
exponential conjugates send gradient spikes, and after one, beta2 = 0.999 keeps Adam's second-moment estimate
high for thousands of steps and so freezes D (squared_hellinger: 1-6 of 8 modes with 0.999, 8/8 with 0.9).
kl trains with neither update: the alternative spikes D's exp(V - 1) on the fakes and seeks one mode, and
the saddle loss -exp(V - 1) saturates once D rejects the fakes, as the minimax GAN's does.
"""
from dataclasses import dataclass, replace

from .. import losses
from .common import GAN, GANConfig

G_UPDATES = ("auto", "alternative", "saddle")
SADDLE_WHEN_AUTO = ("reverse_kl", "squared_hellinger")  # their alternative G loss is exp(-V) (see above)


@dataclass
class Config(GANConfig):
    divergence: str = "pearson"    # a key of losses.F_DIVERGENCES (Table 2)
    g_update: str = "auto"         # "alternative" (Sec. 3.2), "saddle" (Eq. 6), or auto (see the docstring)
    betas: tuple = (0.5, 0.9)      # beta2 0.9: Adam forgets the exponential losses' spikes (see the docstring)
    loss: str = "nonsaturating"    # not used: the divergence sets both losses


class FGAN(GAN):
    name = "fgan"
    Config = Config

    def __init__(self, cfg: Config, data, device: str = "cpu"):
        if cfg.divergence not in losses.F_DIVERGENCES:
            raise ValueError(f"fgan: unknown divergence {cfg.divergence!r}; choose from "
                             f"{', '.join(losses.F_DIVERGENCES)}")
        if cfg.g_update not in G_UPDATES:
            raise ValueError(f"fgan: unknown g_update {cfg.g_update!r}; choose from {', '.join(G_UPDATES)}")
        if cfg.loss != Config.loss:
            raise ValueError(f"fgan: loss={cfg.loss!r} does not apply; the divergence sets both losses")
        if cfg.g_update == "auto":
            cfg = replace(cfg, g_update="saddle" if cfg.divergence in SADDLE_WHEN_AUTO else "alternative")
        super().__init__(cfg, data, device)

    def d_loss(self, real, fake, y, rng):
        return losses.fgan_d_loss(self.D(real, y), self.D(fake, y), self.cfg.divergence)

    def g_loss(self, fake, y, real):
        if self.cfg.feature_matching:
            return super().g_loss(fake, y, real)
        return losses.fgan_g_loss(self.D(fake, y), self.cfg.divergence, self.cfg.g_update == "alternative")


VARIANT = FGAN
