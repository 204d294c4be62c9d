"""Unrolled GAN vs the vanilla GAN on the ring of 8 Gaussians (Metz et al. 2017; ``tinygan/gans/unrolled.py``).

A vanilla G chases the D of this step: it piles onto whatever region D currently likes, D
then learns to reject that region, G hops to the next one, and the pair can cycle between
a few modes forever (mode collapse, Fig. 1 of the paper). The unrolled G is trained against
the D it *will* face after K more D updates, each differentiated through
(``tinygan.grad(..., create_graph=True)``): a G that collapses onto one mode sees D's answer
coming and is pushed to spread out. This costs about K + 1 D passes per G step.

Both models here start from the same seed, see the same batches and use the same learning
rates (the 2D defaults, decaying to 0 over the second half); only G's update differs. The
script prints the modes each captured and saves both rings. The unrolled run dominates the
cost: about 10 minutes on a busy 2-core CPU at the default 1500 steps (half the 3000 of
``python -m tinygan train unrolled``); --steps 500 for a quick look.
"""
from pathlib import Path

import _shared
import numpy as np

from tinygan.data import get_dataset
from tinygan.gans.gan import VanillaGAN
from tinygan.gans.unrolled import UnrolledGAN
from tinygan.train import train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("ring8", rng=np.random.default_rng(seed))
    for variant in (VanillaGAN, UnrolledGAN):
        gan = _shared.make_gan(variant, data, device, seed)
        rows = train(gan, data, _shared.train_config(gan, out / gan.name, steps, batch_size, seed, device,
                                                     sample_every=max(1, steps // 5)))
        over_time = [r["modes_captured"] for r in rows if "modes_captured" in r]
        scores = _shared.ring8_report(gan, data, out / f"{gan.name}_ring8.png", seed,
                                      title=f"{gan.name} after {steps} steps")
        print(f"{gan.name:>8}: modes captured {scores.modes_captured}/8 (during training: {over_time}), "
              f"high quality {scores.high_quality:.1%}, reverse KL {scores.reverse_kl:.2f}; "
              f"picture {out / f'{gan.name}_ring8.png'}")


if __name__ == "__main__":
    _shared.run(main, default_steps=1500, default_batch_size=256)
