"""BEGAN on ring8 written in PyTorch, the twin of `python -m tinygan train began --dataset ring8`.

Benchmark-only (PyTorch is never a tinygan dependency). It tells an engine bug from an objective
that fails: the same networks (G: 2 hidden ReLU layers of 128 on z ~ N(0, I_2); D: an autoencoder
2 -> 128 -> code -> 128 -> 2 with LeakyReLU 0.2; PyTorch's default init), the same losses (Berthelot
et al. 2017, Eq. 4, L1 energy), Adam (betas 0.5, 0.999), batch 256, D step then G step, learning
rates decaying linearly to 0 over the second half, scored by tinygan's own mode metrics.

    python benchmarks/began_twin.py --seeds 0 1 2
    python benchmarks/began_twin.py --seeds 0 --gamma 1 --lambda-k 0.01 --lr 1e-3
"""
import argparse

import numpy as np
import torch
from torch import nn

from tinygan import metrics
from tinygan.data import MIXTURES, get_dataset


def networks(code: int, hidden: int = 128):
    g = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))
    d = nn.Sequential(nn.Linear(2, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, code),
                      nn.Linear(code, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 2))
    return g, d


def run(seed: int, a) -> dict:
    torch.manual_seed(seed)
    data = get_dataset("ring8", rng=np.random.default_rng(seed))
    x_all = torch.from_numpy(data.x.astype(np.float32))
    g, d = networks(a.code)
    opt_g = torch.optim.Adam(g.parameters(), a.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), a.lr, betas=(0.5, 0.999))
    energy = lambda v: (d(v) - v).abs().mean(dim=1)                 # L(v) = |v - D(v)|, per example
    k, half = 0.0, a.steps // 2
    for step in range(a.steps):
        scale = 1.0 if step < half else (a.steps - step) / (a.steps - half)
        for opt in (opt_g, opt_d):
            opt.param_groups[0]["lr"] = a.lr * scale
        real = x_all[torch.randint(len(x_all), (a.batch,))]
        fake = g(torch.randn(a.batch, 2)).detach()
        real_e, fake_e = energy(real), energy(fake)
        opt_d.zero_grad()
        (real_e.mean() - k * fake_e.mean()).backward()              # L_D = L(x) - k_t L(G(z_D))
        opt_d.step()
        k = min(max(k + a.lambda_k * (a.gamma * real_e.mean().item() - fake_e.mean().item()), 0.0), 1.0)
        opt_g.zero_grad()
        energy(g(torch.randn(a.batch, 2))).mean().backward()        # L_G = L(G(z_G))
        opt_g.step()
    with torch.no_grad():
        samples = g(torch.randn(2500, 2)).numpy()
    mix = MIXTURES["ring8"]
    s = metrics.mode_scores(samples, mix.means, mix.std)
    return {"seed": seed, "modes": s.modes_captured, "hq": s.high_quality, "k": k}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--gamma", type=float, default=0.5)
    p.add_argument("--lambda-k", type=float, default=0.001)
    p.add_argument("--code", type=int, default=32)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    print(f"PyTorch {torch.__version__}; BEGAN ring8, {a.steps} steps, lr {a.lr}, gamma {a.gamma}, "
          f"lambda_k {a.lambda_k}, code {a.code}")
    for seed in a.seeds:
        r = run(seed, a)
        print(f"seed {r['seed']}: modes {r['modes']}/8, high quality {100 * r['hq']:.1f}%, k {r['k']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
