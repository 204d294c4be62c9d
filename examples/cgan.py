"""Conditional GAN on MNIST (Mirza & Osindero 2014; ``tinygan/gans/cgan.py``).

Give both networks the class label y and G learns p(x | y): ask for a 7, get a 7. In tinygan
a conditional model is the ordinary GAN with ``Config.conditional = True``: G concatenates an
embedding of y to z, D gets y as 10 extra constant channels (``Generator`` and
``Discriminator`` in ``tinygan/gans/common.py``). This script trains it and draws a 10x10 grid
in which row r asks for digit r and column c reuses one noise vector z_c: the label sets the
class, z sets the style (thickness, slant) shared along each column.

Needs MNIST: set TINYGAN_DATA to a folder holding mnist/*.gz (else tinygan downloads it).
About 5 steps/s on a 2-core CPU: the default 1000 steps take 4-5 minutes.
"""
from pathlib import Path

import _shared
import numpy as np

import tinygan
from tinygan import viz
from tinygan.data import get_dataset
from tinygan.gans.cgan import ConditionalGAN
from tinygan.train import TrainConfig, generate_numpy, train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("mnist")                                 # x: (60000, 1, 28, 28), y: (60000,)
    gan = _shared.make_gan(ConditionalGAN, data, device, seed)  # conditional=True is its Config's default
    train(gan, data, TrainConfig(steps=steps, batch_size=batch_size, seed=seed, device=device,
                                 out=str(out), sample_every=max(1, steps // 5)))

    k = data.num_classes
    z = np.random.default_rng(seed).standard_normal((k, gan.cfg.z_dim))   # one z per column
    z = np.tile(z, (k, 1)).astype(np.float32)                            # (k*k, z_dim): row r repeats them
    y = np.repeat(np.arange(k), k)                                        # (k*k,): row r asks for class r
    images = generate_numpy(gan, tinygan.tensor(z, device=device), tinygan.tensor(y, device=device))
    path = viz.save_image_grid(images, out / "digits_by_row.png", nrow=k)
    print(f"row r = digit r, column c = noise z_c: {path}")


if __name__ == "__main__":
    _shared.run(main, default_steps=1000, default_batch_size=64)
