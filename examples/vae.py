"""The VAE baseline on MNIST (Kingma & Welling 2014, "Auto-Encoding Variational Bayes";
``tinygan/baselines/vae.py``).

A GAN's samples can only be looked at and judged by a classifier; a VAE also gives a number for how well
it fits digits it never saw: the evidence lower bound (ELBO) on log p(x), in nats per test image. This
script trains the paper's MNIST model (one tanh layer of 500 units each way, N_z = 20, minibatches of
100, one sample per datapoint, the KL term in closed form; Adam instead of the paper's Adagrad) on the
60,000 training images, measures the ELBO on the 10,000 test images each epoch, and draws

* ``samples.png``: 64 samples in the 8x8 grid and [-1, 1] range of the GAN examples' ``samples.png``
  (e.g. ``examples/dcgan.py``'s), so the two can be put side by side;
* ``reconstructions.png``: test digits (rows 1, 3, 5, 7) and their reconstructions below them;
* ``vae.png``: both, and the test ELBO against the number of training images seen (the x axis of the
  paper's Fig. 2).

Pixels are grey levels in [0, 1] under a Bernoulli likelihood, as in the paper (see the module's
docstring). ``--steps`` counts minibatches (600 per epoch at ``--batch-size 100``); ``--device`` is
honoured. Needs MNIST (TINYGAN_DATA). About 25 s per epoch (600 steps and the test evaluation) on a
busy 2-core CPU: the default 6000 steps (10 epochs) take 4-5 minutes.
"""
from pathlib import Path

import _shared
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from tinygan.baselines.vae import VAEConfig, train_vae


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    model, history = train_vae(out, steps=steps, config=VAEConfig(batch_size=batch_size), seed=seed,
                               device=device)
    print(model)
    last = history[-1]
    print(f"test ELBO after {last['samples_seen']} training images ({last['epoch']:.2f} epochs): "
          f"{last['test_elbo']:.2f} nats per image (log p(x|z) {last['test_log_likelihood']:.2f}, "
          f"KL {last['test_kl']:.2f}); the weights are in {out / 'vae.npz'}, every score in {out / 'metrics.json'}")

    fig = Figure(figsize=(13, 4.4))
    for i, (name, title) in enumerate((("reconstructions", "test digits (odd rows), reconstructions"),
                                       ("samples", "samples: z ~ N(0, I), pixel means"))):
        ax = fig.add_subplot(1, 3, i + 1)
        ax.imshow(np.asarray(Image.open(out / f"{name}.png")))
        ax.set(title=title, xticks=[], yticks=[])
    seen = [row["samples_seen"] for row in history[1:]]            # step 0 has no place on a log axis
    ax = fig.add_subplot(1, 3, 3)
    ax.plot(seen, [row["test_elbo"] for row in history[1:]], "o-", markersize=3)
    ax.set(xscale="log", xlabel="training images seen", ylabel="test ELBO (nats per image)",
           title=f"N_z = {model.z_dim}, {model.hidden} tanh units")
    ax.grid(alpha=0.3)
    print(f"pictures: {out / 'samples.png'}, {out / 'reconstructions.png'}, "
          f"{_shared.save_figure(fig, out / 'vae.png')}")


if __name__ == "__main__":
    _shared.run(main, default_steps=6000, default_batch_size=100)
