"""A StyleGAN-style generator grown from 4 x 4 to 32 x 32 on MNIST (Karras et al. 2019 and 2018;
``tinygan/gans/stylegan.py``), and the three pictures that show what its styles and noise do:

* ``mixing.png``: row i takes its coarse styles (the 4 x 4 and 8 x 8 layers) from code A_i and
  column j its fine styles (16 x 16 and 32 x 32) from code B_j (the paper's Fig. 3);
* ``truncation.png``: the same codes drawn with psi = 1, 0.7, 0.5 and 0 (one column each): as psi
  falls the samples move towards the average w, more typical and less varied (Sec. 3.1, Fig. 8);
* ``noise.png``: one code with fresh per-layer noise in each column: only fine details move (Fig. 4).

Needs MNIST (TINYGAN_DATA). Sized for a CPU: feature maps halved (fmap_base 512, at most 64),
400 steps per resolution and batch 16; the default 2400 steps take about an hour on one core.
"""
from pathlib import Path

import _shared
import numpy as np

from tinygan import viz
from tinygan.data import get_dataset
from tinygan.gans.stylegan import StyleGAN
from tinygan.tensor import no_grad
from tinygan.train import train


def draw(gan: StyleGAN, out: Path, seed: int, n: int = 6) -> list[Path]:
    """The mixing, truncation and noise grids of a trained ``gan``, written into ``out``."""
    rng = np.random.default_rng([seed, 3])
    z = [gan.sample_z(n, rng) for _ in range(2)]
    L = gan.G.num_layers
    gan.G.eval()
    with no_grad():
        mixing = np.stack([gan.mix(z[0][i:i + 1].expand(n, z[0].shape[1]), z[1], L // 2).numpy()
                           for i in range(n)])                                     # (n, n, C, H, W)
        truncation = np.stack([gan.generate_styles(z[0], psi).numpy() for psi in (1.0, 0.7, 0.5, 0.0)], 1)
        noise = gan.generate_styles(z[0][:1].expand(n, z[0].shape[1])).numpy()   # one code, fresh noise per image
    gan.G.train()
    paths = [viz.save_image_grid(mixing.reshape(-1, *mixing.shape[2:]), out / "mixing.png", nrow=n),
             viz.save_image_grid(truncation.reshape(-1, *truncation.shape[2:]), out / "truncation.png", nrow=4),
             viz.save_image_grid(noise, out / "noise.png", nrow=n)]
    return paths


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("mnist32")                        # (60000, 1, 32, 32): MNIST with 2 pixels of border
    gan = _shared.make_gan(StyleGAN, data, device, seed, fmap_base=512, fmap_max=64,
                           stage_steps=max(1, min(400, steps // 6)))
    train(gan, data, _shared.train_config(gan, out, steps, batch_size, seed, device))
    for path in draw(gan, out, seed):
        print(f"wrote {path}")
    print(f"`python -m tinygan eval {out}` scores its samples with tinygan's MNIST classifier")


if __name__ == "__main__":
    _shared.run(main, default_steps=2400, default_batch_size=16)
