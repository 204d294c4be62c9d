"""f-GAN's Gaussian fit (Nowozin et al. 2016, Sec. 4): one Gaussian Q = N(mu, sigma^2) fitted to a mixture of
Gaussians P with each f-divergence, once by minimising D_f(P || Q) itself and once by the variational game.

    python benchmarks/fgan_gaussian.py                         # the six divergences, about a minute each
    python benchmarks/fgan_gaussian.py --divergences kl reverse_kl --steps 4000 --seed 1

true    theta* = argmin_theta D_f(P || Q_theta): D_f by quadrature on a grid (the textbook form of each
        divergence, written here independently of losses.py), minimised by a coarse-to-fine grid search.
f-GAN   Q's parameters (mu, log sigma) and a small V_omega (1 -> 64 -> 64 -> 1, tanh) trained by Adam, a D step
        then a G step per iteration on fresh samples, with tinygan.losses.fgan_d_loss / fgan_g_loss. Q is
        sampled as mu + sigma z (reparameterised), so G's gradient reaches mu and sigma through V.
        "saddle": G descends F itself (Eq. 6), whose fixed point is theta* when V is optimal;
        "alternative": G ascends E_Q[g_f(V)] (Sec. 3.2), the paper's practical update. With V optimal its
        gradient is that of E_Q[-f'(p/q)] with p/q held fixed, which is the gradient of another divergence
        (``_alternative_targets``: for kl it is KL(Q || P), for pearson 2 KL(P || Q)). When Q cannot equal P
        (one Gaussian for two bumps) that moves the fit: "alt. target" is the argmin of that divergence (the
        same from the grid search and from a descent started where the training starts). In the default run
        the trained alternative rows reach it for pearson and reverse_kl, stop short of it for kl, and do not
        go where it lies (the big bump) for squared_hellinger, jensen_shannon and gan: there the target weighs
        most the region where p << q, where the small V is least accurate (a guess, not shown).
        mu and sigma average the last fifth of the steps; F-hat is F(omega-hat, theta-hat) on 200,000 fresh
        samples (a lower bound of D_f when V is not optimal). D_f is the true D_f(P || Q) at the row's Q.

The paper's Table 3 (its mixture, and the numbers it reports) was not in the sources this script was written
from, so its column says so instead of quoting numbers; the mixture P below is this script's own choice.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

import tinygan
from tinygan import losses, nn, optim
from tinygan.gans.common import descend

# P: an asymmetric mixture of two Gaussians (weight, mean, std): this script's choice (see the docstring)
MIXTURE = ((0.6, -1.0, 0.5), (0.4, 2.0, 0.8))
X = np.linspace(-15.0, 15.0, 6001)  # quadrature grid: every density here is negligible beyond it
DX = X[1] - X[0]


def log_p(x: np.ndarray) -> np.ndarray:
    parts = [math.log(w) - 0.5 * ((x - m) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi)) for w, m, s in MIXTURE]
    return np.logaddexp.reduce(parts, axis=0)


def log_q(x: np.ndarray, mu, sigma) -> np.ndarray:
    return -0.5 * ((x - mu) / sigma) ** 2 - np.log(sigma * math.sqrt(2 * math.pi))


# D_f(P || Q) = int q f(p/q) for f of Table 1, each written from log densities so that no ratio overflows
def _integrands(lp, lq):
    p, q = np.exp(lp), np.exp(lq)
    lm = np.logaddexp(lp, lq)  # log(p + q)
    with np.errstate(over="ignore"):
        return {
            "kl": p * (lp - lq),                                          # f(u) = u log u
            "reverse_kl": q * (lq - lp),                                  # f(u) = -log u
            "pearson": np.exp(2 * lp - lq) - 2 * p + q,                   # f(u) = (u - 1)^2
            "squared_hellinger": (np.sqrt(p) - np.sqrt(q)) ** 2,          # f(u) = (sqrt(u) - 1)^2
            "jensen_shannon": p * (lp + math.log(2) - lm) + q * (lq + math.log(2) - lm),  # 2 JSD
            "gan": p * (lp - lm) + q * (lq - lm),                         # f(u) = u log u - (u+1) log(u+1)
        }


# What Sec. 3.2's update descends when V is optimal: the G whose gradient is that of E_Q[-f'(p/q)], p/q held
# fixed, is descending int q psi(q/p) with (s psi(s))' = -f'(1/s); up to constants:
def _alternative_targets(lp, lq):
    p, q = np.exp(lp), np.exp(lq)
    lm = np.logaddexp(lp, lq)
    with np.errstate(over="ignore"):
        return {
            "kl": q * (lq - lp),                                    # KL(Q || P)
            "reverse_kl": 0.5 * np.exp(2 * lq - lp),                # (1 + chi^2(Q || P)) / 2
            "pearson": 2 * p * (lp - lq),                           # 2 KL(P || Q)
            "squared_hellinger": 2 / 3 * np.exp(1.5 * lq - 0.5 * lp),  # 2/3 int q^(3/2) p^(-1/2)
            "jensen_shannon": (p + q) * (lm - lp),                  # KL(Q || P) - 2 JSD(P, Q) + 2 log 2
            "gan": (p + q) * (lm - lp),                             # the same: gan and jensen_shannon differ by constants
        }


def true_divergence(name: str, mu, sigma, table=_integrands) -> np.ndarray:
    """D_f(P || N(mu, sigma^2)) for arrays of mu and sigma (broadcast against the grid's last axis)."""
    mu, sigma = np.asarray(mu, float)[..., None], np.asarray(sigma, float)[..., None]
    with np.errstate(over="ignore"):  # chi^2-like targets are infinite for narrow Q: inf, never the argmin
        return table(log_p(X), log_q(X, mu, sigma))[name].sum(-1) * DX


def true_fit(name: str, table=_integrands) -> tuple[float, float, float]:
    """theta* = argmin D_f by a grid search over (mu, log sigma), zooming in 4 times."""
    mu_c, ls_c, half = 0.0, 0.0, 3.0
    for _ in range(5):
        mus, log_sigmas = np.meshgrid(np.linspace(mu_c - half, mu_c + half, 41),
                                      np.linspace(ls_c - half / 2, ls_c + half / 2, 41), indexing="ij")
        d = np.concatenate([true_divergence(name, m, np.exp(s), table)
                            for m, s in zip(mus, log_sigmas)]).reshape(41, 41)
        i, j = np.unravel_index(np.nanargmin(d), d.shape)
        mu_c, ls_c, half = mus[i, j], log_sigmas[i, j], half / 8
    return float(mu_c), float(math.exp(ls_c)), float(d[i, j])


def sample_p(n: int, rng: np.random.Generator) -> np.ndarray:
    w, m, s = (np.array(c) for c in zip(*MIXTURE))
    k = rng.choice(len(w), n, p=w)
    return (m[k] + s[k] * rng.standard_normal(n)).reshape(n, 1)


def gan_fit(name: str, alternative: bool, steps: int, batch: int, seed: int, lr: float) -> dict:
    """The variational game of Eq. 6 between Q = N(mu, sigma^2) and V_omega."""
    tinygan.manual_seed(seed)
    rng = np.random.default_rng(seed)
    V = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))
    theta = [nn.Parameter(np.zeros(1, np.float32)), nn.Parameter(np.zeros(1, np.float32))]  # mu, log sigma
    opt_v, opt_q = optim.Adam(V.parameters(), lr=lr, betas=(0.5, 0.999)), optim.Adam(theta, lr=lr, betas=(0.5, 0.999))

    def sample_q(n):  # mu + sigma z, (n, 1)
        return theta[0] + theta[1].exp() * tinygan.tensor(rng.standard_normal((n, 1)).astype(np.float32))

    tail = []
    for step in range(steps):
        real = tinygan.tensor(sample_p(batch, rng).astype(np.float32))
        with tinygan.no_grad():
            fake = sample_q(batch)
        descend(losses.fgan_d_loss(V(real), V(fake), name), opt_v)      # omega ascends F
        descend(losses.fgan_g_loss(V(sample_q(batch)), name, alternative), opt_q)  # theta descends F (or Sec. 3.2)
        if not all(np.isfinite(p.data).all() for p in theta):
            return {"diverged": step}
        if step >= steps - steps // 5:
            tail.append((theta[0].item(), math.exp(theta[1].item())))
    mu, sigma = np.mean(tail, axis=0)
    with tinygan.no_grad():  # F(omega-hat, theta-hat) on many fresh samples
        n = 200_000
        real = tinygan.tensor(sample_p(n, rng).astype(np.float32))
        fake = tinygan.tensor((mu + sigma * rng.standard_normal((n, 1))).astype(np.float32))
        f_hat = -losses.fgan_d_loss(V(real), V(fake), name).item()
    return {"mu": float(mu), "sigma": float(sigma), "F": f_hat, "D_f": float(true_divergence(name, mu, sigma))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--divergences", nargs="+", choices=list(losses.F_DIVERGENCES), default=list(losses.F_DIVERGENCES))
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--lr", type=float, default=2e-3, help="Adam's learning rate for V and for (mu, log sigma)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(f"P = {' + '.join(f'{w} N({m}, {s}^2)' for w, m, s in MIXTURE)};  Q = N(mu, sigma^2) from mu = 0, sigma = 1; "
          f"{a.steps} steps, batch {a.batch_size}, Adam lr {a.lr}, seed {a.seed}")
    print("paper (Nowozin et al. 2016, Table 3): not found in the sources available when this was written; no "
          "numbers of theirs are shown.\n")
    head = f"| {'divergence':<17} | {'G step':<11} | {'mu':>7} | {'sigma':>7} | {'D_f':>9} | {'F-hat':>8} | paper |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for name in a.divergences:
        start = time.perf_counter()
        mu, sigma, d = true_fit(name)
        print(f"| {name:<17} | {'true':<11} | {mu:7.4f} | {sigma:7.4f} | {d:9.4f} | {'':>8} | n/a   |")
        for alternative in (False, True):
            r = gan_fit(name, alternative, a.steps, a.batch_size, a.seed, a.lr)
            kind = "alternative" if alternative else "saddle"
            if "diverged" in r:
                print(f"| {name:<17} | {kind:<11} | diverged at step {r['diverged']} {'':>24} | n/a   |")
                continue
            print(f"| {name:<17} | {kind:<11} | {r['mu']:7.4f} | {r['sigma']:7.4f} | {r['D_f']:9.4f} | {r['F']:8.4f} "
                  f"| n/a   |", flush=True)
        mu, sigma, _ = true_fit(name, _alternative_targets)
        print(f"| {name:<17} | {'alt. target':<11} | {mu:7.4f} | {sigma:7.4f} | {true_divergence(name, mu, sigma):9.4f} "
              f"| {'':>8} | n/a   |")
        print(f"  ({name}: {time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
