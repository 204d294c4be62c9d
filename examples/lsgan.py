"""Least-squares GAN (Mao et al. 2017; ``tinygan/gans/lsgan.py``).

The sigmoid cross entropy of the original GAN saturates: once a fake sample sits on the "real"
side of D's boundary, its loss is flat, even if the sample is far from the data. LSGAN replaces
it by squared distances to target outputs (a = 0 for fakes, b = c = 1 for reals, Eq. 9):

    D:  1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]        G:  1/2 E[(D(G(z)) - 1)^2]

so G's gradient grows with the distance to the target and never vanishes. The first picture
shows both losses against D's output (``tinygan/losses.py``). Then LSGAN trains on the ring of
8 Gaussians; for a fixed G the best D is (b p_data + a p_g) / (p_data + p_g) (Eq. 3 with the
0-1 coding), so at equilibrium D scores real and fake points near 1/2.
"""
from pathlib import Path

import _shared
import numpy as np

import tinygan
from tinygan.data import get_dataset
from tinygan.gans.lsgan import LSGAN
from tinygan.train import train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    print(f"losses against D's output: {_shared.plot_losses(['nonsaturating', 'lsgan'], out / 'losses_vs_d.png')}")

    data = get_dataset("ring8", rng=np.random.default_rng(seed))
    gan = _shared.make_gan(LSGAN, data, device, seed)  # the 2D defaults; lrs decay over the second half
    train(gan, data, _shared.train_config(gan, out / "run", steps, batch_size, seed, device))
    _shared.ring8_report(gan, data, out / "ring8.png", seed, title=f"LSGAN after {steps} steps", announce=True)

    rng = np.random.default_rng([seed, 2])
    real = tinygan.tensor(data.x[rng.choice(len(data), 1000)], device=device)
    with tinygan.no_grad():
        d_real, d_fake = gan.D(real).mean().item(), gan.D(gan.generate(gan.sample_z(1000, rng))).mean().item()
    print(f"mean D output: real {d_real:.2f}, fake {d_fake:.2f} (targets 1 and 0; both 1/2 at equilibrium)")


if __name__ == "__main__":
    _shared.run(main, default_steps=5000, default_batch_size=256)
