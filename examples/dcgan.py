"""DCGAN on MNIST (Radford, Metz & Chintala 2016; ``tinygan/gans/dcgan.py``).

DCGAN keeps the original GAN's loss and changes the networks (``dcgan_networks`` in
``tinygan/gans/common.py``): strided convolutions instead of pooling, transposed convolutions
in G, batch norm, ReLU in G and LeakyReLU(0.2) in D, weights from N(0, 0.02), Adam(2e-4, 0.5).
This script prints both networks, trains them, saves a grid of samples, and walks the latent
space as in the paper's Sec. 6.1: points on a straight line between two z give digits that
morph smoothly into each other, a sign that G has not memorised the training images.

Needs MNIST: set TINYGAN_DATA to a folder holding mnist/*.gz (else tinygan downloads it into
~/.cache/tinygan). About 5 steps/s on a 2-core CPU: the default 1000 steps take 4-5 minutes.
"""
from pathlib import Path

import _shared
import numpy as np

import tinygan
from tinygan import viz
from tinygan.data import get_dataset
from tinygan.gans.dcgan import DCGAN
from tinygan.train import TrainConfig, generate_numpy, train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("mnist")                        # x: (60000, 1, 28, 28) in [-1, 1]
    gan = _shared.make_gan(DCGAN, data, device, seed)  # the paper's Config: z_dim 100, Adam(2e-4, 0.5)
    print(gan.G, gan.D, sep="\n")
    train(gan, data, TrainConfig(steps=steps, batch_size=batch_size, seed=seed, device=device,
                                 out=str(out), sample_every=max(1, steps // 5)))  # frames in out/samples/

    rng = np.random.default_rng(seed)
    path = viz.save_image_grid(generate_numpy(gan, gan.sample_z(64, rng), None), out / "samples.png")
    print(f"64 samples: {path}")

    # Walk the latent space: row r goes from z_a to z_b in 10 equal steps.
    ends = rng.standard_normal((8, 2, gan.cfg.z_dim))                      # (rows, {a, b}, z_dim)
    t = np.linspace(0, 1, 10)[None, :, None]                               # (1, 10, 1)
    z = (1 - t) * ends[:, :1] + t * ends[:, 1:]                            # (8, 10, z_dim)
    z = tinygan.tensor(z.reshape(80, -1).astype(np.float32), device=device)
    path = viz.save_image_grid(generate_numpy(gan, z, None), out / "latent_walk.png", nrow=10)
    print(f"latent walk (one interpolation per row): {path}")


if __name__ == "__main__":
    _shared.run(main, default_steps=1000, default_batch_size=64)
