"""Energy-based GAN (Zhao, Mathieu & LeCun 2017; ``tinygan/gans/ebgan.py``).

D is an autoencoder, and its reconstruction error is an energy: low on data, high elsewhere.

    D:  E(x) + max(0, m - E(G(z)))        G:  E(G(z)) + lambda_PT f_PT        (Eq. 1-2, 4)

D learns to reconstruct real points and to push fakes up to the margin m (beyond it, a fake
costs D nothing); G moves its samples to where the energy is low. The pull-away term f_PT
(mean squared cosine similarity of the batch's codes) keeps G's samples apart in code space.

This script trains EBGAN on the ring of 8 Gaussians in stages: ``train(..., resume=True)``
continues from the checkpoint of the previous stage exactly as one uninterrupted run would,
and between stages the energies of fixed real points and fixed fakes are measured: D quickly
pushes the fakes' energy up to about the margin m, where they stop costing it anything, while
the real energy keeps falling. The heat map behind the ring plot is minus the energy.
The learning rates stay constant here (no decay over the second half, unlike
``python -m tinygan train ebgan``): a decay is scheduled over ``TrainConfig.steps``, which is
each stage's end, so the stages would not add up to one run.
"""
from pathlib import Path

import _shared
import numpy as np

import tinygan
from tinygan import viz
from tinygan.data import get_dataset
from tinygan.gans.ebgan import EBGAN
from tinygan.train import train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("ring8", rng=np.random.default_rng(seed))
    gan = _shared.make_gan(EBGAN, data, device, seed)
    rng = np.random.default_rng([seed, 5])
    real = tinygan.tensor(data.x[rng.choice(len(data), 1000)], device=device)   # fixed probes
    z = gan.sample_z(1000, rng)

    energies, measured_at = {"E(x), real": [], "E(G(z)), fake": []}, []

    def measure(step: int) -> None:
        with tinygan.no_grad():
            energies["E(x), real"].append(gan.energy(real)[0].mean().item())
            energies["E(G(z)), fake"].append(gan.energy(gan.generate(z))[0].mean().item())
        measured_at.append(step)
        print(f"step {step:5d}: E(real) {energies['E(x), real'][-1]:.4f}, "
              f"E(fake) {energies['E(G(z)), fake'][-1]:.4f}  (margin m = {gan.cfg.margin})")

    measure(0)
    stages = sorted({max(1, round(steps * i / 10)) for i in range(1, 11)})  # 10 stages (fewer if steps < 10)
    for i, stage_end in enumerate(stages):
        cfg = _shared.train_config(gan, out / "run", stage_end, batch_size, seed, device,
                                   sample_every=steps, progress=False, lr_decay=0.0)  # see the docstring
        train(gan, data, cfg, resume=i > 0)
        measure(stage_end)
    path = viz.save_loss_curves(energies, measured_at, out / "energies.png",
                                title=f"EBGAN energies (mean squared reconstruction error), m = {gan.cfg.margin}")
    print(f"energies over training: {path}")
    _shared.ring8_report(gan, data, out / "ring8.png", seed, title=f"EBGAN after {steps} steps", announce=True)


if __name__ == "__main__":
    _shared.run(main, default_steps=10000, default_batch_size=256)
