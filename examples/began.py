"""BEGAN: an equilibrium between G and an autoencoder D (Berthelot, Schumm & Metz 2017;
``tinygan/gans/began.py``).

Like EBGAN (ebgan.py), D is an autoencoder and L(v) = |v - D(v)| (mean absolute reconstruction
error) is its energy. BEGAN does not push fakes to a margin; it balances the two energies:

    L_D = L(x) - k_t L(G(z))          L_G = L(G(z))
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)              (Eq. 4)

k_t is a proportional controller (``losses.BEGANEquilibrium``): it raises D's attention to fakes
when G gets ahead and lowers it when D does, holding E[L(G(z))] = gamma E[L(x)]. gamma trades
diversity (high) for quality (low). M_global = L(x) + |gamma L(x) - L(G(z))| (Sec. 3.4.1)
falls as training converges: one number to watch, which GAN losses otherwise lack.

This script trains BEGAN on the ring of 8 Gaussians, prints and plots k_t and M_global from
the trainer's metrics, and checks the equilibrium: the ratio of fake to real energy vs gamma.
On this 2-D toy it makes a cautionary tale: G settles on one or two modes (so did every setting
we tried: paper defaults, gamma = 1, code sizes 1 and 2), and while the fakes' energy stays above
gamma L(x), k_t is driven to 0, yet M_global can fall all the same. M_global measures the energy
balance, not diversity: look at the samples too.
"""
from pathlib import Path

import _shared
import numpy as np

import tinygan
from tinygan import viz
from tinygan.data import get_dataset
from tinygan.gans.began import BEGAN
from tinygan.train import train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("ring8", rng=np.random.default_rng(seed))
    # lr 5e-4 instead of the paper's 1e-4 and lambda_k 0.01 instead of 0.001: this ring's energies
    # are small, and k_t should move within the run. The lrs decay to 0 over its second half.
    gan = _shared.make_gan(BEGAN, data, device, seed, lr_g=5e-4, lr_d=5e-4, lambda_k=0.01)
    rows = train(gan, data, _shared.train_config(gan, out / "run", steps, batch_size, seed, device))

    # d_step returns k and m_global beside the losses, so every metrics.jsonl line has them.
    print("  step      k_t   M_global")
    for i in sorted({*range(0, len(rows), max(1, len(rows) // 8)), len(rows) - 1}):
        print(f"{rows[i]['step']:6d}  {rows[i]['k']:7.4f}  {rows[i]['m_global']:9.4f}")
    path = viz.save_loss_curves({"k_t": [r["k"] for r in rows], "M_global": [r["m_global"] for r in rows]},
                                [r["step"] for r in rows], out / "k_and_m_global.png",
                                title="BEGAN: k_t and the convergence measure M_global", smooth=5)
    print(f"k_t and M_global over training: {path}")

    rng = np.random.default_rng([seed, 6])
    real = tinygan.tensor(data.x[rng.choice(len(data), 1000)], device=device)
    with tinygan.no_grad():
        l_real, l_fake = gan.energy(real).mean().item(), gan.energy(gan.generate(gan.sample_z(1000, rng))).mean().item()
    print(f"L(x) = {l_real:.4f}, L(G(z)) = {l_fake:.4f}: ratio {l_fake / l_real:.2f} (gamma = {gan.cfg.gamma})")
    _shared.ring8_report(gan, data, out / "ring8.png", seed, title=f"BEGAN after {steps} steps", announce=True)


if __name__ == "__main__":
    _shared.run(main, default_steps=5000, default_batch_size=256)
