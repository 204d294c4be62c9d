"""Semi-supervised GAN on MNIST with 100 labels (Salimans et al. 2016, Sec. 5; ``tinygan/gans/sgan.py``).

D is a classifier of 11 classes, the 10 digits and "fake". It learns the digits from only 100
labelled images (10 per class) and, from the 60,000 unlabelled ones, to tell real from G's fakes;
G learns to match D's features of real images. Telling real digits from near-digits teaches D what
digits look like, and its digit classifier gets better than one trained on the 100 labels alone.

This script trains both on the same D, the same 100 labels and the same number of steps, the GAN
(``--set unsupervised=true``, the default) and the labels-only baseline (``unsupervised=False``:
no unlabelled images, no G), and plots their test error (10,000 MNIST test images) against steps:
the error of D's current weights (``test_error_current``; a run's ``test_error`` is that of D's weights
averaged over the last ~1000 steps, which after one epoch still remembers its initial ones).

Needs MNIST: set TINYGAN_DATA to a folder holding mnist/*.gz (else tinygan downloads it).
5-10 GAN steps/s on a 2-core CPU: the default 600 steps (one epoch) take 2-4 minutes, the baseline
far less. Longer runs: ``python -m tinygan train sgan`` (9000 steps, test error every 600 in metrics.jsonl).
"""
from pathlib import Path

import _shared
from matplotlib.figure import Figure

from tinygan.data import get_dataset
from tinygan.gans.sgan import SemiSupervisedGAN
from tinygan.train import train


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    data = get_dataset("mnist")                      # 60,000 images; the GAN reads 100 of the labels
    every = max(1, steps // 6)                       # steps between test errors
    curves = {}
    for name, unsupervised in (("sgan", True), ("labels only", False)):
        gan = _shared.make_gan(SemiSupervisedGAN, data, device, seed, unsupervised=unsupervised)
        cfg = _shared.train_config(gan, out / name.replace(" ", "_"), steps, batch_size, seed, device,
                                   eval_every=every, log_every=every, progress=False)
        rows = [r for r in train(gan, data, cfg) if "test_error" in r]
        curves[name] = ([r["step"] for r in rows], [100 * r["test_error_current"] for r in rows])
        print(f"{name}: test error {curves[name][1][-1]:.2f}% after {steps} steps (100 labels)")

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for name, (x, y) in curves.items():
        ax.plot(x, y, marker="o", label=name)
    ax.set(xlabel="step", ylabel="test error (%)", yscale="log", title="MNIST, 100 labels: D's test error")
    ax.grid(alpha=0.3)
    ax.legend()
    print(f"test error against steps: {_shared.save_figure(fig, out / 'test_error.png')}")


if __name__ == "__main__":
    _shared.run(main, default_steps=600, default_batch_size=100)
