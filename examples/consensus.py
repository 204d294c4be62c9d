"""Consensus optimization vs simultaneous gradient descent on the ring of 8 Gaussians (Mescheder et al.
2017, "The Numerics of GANs"; ``tinygan/gans/consensus.py``).

Both players step at once along the game's vector field v = (grad_phi L_D, grad_theta L_G). Without
help the iteration circles: the Jacobian of v has eigenvalues with large imaginary parts, and G's
points swing from mode to mode. Consensus optimization adds gamma grad(1/2 ||v||^2) = gamma J^T v to
both players' steps, which damps the circling; J^T v is a derivative of gradients, computed by the
engine's double backward. The two runs share the seed, the networks (the paper's 4 x 16 units), the
batches and RMSProp lr 1e-4; only gamma differs (10, and 0 = plain simultaneous steps).

The paper trains 50,000 steps; this script's default is 20,000 steps per run (a few minutes each on
one core); ``python -m tinygan train consensus`` runs the full length.
"""
from pathlib import Path

import _shared
import numpy as np

from tinygan.data import get_dataset
from tinygan.gans.consensus import ConsensusGAN
from tinygan.train import train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("ring8", rng=np.random.default_rng(seed))
    for gamma in (10.0, 0.0):
        name = f"gamma{gamma:g}"
        gan = _shared.make_gan(ConsensusGAN, data, device, seed, gamma=gamma)
        rows = train(gan, data, _shared.train_config(gan, out / name, steps, batch_size, seed, device,
                                                     sample_every=max(1, steps // 5)))
        over_time = [r["modes_captured"] for r in rows if "modes_captured" in r]
        scores = _shared.ring8_report(gan, data, out / f"{name}_ring8.png", seed,
                                      title=f"gamma = {gamma:g}, {steps} steps")
        print(f"gamma = {gamma:>4g}: modes captured {scores.modes_captured}/8 (during training: {over_time}), "
              f"high quality {scores.high_quality:.1%}; picture {out / f'{name}_ring8.png'}")


if __name__ == "__main__":
    _shared.run(main, default_steps=20000, default_batch_size=512)
