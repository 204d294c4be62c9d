"""InfoGAN on MNIST: codes that mean something, learnt without labels (Chen et al. 2016).

G's input is noise z plus a code c = (c_1, c_2, c_3): c_1 one of 10 categories, c_2 and c_3
uniform in [-1, 1]. A head Q on D's trunk tries to read c back from G(z, c), and G is rewarded
when it can (a lower bound on the mutual information I(c; G(z, c)); ``tinygan/gans/infogan.py``).
Nothing tells the model what the codes should mean, yet on MNIST c_1 tends to become the digit
class and c_2, c_3 the slant and width (Fig. 2 of the paper).

This script trains InfoGAN, checks how often Q recovers c_1, and draws latent traversals with z
fixed: row r sets c_1 = r, column j sweeps c_2 (then c_3) from -1 to 1. The rows come out in
no particular digit order: the model was never given labels. Codes need a few thousand steps
to become clean; the default 1000 (~5 minutes on a 2-core CPU) shows them forming.

Needs MNIST: set TINYGAN_DATA to a folder holding mnist/*.gz (else tinygan downloads it).
"""
from pathlib import Path

import _shared
import numpy as np

import tinygan
from tinygan import viz
from tinygan.data import get_dataset
from tinygan.gans.infogan import InfoGAN
from tinygan.train import TrainConfig, generate_numpy, train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("mnist")    # the labels are there, but InfoGAN never looks at them
    gan = _shared.make_gan(InfoGAN, data, device, seed)
    rows = train(gan, data, TrainConfig(steps=steps, batch_size=batch_size, seed=seed, device=device,
                                        out=str(out), sample_every=max(1, steps // 5)))
    cfg, k = gan.cfg, gan.cfg.categories
    print(f"last info loss (cross entropy of c_1 + Gaussian NLL of c_2, c_3): {rows[-1]['info_loss']:.3f}")

    # How much of c_1 survives in the image? Q's guess vs the code G was given (chance: 1/k).
    rng = np.random.default_rng(seed)
    z = gan.sample_z(500, rng)                               # (500, z_dim + k + 2) = [z, one_hot(c_1), c_2, c_3]
    with tinygan.no_grad():
        q = gan.Q(gan.D.features(gan.generate(z)))           # (500, k + 2)
    given = z.numpy()[:, cfg.z_dim:cfg.z_dim + k].argmax(1)
    guessed = q.numpy()[:, :k].argmax(1)
    print(f"Q recovers c_1 for {np.mean(given == guessed):.0%} of samples (chance {1 / k:.0%})")

    # Latent traversals: one fixed z; row r: c_1 = r; column j: one continuous code at sweep[j].
    noise = np.tile(rng.standard_normal(cfg.z_dim), (k * 10, 1))    # (k*10, z_dim), the same z
    one_hot = np.repeat(np.eye(k), 10, axis=0)                      # (k*10, k), row r -> class r
    sweep = np.tile(np.linspace(-1, 1, 10), k)                      # (k*10,), along each row
    for j in range(cfg.continuous):
        cont = np.zeros((k * 10, cfg.continuous))
        cont[:, j] = sweep
        inputs = np.concatenate([noise, one_hot, cont], 1).astype(np.float32)
        images = generate_numpy(gan, tinygan.tensor(inputs, device=device), None)
        path = viz.save_image_grid(images, out / f"traversal_c{j + 2}.png", nrow=10)
        print(f"rows: c_1 = 0..{k - 1}, columns: c_{j + 2} from -1 to 1: {path}")


if __name__ == "__main__":
    _shared.run(main, default_steps=1000, default_batch_size=64)
