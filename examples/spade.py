"""SPADE on the CMP facades: one-hot class map -> photo (Park et al. 2019; ``tinygan/gans/spade.py``).

The label maps are snapped to the 12 class colours that k-means finds in the training maps and fed
to G as one-hot maps (``--dataset facades-classes``). Every normalization in G's residual blocks is
a SPADE layer, whose per-pixel scale and shift come from the map, so the photo's layout follows the
map: windows where the map has windows. This script trains it, then prints, on the held-out test
maps, the per-class colour error (for each class in each image, the mean colour of G's pixels there
against the real photo's, ``spade.class_colour_error``), the L1 and the sharpness, and draws rows of
map | G(map) | photo.

Needs the facades folder (TINYGAN_DATA). Sized for a CPU: nf 16 and 32 channels inside each SPADE
layer (the paper: 64 and 128); 3000 steps of batch 4 at 64 x 64 take about an hour on one core.
"""
from pathlib import Path

import _shared

import tinygan
from tinygan import viz
from tinygan.data import get_dataset
from tinygan.gans.spade import SPADE
from tinygan.train import train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("facades-classes", image_size=64)       # x: photos (400, 3, 64, 64), y: maps (400, 12, 64, 64)
    test = get_dataset("facades-classes", split="test", image_size=64)
    gan = _shared.make_gan(SPADE, data, device, seed, base=16, spade_hidden=32)
    train(gan, data, _shared.train_config(gan, out, steps, batch_size, seed, device))
    scores = gan.test_scores(test.y, test.x)
    print(f"test maps ({scores['n']}): class colour error {scores['class_colour_error']:.4f}, L1 {scores['l1']:.4f}, "
          f"sharpness {scores['sharpness']:.4f} (real photos {scores['real_sharpness']:.4f})")
    triples = gan.triples((tinygan.tensor(test.y[:8], device=device), tinygan.tensor(test.x[:8], device=device)))
    path = viz.save_image_grid(triples.reshape(-1, *triples.shape[2:]), out / "map_spade_photo.png", nrow=6)
    print(f"rows of map | SPADE | photo: {path}")


if __name__ == "__main__":
    _shared.run(main, default_steps=3000, default_batch_size=4)
