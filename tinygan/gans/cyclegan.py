"""CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks").

Two domains A and B with no pairs between them; two translators G: A -> B and F: B -> A, and a
discriminator for each domain, D_B judging G's outputs and D_A judging F's. The full objective (Eq. 3):

    L(G, F, D_A, D_B) = L_GAN(G, D_B, A, B) + L_GAN(F, D_A, B, A) + lambda L_cyc(G, F)
    L_cyc(G, F) = E_a ||F(G(a)) - a||_1 + E_b ||G(F(b)) - b||_1                          (Eq. 2)

with lambda = 10, plus the identity loss of Sec. 5.2 (Taigman et al. 2017), 0.5 lambda
(E_b ||G(b) - b||_1 + E_a ||F(a) - a||_1), which keeps colours where nothing needs to change.
L_GAN is the least-squares loss (Sec. 4, Mao et al. 2017): D's targets are 1 for real and 0 for
fake, G's target 1; D's objective is halved, as in the authors' code. D sees fakes drawn from a
pool of the last 50 generated images rather than only the newest (Shrivastava et al. 2017), and the
learning rates decay linearly to zero over the second half of training.
"""
from dataclasses import dataclass

import numpy as np

from .. import backend, losses, nn
from ..tensor import Tensor, no_grad
from .common import AT_LEAST, GAN, GANConfig, RunDefaults, descend, frozen
from .image_nets import patch_discriminator, resnet_generator


@dataclass
class Config(GANConfig):
    lambda_cycle: float = 10.0      # lambda in Eq. 3
    lambda_identity: float = 0.5    # the identity loss's weight, in units of lambda (0 = off)
    pool_size: int = 50             # fakes kept for D (0 = D sees only the newest)
    blocks: int = 6                 # residual blocks (6 below 256 x 256, 9 at 256)
    base: int = 64                  # G's and D's first widths
    patch_layers: int = 3           # the 70 x 70 PatchGAN
    loss: str = "lsgan"


class ImagePool(nn.Module):
    """The history of generated images (Shrivastava et al. 2017, Sec. 2.3): for each new fake, while
    the pool is filling, store it and show it; then with probability 1/2 show a random stored fake and
    store the new one in its place, else show the new one. Stored as buffers, so a checkpoint keeps it."""

    def __init__(self, size: int, shape: tuple):
        super().__init__()
        self.size = size
        self.register_buffer("images", Tensor(np.zeros((size, *shape), np.float32)))
        self.register_buffer("count", Tensor(np.zeros((), np.int64)))

    def query(self, fakes: Tensor, rng: np.random.Generator) -> Tensor:
        if self.size == 0:
            return fakes
        out, store = fakes.data.copy(), self.images.data          # NumPy or CuPy arrays
        for i in range(len(out)):
            n = int(self.count.data)
            if n < self.size:
                store[n] = out[i]
                self.count.data[...] = n + 1
            elif rng.random() < 0.5:
                j = int(rng.integers(self.size))
                out[i], store[j] = store[j].copy(), out[i].copy()
        return Tensor(out)


class Pair(nn.Module):
    """Two networks of the same role kept as one module, so that one Adam steps both (as the authors')."""

    def __init__(self, a: nn.Module, b: nn.Module):
        super().__init__()
        self.a, self.b = a, b


class CycleGAN(GAN):
    name = "cyclegan"
    Config = Config
    config_by_data = {"unpaired": {"z_dim": 0, "lr_g": 2e-4, "lr_d": 2e-4}}   # Adam 2e-4, betas (0.5, 0.999)
    at_least = {**AT_LEAST, "z_dim": 0, "blocks": 0, "pool_size": 0}
    # The paper: batch 1, 100 epochs at the initial rate then 100 decaying to 0. Here: README, "CycleGAN".
    run_defaults = {"unpaired": RunDefaults(steps=3000, batch_size=4, sample_every=500, lr_decay=0.5)}

    def __init__(self, cfg, data, device="cpu"):
        super().__init__(cfg, data, device)
        self.pool_a, self.pool_b = (ImagePool(cfg.pool_size, data.shape).to(device) for _ in range(2))

    def build_networks(self):
        c, cfg = self.data.shape[0], self.cfg
        G = Pair(*(resnet_generator(c, c, cfg.blocks, cfg.base) for _ in range(2)))    # G.a: A -> B, G.b: B -> A
        D = Pair(*(patch_discriminator(c, cfg.base, cfg.patch_layers) for _ in range(2)))  # D.a judges A, D.b judges B
        return G, D

    def translate(self, x: Tensor, to: str) -> Tensor:
        """G(a) (``to="b"``) or F(b) (``to="a"``)."""
        return self.G.a(x) if to == "b" else self.G.b(x)

    def d_step(self, real_a, real_b, rng):
        """min_D of LSGAN, halved, for D_A and D_B, each on its real images and the pool's fakes."""
        with no_grad():
            fake_b = self.pool_b.query(self.G.a(real_a), rng)
            fake_a = self.pool_a.query(self.G.b(real_b), rng)
        d_fn, _ = losses.LOSSES[self.cfg.loss]
        loss_a = 0.5 * d_fn(self.D.a(real_a), self.D.a(fake_a))
        loss_b = 0.5 * d_fn(self.D.b(real_b), self.D.b(fake_b))
        descend(loss_a + loss_b, self.opt_d)
        return {"d_loss": loss_a.item() + loss_b.item()}

    def g_step(self, real_a, real_b, rng):
        """min_{G,F} L_GAN(G) + L_GAN(F) + lambda L_cyc + 0.5 lambda L_identity (Eq. 3, Sec. 5.2)."""
        _, g_fn = losses.LOSSES[self.cfg.loss]
        lam = self.cfg.lambda_cycle
        with frozen(self.D):
            fake_b, fake_a = self.G.a(real_a), self.G.b(real_b)
            adversarial = g_fn(self.D.b(fake_b)) + g_fn(self.D.a(fake_a))
            cycle = losses.cycle_consistency_loss(real_a, self.G.b(fake_b), real_b, self.G.a(fake_a))
            loss = adversarial + lam * cycle
            row = {"g_loss": adversarial.item(), "cycle_loss": cycle.item()}
            if self.cfg.lambda_identity:  # G(b) ~ b and F(a) ~ a
                identity = losses.l1_loss(self.G.a(real_b), real_b) + losses.l1_loss(self.G.b(real_a), real_a)
                loss = loss + self.cfg.lambda_identity * lam * identity
                row["identity_loss"] = identity.item()
            descend(loss, self.opt_g)
        return row

    def triples(self, fixed) -> np.ndarray:
        """(real, translated, translated back) for each fixed image of A, then of B: (n, 3, C, H, W)."""
        self.G.eval()
        rows = []
        with no_grad():
            for x, there, back in ((fixed[0], "b", "a"), (fixed[1], "a", "b")):
                moved = self.translate(x, there)
                rows.append(np.stack([backend.to_numpy(t.data) for t in (x, moved, self.translate(moved, back))], 1))
        self.G.train()
        return np.concatenate(rows)

    def test_scores(self, a: np.ndarray, b: np.ndarray, batch: int = 16) -> dict:
        """The cycle L1 of held-out images in both directions, |F(G(a)) - a| and |G(F(b)) - b|, and the
        translations themselves (for a classifier to judge)."""
        self.G.eval()
        out = {"cycle_l1_a": [], "cycle_l1_b": [], "a_to_b": [], "a_to_b_to_a": []}
        with no_grad():
            for i in range(0, max(len(a), len(b)), batch):
                xa = Tensor(backend.to_device(a[i:i + batch], self.device))
                xb = Tensor(backend.to_device(b[i:i + batch], self.device))
                if len(xa):
                    ab = self.G.a(xa)
                    aba = backend.to_numpy(self.G.b(ab).data)
                    out["cycle_l1_a"].append(np.abs(aba - a[i:i + batch]).mean(axis=(1, 2, 3)))
                    out["a_to_b"].append(backend.to_numpy(ab.data))
                    out["a_to_b_to_a"].append(aba)
                if len(xb):
                    bab = backend.to_numpy(self.G.a(self.G.b(xb)).data)
                    out["cycle_l1_b"].append(np.abs(bab - b[i:i + batch]).mean(axis=(1, 2, 3)))
        self.G.train()
        return {k: np.concatenate(v) for k, v in out.items()}

    def modules(self) -> dict:
        return {"G": self.G, "D": self.D, "pool_a": self.pool_a, "pool_b": self.pool_b}


VARIANT = CycleGAN
