"""Training tricks against mode collapse, each one Config field (``tinygan/gans/common.py``).

* ``real_label=0.9``: one-sided label smoothing (Salimans et al. 2016, Sec. 3.4). D's target
  for real data is 0.9, so it cannot grow arbitrarily confident; fakes keep target 0.
* ``feature_matching=True`` (Sec. 3.1): G matches the batch mean of D's last hidden features
  on real data instead of fooling D's output (``losses.feature_matching_loss``).
* ``minibatch_discrimination=16`` (Sec. 3.2): D sees, for each sample, how close it is to the
  others in its batch (16 learnt kernels), so a batch of near-copies is easy to spot.
* ``pack=4``: PacGAN (Lin et al. 2018). D judges 4 samples at once, concatenated; a collapsed
  G's packs look nothing like real packs.

Because they are Config fields, they work with every variant. This script trains the vanilla
GAN on the ring of 8 Gaussians once without any trick and once with each, from the same seed,
and prints the mode-coverage scores of VEEGAN / PacGAN (``tinygan/metrics.py``). Every run uses
the 2D defaults (learning rates decaying to 0 over the second half) plus its trick. One seed
makes a noisy table (no trick wins every time: the papers report averages over many runs);
compare a few ``--seed`` values before drawing conclusions.
Minibatch discrimination compares every pair in the batch, so its run is the slowest.
"""
import time
from pathlib import Path

import _shared
import numpy as np

from tinygan.data import get_dataset
from tinygan.gans.gan import VanillaGAN
from tinygan.train import train

TRICKS = {
    "baseline": {},
    "label smoothing": {"real_label": 0.9},
    "feature matching": {"feature_matching": True},
    "minibatch discrimination": {"minibatch_discrimination": 16},
    "packing (PacGAN, m=4)": {"pack": 4},
}


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("ring8", rng=np.random.default_rng(seed))
    results, seconds = {}, {}
    for name, fields in TRICKS.items():
        folder = out / name.split(" ")[0]
        gan = _shared.make_gan(VanillaGAN, data, device, seed, **fields)
        start = time.perf_counter()
        train(gan, data, _shared.train_config(gan, folder, steps, batch_size, seed, device))
        results[name] = _shared.ring8_report(gan, data, folder / "ring8.png", seed, title=name)
        seconds[name] = time.perf_counter() - start

    print(f"\nvanilla GAN on ring8, {steps} steps, batch {batch_size}, seed {seed} (pictures in {out}/*/ring8.png)")
    print(f"{'trick':<26} {'modes':>5} {'high quality':>12} {'reverse KL':>10} {'time':>6}")
    for name, s in results.items():
        print(f"{name:<26} {s.modes_captured:>3}/8 {s.high_quality:>12.1%} {s.reverse_kl:>10.3f} "
              f"{seconds[name]:>5.0f}s")


if __name__ == "__main__":
    _shared.run(main, default_steps=5000, default_batch_size=128)
