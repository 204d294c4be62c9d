"""What a GAN's latent space holds: DCGAN interpolation and vector arithmetic, InfoGAN's codes traversed.

    python examples/theory/latent_space.py             # trains DCGAN and InfoGAN on MNIST (or resumes them
                                                      # from OUT); writes docs/theory_latent_space.png
    python examples/theory/latent_space.py --steps 3   # the smoke test: no assertions, docs/ left alone

* **Interpolation** (Radford et al. 2016, Sec. 6.1; White 2016, "Sampling Generative Networks"): walking
  from z_1 to z_2, G's images change smoothly, with no jumps (no memorised training images). The walk
  is spherical, slerp(z_1, z_2; t) = sin((1 - t) W) / sin W z_1 + sin(t W) / sin W z_2 with
  cos W = z_1.z_2 / (|z_1| |z_2|): a z ~ N(0, I_d) has |z| close to sqrt(d), and the straight line
  between two (nearly orthogonal) such points passes through |z| = sqrt(d / 2) at t = 1/2, where G was
  never trained; slerp keeps |z| near sqrt(d) throughout.
* **Vector arithmetic** (Radford et al. 2016, Sec. 6.3): averaging the z of samples that share a property
  and subtracting the average z of samples without it gives a direction for the property. Here the
  property is stroke thickness (the ink, the mean pixel brightness): d = mean z of the 20% most inked
  samples - mean z of the 20% least inked; z + d draws the same digits, thicker.
* **InfoGAN's codes** (Chen et al. 2016, Fig. 2): rows are the 10 values of the categorical code c_1,
  columns one continuous code swept over [-2, 2] (twice its training range), z fixed. c_1 sets the digit
  (scored by tinygan's MNIST classifier); the continuous codes change the style.

A run of at least the default steps asserts: the straight line's midpoint norm is 1/sqrt(2) of slerp's
(within 5%); adding the thickness direction raises the ink of new samples by at least 20%; the categorical
code is the digit for at least 85% of the samples (code purity); then writes the figure to docs/.
"""
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/, where _shared.py lives
import _shared

import tinygan
from tinygan import classifier, metrics
from tinygan.data import get_dataset
from tinygan.gans.dcgan import DCGAN
from tinygan.gans.infogan import InfoGAN
from tinygan.train import generate_numpy, train

DEFAULT_STEPS = 2000
DOCS = Path(__file__).resolve().parents[2] / "docs" / "theory_latent_space.png"


def slerp(z1: np.ndarray, z2: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation between the rows z1, z2 (N, d) at fractions t (T,): (N, T, d)."""
    cos = (z1 * z2).sum(1) / (np.linalg.norm(z1, axis=1) * np.linalg.norm(z2, axis=1))
    w = np.arccos(np.clip(cos, -1, 1))[:, None, None]                      # (N, 1, 1)
    t = t[None, :, None]
    return (np.sin((1 - t) * w) * z1[:, None] + np.sin(t * w) * z2[:, None]) / np.sin(w)


def trained(variant, data, out: Path, steps: int, batch_size: int, seed: int, device: str):
    """The variant trained for ``steps`` on MNIST in ``out`` (resumed there if a checkpoint exists)."""
    gan = _shared.make_gan(variant, data, device, seed)
    batch = variant.run_settings("images").batch_size if steps >= DEFAULT_STEPS else batch_size
    cfg = _shared.train_config(gan, out, steps, batch, seed, device)
    train(gan, data, cfg, resume=(out / "checkpoint.npz").is_file())
    return gan


def images(gan, z: np.ndarray) -> np.ndarray:
    return generate_numpy(gan, tinygan.tensor(z.astype(np.float32), device=gan.device))


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("mnist")
    rng = np.random.default_rng([seed, 5])
    dcgan = trained(DCGAN, data, out / "dcgan", steps, batch_size, seed, device)
    d = dcgan.cfg.z_dim

    # interpolation: 6 walks of 9 steps, slerp; and the norms along a straight line for comparison
    z1, z2 = rng.standard_normal((2, 6, d))
    t = np.linspace(0, 1, 9)
    walk = images(dcgan, slerp(z1, z2, t).reshape(-1, d)).reshape(6, 9, 28, 28)
    ratio = np.linalg.norm((z1 + z2) / 2, axis=1).mean() / np.linalg.norm(slerp(z1, z2, t[4:5])[:, 0], axis=1).mean()
    print(f"|z| at t = 1/2: straight line / slerp = {ratio:.3f} (1/sqrt(2) = {1 / np.sqrt(2):.3f})")

    # arithmetic: the thickness direction from 2000 samples, added to 9 new codes
    z = rng.standard_normal((2000, d))
    ink = (images(dcgan, z) + 1).mean((1, 2, 3)) / 2                        # mean brightness in [0, 1]
    order = np.argsort(ink)
    direction = z[order[-400:]].mean(0) - z[order[:400]].mean(0)
    z_new = rng.standard_normal((9, d))
    plain, thick = images(dcgan, z_new), images(dcgan, z_new + direction)
    gain = ((thick + 1).mean() / (plain + 1).mean()) - 1
    print(f"ink of z + d against z: {gain:+.1%} (9 new codes)")

    # InfoGAN: c_1 down the rows, c_2 (then c_3) across the columns, one z
    info = trained(InfoGAN, data, out / "infogan", steps, batch_size, seed, device)
    k, zd, sweep = info.cfg.categories, info.cfg.z_dim, np.linspace(-2, 2, 9)
    grids = []
    for c in range(info.cfg.continuous):
        codes = np.zeros((k, len(sweep), zd + k + info.cfg.continuous))
        codes[..., :zd] = rng.standard_normal(zd)
        codes[..., zd:zd + k] = np.eye(k)[:, None, :]
        codes[..., zd + k + c] = sweep
        grids.append(images(info, codes.reshape(-1, codes.shape[-1])).reshape(k, len(sweep), 28, 28))

    fig = Figure(figsize=(16, 6))
    panels = [(walk, "DCGAN: slerp walks between two codes"),
              (np.stack([plain, thick])[:, :, 0], "DCGAN: z (top) and z + thickness direction (bottom)")]
    panels += [(g, f"InfoGAN: c_1 per row, c_{c + 2} from -2 to 2") for c, g in enumerate(grids)]
    for i, (grid, title) in enumerate(panels):
        rows, cols = grid.shape[:2]
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.imshow(grid.transpose(0, 2, 1, 3).reshape(rows * 28, cols * 28), cmap="gray", vmin=-1, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    picture = _shared.save_figure(fig, out / "latent_space.png")
    print(f"picture: {picture}")
    if steps < DEFAULT_STEPS:
        return
    net, _ = classifier.load_classifier("mnist")
    z = info.sample_z(5000, rng)
    predicted = classifier.predict(net, generate_numpy(info, z))[0].argmax(1)
    purity = metrics.cluster_purity(info.latent_classes(z), predicted)
    print(f"InfoGAN: c_1 is the digit for {purity:.1%} of 5000 samples (code purity)")
    assert abs(ratio - 1 / np.sqrt(2)) < 0.05 / np.sqrt(2), ratio
    assert gain >= 0.2, gain
    assert purity >= 0.85, purity
    _shared.save_figure(fig, DOCS)
    print(f"also written to {DOCS}")


if __name__ == "__main__":
    _shared.run(main, default_steps=DEFAULT_STEPS, default_batch_size=64)
