"""The baseline a GAN on the toy mixtures is measured against: a Gaussian mixture fitted by EM
(``tinygan/baselines/gmm.py``; Dempster, Laird & Rubin 1977; Bishop, PRML, Sec. 9.2).

ring8 and grid25 *are* Gaussian mixtures, so with the right number of components K, EM fits the true
model family by maximum likelihood. Its 2500 samples are scored exactly as a GAN's are (the VEEGAN /
PacGAN protocol of ``tinygan.metrics.mode_scores``: modes captured, high-quality fraction, reverse KL).
Then K is made wrong on ring8: K = 4 must stretch components over several modes (its samples fall
between them, so the high-quality fraction drops, yet every mode may still count as "captured"), while
K = 16 still does well: surplus components split modes or take tiny weights. On grid25 a single k-means++ start can leave two modes under one stretched
component (and split another); ``n_init=5`` keeps the best of five starts, by likelihood.

"found" counts the true modes with a fitted mean within 3 std; "held-out" is the mean log-likelihood of
2500 fresh points, next to that of the true mixture. The figure shows data (grey), samples (orange) and
each component's 2-std ellipse (blue).

Flags: ``--steps`` is EM's ``max_iter`` (it usually stops after a few iterations, when the mean
log-likelihood gains less than tol = 1e-3); ``--batch-size`` is ignored, since every EM step uses all
10,000 training points; ``--device`` is ignored, the baseline is NumPy only.
"""
from pathlib import Path

import _shared
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from tinygan import metrics
from tinygan.baselines.gmm import GaussianMixture, e_step, full_covariances
from tinygan.data import MIXTURES, get_dataset

FITS = [("ring8", 8, 1), ("ring8", 4, 1), ("ring8", 16, 1), ("grid25", 25, 1), ("grid25", 25, 5)]  # (data, K, n_init)


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    fig = Figure(figsize=(4 * len(FITS), 4.4))
    print(f"{'data':7} {'K':>3} {'n_init':>6} {'EM iters':>8} {'modes':>6} {'high q.':>8} {'rev. KL':>8} "
          f"{'found':>6} {'held-out':>9} {'true':>7}")
    for i, (name, k, n_init) in enumerate(FITS):
        mix = MIXTURES[name]
        x = get_dataset(name, rng=np.random.default_rng(seed), n=10_000).x                # (10000, 2)
        gmm = GaussianMixture(k, max_iter=steps, n_init=n_init, random_state=seed).fit(x)
        samples, _ = gmm.sample(2500, np.random.default_rng([seed, 1]))                    # (2500, 2)
        scores = metrics.mode_scores(samples, mix.means, mix.std)
        gap = np.sqrt(((mix.means[:, None] - gmm.means_[None]) ** 2).sum(-1)).min(1)      # (m,) to the nearest mu_k
        found = int((gap < 3 * mix.std).sum())
        held_out = get_dataset(name, rng=np.random.default_rng([seed, 2]), n=2500).x
        m = len(mix.means)
        truth = e_step(held_out, np.full(m, 1 / m), mix.means, np.full(m, mix.std ** 2))[0].mean()
        print(f"{name:7} {k:3d} {n_init:6d} {gmm.n_iter_:8d} {scores.modes_captured:3d}/{m:<2d} "
              f"{scores.high_quality:8.1%} {scores.reverse_kl:8.4f} {found:3d}/{m:<2d} "
              f"{gmm.score(held_out):9.3f} {truth:7.3f}")

        ax = fig.add_subplot(1, len(FITS), i + 1)
        ax.scatter(*x[:2500].T, s=2, c="0.6", label="data")
        ax.scatter(*samples.T, s=2, c="tab:orange", label="EM samples")
        for mu, cov in zip(gmm.means_, full_covariances(gmm.covariances_, 2)):
            ax.add_patch(two_std_ellipse(mu, cov))
        lim = 1.5 if name == "ring8" else 5.5
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal",
               title=f"{name}, K={k}, n_init={n_init}\nmodes {scores.modes_captured}/{m}, "
                     f"HQ {scores.high_quality:.1%}, KL {scores.reverse_kl:.3f}")
    fig.axes[0].legend(loc="lower left", markerscale=4)
    print(f"figure: {_shared.save_figure(fig, out / 'gmm.png')}")


def two_std_ellipse(mean: np.ndarray, cov: np.ndarray) -> Ellipse:
    """The ellipse (x - mu)^T Sigma^-1 (x - mu) = 4: its axes are 2 sqrt(lambda_i) along the eigenvectors."""
    lam, vec = np.linalg.eigh(cov)                             # ascending eigenvalues
    angle = np.degrees(np.arctan2(vec[1, 1], vec[0, 1]))       # direction of the long axis
    return Ellipse(mean, 4 * np.sqrt(lam[1]), 4 * np.sqrt(lam[0]), angle=angle, fill=False, color="tab:blue")


if __name__ == "__main__":
    _shared.run(main, default_steps=100, default_batch_size=10_000)  # the batch size is ignored
