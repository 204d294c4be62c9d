"""CycleGAN between MNIST digits and Fashion-MNIST clothes, with no pairs (Zhu et al. 2017;
``tinygan/gans/cyclegan.py``).

G turns digits into clothes and F clothes into digits; nothing says which digit should become
which garment, only that F(G(a)) must give a back (and G(F(b)) b). This script trains the two
translators, draws rows of digit | G(digit) | F(G(digit)) for test digits and prints the cycle L1
both ways. ``python -m tinygan eval OUT`` then counts the test digits that tinygan's MNIST classifier
still reads as their label after the round trip: the cycle loss makes G hide the digit somewhere in
the garment it draws (Chu et al. 2017 call CycleGAN "a master of steganography").

Needs MNIST and Fashion-MNIST (TINYGAN_DATA). The networks here are the paper's at half width
(``base=32``): 2000 steps (batch 4) take about 40 minutes on one CPU core.
"""
from pathlib import Path

import _shared
import numpy as np

from tinygan import viz
from tinygan.data import get_dataset
from tinygan.gans.cyclegan import CycleGAN
from tinygan.train import train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("mnist-fashion")                     # x: 60000 digits (A), y: 60000 clothes (B)
    gan = _shared.make_gan(CycleGAN, data, device, seed, base=32)
    train(gan, data, _shared.train_config(gan, out, steps, batch_size, seed, device))

    test = get_dataset("mnist-fashion", split="test")      # x: 10000 test digits, y: 10000 test clothes
    digits = test.x[:500]
    scores = gan.test_scores(digits, test.y[:500])
    print(f"cycle L1 digits -> clothes -> digits {scores['cycle_l1_a'].mean():.4f}, "
          f"clothes -> digits -> clothes {scores['cycle_l1_b'].mean():.4f} (500 test images each); "
          f"`python -m tinygan eval {out}` counts the digits kept")
    rows = np.stack([digits[:8], scores["a_to_b"][:8], scores["a_to_b_to_a"][:8]], 1)   # (8, 3, 1, 28, 28)
    path = viz.save_image_grid(rows.reshape(-1, *rows.shape[2:]), out / "digit_clothes_digit.png", nrow=6)
    print(f"rows of digit | G(digit) | F(G(digit)): {path}")


if __name__ == "__main__":
    _shared.run(main, default_steps=2000, default_batch_size=4)
