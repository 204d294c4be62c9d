"""What every GAN variant shares: the networks, the config, and one D step and one G step.

A variant (``gans/<name>.py``) subclasses ``GAN``, sets its paper's defaults in a ``Config``
and overrides only what is special to it: the loss pair, a penalty, weight clipping, an
extra network. The training loop itself lives in ``train.py`` and is the same for all.

The training tricks of Salimans et al. (2016) and Lin et al. (2018) are config switches
here, so they work with any variant: ``n_critic`` (k D-steps per G-step, Goodfellow et al.
2014 Alg. 1), ``real_label=0.9`` (one-sided label smoothing), ``feature_matching``,
``minibatch_discrimination`` and ``pack`` (PacGAN).
"""
from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .. import backend, losses, nn, optim
from ..ops.shape import cat
from ..tensor import Function, Tensor, enable_grad, grad, is_grad_enabled, no_grad

if TYPE_CHECKING:
    from ..data import Dataset
    from ..train import TrainConfig


@dataclass
class GANConfig:
    """Hyperparameters shared by all variants (each variant's Config changes the defaults).

    A field left at None takes its data kind's value from the variant's ``config_by_data`` (the
    shared ``BY_DATA`` unless the variant adds to it) when the GAN is built.
    """
    z_dim: int | None = None        # noise size (None: by data)
    # the MLPs for 2D/1D points (point_mlps)
    hidden: int = 128               # width of G's hidden layers
    g_layers: int = 3               # G's hidden layers
    g_batchnorm: bool = False       # G's hidden layers are Linear (no bias) -> BatchNorm1d -> ReLU
    d_hidden: int = 0               # width of D's hidden layers; 0 = hidden
    d_layers: int = 3               # D's hidden layers
    maxout: int = 0                 # D's units are maxouts of this many pieces; 0 = LeakyReLU(0.2)
    init_std: float = 0.0           # weights ~ N(0, init_std), biases 0; 0 = PyTorch's default init
    arch: str = "auto"              # "mlp" or "dcgan"; auto = mlp for points, dcgan for images
    loss: str = "nonsaturating"     # a key of losses.LOSSES
    optimizer: str = "adam"         # "adam" or "rmsprop"
    lr_g: float | None = None       # Adam's learning rates (None: by data)
    lr_d: float | None = None
    betas: tuple = (0.5, 0.999)     # DCGAN's Adam betas (Radford et al. 2016, Sec. 4)
    n_critic: int = 1               # D steps per G step (k in Goodfellow et al. 2014, Alg. 1)
    real_label: float = 1.0         # 0.9 = one-sided label smoothing (Salimans et al. 2016, 3.4)
    feature_matching: bool = False  # G matches D's mean features (Salimans et al. 2016, 3.1)
    minibatch_discrimination: int = 0  # number of kernels B; 0 = off (Salimans et al. 2016, 3.2)
    pack: int = 1                   # D judges m samples at once (PacGAN, Lin et al. 2018)
    d_batchnorm: bool = True        # batch norm in the conv critic (WGAN-GP turns it off)
    conditional: bool = False       # feed labels to G and D (cGAN, Mirza & Osindero 2014)


# The values of the fields left at None, per data kind (README, "Mode collapse", has the runs behind
# each choice). Points: z ~ N(0, I_2), as in the toy setups of PacGAN (Lin et al. 2018) and
# VEEGAN; Adam lr 1e-3 for D and half that for G (two time scales, Heusel et al. 2017): with equal
# rates one seed in ten drops a ring8 mode. Images: DCGAN's z of 100 and lr 2e-4 (Radford et al. 2016).
BY_DATA = {"points": {"z_dim": 2, "lr_g": 5e-4, "lr_d": 1e-3},
           "images": {"z_dim": 100, "lr_g": 2e-4, "lr_d": 2e-4}}

# The fields that count something, and the least each may be (0 turns d_hidden, maxout and
# minibatch_discrimination off); z_dim is checked once "by data" has filled it in.
AT_LEAST = {"z_dim": 1, "hidden": 1, "n_critic": 1, "pack": 1, "g_layers": 0, "d_layers": 0, "d_hidden": 0,
            "maxout": 0, "minibatch_discrimination": 0}
ARCHS = ("auto", "mlp", "dcgan")


@dataclass(frozen=True)
class RunDefaults:
    """How a run of a variant trains unless told otherwise (the CLI's defaults, per data kind)."""
    steps: int
    batch_size: int         # samples per step (times the PacGAN degree m: D sees batch_size packed inputs)
    sample_every: int       # steps between sample frames (and checkpoints)
    lr_decay: float = 0.0   # the last fraction of the run over which the lrs decay to 0 (train.lr_factor)
    eval_every: int = 0     # steps between scores (TrainConfig.eval_every); 0 = only when asked


@dataclass(frozen=True)
class DataInfo:
    """What the networks need to know about the data."""
    kind: str                # "points", "images", or "pairs" (source image -> target image, pix2pix)
    shape: tuple             # shape of one sample, e.g. (2,) or (1, 28, 28)
    num_classes: int | None  # 10 for MNIST, None for the toy mixtures


class MinibatchDiscrimination(nn.Module):
    """Minibatch discrimination (Salimans et al. 2016, Sec. 3.2).

    M_i = f(x_i) T  reshaped to (B, C);  c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_L1);
    o_b(x_i) = sum_j c_b(x_i, x_j).  The output [f(x_i), o(x_i)] lets D see how similar a
    sample is to the rest of its batch, which penalises a generator that collapses.
    """

    def __init__(self, in_features: int, kernels: int = 16, kernel_dim: int = 8):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(np.zeros((in_features, kernels * kernel_dim), np.float32))
        nn.init.normal_(self.T, 0.0, 0.1)

    def forward(self, f: Tensor) -> Tensor:
        m = (f @ self.T).reshape(f.shape[0], self.kernels, self.kernel_dim)  # (N, B, C)
        return cat([f, MinibatchSimilarity.apply(m)], 1)


def minibatch_similarity(m: Tensor) -> Tensor:
    """o_b(x_i) = sum_{j != i} exp(-||M_i,b - M_j,b||_L1) for M (N, B, C), written with the
    autograd's ops: the definition that MinibatchSimilarity computes in one fused pass."""
    n, b, c = m.shape
    l1 = (m.reshape(n, 1, b, c) - m.reshape(1, n, b, c)).abs().sum(3)  # (N, N, B)
    return (-l1).exp().sum(1) - 1.0  # (N, B), minus c(x_i, x_i) = 1


# o[i, b] = sum_{j != i} c[i, j, b],  c[i, j, b] = exp(-sum_k |M[i, b, k] - M[j, b, k]|)
# vjp: gM[i, b, k] = -sum_j (g[i, b] + g[j, b]) c[i, j, b] sign(M[i, b, k] - M[j, b, k])   (c is symmetric)
class MinibatchSimilarity(Function):
    """The similarities on the CPU in one parallel Numba pass over the pairs: the (N, N, B, C)
    differences of ``minibatch_similarity`` are never stored (at batch 256 they made this trick's
    steps 20x slower than plain GAN steps). Elsewhere, and for a double backward (WGAN-GP's
    penalty through D), the definition's differentiable ops are used."""

    def forward(self, m):
        if backend.is_cupy_array(m):  # the definition itself, on the GPU's arrays
            with no_grad():
                return minibatch_similarity(Tensor(m)).data
        from ..kernels.cpu_numba import minibatch_similarity as kernel
        return kernel(m)

    def backward(self, g):
        (m,) = self.parents
        create_graph = is_grad_enabled()  # on during a backward only with create_graph=True
        if not create_graph and not backend.is_cupy_array(m.data):
            from ..kernels.cpu_numba import minibatch_similarity_vjp as kernel
            return Tensor(kernel(m.data, g.data))
        # on the GPU, and for a double backward: the vjp of the definition (differentiable itself)
        with enable_grad():
            x = m if create_graph else m.detach().requires_grad_(True)
            return grad(minibatch_similarity(x), x, g, create_graph=create_graph)[0]


class Generator(nn.Module):
    """G(z) = body(z), or G(z, y) = body([z, embed(y)]) when conditional (Mirza & Osindero 2014)."""

    def __init__(self, body: nn.Module, num_classes: int = 0):
        super().__init__()
        self.body = body
        self.embed = nn.Embedding(num_classes, num_classes) if num_classes else None

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            e = self.embed(y)
            z = cat([z, e.reshape(e.shape + (1,) * (z.ndim - 2))], 1) if z.ndim > 2 else cat([z, e], 1)
        return self.body(z)


class Discriminator(nn.Module):
    """D(x) = head(features(x)), with features(x) = trunk(pack(x)) [+ minibatch features].

    ``features`` is what feature matching compares and what InfoGAN's Q head reads.
    Packing (PacGAN) concatenates m consecutive samples along dim 1 before the trunk.
    A conditional D gets its label embedding concatenated to the input (as extra channels
    for images).
    """

    def __init__(self, trunk: nn.Module, head: nn.Module, pack: int = 1, num_classes: int = 0,
                 mbd: MinibatchDiscrimination | None = None):
        super().__init__()
        self.trunk, self.head, self.pack, self.mbd = trunk, head, pack, mbd
        self.embed = nn.Embedding(num_classes, num_classes) if num_classes else None

    def features(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            e = self.embed(y)                                                  # (N, K)
            if x.ndim == 4:
                e = e.reshape(e.shape + (1, 1)).expand(e.shape + x.shape[2:])  # (N, K, H, W)
            x = cat([x, e], 1)
        if self.pack > 1:
            n = x.shape[0]
            if n % self.pack:
                raise ValueError(f"Discriminator: batch size {n} is not a multiple of pack={self.pack}")
            x = x.reshape((n // self.pack, self.pack * x.shape[1]) + x.shape[2:])  # (N/m, m*C, ...)
        h = self.trunk(x)
        return self.mbd(h) if self.mbd is not None else h

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        return self.head(self.features(x, y))


def mlp_networks(cfg: GANConfig, data: DataInfo, z_dim: int):
    """G and D bodies of MLPs: for 2D points (``hidden``, ``g_layers``, ...) or flattened images (mlp_gan)."""
    d = int(np.prod(data.shape))
    k = (data.num_classes or 0) if cfg.conditional else 0
    if data.kind == "points":
        return point_mlps(cfg, z_dim + k, (d + k) * cfg.pack, d)
    # the MLP pair of the reference benchmark `mlp_gan` (Goodfellow et al. 2014 style)
    g = nn.Sequential(nn.Linear(z_dim + k, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                      nn.Linear(512, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, d), nn.Tanh(),
                      nn.Unflatten(1, data.shape))
    label_maps = k * int(np.prod(data.shape[1:]))  # a conditional D sees K extra channels
    trunk = nn.Sequential(nn.Flatten(), nn.Linear((d + label_maps) * cfg.pack, 1024),
                          nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(1024, 512), nn.LeakyReLU(0.2),
                          nn.Dropout(0.3), nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3))
    return g, trunk, 256


def point_mlps(cfg: GANConfig, g_in: int, d_in: int, out: int):
    """G: g_layers x [Linear, (BatchNorm1d), ReLU], Linear to ``out``;  D's trunk: d_layers x
    [Linear, LeakyReLU(0.2)] or [Maxout]. Returns (G body, D trunk, width of D's features)."""
    g, width = [], g_in
    for _ in range(cfg.g_layers):
        if cfg.g_batchnorm:  # the BN shift makes a bias redundant (PacGAN's G, Lin et al. 2018)
            g += [nn.Linear(width, cfg.hidden, bias=False), nn.BatchNorm1d(cfg.hidden), nn.ReLU()]
        else:
            g += [nn.Linear(width, cfg.hidden), nn.ReLU()]
        width = cfg.hidden
    g.append(nn.Linear(width, out))
    trunk, width, h = [], d_in, cfg.d_hidden or cfg.hidden
    for _ in range(cfg.d_layers):
        trunk += [nn.Maxout(width, h, cfg.maxout)] if cfg.maxout else [nn.Linear(width, h), nn.LeakyReLU(0.2)]
        width = h
    return nn.Sequential(*g), nn.Sequential(*trunk), width


def normal_init(module: nn.Module, std: float) -> None:
    """Every Linear / conv weight ~ N(0, std), biases 0; batch-norm scales ~ N(1, std), shifts 0.

    With std 0.02 this is DCGAN's initialisation (Radford et al. 2016, Sec. 4), also used by
    the PacGAN toy networks (Lin et al. 2018).
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


def dcgan_networks(cfg: GANConfig, data: DataInfo, z_dim: int):
    """The DCGAN pair for 28x28 images (the reference benchmark `dcgan28`)."""
    c = data.shape[0]
    if data.shape[1:] != (28, 28):
        raise ValueError(f"dcgan architecture: expected 28x28 images, got shape {data.shape}")
    k = (data.num_classes or 0) if cfg.conditional else 0
    g = nn.Sequential(
        nn.Linear(z_dim + k, 128 * 7 * 7), nn.Unflatten(1, (128, 7, 7)), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),  # (N, 64, 14, 14)
        nn.ConvTranspose2d(64, c, 4, 2, 1), nn.Tanh())                        # (N, C, 28, 28)
    norm = [nn.BatchNorm2d(128)] if cfg.d_batchnorm else []
    trunk = nn.Sequential(
        nn.Conv2d((c + k) * cfg.pack, 64, 4, 2, 1), nn.LeakyReLU(0.2),          # (N, 64, 14, 14)
        nn.Conv2d(64, 128, 4, 2, 1), *norm, nn.LeakyReLU(0.2),                # (N, 128, 7, 7)
        nn.Flatten())
    return g, trunk, 128 * 7 * 7


class GAN:
    """A GAN: G, D, their optimizers, and the two alternating updates of Goodfellow et al. (2014)."""

    name = "gan"
    Config = GANConfig
    config_by_data: ClassVar[dict] = BY_DATA  # values of the Config fields left at None, per data kind
    at_least: ClassVar[dict] = AT_LEAST       # the least value of each counting field
    judged: ClassVar[bool] = True             # eval_every scores G's samples with the dataset's classifier
    run_defaults: ClassVar[dict] = {"points": RunDefaults(steps=5000, batch_size=256, sample_every=500, lr_decay=0.5),
                                    "images": RunDefaults(steps=2000, batch_size=64, sample_every=250)}

    @classmethod
    def run_settings(cls, kind: str, pack: int = 1) -> RunDefaults:
        """A run's defaults for the data kind. With packing (PacGAN, ``pack`` = m > 1) the batch is m
        times larger, so that D sees as many packed inputs, and on points the steps double: D judges
        m samples at once and G's points settle more slowly (ring8 at 5000 steps: 73% and 84% high
        quality for m = 3 and 4; at 10000: 91% and 95%)."""
        run = cls.run_defaults[kind]
        if pack > 1:
            run = dataclasses.replace(run, batch_size=run.batch_size * pack,
                                      steps=run.steps * (2 if kind == "points" else 1))
        return run

    def __init__(self, cfg: GANConfig, data: DataInfo, device: str = "cpu"):
        if cfg.loss not in losses.LOSSES:
            raise ValueError(f"{self.name}: unknown loss {cfg.loss!r}; choose from {sorted(losses.LOSSES)}")
        if cfg.conditional and not data.num_classes:
            raise ValueError(f"{self.name}: conditional training needs a labelled dataset (mnist, fashion-mnist)")
        if data.kind not in self.config_by_data:
            raise ValueError(f"{self.name} trains on {' or '.join(self.config_by_data)} data, not {data.kind}")
        by_data = self.config_by_data[data.kind]
        cfg = dataclasses.replace(cfg, **{k: v for k, v in by_data.items() if getattr(cfg, k) is None})
        for field, least in self.at_least.items():
            value = getattr(cfg, field)
            if not isinstance(value, int) or value < least:
                raise ValueError(f"{self.name}: {field}={value}, expected an integer >= {least}")
        if cfg.arch not in ARCHS:
            raise ValueError(f"{self.name}: unknown arch {cfg.arch!r}; choose from {', '.join(ARCHS)}")
        self.cfg, self.data, self.device = cfg, data, device
        self.G, self.D = self.build_networks()
        self.G.to(device)
        self.D.to(device)
        self.opt_g = self.make_optimizer(self.G.parameters(), cfg.lr_g)
        self.opt_d = self.make_optimizer(self.D.parameters(), cfg.lr_d)

    # ---- construction ----------------------------------------------------------------
    def arch(self) -> str:
        if self.cfg.arch != "auto":
            return self.cfg.arch
        return "mlp" if self.data.kind == "points" else "dcgan"

    def build_networks(self):
        cfg, data = self.cfg, self.data
        if self.arch() == "dcgan":
            g, trunk, width = dcgan_networks(cfg, data, self.g_input_dim())
        else:
            g, trunk, width = mlp_networks(cfg, data, self.g_input_dim())
        mbd = None
        if cfg.minibatch_discrimination:
            mbd = MinibatchDiscrimination(width, cfg.minibatch_discrimination)
            width += cfg.minibatch_discrimination
        k = (data.num_classes or 0) if cfg.conditional else 0
        G = Generator(g, k)
        D = Discriminator(trunk, nn.Linear(width, 1), pack=cfg.pack, num_classes=k, mbd=mbd)
        std = cfg.init_std or (0.02 if self.arch() == "dcgan" else 0.0)  # DCGAN's N(0, 0.02)
        if std:
            normal_init(G, std)
            normal_init(D, std)
        return G, D

    def make_optimizer(self, params, lr: float):
        if self.cfg.optimizer == "adam":
            return optim.Adam(params, lr=lr, betas=tuple(self.cfg.betas))
        if self.cfg.optimizer == "rmsprop":
            return optim.RMSprop(params, lr=lr)
        raise ValueError(f"{self.name}: unknown optimizer {self.cfg.optimizer!r} (adam or rmsprop)")

    # ---- sampling ----------------------------------------------------------------------
    @property
    def n_critic(self) -> int:
        return self.cfg.n_critic

    def g_input_dim(self) -> int:
        """Size of G's input vector (InfoGAN appends its latent codes to z)."""
        return self.cfg.z_dim

    def noise_shape(self, n: int) -> tuple:
        return (n, self.g_input_dim())

    def sample_z(self, n: int, rng: np.random.Generator) -> Tensor:
        z = rng.standard_normal(self.noise_shape(n)).astype(np.float32)
        return Tensor(backend.to_device(z, self.device))

    def sample_labels(self, n: int, rng: np.random.Generator) -> Tensor | None:
        if not self.cfg.conditional:
            return None
        return Tensor(backend.to_device(rng.integers(0, self.data.num_classes, n), self.device))

    def generate(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        return self.G(z, y)

    def latent_classes(self, z: Tensor) -> np.ndarray | None:
        """The categorical code that z carries (InfoGAN's c_1), for scoring it against the classes; None here."""
        return None

    # ---- the losses (what most variants change) ---------------------------------------
    def d_loss(self, real: Tensor, fake: Tensor, y: Tensor | None, rng: np.random.Generator) -> Tensor:
        """D's loss on a real and a fake batch; ``rng`` is the step's generator, for variants that draw
        more randomness (WGAN-GP's interpolation points)."""
        d_fn, _ = losses.LOSSES[self.cfg.loss]
        if self.cfg.real_label != 1.0:
            return d_fn(self.D(real, y), self.D(fake, y), real_label=self.cfg.real_label)
        return d_fn(self.D(real, y), self.D(fake, y))

    def g_loss(self, fake: Tensor, y: Tensor | None, real: Tensor) -> Tensor:
        if self.cfg.feature_matching:
            return losses.feature_matching_loss(self.D.features(real, y).detach(), self.D.features(fake, y))
        _, g_fn = losses.LOSSES[self.cfg.loss]
        return g_fn(self.D(fake, y))

    def after_d_step(self) -> None:
        """Hook run after each D update (WGAN clips the critic's weights here)."""

    def prepare(self, data: Dataset, cfg: TrainConfig) -> None:
        """Hook run by train() once, before the first step (and before a resumed run loads its
        checkpoint), with the whole training set and the run's config: a variant that needs more
        than each step's batch takes it here (SGAN: its labelled examples, the test set, D's
        data-dependent init). Nothing here."""

    def scores(self) -> dict:
        """The variant's own scores, logged every eval_every steps (SGAN: D's test error); none here."""
        return {}

    # ---- the two updates ----------------------------------------------------------------
    def d_step(self, real: Tensor, y: Tensor | None, rng: np.random.Generator) -> dict:
        """One D update on a real batch and a fresh fake batch (G is not differentiated)."""
        fake = self.fake_batch(real.shape[0], y, rng)
        loss = self.d_loss(real, fake, y, rng)
        descend(loss, self.opt_d)
        self.after_d_step()
        return {"d_loss": loss.item()}

    def g_step(self, real: Tensor, y: Tensor | None, rng: np.random.Generator) -> dict:
        """One G update through a frozen D (D's weight gradients are not computed)."""
        n = real.shape[0]
        y_fake = self.sample_labels(n, rng)
        with frozen(self.D):
            loss = self.g_loss(self.generate(self.sample_z(n, rng), y_fake), y_fake, real)
            descend(loss, self.opt_g)
        return {"g_loss": loss.item()}

    def fake_batch(self, n: int, y: Tensor | None, rng: np.random.Generator) -> Tensor:
        """n samples of G for D's update, outside any graph (with the real batch's labels, or fresh ones)."""
        with no_grad():
            return self.generate(self.sample_z(n, rng), y if y is not None else self.sample_labels(n, rng))

    # ---- what train.py saves and plots ----------------------------------------------
    def modules(self) -> dict:
        return {"G": self.G, "D": self.D}

    def optimizers(self) -> dict:
        return {"opt_g": self.opt_g, "opt_d": self.opt_d}

    def extra_state(self) -> dict:
        """JSON-able state besides modules and optimizers (BEGAN's k_t, ...)."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def critic_map(self, points: np.ndarray, chunk: int = 256) -> np.ndarray:
        """D's output on 2D points, for the GAN Lab-style background heat map.

        Evaluated ``chunk`` points at a time: a D with minibatch discrimination compares every
        pair in its batch (memory grows as batch^2), so the 40,000 grid points go in batches.
        """
        m = self.cfg.pack
        self.D.eval()
        outs = []
        with no_grad():
            for start in range(0, len(points), chunk):
                part = points[start:start + chunk].astype(np.float32)
                x = Tensor(backend.to_device(part, self.device))
                if m > 1:  # a packed D judges m samples at once: show it m copies of each point
                    x = x.reshape(len(part), 1, 2).expand(len(part), m, 2).reshape(len(part) * m, 2)
                outs.append(backend.to_numpy(self.D(x).data).reshape(-1))
        self.D.train()
        out = np.concatenate(outs)
        # D(x) = sigmoid(logit), written with tanh so large logits do not overflow
        return 0.5 * (1 + np.tanh(out / 2)) if self.cfg.loss in ("minimax", "nonsaturating", "maximum_likelihood") else out

def descend(loss: Tensor, *optimizers) -> None:
    """One gradient step of ``optimizers`` on ``loss``: zero the gradients, backpropagate, step."""
    for opt in optimizers:
        opt.zero_grad()
    loss.backward()
    for opt in optimizers:
        opt.step()


@contextlib.contextmanager
def frozen(module: nn.Module):
    """``module``'s weights take no gradient inside the block (G's update through D: only the gradient
    with respect to D's input is needed), and do again after it, however the block ends."""
    module.requires_grad_(False)
    try:
        yield module
    finally:
        module.requires_grad_(True)


def config_from(cls, overrides: dict) -> GANConfig:
    """A variant's Config with the given fields replaced (unknown names raise ValueError)."""
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(overrides) - fields
    if unknown:
        raise ValueError(f"unknown config field(s) {sorted(unknown)}; valid: {sorted(fields)}")
    return dataclasses.replace(cls(), **overrides)
