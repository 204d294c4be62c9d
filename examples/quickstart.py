"""Quickstart: train the original GAN on 8 Gaussians on a ring and see what it learned.

    python examples/quickstart.py                 # about half a minute on a 2-core CPU
    python examples/quickstart.py --steps 1000    # a quick look (modes still forming)

The ring of 8 Gaussians (Metz et al. 2017) is the classic mode-collapse probe: every mode is
easy to see and to count. You get a picture of real (black) vs generated (orange) points over
D's belief that a point is real, and the mode-coverage scores of VEEGAN / PacGAN.
"""
from pathlib import Path

import _shared
import numpy as np

from tinygan import metrics, viz
from tinygan.data import MIXTURES, get_dataset
from tinygan.gans.common import DataInfo
from tinygan.gans.gan import Config, VanillaGAN
from tinygan.train import TrainConfig, generate_numpy, train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    # 1. Data: a fixed pool of 100,000 points from the mixture (tinygan/data.py).
    data = get_dataset("ring8", rng=np.random.default_rng(seed))

    # 2. The model: G and D are MLPs, the losses Goodfellow et al.'s (tinygan/gans/gan.py).
    #    Any field of the Config can be changed (Config(hidden=256), ...); fields left at None
    #    (z_dim, lr_g, lr_d) take the values for 2D points: z ~ N(0, I_2), lr 5e-4 for G, 1e-3 for D.
    cfg = Config()
    gan = VanillaGAN(cfg, DataInfo("points", (2,), None), device)

    # 3. Training: the one loop every variant shares (tinygan/train.py). It also writes
    #    out/metrics.jsonl, out/losses.png and a picture every sample_every steps in out/samples/.
    #    The learning rates decay linearly to 0 over the second half, which settles the points.
    train(gan, data, TrainConfig(steps=steps, batch_size=batch_size, seed=seed, device=device,
                                 out=str(out), sample_every=max(1, steps // 4), lr_decay=0.5))

    # 4. Look: 2500 generated points over D's heat map (green: D says "real").
    fake = generate_numpy(gan, gan.sample_z(2500, np.random.default_rng(seed)), None)  # (2500, 2)
    path = viz.save_points_plot(data.x[:2500], fake, out / "ring8.png", critic=gan.critic_map, lim=1.5,
                                title=f"vanilla GAN after {steps} steps")
    print(f"real vs generated points: {path}")

    # 5. Count: how many of the 8 modes have a sample within 3 std (tinygan/metrics.py)?
    mix = MIXTURES["ring8"]
    scores = metrics.mode_scores(fake, mix.means, mix.std)
    print(f"modes captured {scores.modes_captured}/{scores.num_modes}, "
          f"high-quality samples {scores.high_quality:.1%}, reverse KL {scores.reverse_kl:.3f}")


if __name__ == "__main__":
    _shared.run(main, default_steps=5000, default_batch_size=256)
