"""The GAN literature's losses, as short functions of discriminator outputs.

Each function is one equation from one paper; its docstring names both. Losses take the
discriminator's outputs as Tensors and return a scalar Tensor to minimise. Where the paper's
D ends in a sigmoid, the functions take the *logits* (pre-sigmoid outputs) and use

    log sigmoid(x) = -softplus(-x),      log(1 - sigmoid(x)) = -softplus(x),

which stay finite for logits of +-1000 (log(sigmoid(x)) would give log(0) = -inf).
Penalties (WGAN-GP, R1) take the discriminator itself and its inputs, and differentiate
through D's input gradient (``tinygan.grad(..., create_graph=True)``).

``LOSSES`` maps the names a variant's config uses to its (d_loss, g_loss) pair. The f-GAN family
(``F_DIVERGENCES``, ``fgan_d_loss``, ``fgan_g_loss``) is chosen by a divergence name instead.
"""
from __future__ import annotations

import math

import numpy as np

from . import backend
from .factories import default_generator
from .ops.elementwise import relu, softplus
from .tensor import Tensor, grad


def _check_shapes(loss: str, a_name: str, a: Tensor, b_name: str, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{loss}: {a_name} has shape {a.shape} but {b_name} has shape {b.shape}; "
                         "they must match")


def _per_example(x: Tensor) -> Tensor:
    """(N, ...) -> (N, D): one row per example."""
    return x.reshape(x.shape[0], -1) if x.ndim > 0 else x.reshape(1, 1)


# ---- the original GAN ------------------------------------------------------------------------
def minimax_d_loss(real_logits: Tensor, fake_logits: Tensor, real_label: float = 1.0) -> Tensor:
    """D's loss in Goodfellow et al. 2014, Eq. 1: -E[log D(x)] - E[log(1 - D(G(z)))].

    With ``real_label`` < 1 the real examples' target is that value instead of 1: one-sided
    label smoothing (Salimans et al. 2016, Sec. 3.4, who use 0.9); fake targets stay 0.
    """
    _check_shapes("minimax_d_loss", "real_logits", real_logits, "fake_logits", fake_logits)
    real_term = softplus(-real_logits)  # -log D(x)
    if real_label != 1.0:  # -[t log D(x) + (1 - t) log(1 - D(x))]
        real_term = real_label * real_term + (1.0 - real_label) * softplus(real_logits)
    return real_term.mean() + softplus(fake_logits).mean()  # ... - log(1 - D(G(z)))


def minimax_g_loss(fake_logits: Tensor) -> Tensor:
    """G's loss in Goodfellow et al. 2014, Eq. 1: E[log(1 - D(G(z)))] (saturates when D wins)."""
    return -softplus(fake_logits).mean()


def nonsaturating_g_loss(fake_logits: Tensor) -> Tensor:
    """G's loss in Goodfellow et al. 2014, Sec. 3: -E[log D(G(z))] (strong gradients early on)."""
    return softplus(-fake_logits).mean()


def maximum_likelihood_g_loss(fake_logits: Tensor) -> Tensor:
    """G's maximum-likelihood cost, Goodfellow 2016 ("NIPS 2016 Tutorial: GANs", Sec. 3.2.3; from Goodfellow
    2014, "On distinguishability criteria"): -1/2 E[exp(sigma^-1(D(G(z))))], sigma^-1(D) being D's logit.

    With D optimal, exp(logit) = p_data / p_g, and G's expected gradient is that of KL(p_data || p_g).
    The cost is unbounded below (exp(logit) overflows float32 past a logit of 88): it is as large as D is sure.
    """
    return -0.5 * fake_logits.exp().mean()


# ---- f-GAN: any f-divergence (Nowozin et al. 2016) ------------------------------------------------
# Table 2: D's raw output v is mapped into the domain of f* by the output activation g_f, T(x) = g_f(V(x)),
# and F = E_P[g_f(V(x))] - E_Q[f*(g_f(V(x)))] (Eq. 6). Each entry is the pair (g_f(v), f*(g_f(v))), the
# second simplified so that it stays finite (softplus where the table has log(1 + exp)).
#   divergence           g_f(v)                       f*(t)             f*(g_f(v))
#   kl                   v                            exp(t - 1)        exp(v - 1)
#   reverse_kl           -exp(-v)                     -1 - log(-t)      v - 1
#   pearson              v                            t^2/4 + t         v^2/4 + v
#   squared_hellinger    1 - exp(-v)                  t / (1 - t)       exp(v) - 1
#   jensen_shannon       log 2 - log(1 + exp(-v))     -log(2 - exp(t))  softplus(v) - log 2
#   gan                  -log(1 + exp(-v))            -log(1 - exp(t))  softplus(v)
# (The appendix's Table 6 writes -exp(v) and 1 - exp(v) for reverse KL and squared Hellinger: the same
# family of T under v -> -v. With Table 2's signs every g_f increases with v, so V is a "realness" score
# like a logit, and for "gan" V is exactly the original GAN's logit.) "jensen_shannon" is Table 1's
# f(u) = u log u - (u + 1) log((1 + u)/2), whose divergence is 2 JSD = KL(P || M) + KL(Q || M), M = (P + Q)/2.
LOG2 = math.log(2.0)
F_DIVERGENCES = {
    "kl": (lambda v: v, lambda v: (v - 1.0).exp()),
    "reverse_kl": (lambda v: -(-v).exp(), lambda v: v - 1.0),
    "pearson": (lambda v: v, lambda v: 0.25 * v * v + v),
    "squared_hellinger": (lambda v: 1.0 - (-v).exp(), lambda v: v.exp() - 1.0),
    "jensen_shannon": (lambda v: LOG2 - softplus(-v), lambda v: softplus(v) - LOG2),
    "gan": (lambda v: -softplus(-v), lambda v: softplus(v)),
}


def _f_divergence(loss: str, divergence: str):
    if divergence not in F_DIVERGENCES:
        raise ValueError(f"{loss}: unknown divergence {divergence!r}; choose from {', '.join(F_DIVERGENCES)}")
    return F_DIVERGENCES[divergence]


def fgan_d_loss(real_out: Tensor, fake_out: Tensor, divergence: str = "kl") -> Tensor:
    """D's loss in Nowozin et al. 2016, Eq. 6 with Table 2: -F = E_Q[f*(g_f(V(G(z))))] - E_P[g_f(V(x))].

    At its minimum over all V, -F = -D_f(P || Q), reached at T*(x) = g_f(V*(x)) = f'(p(x)/q(x)) (Eq. 5).
    For "gan" this is ``minimax_d_loss`` of the logits V.
    """
    _check_shapes("fgan_d_loss", "real_out", real_out, "fake_out", fake_out)
    g_f, conjugate = _f_divergence("fgan_d_loss", divergence)
    return conjugate(fake_out).mean() - g_f(real_out).mean()


def fgan_g_loss(fake_out: Tensor, divergence: str = "kl", alternative: bool = True) -> Tensor:
    """G's loss in Nowozin et al. 2016: -E_Q[g_f(V(G(z)))], the alternative update of Sec. 3.2 that the
    paper's experiments use (G maximises D's verdict on its samples; for "gan" it is the non-saturating
    loss); with ``alternative=False`` Eq. 6 itself, F's Q term: -E_Q[f*(g_f(V(G(z))))] (for "gan", minimax).
    With V optimal, Eq. 6's gradient is that of D_f(P || Q), the alternative's that of another divergence
    (for "kl", KL(Q || P); for "pearson", 2 KL(P || Q)).
    """
    g_f, conjugate = _f_divergence("fgan_g_loss", divergence)
    return -g_f(fake_out).mean() if alternative else -conjugate(fake_out).mean()


# ---- least squares (LSGAN) ---------------------------------------------------------------------
def lsgan_d_loss(real_out: Tensor, fake_out: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """D's loss in Mao et al. 2017, Eq. 2 (0-1 coding, Eq. 9): 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]."""
    _check_shapes("lsgan_d_loss", "real_out", real_out, "fake_out", fake_out)
    return 0.5 * ((real_out - b) ** 2).mean() + 0.5 * ((fake_out - a) ** 2).mean()


def lsgan_g_loss(fake_out: Tensor, c: float = 1.0) -> Tensor:
    """G's loss in Mao et al. 2017, Eq. 2 (0-1 coding, Eq. 9): 1/2 E[(D(G(z)) - c)^2]."""
    return 0.5 * ((fake_out - c) ** 2).mean()


# ---- Wasserstein (WGAN, WGAN-GP) ---------------------------------------------------------------
def wasserstein_d_loss(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """The critic's loss in Arjovsky et al. 2017, Alg. 1: E[D(G(z))] - E[D(x)]."""
    _check_shapes("wasserstein_d_loss", "real_out", real_out, "fake_out", fake_out)
    return fake_out.mean() - real_out.mean()


def wasserstein_g_loss(fake_out: Tensor) -> Tensor:
    """G's loss in Arjovsky et al. 2017, Alg. 1: -E[D(G(z))]."""
    return -fake_out.mean()


def gradient_penalty(critic, real: Tensor, fake: Tensor, rng: np.random.Generator | None = None,
                     lambda_: float = 10.0) -> Tensor:
    """WGAN-GP's penalty, Gulrajani et al. 2017, Eq. 3 and Alg. 1: lambda E[(||grad D(x_hat)||_2 - 1)^2].

    x_hat = eps x + (1 - eps) G(z) with one eps ~ U[0, 1] per example, drawn from ``rng``
    (default: tinygan's seeded generator). The norm is taken over all non-batch dims. The
    gradient is built with ``create_graph=True``, so the penalty backpropagates into the
    critic's weights (a second derivative).
    """
    _check_shapes("gradient_penalty", "real", real, "fake", fake)
    rng = rng if rng is not None else default_generator()
    eps_shape = (real.shape[0],) + (1,) * (real.ndim - 1)  # (N, 1, ..., 1)
    eps = Tensor(backend.to_device(rng.random(eps_shape).astype(real.dtype), real.device))
    x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_()
    (g,) = grad(critic(x_hat).sum(), x_hat, create_graph=True)  # (N, ...): row i is dD(x_hat_i)/dx_hat_i
    norms = _per_example(g).norm(dim=1)  # (N,)
    return lambda_ * ((norms - 1.0) ** 2).mean()


def r1_penalty(d, real: Tensor, gamma: float = 10.0) -> Tensor:
    """R1, Mescheder et al. 2018, Eq. 9: gamma/2 E[||grad D(x)||^2] on real data only."""
    x = real.detach().requires_grad_()
    (g,) = grad(d(x).sum(), x, create_graph=True)  # (N, ...)
    return (gamma / 2.0) * (_per_example(g) ** 2).sum(dim=1).mean()


# ---- hinge (geometric GAN, SN-GAN) ---------------------------------------------------------------
def hinge_d_loss(real_out: Tensor, fake_out: Tensor) -> Tensor:
    """D's loss in Lim & Ye 2017 / Miyato et al. 2018, Eq. 16: E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    _check_shapes("hinge_d_loss", "real_out", real_out, "fake_out", fake_out)
    return relu(1.0 - real_out).mean() + relu(1.0 + fake_out).mean()


def hinge_g_loss(fake_out: Tensor) -> Tensor:
    """G's loss in Lim & Ye 2017 / Miyato et al. 2018, Eq. 17: -E[D(G(z))]."""
    return -fake_out.mean()


# ---- energy-based GAN (EBGAN) -------------------------------------------------------------------
def ebgan_energy(x: Tensor, reconstruction: Tensor) -> Tensor:
    """EBGAN's energy, Zhao et al. 2017, Sec. 2.3: D(x) = ||Dec(Enc(x)) - x||, here the mean squared
    reconstruction error of each example, shape (N,)."""
    _check_shapes("ebgan_energy", "x", x, "reconstruction", reconstruction)
    return (_per_example(reconstruction - x) ** 2).mean(dim=1)


def ebgan_d_loss(real_energy: Tensor, fake_energy: Tensor, margin: float) -> Tensor:
    """D's loss in Zhao et al. 2017, Eq. 1: E[D(x)] + E[relu(m - D(G(z)))]."""
    _check_shapes("ebgan_d_loss", "real_energy", real_energy, "fake_energy", fake_energy)
    return real_energy.mean() + relu(margin - fake_energy).mean()


def ebgan_g_loss(fake_energy: Tensor) -> Tensor:
    """G's loss in Zhao et al. 2017, Eq. 2: E[D(G(z))]."""
    return fake_energy.mean()


def pullaway_term(embeddings: Tensor) -> Tensor:
    """The pulling-away term, Zhao et al. 2017, Eq. 4 (Sec. 2.4):
    1/(N(N-1)) sum_{i != j} (s_i^T s_j / (||s_i|| ||s_j||))^2, for embeddings (N, ...)."""
    n = embeddings.shape[0] if embeddings.ndim > 0 else 0
    if n < 2:
        raise ValueError(f"pullaway_term: needs at least 2 embeddings, got shape {embeddings.shape}")
    s = _per_example(embeddings)  # (N, D)
    unit = s / s.norm(dim=1, keepdim=True)  # (N, D), rows of length 1
    cos = unit @ unit.T  # (N, N) cosine similarities, 1 on the diagonal
    xp = backend.xp_of(s.data)
    off_diagonal = Tensor(1.0 - xp.eye(n, dtype=s.dtype))  # (N, N) constant mask
    return (cos * cos * off_diagonal).sum() * (1.0 / (n * (n - 1)))


# ---- boundary equilibrium GAN (BEGAN) -------------------------------------------------------------
def began_energy(x: Tensor, reconstruction: Tensor) -> Tensor:
    """BEGAN's autoencoder loss, Berthelot et al. 2017, Sec. 3.1 (eta = 1): L(v) = |v - D(v)|, here the
    mean absolute reconstruction error of each example, shape (N,)."""
    _check_shapes("began_energy", "x", x, "reconstruction", reconstruction)
    return _per_example(reconstruction - x).abs().mean(dim=1)


def began_d_loss(real_energy: Tensor, fake_energy: Tensor, k: float) -> Tensor:
    """D's loss in Berthelot et al. 2017, Eq. 4: L(x) - k_t L(G(z_D))."""
    _check_shapes("began_d_loss", "real_energy", real_energy, "fake_energy", fake_energy)
    return real_energy.mean() - k * fake_energy.mean()


def began_g_loss(fake_energy: Tensor) -> Tensor:
    """G's loss in Berthelot et al. 2017, Eq. 4: L(G(z_G))."""
    return fake_energy.mean()


class BEGANEquilibrium:
    """The proportional control of k_t in Berthelot et al. 2017 (Eq. 4, Sec. 3.4-3.5).

    ``update(L(x), L(G(z)))`` does k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)
    and returns the convergence measure M_global = L(x) + |gamma L(x) - L(G(z))|.
    """

    def __init__(self, gamma: float = 0.5, lambda_k: float = 0.001, k: float = 0.0):
        self.gamma, self.lambda_k, self.k = float(gamma), float(lambda_k), float(k)

    def update(self, real_loss: float, fake_loss: float) -> float:
        balance = self.gamma * float(real_loss) - float(fake_loss)
        self.k = min(max(self.k + self.lambda_k * balance, 0.0), 1.0)
        return float(real_loss) + abs(balance)

    def state(self) -> dict:
        return {"gamma": self.gamma, "lambda_k": self.lambda_k, "k": self.k}

    def load_state(self, state: dict) -> None:
        self.gamma, self.lambda_k, self.k = float(state["gamma"]), float(state["lambda_k"]), float(state["k"])


# ---- InfoGAN ---------------------------------------------------------------------------------
def infogan_categorical_loss(q_logits: Tensor, codes) -> Tensor:
    """-E[log Q(c|x)] for a categorical code (Chen et al. 2016, Eq. 5 / Sec. 5): the cross entropy
    of Q's logits (N, K) against the integer codes (N,) that G was given."""
    c = codes.data if isinstance(codes, Tensor) else backend.to_device(np.asarray(codes), q_logits.device)
    if q_logits.ndim != 2 or c.shape != (q_logits.shape[0],):
        raise ValueError(f"infogan_categorical_loss: q_logits has shape {q_logits.shape} but codes has shape "
                         f"{c.shape}; expected (N, K) and (N,)")
    xp = backend.xp_of(q_logits.data)
    picked = q_logits[xp.arange(c.shape[0]), c]  # (N,) logit of the true code
    return (q_logits.logsumexp(dim=1) - picked).mean()


def infogan_continuous_loss(q_mean: Tensor, q_log_std: Tensor | None, codes: Tensor) -> Tensor:
    """-E[log Q(c|x)] for continuous codes (Chen et al. 2016, Eq. 5 / Sec. 5), Q a factored Gaussian.

    With ``q_log_std`` the Gaussian NLL  log sigma + (c - mu)^2 / (2 sigma^2) + log(2 pi) / 2;
    with None, sigma = 1 and the constant dropped, 1/2 (c - mu)^2, as most implementations do.
    Summed over code dims, averaged over examples.
    """
    _check_shapes("infogan_continuous_loss", "q_mean", q_mean, "codes", codes)
    z = codes.detach() - q_mean
    if q_log_std is None:
        nll = 0.5 * z * z
    else:
        _check_shapes("infogan_continuous_loss", "q_log_std", q_log_std, "codes", codes)
        z = z / q_log_std.exp()
        nll = q_log_std + 0.5 * z * z + 0.5 * math.log(2 * math.pi)
    return _per_example(nll).sum(dim=1).mean()


# ---- semi-supervised GAN: D as a K+1-class classifier (Salimans et al. 2016, Sec. 5) --------------
# D's K logits l_1..l_K are the real classes; the fake class K+1 has its logit fixed at 0, so with
# Z(x) = sum_k exp l_k(x):  D(x) = p(real | x) = Z(x) / (Z(x) + 1) = sigmoid(LSE(l(x))).
def sgan_supervised_loss(logits: Tensor, labels) -> Tensor:
    """L_supervised = -E_{x,y ~ p_data} log p_model(y | x, y < K+1) (Salimans et al. 2016, Sec. 5):
    the cross entropy of the K logits (N, K) against the labels (N,); the fake class drops out of
    p(y | x, y < K+1) = exp l_y / Z(x)."""
    y = labels.data if isinstance(labels, Tensor) else backend.to_device(np.asarray(labels), logits.device)
    if logits.ndim != 2 or y.shape != (logits.shape[0],):
        raise ValueError(f"sgan_supervised_loss: logits has shape {logits.shape} but labels has shape "
                         f"{y.shape}; expected (N, K) and (N,)")
    picked = logits[backend.xp_of(logits.data).arange(y.shape[0]), y]  # (N,) l_y(x)
    return (logits.logsumexp(dim=1) - picked).mean()


def sgan_unsupervised_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """L_unsupervised = -E_{x ~ p_data} log D(x) - E_{z ~ noise} log(1 - D(G(z))) (Salimans et al.
    2016, Sec. 5), D(x) = Z(x) / (Z(x) + 1), written through LSE = log Z so that it stays finite:

        log D(x) = LSE(l(x)) - softplus(LSE(l(x))),      log(1 - D(G(z))) = -softplus(LSE(l(G(z)))).
    """
    real, fake = real_logits.logsumexp(dim=1), fake_logits.logsumexp(dim=1)  # (N,) log Z
    return (softplus(real) - real).mean() + softplus(fake).mean()


# ---- feature matching, and the reconstruction losses of image-to-image GANs --------------------
def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """Salimans et al. 2016, Sec. 3.1: ||E[f(x)] - E[f(G(z))]||_2^2, f an intermediate layer of D;
    batch means, squared L2 norm over the features, real features held constant."""
    _check_shapes("feature_matching_loss", "real_features", real_features, "fake_features", fake_features)
    diff = real_features.detach().mean(dim=0) - fake_features.mean(dim=0)  # (...)
    return (diff * diff).sum()


def l1_loss(fake: Tensor, target: Tensor) -> Tensor:
    """pix2pix's L1 term, Isola et al. 2017, Eq. 3: E[||y - G(x, z)||_1], as a mean over all elements."""
    _check_shapes("l1_loss", "fake", fake, "target", target)
    return (fake - target).abs().mean()


def cycle_consistency_loss(real_a: Tensor, rec_a: Tensor, real_b: Tensor, rec_b: Tensor) -> Tensor:
    """CycleGAN's cycle loss, Zhu et al. 2017, Eq. 2: E||F(G(x)) - x||_1 + E||G(F(y)) - y||_1, each a
    mean over all elements (as the authors' code)."""
    _check_shapes("cycle_consistency_loss", "real_a", real_a, "rec_a", rec_a)
    _check_shapes("cycle_consistency_loss", "real_b", real_b, "rec_b", rec_b)
    return (rec_a - real_a).abs().mean() + (rec_b - real_b).abs().mean()


# name -> (d_loss(real_out, fake_out), g_loss(fake_out))
LOSSES = {
    "minimax": (minimax_d_loss, minimax_g_loss),
    "nonsaturating": (minimax_d_loss, nonsaturating_g_loss),
    "maximum_likelihood": (minimax_d_loss, maximum_likelihood_g_loss),
    "lsgan": (lsgan_d_loss, lsgan_g_loss),
    "wasserstein": (wasserstein_d_loss, wasserstein_g_loss),
    "hinge": (hinge_d_loss, hinge_g_loss),
}
