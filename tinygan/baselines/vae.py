"""The variational auto-encoder (Kingma & Welling 2014, "Auto-Encoding Variational Bayes"), as the
likelihood-based baseline beside the image GANs: its samples go in the same 8x8 grid, and it has what a
GAN lacks, a number for how well it fits held-out data (a lower bound on log p(x), in nats).

The model (Sec. 3, Appendix C): a prior p(z) = N(0, I) on N_z latent variables; a decoder p(x|z), one
hidden layer of tanh units giving Bernoulli logits for the 784 pixels (Appendix C.1); an encoder q(z|x),
one hidden layer of tanh units giving the mean and log-variance of a diagonal Gaussian (Appendix C.2)::

    h = tanh(W_3 x + b_3),  mu = W_4 h + b_4,  log sigma^2 = W_5 h + b_5,    q(z|x) = N(mu, sigma^2 I)
    y = sigmoid(W_2 tanh(W_1 z + b_1) + b_2),  log p(x|z) = sum_i x_i log y_i + (1 - x_i) log(1 - y_i)

Training maximises the SGVB estimator of the evidence lower bound with the KL term in closed form (Eq. 10,
one sample per datapoint, L = 1), through the reparameterisation z = mu + sigma * eps, eps ~ N(0, I)
(Sec. 2.4), so the gradient flows through the sample::

    ELBO(x) = -KL(q(z|x) || p(z)) + log p(x | z),            z = mu + sigma * eps
    -KL     = 1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)          (Appendix B)

and ELBO(x) = log p(x) - KL(q(z|x) || p(z|x)) <= log p(x): the gap is how far q is from the posterior.

The paper's MNIST setup (Sec. 5), and what is kept here:

* 500 hidden units in the encoder and the decoder; N_z in {3, 5, 10, 20, 200} (Fig. 2): 20 here.
* minibatches of M = 100, L = 1 sample per datapoint.
* all parameters drawn from N(0, 0.01^2) (the text says N(0, 0.01); the author's code, anglepy's
  ``VAE_Z_X.init_w``, uses standard deviation 1e-2).
* the MAP criterion: a N(0, I) prior on the weights, a weight decay of 1 / (2 N) ||W||^2 per datapoint on
  a training set of N images (on the weight matrices, as in anglepy's ``f_prior``, not the biases).
* pixel intensities in [0, 1] under the Bernoulli likelihood, not binarised: the paper does not say it
  binarised, and the author's loader (anglepy ``data/mnist.py``) reads the grey-level ``mnist.pkl.gz``
  and feeds it to ``binary_crossentropy`` as it is. The "log-likelihood" of a grey image under a Bernoulli
  is then a cross-entropy, not the log of a probability (it is bounded away from 0 even for a perfect
  model), so it compares with the paper's Fig. 2 but not with the binarised-MNIST literature. ``binarize=True``
  draws each pixel once as Bernoulli(intensity) (a static binarisation, fixed seed), for which the ELBO
  is a true lower bound on log p(x) in nats.
* Changed: the paper adapted step sizes with Adagrad (global step size from {0.01, 0.02, 0.1});
  ``tinygan.optim`` has no Adagrad, so this uses Adam (Kingma & Ba 2015) with lr 1e-3.

    model, history = train_vae("runs/vae", epochs=20)     # prints progress; writes the files below
    model.sample(64, rng)                                  # Bernoulli means (64, 784) in [0, 1]

Files in ``out``: ``vae.npz`` (weights, Adam state and the config, written atomically by
``tinygan.checkpoint``; ``load_vae`` reads it), ``metrics.json`` (the test ELBO after every epoch),
``samples.png`` (64 samples, 8x8, as tinygan's GAN grids) and ``reconstructions.png`` (test digits in odd
rows, their reconstructions below them).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import backend, factories, nn, optim, viz
from ..checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from ..data import load_mnist
from ..fileio import write_atomically
from ..nn import functional as F
from ..tensor import Tensor, no_grad


@dataclass(frozen=True)
class VAEConfig:
    """The paper's MNIST model (Sec. 5, Appendix C) and minibatch."""

    x_dim: int = 784          # 28 x 28 pixels, each a Bernoulli variable
    hidden: int = 500         # tanh units in the encoder's and in the decoder's hidden layer (MNIST)
    z_dim: int = 20           # N_z: the paper's Fig. 2 has 3, 5, 10, 20 and 200
    init_std: float = 0.01    # every parameter drawn from N(0, init_std^2)
    batch_size: int = 100     # M
    lr: float = 1e-3          # Adam's step size (the paper: Adagrad, global step size 0.01-0.1)
    weight_prior: bool = True  # MAP: a N(0, I) prior on the weight matrices
    binarize: bool = False    # False: grey levels in [0, 1] as in the paper; True: pixels drawn once in {0, 1}


class ELBO(NamedTuple):
    """The terms of the evidence lower bound, one value per datapoint, each of shape (B,)."""

    elbo: Tensor              # log p(x|z) - KL(q(z|x) || p(z))
    log_likelihood: Tensor    # log p(x|z) at the one reparameterised sample z
    kl: Tensor                # KL(q(z|x) || p(z)), in closed form


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, diag(sigma^2)) || N(0, I)) per row, (B, N_z) -> (B,) (Appendix B, negated):

        KL = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)
    """
    return -0.5 * (1.0 + logvar - mu * mu - logvar.exp()).sum(1)


def bernoulli_log_likelihood(logits: Tensor, x: Tensor) -> Tensor:
    """log p(x|z) = sum_i x_i log y_i + (1 - x_i) log(1 - y_i) with y = sigmoid(logits), per row,
    (B, D) -> (B,) (Appendix C.1), computed from the logits so that it stays finite when y saturates."""
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)


def check_images(x: Tensor, x_dim: int, where: str) -> None:
    """Refuse what the Bernoulli likelihood cannot score: anything but (B, x_dim) values in [0, 1]."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{where}: expected a Tensor of shape (B, {x_dim}), got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != x_dim or x.shape[0] == 0:
        raise ValueError(f"{where}: expected images flattened to shape (B, {x_dim}) with B >= 1, got {x.shape} "
                         f"(MNIST from tinygan.data is (N, 1, 28, 28) in [-1, 1]: use to_unit_interval)")
    low, high = float(x.data.min()), float(x.data.max())
    if not (0.0 <= low and high <= 1.0):  # also false for NaN
        raise ValueError(f"{where}: the Bernoulli likelihood needs pixel values in [0, 1], got values in "
                         f"[{low:.4g}, {high:.4g}] (tinygan's images are in [-1, 1]: use to_unit_interval)")


class VAE(nn.Module):
    """Encoder q(z|x) and decoder p(x|z), each an MLP with one tanh hidden layer (Appendix C)::

        encode: x (B, 784) -> h (B, 500) -> mu, log sigma^2 (B, N_z)
        decode: z (B, N_z) -> (B, 500) -> Bernoulli logits (B, 784)
    """

    def __init__(self, x_dim: int = 784, hidden: int = 500, z_dim: int = 20, init_std: float = 0.01,
                 generator: np.random.Generator | None = None):
        super().__init__()
        for name, value in (("x_dim", x_dim), ("hidden", hidden), ("z_dim", z_dim)):
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"VAE: {name} must be a positive integer, got {value!r}")
        self.x_dim, self.hidden, self.z_dim = x_dim, hidden, z_dim
        self.encoder = nn.Sequential(nn.Linear(x_dim, hidden), nn.Tanh())
        self.mean = nn.Linear(hidden, z_dim)
        self.logvar = nn.Linear(hidden, z_dim)
        self.decoder = nn.Sequential(nn.Linear(z_dim, hidden), nn.Tanh(), nn.Linear(hidden, x_dim))
        for p in self.parameters():  # the paper: every parameter from N(0, 0.01^2)
            nn.init.normal_(p, 0.0, init_std, generator=generator)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """q(z|x)'s mean and log-variance, each (B, N_z), for images x (B, 784) in [0, 1]."""
        check_images(x, self.x_dim, "VAE.encode")
        h = self.encoder(x)                                           # (B, hidden)
        return self.mean(h), self.logvar(h)

    def decode(self, z: Tensor) -> Tensor:
        """The Bernoulli logits of p(x|z), (B, N_z) -> (B, 784); sigmoid gives the pixel means."""
        if not isinstance(z, Tensor) or z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"VAE.decode: expected z of shape (B, {self.z_dim}), got "
                             f"{getattr(z, 'shape', type(z).__name__)}")
        return self.decoder(z)

    def forward(self, x: Tensor, generator: np.random.Generator | None = None, eps: Tensor | None = None) -> ELBO:
        """The SGVB estimate of the ELBO of each image in x (B, 784), with one sample z per image (Eq. 10).

        ``eps`` (B, N_z) is the reparameterisation's noise; drawn from ``generator`` when not given.
        """
        mu, logvar = self.encode(x)                                   # (B, N_z) each
        if eps is None:
            eps = factories.randn(*mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        elif eps.shape != mu.shape:
            raise ValueError(f"VAE.forward: eps must have shape {mu.shape}, got {eps.shape}")
        z = mu + (0.5 * logvar).exp() * eps                           # z = mu + sigma * eps   (Sec. 2.4)
        log_likelihood = bernoulli_log_likelihood(self.decode(z), x)  # (B,)
        kl = gaussian_kl(mu, logvar)                                  # (B,)
        return ELBO(log_likelihood - kl, log_likelihood, kl)

    def reconstruct(self, x: Tensor) -> Tensor:
        """The pixel means (B, 784) of p(x|z) at z = the mean of q(z|x): the noiseless reconstruction."""
        return self.decode(self.encode(x)[0]).sigmoid()

    def sample(self, n: int, generator: np.random.Generator | None = None) -> np.ndarray:
        """n new images: z ~ p(z) = N(0, I), then the pixel means y of p(x|z), as NumPy (n, 784) in [0, 1].
        (The means, not Bernoulli draws, as images are usually shown.)"""
        if not (isinstance(n, int) and n >= 1):
            raise ValueError(f"VAE.sample: n must be a positive integer, got {n!r}")
        weight = self.decoder[0].weight
        with no_grad():
            z = factories.randn(n, self.z_dim, generator=generator, dtype=weight.dtype, device=weight.device)
            return self.decode(z).sigmoid().numpy()

    def weight_matrices(self) -> list[Tensor]:
        """The parameters the N(0, I) weight prior applies to (anglepy's ``f_prior``): W, not b."""
        return [p for name, p in self.named_parameters() if name.endswith("weight")]

    def extra_repr(self) -> str:
        return f"x_dim={self.x_dim}, hidden={self.hidden}, z_dim={self.z_dim}"


# ---------------------------------------------------------------- data
def to_unit_interval(images: np.ndarray) -> np.ndarray:
    """tinygan's images (N, 1, 28, 28) in [-1, 1] as (N, 784) float32 in [0, 1]: (x + 1) / 2."""
    x = (np.asarray(images, dtype=np.float32).reshape(len(images), -1) + 1.0) / 2.0   # (N, 784)
    return np.clip(x, 0.0, 1.0)  # -1 and 1 map exactly to 0 and 1; the clip only guards rounding


def binarized(x: np.ndarray, seed: int) -> np.ndarray:
    """Each pixel drawn once as Bernoulli(intensity): a static binarisation, the same for a given seed."""
    return (np.random.default_rng(seed).random(x.shape) < x).astype(np.float32)


def mnist_for_vae(split: str, binarize: bool = False, n: int | None = None, data_dir=None) -> np.ndarray:
    """The first n MNIST images of ``split`` as (n, 784) float32, grey levels in [0, 1] (or binarised)."""
    x = to_unit_interval(load_mnist("mnist", split, data_dir)[0][:n])
    return binarized(x, seed={"train": 1, "test": 2}[split]) if binarize else x


def as_grid_images(pixels: np.ndarray) -> np.ndarray:
    """Pixel means (N, 784) in [0, 1] as (N, 1, 28, 28) in [-1, 1], the range of tinygan's GAN grids."""
    return (2.0 * np.asarray(pixels, dtype=np.float32) - 1.0).reshape(-1, 1, 28, 28)


# ---------------------------------------------------------------- evaluation and training
def evaluate(model: VAE, x: np.ndarray, seed: int = 0, batch: int = 1000, device: str = "cpu") -> dict:
    """Mean ELBO, log p(x|z) and KL per image (nats) of images x (N, 784), one sample z per image drawn
    from a generator seeded with ``seed`` (so every evaluation of a run sees the same noise)."""
    rng = np.random.default_rng(seed)
    totals = np.zeros(3)
    with no_grad():
        for i in range(0, len(x), batch):
            terms = model(factories.tensor(x[i:i + batch], device=device), rng)
            totals += [float(t.sum().item()) for t in terms]
    elbo, log_likelihood, kl = (float(v) for v in totals / len(x))
    return {"elbo": elbo, "log_likelihood": log_likelihood, "kl": kl}


def save_pictures(model: VAE, test_x: np.ndarray, out: Path, seed: int, device: str = "cpu") -> tuple[Path, Path]:
    """``samples.png``: 64 samples in an 8x8 grid; ``reconstructions.png``: 32 test images (rows 1, 3, 5, 7)
    and their reconstructions (rows 2, 4, 6, 8). Both in tinygan's grid layout and value range."""
    samples = model.sample(64, np.random.default_rng([seed, 3]))                       # (64, 784)
    originals = test_x[:32]                                                            # (32, 784)
    with no_grad():
        recon = model.reconstruct(factories.tensor(originals, device=device)).numpy()  # (32, 784)
    pairs = np.stack([originals.reshape(4, 8, -1), recon.reshape(4, 8, -1)], 1)       # (4, 2, 8, 784)
    return (viz.save_image_grid(as_grid_images(samples), out / "samples.png", nrow=8),
            viz.save_image_grid(as_grid_images(pairs.reshape(64, -1)), out / "reconstructions.png", nrow=8))


def train_vae(out: str | Path, epochs: float = 10, steps: int | None = None, config: VAEConfig | None = None,
              seed: int = 0, device: str = "cpu", n_train: int | None = None, n_test: int | None = None,
              eval_every: int | None = None, data_dir=None, progress: bool = True,
              data: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[VAE, list[dict]]:
    """Train a VAE on MNIST's training images and score it on the test images; returns (model, history).

    Runs ``steps`` minibatch steps (default: ``epochs`` passes over the training set), reshuffling each
    epoch. The test ELBO is measured before training, every ``eval_every`` steps (default: each epoch)
    and at the end; each measurement is a row of ``history`` and of ``out/metrics.json``, and the
    checkpoint and pictures are rewritten then. ``data`` = (train, test), each (N, 784) in [0, 1],
    replaces MNIST (``n_train`` / ``n_test`` cut MNIST to its first images).
    """
    cfg = config or VAEConfig()
    out = Path(out)
    if device not in backend.DEVICES:
        raise ValueError(f"train_vae: unknown device {device!r}; expected one of {backend.DEVICES}")
    if data is None:
        train_x = mnist_for_vae("train", cfg.binarize, n_train, data_dir)              # (N, 784)
        test_x = mnist_for_vae("test", cfg.binarize, n_test, data_dir)                 # (10000, 784)
    else:
        train_x, test_x = (np.ascontiguousarray(a, dtype=np.float32) for a in data)
        for name, a in (("train", train_x), ("test", test_x)):
            check_images(Tensor(a), cfg.x_dim, f"train_vae: data[{name!r}]")
    if len(train_x) < cfg.batch_size:
        raise ValueError(f"train_vae: batch_size {cfg.batch_size} is larger than the {len(train_x)} training images")
    per_epoch = len(train_x) // cfg.batch_size
    total = steps if steps is not None else round(epochs * per_epoch)
    if not (isinstance(total, int) and total >= 1):
        raise ValueError(f"train_vae: expected a positive number of steps (or epochs), got steps={steps}, "
                         f"epochs={epochs}")
    eval_every = eval_every or per_epoch

    rng = np.random.default_rng(seed)      # shuffling and the reparameterisation noise
    model = VAE(cfg.x_dim, cfg.hidden, cfg.z_dim, cfg.init_std, np.random.default_rng([seed, 1])).to(device)
    opt = optim.Adam(model.parameters(), lr=cfg.lr)
    decay = 0.5 / len(train_x) if cfg.weight_prior else 0.0   # log N(W | 0, I) / N per datapoint
    if progress:
        print(f"VAE (N_z {cfg.z_dim}, {cfg.hidden} tanh units) on {len(train_x)} MNIST images "
              f"({'binarised' if cfg.binarize else 'grey levels in [0, 1]'}), {total} steps of {cfg.batch_size} "
              f"({total / per_epoch:.2f} epochs); test ELBO on {len(test_x)} images; writing to {out}", flush=True)

    history, running, start = [], [], time.perf_counter()

    def record(step: int) -> None:
        model.eval()
        scores = evaluate(model, test_x, seed=seed + 10_000, device=device)
        row = {"step": step, "epoch": round(step / per_epoch, 4), "samples_seen": step * cfg.batch_size,
               "test_elbo": scores["elbo"], "test_log_likelihood": scores["log_likelihood"],
               "test_kl": scores["kl"], "train_elbo": float(np.mean(running)) if running else None,
               "seconds": round(time.perf_counter() - start, 1)}
        history.append(row)
        running.clear()
        meta = {"kind": "vae", "config": asdict(cfg), "step": step, "seed": seed, "history": history}
        save_checkpoint(out / "vae.npz", {"vae": model}, {"opt": opt}, meta)
        write_atomically(out / "metrics.json", lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1)))
        save_pictures(model, test_x, out, seed, device)
        if progress:
            print(f"  step {step}/{total} (epoch {row['epoch']:.2f}, {row['samples_seen']} samples): test ELBO "
                  f"{row['test_elbo']:.2f} nats = log p(x|z) {row['test_log_likelihood']:.2f} - KL {row['test_kl']:.2f}"
                  f" ({row['seconds']:.0f} s)", flush=True)

    record(0)
    for step in range(total):
        if step % per_epoch == 0:
            order = rng.permutation(len(train_x))
        idx = order[(step % per_epoch) * cfg.batch_size:][:cfg.batch_size]
        model.train()
        terms = model(factories.tensor(train_x[idx], device=device), rng)              # (M,) each
        loss = -terms.elbo.mean()                                                      # -1/M sum_i ELBO(x_i)
        if decay:
            loss = loss + decay * sum((w * w).sum() for w in model.weight_matrices())
        opt.zero_grad()
        loss.backward()
        opt.step()
        running.append(float(terms.elbo.mean().item()))
        if not math.isfinite(running[-1]):
            raise FloatingPointError(f"train_vae: the ELBO became {running[-1]} at step {step + 1}")
        if progress and (step + 1) % 100 == 0:
            print(f"  vae step {step + 1}/{total}: train ELBO {np.mean(running[-100:]):.2f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
        if (step + 1) % eval_every == 0 or step + 1 == total:
            record(step + 1)
    return model, history


def load_vae(path: str | Path) -> tuple[VAE, dict]:
    """(model, meta) from a ``vae.npz`` that ``train_vae`` wrote; the model in eval mode."""
    _, meta = read_checkpoint(path)
    if meta.get("kind") != "vae" or "config" not in meta:
        raise ValueError(f"{path}: not a VAE checkpoint written by train_vae (its meta kind is {meta.get('kind')!r})")
    cfg = VAEConfig(**meta["config"])
    model = VAE(cfg.x_dim, cfg.hidden, cfg.z_dim, cfg.init_std)
    load_checkpoint(path, {"vae": model}, {})
    return model.eval(), meta
