"""Hinge-loss GAN (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018; ``tinygan/gans/hinge.py``).

    D:  E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]        G:  -E[D(G(z))]

D is a soft-margin SVM: a real sample scored above +1 or a fake below -1 costs nothing, so D
only learns from the samples inside the margin (the "support vectors"), while G's loss is the
Wasserstein one, a constant push along D's output. The first picture sets the hinge beside the
non-saturating and Wasserstein losses (``tinygan/losses.py``); then the hinge GAN trains on the
ring of 8 Gaussians, and the script counts the samples that still fall inside D's margin.
"""
from pathlib import Path

import _shared
import numpy as np

import tinygan
from tinygan.data import get_dataset
from tinygan.gans.hinge import HingeGAN
from tinygan.train import train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    path = _shared.plot_losses(["nonsaturating", "hinge", "wasserstein"], out / "losses_vs_d.png")
    print(f"losses against D's output: {path}")

    data = get_dataset("ring8", rng=np.random.default_rng(seed))
    gan = _shared.make_gan(HingeGAN, data, device, seed)  # the 2D defaults; lrs decay over the second half
    train(gan, data, _shared.train_config(gan, out / "run", steps, batch_size, seed, device))
    _shared.ring8_report(gan, data, out / "ring8.png", seed, title=f"hinge GAN after {steps} steps", announce=True)

    rng = np.random.default_rng([seed, 2])
    real = tinygan.tensor(data.x[rng.choice(len(data), 1000)], device=device)
    with tinygan.no_grad():
        d_real, d_fake = gan.D(real).numpy(), gan.D(gan.generate(gan.sample_z(1000, rng))).numpy()
    print(f"inside D's margin (these drive D's update): {np.mean(d_real < 1):.0%} of real samples "
          f"(D(x) < 1), {np.mean(d_fake > -1):.0%} of fakes (D(G(z)) > -1)")


if __name__ == "__main__":
    _shared.run(main, default_steps=10000, default_batch_size=256)
