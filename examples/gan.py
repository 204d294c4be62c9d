"""Why the original GAN's generator loss was changed (Goodfellow et al. 2014, Sec. 3).

Eq. 1 asks G to minimise log(1 - D(G(z))): the "minimax" (saturating) loss. Early in training
D rejects G's samples easily, D(G(z)) ~ 0, and there the gradient of log(1 - D(G(z))) with
respect to D's logit is -D(G(z)) ~ 0: G gets no signal exactly when it is worst. The paper's
fix is to maximise log D(G(z)) instead, the "non-saturating" loss, whose gradient
-(1 - D(G(z))) is largest there. Both have the same fixed point.

This script plots the two losses and their gradients (``tinygan/losses.py``), then trains
both from the same seed (``Config.loss`` in ``tinygan/gans/gan.py``) on the 1-D Gaussian
N(4, 1.25^2) of the paper's Fig. 1, with G starting near 0. G uses plain SGD here: Adam
divides each step by the gradient's running size and so hides most of the saturation.
"""
from pathlib import Path

import _shared
import numpy as np
from matplotlib.figure import Figure

from tinygan import losses, optim
from tinygan.data import get_dataset
from tinygan.gans.gan import VanillaGAN
from tinygan.train import TrainConfig, train

LOSSES = {"minimax": losses.minimax_g_loss, "nonsaturating": losses.nonsaturating_g_loss}


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    # 1. The two G losses as functions of D's verdict on a fake, D(G(z)) = sigmoid(logit).
    logits = np.linspace(-7, 7, 201)
    d_of_g = 1 / (1 + np.exp(-logits))
    fig = Figure(figsize=(10, 4))
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for name, g_loss in LOSSES.items():
        value, slope = _shared.loss_curve(g_loss, logits)
        left.plot(d_of_g, value, label=name)
        right.plot(d_of_g, np.abs(slope), label=name)
    left.set(xlabel="D(G(z))", ylabel="G's loss", title="G's loss")
    right.set(xlabel="D(G(z))", ylabel="|d loss / d logit|", title="G's gradient: minimax dies at D(G(z)) = 0")
    left.legend()
    right.legend()
    print(f"losses and gradients: {_shared.save_figure(fig, out / 'g_losses.png')}")

    # 2. Train both from one seed on N(4, 1.25^2); every steps/20 the trainer records G's mean.
    data = get_dataset("gaussian1d", rng=np.random.default_rng(seed))
    fig = Figure(figsize=(10, 4))
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for name in LOSSES:
        gan = _shared.make_gan(VanillaGAN, data, device, seed, loss=name, hidden=32, z_dim=4, lr_d=1e-3)
        gan.opt_g = optim.SGD(gan.G.parameters(), lr=1e-2)  # see the docstring
        rows = train(gan, data, TrainConfig(steps=steps, batch_size=batch_size, seed=seed, device=device,
                                            out=str(out / name), sample_every=max(1, steps // 20)))
        sampled = [r for r in rows if "fake_mean" in r]
        left.plot([r["step"] for r in sampled], [r["fake_mean"] for r in sampled], label=name)
        # The logged g_loss is a batch mean of log(1 - D) (minimax) or -log D (non-saturating);
        # undoing the log gives the batch's geometric-mean D(G(z)).
        g = np.array([r["g_loss"] for r in rows])
        right.plot([r["step"] for r in rows], 1 - np.exp(g) if name == "minimax" else np.exp(-g), label=name)
        reached = next((r["step"] for r in sampled if r["fake_mean"] > 3), "never")
        print(f"{name:>13}: G's mean passes 3 at step {reached}; it ends at {sampled[-1]['fake_mean']:.2f}, "
              f"std {sampled[-1]['fake_std']:.2f} (data: 4, 1.25); frames in {out / name}/samples/")
    left.axhline(4.0, color="black", linestyle="--")
    left.set(xlabel="step", ylabel="mean of G(z)", title="G's samples move to the data (mean 4)")
    right.set(xlabel="step", ylabel="D(G(z))", title="D's verdict on G's samples")
    left.legend()
    right.legend()
    print(f"training curves: {_shared.save_figure(fig, out / 'training.png')}")


if __name__ == "__main__":
    _shared.run(main, default_steps=1000, default_batch_size=256)
