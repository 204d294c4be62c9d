"""WGAN-GP: the Lipschitz constraint as a gradient penalty (Gulrajani et al. 2017; ``tinygan/gans/wgan_gp.py``).

A 1-Lipschitz critic that is optimal for the Wasserstein objective has gradient norm 1 on the
lines between real and generated points (Prop. 1). So instead of clipping weights (wgan.py),
penalise the critic wherever that norm is not 1, at random points x_hat on those lines:

    L = E[D(G(z))] - E[D(x)] + lambda E[(||grad_x_hat D(x_hat)||_2 - 1)^2]      (Eq. 3)

The penalty is a function of a gradient, and the critic's update needs *its* gradient: the
graph of grad D must itself be differentiable (``tinygan.grad(..., create_graph=True)``).
This script computes the penalty once by hand next to ``losses.gradient_penalty``, backpropagates
it into the critic's weights, then trains on the ring of 8 Gaussians and shows the gradient
norms at x_hat before and after training: the penalty pulls them toward 1 (on the 2D mixtures
lambda is 0.1, not the paper's 10: see ``tinygan/gans/wgan_gp.py``).
"""
from pathlib import Path

import _shared
import numpy as np
from matplotlib.figure import Figure

import tinygan
from tinygan import losses
from tinygan.data import get_dataset
from tinygan.gans.wgan_gp import WGANGP
from tinygan.train import train


def penalty_by_hand(critic, real, fake, eps, lambda_):
    """Eq. 3's penalty and the gradient norms at x_hat = eps x + (1 - eps) G(z), eps (N, 1)."""
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_()              # (N, 2)
    # The outputs of different rows do not interact (no batch norm in this critic), so the
    # gradient of their sum has row i = dD(x_hat_i)/dx_hat_i.
    (g,) = tinygan.grad(critic(x_hat).sum(), x_hat, create_graph=True)    # (N, 2)
    norms = g.norm(dim=1)                                                 # (N,)
    return lambda_ * ((norms - 1) ** 2).mean(), norms.detach().numpy()


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("ring8", rng=np.random.default_rng(seed))
    gan = _shared.make_gan(WGANGP, data, device, seed)
    lam = gan.cfg.lambda_gp

    # 1. One penalty by hand and one from the library, with the same eps (same generator seed).
    rng = np.random.default_rng([seed, 3])
    real = tinygan.tensor(data.x[rng.choice(len(data), batch_size)], device=device)
    with tinygan.no_grad():
        fake = gan.generate(gan.sample_z(batch_size, rng))
    eps = tinygan.tensor(np.random.default_rng([seed, 4]).random((batch_size, 1)).astype(np.float32), device=device)
    mine, norms_before = penalty_by_hand(gan.D, real, fake, eps, lam)
    library = losses.gradient_penalty(gan.D, real, fake, rng=np.random.default_rng([seed, 4]), lambda_=lam)
    print(f"gradient penalty by hand {mine.item():.6f}, losses.gradient_penalty {library.item():.6f}")
    assert abs(mine.item() - library.item()) <= 1e-5 * max(1.0, abs(library.item()))
    mine.backward()  # through the gradient: a second derivative, into the critic's weights
    w = gan.D.trunk[0].weight
    print(f"d penalty / d (critic's first weight matrix) has norm {w.grad.norm().item():.4f}")
    gan.D.zero_grad()

    # 2. Train, then look at the same norms again.
    train(gan, data, _shared.train_config(gan, out / "run", steps, batch_size, seed, device))
    _shared.ring8_report(gan, data, out / "ring8.png", seed, title=f"WGAN-GP after {steps} steps", announce=True)
    _, norms_after = penalty_by_hand(gan.D, real, fake, eps, lam)
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    bins = np.linspace(0, max(2.0, norms_after.max(), norms_before.max()), 50)
    ax.hist(norms_before, bins=bins, alpha=0.6, label="initial critic")
    ax.hist(norms_after, bins=bins, alpha=0.6, label=f"after {steps} steps")
    ax.axvline(1.0, color="black", linestyle="--")
    ax.set(xlabel="||grad D(x_hat)||", ylabel="count", title="critic gradient norms at x_hat")
    ax.legend()
    print(f"median gradient norm at x_hat: {np.median(norms_before):.3f} before, {np.median(norms_after):.3f} "
          f"after training; histogram: {_shared.save_figure(fig, out / 'gradient_norms.png')}")


if __name__ == "__main__":
    _shared.run(main, default_steps=3000, default_batch_size=256)
