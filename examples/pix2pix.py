"""pix2pix on the CMP facades: label map -> photo (Isola et al. 2017; ``tinygan/gans/pix2pix.py``).

Trains the same U-Net twice with the same budget: once on L1 alone (``lambda_gan=0``) and once
with the PatchGAN's cGAN loss added (L1 x 100 + cGAN, the paper's objective). Then both translate
the held-out test label maps, and this script prints, for each, the L1 to the real photos and the
sharpness of the outputs (``tinygan.metrics.sharpness``, mean gradient magnitude) beside that of
the real photos, and draws rows of label | L1 only | L1 + cGAN | photo. The paper's Fig. 4 and
Table 1 make the same comparison: L1 alone is right on average but blurry; the cGAN term brings
the high frequencies back.

Needs the facades folder (set TINYGAN_DATA to a folder holding facades/; see the README's Data
section). At 64 x 64 one run of 5000 steps (batch 4) takes about 40 minutes on one CPU core.
"""
from pathlib import Path

import _shared
import numpy as np

import tinygan
from tinygan import viz
from tinygan.data import get_dataset
from tinygan.gans.pix2pix import Pix2Pix
from tinygan.train import generate_numpy, train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("facades", image_size=64)               # x: photos, y: label maps (400, 3, 64, 64)
    test = get_dataset("facades", split="test", image_size=64)
    outputs = {}
    for name, lambda_gan in (("l1_only", 0.0), ("pix2pix", 1.0)):
        gan = _shared.make_gan(Pix2Pix, data, device, seed, lambda_gan=lambda_gan)
        train(gan, data, _shared.train_config(gan, out / name, steps, batch_size, seed, device))
        scores = gan.test_scores(test.y, test.x)
        print(f"{name:8s} test L1 {scores['l1']:.4f}   sharpness {scores['sharpness']:.4f} "
              f"(real photos {scores['real_sharpness']:.4f})")
        outputs[name] = generate_numpy(gan, tinygan.tensor(test.y[:6], device=device))
    rows = np.stack([test.y[:6], outputs["l1_only"], outputs["pix2pix"], test.x[:6]], 1)  # (6, 4, 3, 64, 64)
    path = viz.save_image_grid(rows.reshape(-1, *rows.shape[2:]), out / "label_l1_pix2pix_photo.png", nrow=4)
    print(f"rows of label | L1 only | L1 + cGAN | photo: {path}")


if __name__ == "__main__":
    _shared.run(main, default_steps=5000, default_batch_size=4)
