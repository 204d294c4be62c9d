"""Mode collapse over training, and a cure, on the ring of 8 Gaussians: one animated GIF.

    python examples/theory/mode_collapse.py             # ~2 minutes on a core; writes docs/theory_mode_collapse.gif
    python examples/theory/mode_collapse.py --steps 3   # the smoke test: no assertions, docs/ left alone

Two GANs train from the same seed on the same batches, in a setting where the vanilla GAN collapses:
tinygan's old defaults (z of 64 dimensions, G and D 3 x 256 units, Adam lr 2e-4 for both, constant
rates; README, "Why the old defaults drew a line"). Each frame shows the two side by side:

* the vanilla GAN (Goodfellow et al. 2014, non-saturating loss): G's points gather in one place, D
  learns to reject it, G moves on, and it never covers the ring (Goodfellow 2016, tutorial Sec. 5.1.1;
  Metz et al. 2017, Fig. 1);
* PacGAN2 (Lin et al. 2018): D judges two samples at once, so a G that draws one point twice is told
  apart from the data, whose pairs come from different modes.

(The unrolled GAN, K = 5, in this same setting still had 0 of 8 modes after 2000 steps, so it is not
shown; ``benchmarks/mixtures.py --paper unrolled`` has it spreading in Metz et al.'s own setting.)

A run of at least the default steps asserts what the papers report, measured by the mode metrics
(``tinygan.metrics``): the vanilla GAN captures at most 2 of the 8 modes at the end and PacGAN2 all 8,
and writes the GIF to docs/.
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/, where _shared.py lives
import _shared

from tinygan import viz
from tinygan.data import get_dataset
from tinygan.gans.gan import VanillaGAN
from tinygan.train import train

DEFAULT_STEPS, FRAMES = 4000, 16
OLD_DEFAULTS = {"z_dim": 64, "hidden": 256, "lr_g": 2e-4, "lr_d": 2e-4}
RUNS = {"vanilla": (VanillaGAN, {}), "pacgan2": (VanillaGAN, {"pack": 2})}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "theory_mode_collapse.gif"


def train_all(steps: int, out: Path, device: str, seed: int, batch_size: int) -> dict:
    """Train the GANs; returns name -> (frame paths, modes captured at each frame)."""
    data = get_dataset("ring8", rng=np.random.default_rng(seed))
    every = max(1, steps // FRAMES)
    results = {}
    for name, (variant, extra) in RUNS.items():
        gan = _shared.make_gan(variant, data, device, seed, **OLD_DEFAULTS, **extra)
        cfg = _shared.train_config(gan, out / name, steps, batch_size * extra.get("pack", 1), seed, device,
                                   sample_every=every, lr_decay=0.0)
        rows = train(gan, data, cfg)
        frames = sorted((out / name / "samples").glob("step_*.png"))
        results[name] = (frames, [r["modes_captured"] for r in rows if "modes_captured" in r])
    return results


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))                          # (H, W, 3) uint8


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    results = train_all(steps, out, device, seed, batch_size)
    for name, (_, modes) in results.items():
        print(f"{name:>9}: modes captured at each frame {modes}")
    rows = zip(*(frames for frames, _ in results.values()))           # one frame of each GAN, side by side
    pictures = [np.concatenate([_rgb(p) for p in row], axis=1) for row in rows]
    gif = viz.save_gif(pictures, out / "mode_collapse.gif", duration_ms=400)
    print(f"animation: {gif}")
    if steps < DEFAULT_STEPS:
        return
    final = {name: modes[-1] for name, (_, modes) in results.items()}
    assert final["vanilla"] <= 2, f"the vanilla GAN should collapse here: {final}"
    assert final["pacgan2"] == 8, f"PacGAN2 should cover the ring: {final}"
    half = [np.asarray(Image.fromarray(p).resize((p.shape[1] // 2, p.shape[0] // 2), Image.LANCZOS)) for p in pictures]
    viz.save_gif(half, DOCS, duration_ms=400)                          # half size: the repository keeps it small
    print(f"also written to {DOCS}")


if __name__ == "__main__":
    _shared.run(main, default_steps=DEFAULT_STEPS, default_batch_size=256)
