"""What the examples share, written once: the command line, and the helpers several of them use.

Every example defines ``main(steps, out, device, seed, batch_size)`` and ends with

    if __name__ == "__main__":
        _shared.run(main, default_steps=..., default_batch_size=...)

so each accepts the same flags (``--steps --batch-size --out --device --seed``) and writes into
``runs/examples/<script name>/`` unless told otherwise. The training loop itself is always
``tinygan.train.train``; nothing here trains.
"""
from __future__ import annotations

import argparse
import inspect
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import tinygan
from tinygan import backend, losses, metrics, viz
from tinygan.data import MIXTURES, Dataset
from tinygan.gans.common import GAN, DataInfo, config_from
from tinygan.train import TrainConfig, generate_numpy


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def run(main: Callable[..., None], default_steps: int, default_batch_size: int = 256) -> None:
    """Parse the common flags and call ``main(steps=, out=, device=, seed=, batch_size=)``."""
    name = Path(inspect.getfile(main)).stem  # quickstart.py -> quickstart
    doc = inspect.getmodule(main).__doc__
    parser = argparse.ArgumentParser(prog=f"{name}.py", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=_positive, default=default_steps,
                        help=f"training steps per run (default {default_steps})")
    parser.add_argument("--batch-size", type=_positive, default=default_batch_size,
                        help=f"default {default_batch_size}")
    parser.add_argument("--out", type=Path, default=Path("runs", "examples", name),
                        help=f"output folder (default runs/examples/{name})")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=backend.default_device())
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.device == "cuda" and not backend.cuda_is_available():
        parser.error(f"--device cuda: no usable GPU ({backend.INSTALL_HINT})")
    args.out.mkdir(parents=True, exist_ok=True)
    tinygan.manual_seed(args.seed)  # the networks' initial weights
    start = time.perf_counter()
    try:
        main(steps=args.steps, out=args.out, device=args.device, seed=args.seed, batch_size=args.batch_size)
    except FileNotFoundError as e:  # MNIST not found: tinygan.data's message says where it looked
        sys.exit(f"{name}: {e}")
    print(f"{name}: done in {time.perf_counter() - start:.0f} s; pictures in {args.out}/")


def make_gan(variant: type[GAN], data: Dataset, device: str, seed: int, **overrides) -> GAN:
    """``variant`` built for ``data`` from its paper's Config with ``overrides``; weights drawn from ``seed``.

    Seeding here means two runs built with one seed start from the same networks.
    """
    cfg = config_from(variant.Config, overrides)
    tinygan.manual_seed(seed)
    return variant(cfg, DataInfo(data.kind, tuple(data.x.shape[1:]), data.num_classes), device)


def train_config(gan: GAN, out: Path, steps: int, batch_size: int, seed: int, device: str,
                 **overrides) -> TrainConfig:
    """A ``TrainConfig`` writing into ``out``, a frame every steps // 4, with the learning-rate decay of
    ``gan``'s run defaults for its data kind (on 2D points: linear to 0 over the second half); ``overrides`` win."""
    run = type(gan).run_settings(gan.data.kind, gan.cfg.pack)
    fields = {"sample_every": max(1, steps // 4), "lr_decay": run.lr_decay}
    return TrainConfig(steps=steps, batch_size=batch_size, seed=seed, device=device, out=str(out),
                       **{**fields, **overrides})


def ring8_report(gan: GAN, data: Dataset, path: Path, seed: int, title: str = "",
                 announce: bool = False) -> metrics.ModeScores:
    """Plot 2500 samples of ``gan`` over D's heat map at ``path`` and score their mode coverage
    (and, with ``announce``, print where the picture is and the scores).

    The scores follow VEEGAN / PacGAN (``tinygan/metrics.py``): a sample is high quality
    within 3 std of a mode; a mode is captured if it has at least one high-quality sample.
    """
    rng = np.random.default_rng([seed, 1])
    fake = generate_numpy(gan, gan.sample_z(2500, rng), None)  # (2500, 2)
    real = data.x[:2500]
    viz.save_points_plot(real, fake, path, critic=gan.critic_map, lim=1.5, title=title or gan.name)
    mix = MIXTURES[data.name]
    scores = metrics.mode_scores(fake, mix.means, mix.std)
    if announce:
        print(f"ring8 (picture {path}): modes {scores.modes_captured}/{scores.num_modes}, "
              f"high quality {scores.high_quality:.1%}")
    return scores


def save_figure(fig: Figure, path: Path) -> Path:
    """Save a matplotlib ``Figure`` built without pyplot (as ``tinygan.viz`` does) as a PNG."""
    FigureCanvasAgg(fig)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    return path


def loss_curve(loss_fn, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``loss_fn`` of one D output at a time, and its derivative, at each value of ``outputs``.

    The losses of ``tinygan/losses.py`` average over a batch, so the value at v is the loss of
    the one-example batch [v], and the derivative at v is n times d(mean over the batch)/dv_i.
    """
    values = np.array([loss_fn(tinygan.tensor([[float(v)]])).item() for v in outputs])
    x = tinygan.tensor(outputs.reshape(-1, 1).astype(np.float32), requires_grad=True)  # (n, 1)
    (g,) = tinygan.grad(loss_fn(x), x)
    return values, g.numpy().ravel() * len(outputs)


# For each loss pair, D outputs (on a real, on a fake) at which that half of D's loss is ~0, so
# d_loss(real=v, fake=FAKE) is the loss of a real sample scored v alone (and likewise for fakes).
ZERO_AT = {"minimax": (30.0, -30.0), "nonsaturating": (30.0, -30.0), "lsgan": (1.0, 0.0),
           "hinge": (1.0, -1.0), "wasserstein": (0.0, 0.0)}


def plot_losses(names: list[str], path: Path, lim: float = 3.0) -> Path:
    """The losses ``names`` (keys of ``losses.LOSSES``) as functions of D's output, in four panels:
    D's loss on a real sample, D's loss on a fake, G's loss, and the size of G's gradient."""
    v = np.linspace(-lim, lim, 121)
    fig = Figure(figsize=(10, 7))
    axes = [fig.add_subplot(2, 2, i + 1) for i in range(4)]
    for name in names:
        d_fn, g_fn = losses.LOSSES[name]
        real_zero, fake_zero = ZERO_AT[name]
        on_real, _ = loss_curve(lambda x, d=d_fn, f=fake_zero: d(x, tinygan.full(x.shape, f)), v)
        on_fake, _ = loss_curve(lambda x, d=d_fn, r=real_zero: d(tinygan.full(x.shape, r), x), v)
        g_value, g_slope = loss_curve(g_fn, v)
        for ax, y in zip(axes, (on_real, on_fake, g_value, np.abs(g_slope))):
            ax.plot(v, y, label=name)
    titles = ("D's loss on a real sample", "D's loss on a fake sample", "G's loss on a fake sample",
              "|G's gradient| w.r.t. D's output")
    for ax, title in zip(axes, titles):
        ax.set(title=title, xlabel="D's output (a logit for the sigmoid losses)")
        ax.grid(alpha=0.3)
        ax.legend()
    return save_figure(fig, path)
