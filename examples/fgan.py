"""f-GAN: one GAN recipe for every f-divergence (Nowozin et al. 2016; ``tinygan/gans/fgan.py``).

D_f(P || Q) = E_Q[f(p/q)] for a convex f with f(1) = 0 covers KL, reverse KL, Pearson chi^2, squared
Hellinger, Jensen-Shannon and the original GAN's divergence. Each one has a variational lower bound that
only needs samples of P and Q:

    D_f(P || Q) >= E_P[T(x)] - E_Q[f*(T(x))],    tight at T*(x) = f'(p(x)/q(x)),

f* being f's convex conjugate. D outputs V(x), any real number, and Table 2's output activation g_f maps
it into f*'s domain: T = g_f(V). D ascends the bound, G descends it (or, Sec. 3.2, ascends E_Q[g_f(V)]).

The first picture shows, for each divergence, the two halves of D's loss (``losses.fgan_d_loss``) for one
sample as functions of V: -g_f(V) on a real sample and f*(g_f(V)) on a fake. jensen_shannon and gan are
softplus curves (they differ by a constant: the same game as the original GAN) and pearson's are a line and
a parabola; kl's fake half exp(V - 1), reverse_kl's real half exp(-V) and both of squared_hellinger's are
exponential: their gradients spike once D is sure, which is why fgan's Adam uses beta2 = 0.9 (gans/fgan.py).

Then fgan trains on ring8 with pearson (the default: with the paper's G update it descends the mass-covering
KL(P || Q)) and with reverse_kl (its G descends the mode-seeking KL(Q || P) itself), and reports the modes
each one captures.
"""
from pathlib import Path

import _shared
import numpy as np
from matplotlib.figure import Figure

import tinygan
from tinygan import losses
from tinygan.data import get_dataset
from tinygan.gans.fgan import FGAN
from tinygan.train import train

SHOWN = ("pearson", "reverse_kl")  # the divergences trained on ring8 (see the docstring)


def plot_d_losses(path: Path) -> Path:
    v = np.linspace(-4, 4, 161)
    fig = Figure(figsize=(10, 4))
    real_ax, fake_ax = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    x = tinygan.tensor(v)
    for name, (g_f, conjugate) in losses.F_DIVERGENCES.items():
        real_ax.plot(v, (-g_f(x)).numpy(), label=name)
        fake_ax.plot(v, conjugate(x).numpy(), label=name)
    real_ax.set(title="D's loss on a real sample: -g_f(V)", xlabel="V", ylim=(-3, 8))
    fake_ax.set(title="D's loss on a fake sample: f*(g_f(V))", xlabel="V", ylim=(-3, 8))
    for ax in (real_ax, fake_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _shared.save_figure(fig, path)


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    print(f"D's losses against V: {plot_d_losses(out / 'd_losses.png')}")
    data = get_dataset("ring8", rng=np.random.default_rng(seed))
    for name in SHOWN:
        gan = _shared.make_gan(FGAN, data, device, seed, divergence=name)  # the 2D defaults; lrs decay over the 2nd half
        train(gan, data, _shared.train_config(gan, out / name, steps, batch_size, seed, device))
        print(f"{name}: ", end="")
        _shared.ring8_report(gan, data, out / f"ring8_{name}.png", seed, title=f"f-GAN ({name}) after {steps} steps",
                             announce=True)


if __name__ == "__main__":
    _shared.run(main, default_steps=5000, default_batch_size=256)
