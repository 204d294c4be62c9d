"""Semi-supervised GAN (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 5).

D classifies into K+1 classes: the K real classes, its logits l_1..l_K, and "fake", whose logit is
fixed at 0, so that D(x) = Z(x) / (Z(x) + 1) with Z(x) = sum_k exp l_k(x). It learns from a few
labelled examples (100 of MNIST's 60,000: 10 per class) and from every training image, unlabelled:

    L_D = L_supervised + w L_unsupervised                                               (Sec. 5)
    L_supervised   = -E_{x,y ~ labelled} log p(y | x, y < K+1)        the cross entropy of the K logits
    L_unsupervised = -E_{x ~ data} log D(x) - E_z log(1 - D(G(z)))
    L_G = ||E_x f(x) - E_z f(G(z))||^2,  f = D's last hidden layer         feature matching (Sec. 3.1)

The classifier is D's argmax over the K logits; its error on the test set is logged every
eval_every steps (one epoch by default). The batch labels the trainer hands over are never used:
the labelled batch comes from the run's fixed labelled examples. ``unsupervised=False`` trains D on
those alone and leaves G idle: the supervised baseline.

The MNIST model of the authors' code (openai/improved-gan, train_mnist_feature_matching.py):
D: 784-1000-500-250-250-250-10, ReLU, weight normalisation with a data-dependent init (Salimans &
   Kingma 2016), the hidden layers' scales g then fixed; Gaussian noise on the input (std 0.3 on
   [0, 1] pixels: 0.6 on tinygan's [-1, 1]) and after every hidden layer (0.5).
G: z ~ U(0, 1)^100 -> 500 -> 500 (batch norm, softplus) -> 784, weight norm on the last layer.
   Their sigmoid output on [0, 1] is tanh(a / 2) = 2 sigmoid(a) - 1 here: the last layer's g starts at 1/2.
Adam, lr 0.003, beta1 0.5, eps 1e-4 (their update divides by sqrt(v + 1e-8)), batch 100; the unlabelled
loss weighted 1/2; the test error is that of D's weights averaged over the steps (D_avg), as theirs.
"""
from dataclasses import dataclass

import numpy as np

from .. import backend, factories, losses, nn, optim
from ..data import get_dataset, labelled_subset
from ..tensor import Tensor, no_grad
from .common import BY_DATA, GAN, Discriminator, GANConfig, Generator, RunDefaults, descend

D_WIDTHS, G_WIDTHS = (1000, 500, 250, 250, 250), (500, 500)
INIT_IMAGES = 500                 # the batch of the data-dependent init, as the authors'
TESTED = ("mnist", "fashion-mnist")  # datasets whose test split scores D
LABELS_STREAM = 2**31 - 2         # the generator of the labelled choice: seeded by (run seed, this)


@dataclass
class Config(GANConfig):
    z_dim: int = 100
    lr_g: float = 3e-3
    lr_d: float = 3e-3
    feature_matching: bool = True     # G's loss (Sec. 3.1), on D's last hidden layer
    labels: int = 100                 # labelled examples, labels / K of each class, chosen with the run's seed
    unsupervised: bool = True         # False: D learns from the labelled examples alone, G is idle (baseline)
    unsupervised_weight: float = 0.5  # w: the authors' code halves L_unsupervised
    input_noise: float = 0.6          # std of the noise on D's input (0.3 on [0, 1] pixels)
    hidden_noise: float = 0.5         # std of the noise after each of D's hidden layers
    adam_eps: float = 1e-4            # the authors' Adam divides by sqrt(v + 1e-8): eps ~ 1e-4, not 1e-8
    average: float = 0.999            # test D_avg <- a D_avg + (1 - a) D (the authors': 0.9999 from 0); 0 = D


def weight_normed(n_in: int, n_out: int, train_scale: bool) -> nn.Linear:
    """A Linear with w = g v / ||v||, v ~ N(0, 0.1^2), g = 1, b = 0 (set again by the data-dependent init);
    with ``train_scale`` False, g is a buffer: not trained, as the authors' hidden layers."""
    layer = nn.utils.weight_norm(nn.Linear(n_in, n_out))
    nn.init.normal_(layer.weight_v, 0.0, 0.1)
    nn.init.ones_(layer.weight_g)
    nn.init.zeros_(layer.bias)
    if not train_scale:
        layer.register_buffer("weight_g", Tensor(layer.weight_g.data))
    return layer


def error_rate(D: Discriminator, x: np.ndarray, y: np.ndarray, chunk: int = 1000) -> float:
    """How often the argmax of D's K logits (in eval mode: no noise) is not the label."""
    D.eval()
    with no_grad():
        guess = np.concatenate([backend.to_numpy(D(Tensor(backend.to_device(x[i:i + chunk], D.device))).data)
                                .argmax(1) for i in range(0, len(x), chunk)])
    D.train()
    return float(np.mean(guess != y))


class SemiSupervisedGAN(GAN):
    name = "sgan"
    Config = Config
    config_by_data = {"images": BY_DATA["images"]}
    judged = False  # eval_every scores D as a classifier (scores), not G's samples
    # one epoch of MNIST = 600 steps of 100; the lrs decay to 0 over the last third (the authors' CIFAR-10 and
    # SVHN schedule; their MNIST script keeps 0.003 for 300 epochs). 9000 steps = 15 epochs.
    run_defaults = {"images": RunDefaults(steps=9000, batch_size=100, sample_every=600, eval_every=600,
                                          lr_decay=1 / 3)}

    def __init__(self, cfg, data, device="cpu"):
        if not data.num_classes or cfg.labels < data.num_classes or not cfg.feature_matching:
            raise ValueError(f"sgan: needs labelled images (mnist, fashion-mnist), labels >= {data.num_classes} "
                             f"(got {cfg.labels}) and feature_matching=True")
        super().__init__(cfg, data, device)
        self.D_avg = self.discriminator().to(device)  # D's weights averaged over the steps: what the test scores
        self.labelled, self.test = None, None

    def discriminator(self) -> Discriminator:
        cfg, width = self.cfg, int(np.prod(self.data.shape))
        trunk = [nn.Flatten(), nn.GaussianNoise(cfg.input_noise)]
        for i, h in enumerate(D_WIDTHS):
            trunk += [*([nn.GaussianNoise(cfg.hidden_noise)] if i else []), weight_normed(width, h, False), nn.ReLU()]
            width = h
        head = nn.Sequential(nn.GaussianNoise(cfg.hidden_noise), weight_normed(width, self.data.num_classes, True))
        return Discriminator(nn.Sequential(*trunk), head)

    def build_networks(self):
        cfg, d = self.cfg, int(np.prod(self.data.shape))
        g, width = [], cfg.z_dim
        for h in G_WIDTHS:
            g += [nn.Linear(width, h, bias=False), nn.BatchNorm1d(h), nn.Softplus()]
            width = h
        out = nn.utils.weight_norm(nn.Linear(width, d))
        nn.init.constant_(out.weight_g, 0.5)
        nn.init.zeros_(out.bias)
        return Generator(nn.Sequential(*g, out, nn.Tanh(), nn.Unflatten(1, self.data.shape))), self.discriminator()

    def make_optimizer(self, params, lr):
        """Adam with the authors' eps: once D's losses are near 0 its steps shrink, where with eps = 1e-8
        they stay lr-sized and D runs away from G."""
        return optim.Adam(params, lr=lr, betas=tuple(self.cfg.betas), eps=self.cfg.adam_eps)

    def sample_z(self, n, rng):
        """z ~ U(0, 1)^z_dim, as the authors' code."""
        return Tensor(backend.to_device(rng.random((n, self.cfg.z_dim)).astype(np.float32), self.device))

    def prepare(self, data, cfg):
        """The labelled examples (labels / K per class, chosen with the run's seed), the test set, and D's
        data-dependent init on INIT_IMAGES training images (with its noise, as the authors')."""
        rng = np.random.default_rng([cfg.seed, LABELS_STREAM])
        idx = labelled_subset(data.y, self.cfg.labels // data.num_classes, rng)
        self.labelled = (data.x[idx], data.y[idx])
        self.test = get_dataset(data.name, split="test", data_dir=cfg.data_dir) if data.name in TESTED else None
        factories.manual_seed(int(rng.integers(2**62)))
        batch = np.sort(rng.choice(len(data), min(INIT_IMAGES, len(data)), replace=False))
        nn.utils.data_dependent_init_([*self.D.trunk, *self.D.head], Tensor(backend.to_device(data.x[batch], self.device)))
        self.D_avg.load_state_dict(self.D.state_dict())

    def labelled_batch(self, n: int, rng: np.random.Generator) -> tuple[Tensor, np.ndarray]:
        """min(n, labels) labelled examples, in an order drawn with ``rng``: with n = labels = 100 (the
        paper's), all of them at every step, as the authors' code cycles them."""
        pick = rng.permutation(len(self.labelled[1]))[:n]
        return Tensor(backend.to_device(self.labelled[0][pick], self.device)), self.labelled[1][pick]

    def d_step(self, real, y, rng):
        """D's step on a labelled batch (with batch = labels = 100, all of them, in the step's order) and,
        unless the baseline, on the unlabelled batch ``real`` (its labels y unused) and a fake batch."""
        x_lab, y_lab = self.labelled_batch(real.shape[0], rng)
        loss = supervised = losses.sgan_supervised_loss(self.D(x_lab), y_lab)
        parts = {}
        if self.cfg.unsupervised:
            fake = self.fake_batch(real.shape[0], None, rng)
            unsupervised = losses.sgan_unsupervised_loss(self.D(real), self.D(fake))
            loss = supervised + self.cfg.unsupervised_weight * unsupervised
            parts = {"supervised_loss": supervised.item(), "unsupervised_loss": unsupervised.item()}
        descend(loss, self.opt_d)
        self.after_d_step()
        return {"d_loss": loss.item(), **parts}

    def after_d_step(self):
        """D_avg <- a D_avg + (1 - a) D: the Polyak average whose error the authors report."""
        a = self.cfg.average
        for p_avg, p in zip(self.D_avg.parameters(), self.D.parameters()):
            p_avg.data *= a
            p_avg.data += (1 - a) * p.data

    def g_step(self, real, y, rng):
        return super().g_step(real, y, rng) if self.cfg.unsupervised else {}

    def scores(self):
        """The test error of D_avg (of D if average = 0), and of D's current weights; none without a test set."""
        if self.test is None:
            return {}
        current = error_rate(self.D, self.test.x, self.test.y)
        average = error_rate(self.D_avg, self.test.x, self.test.y) if self.cfg.average else current
        return {"test_error": average, "test_error_current": current}

    def modules(self):
        return {**super().modules(), "D_avg": self.D_avg}


VARIANT = SemiSupervisedGAN
