"""The VAE baseline (tinygan/baselines/vae.py) on cases with known answers: the closed-form KL against
a Monte Carlo estimate, the reparameterised gradient against finite differences, the ELBO against an
exactly computable log p(x) (a 1-D latent, integrated on a grid), its bookkeeping, its files, its
refusals, and a short run on a slice of MNIST that must lower the negative ELBO clearly."""
import json
import math

import numpy as np
import pytest
from test_examples import _mnist_missing  # tests/ is on sys.path: pytest's rootdir-relative import

import tinygan
from tinygan.baselines.vae import (
    VAE,
    VAEConfig,
    bernoulli_log_likelihood,
    gaussian_kl,
    load_vae,
    train_vae,
)
from tinygan.checkpoint import save_checkpoint
from tinygan.viz import image_grid

LOG_2PI = math.log(2 * math.pi)


def t64(a) -> tinygan.Tensor:
    return tinygan.tensor(np.asarray(a, dtype=np.float64))


def tiny_vae(x_dim: int = 5, hidden: int = 3, z_dim: int = 2, std: float = 0.5, seed: int = 0) -> VAE:
    """A small VAE in float64, its weights large enough (std 0.5) that every term matters."""
    return VAE(x_dim, hidden, z_dim, init_std=std, generator=np.random.default_rng(seed)).to(np.float64)


def test_the_closed_form_kl_matches_a_monte_carlo_estimate():
    """Appendix B's KL(N(mu, sigma^2) || N(0, I)) agrees with the mean of log q(z) - log p(z) over 200,000
    draws z ~ q, within 4 standard errors, for three random diagonal Gaussians in 4 dimensions."""
    rng = np.random.default_rng(0)
    mu, logvar = rng.normal(size=(3, 4)), rng.normal(scale=0.7, size=(3, 4))
    sigma = np.exp(0.5 * logvar)
    z = mu + sigma * rng.standard_normal((100_000, 3, 4))                          # (n, 3, 4)
    log_q = -0.5 * (((z - mu) / sigma) ** 2 + logvar + LOG_2PI)
    log_p = -0.5 * (z ** 2 + LOG_2PI)
    draws = (log_q - log_p).sum(-1)                                                # (n, 3)
    estimate, error = draws.mean(0), draws.std(0) / math.sqrt(len(draws))
    kl = gaussian_kl(t64(mu), t64(logvar)).numpy()                                 # (3,)
    assert np.all(np.abs(kl - estimate) < 4 * error), (kl, estimate, error)
    assert gaussian_kl(t64(np.zeros((2, 3))), t64(np.zeros((2, 3)))).numpy().tolist() == [0.0, 0.0]


def test_the_elbo_is_the_log_likelihood_minus_the_kl():
    """ELBO = log p(x|z) - KL per image, log p(x|z) is sum x log y + (1 - x) log(1 - y) written out here, and
    with eps = 0 the sample is the encoder's mean."""
    model, rng = tiny_vae(), np.random.default_rng(1)
    x, eps = t64(rng.random((4, 5))), t64(rng.standard_normal((4, 2)))
    with tinygan.no_grad():
        terms = model(x, eps=eps)
        np.testing.assert_allclose(terms.elbo.numpy(), (terms.log_likelihood - terms.kl).numpy(), rtol=0, atol=1e-12)
        mu, logvar = model.encode(x)
        y = model.decode(mu + (0.5 * logvar).exp() * eps).sigmoid().numpy()           # (4, 5) pixel means
        by_hand = (x.numpy() * np.log(y) + (1 - x.numpy()) * np.log(1 - y)).sum(1)
        np.testing.assert_allclose(terms.log_likelihood.numpy(), by_hand, rtol=1e-10)
        np.testing.assert_allclose(terms.kl.numpy(), gaussian_kl(mu, logvar).numpy(), rtol=1e-12)
        at_mean = model(x, eps=t64(np.zeros((4, 2)))).log_likelihood.numpy()
        np.testing.assert_allclose(at_mean, bernoulli_log_likelihood(model.decode(mu), x).numpy(), rtol=1e-12)


def test_the_reparameterised_gradient_matches_finite_differences():
    """With eps fixed, z = mu + sigma * eps is a differentiable function of the encoder's outputs, so the
    gradient of every ELBO with respect to every encoder and decoder parameter is checked (float64)."""
    model, rng = tiny_vae(), np.random.default_rng(2)
    x, eps = t64(rng.random((4, 5))), t64(rng.standard_normal((4, 2)))
    params = list(model.parameters())
    assert len(params) == 10 and all(p.dtype == np.float64 for p in params)
    assert tinygan.gradcheck(lambda *ps: model(x, eps=eps).elbo, params)


def test_the_elbo_is_log_p_x_minus_the_gap_to_the_posterior():
    """With one latent variable, log p(x) = log integral p(x|z) p(z) dz is computed on a grid, and so is
    KL(q(z|x) || p(z|x)). The bound must sit below log p(x) by exactly that KL (Kingma & Welling, Eq. 1-2),
    and the model's own one-sample estimates must average to it (100,000 of them, within 4 standard errors)."""
    model = tiny_vae(x_dim=3, hidden=4, z_dim=1, std=1.0, seed=3)
    model.logvar.bias.data[...] = -2.0                  # a narrow q (sigma 0.37), far from sigma^2 and from 1
    x = np.array([[1.0, 0.0, 1.0]])
    with tinygan.no_grad():
        mu, logvar = (float(t.item()) for t in model.encode(t64(x)))
        z = np.linspace(-12, 12, 24_001)                                           # the grid, dz = 0.001
        dz = z[1] - z[0]
        log_lik = bernoulli_log_likelihood(model.decode(t64(z[:, None])), t64(np.repeat(x, len(z), 0))).numpy()
        log_joint = log_lik - 0.5 * (z ** 2 + LOG_2PI)                             # log p(x|z) + log p(z)
        log_px = np.logaddexp.reduce(log_joint) + math.log(dz)
        log_q = -0.5 * ((z - mu) ** 2 / math.exp(logvar) + logvar + LOG_2PI)
        q = np.exp(log_q)
        gap = (q * (log_q - (log_joint - log_px))).sum() * dz                     # KL(q || posterior)
        kl = float(gaussian_kl(t64([[mu]]), t64([[logvar]])).item())
        elbo = (q * log_lik).sum() * dz - kl                                       # E_q log p(x|z) - KL(q || p)
        draws = model(t64(np.repeat(x, 100_000, 0)), np.random.default_rng(4)).elbo.numpy()
    assert gap > 0.01 and elbo < log_px
    assert abs(elbo - (log_px - gap)) < 1e-6, (elbo, log_px, gap)
    assert abs(draws.mean() - elbo) < 4 * draws.std() / math.sqrt(len(draws)), (draws.mean(), elbo)


def synthetic_digits(n: int, seed: int) -> np.ndarray:
    """n images (n, 784) in [0, 1]: a bright bar in one of four places on a dark, noisy background."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.1, (n, 28, 28))
    for image, k in zip(x, rng.integers(0, 4, n)):
        image[4 + 5 * k:8 + 5 * k, 4:24] = 0.95
    return x.reshape(n, 784).astype(np.float32)


def test_training_writes_its_files_and_the_checkpoint_reloads(tmp_path):
    """train_vae on made-up images: the ELBO rises, metrics.json holds every evaluation, the grids have the GAN
    grids' 8x8 layout, and load_vae gives back a model with the same outputs."""
    cfg = VAEConfig(hidden=32, z_dim=2, batch_size=20, lr=3e-3)
    model, history = train_vae(tmp_path, steps=60, config=cfg, eval_every=30, progress=False,
                               data=(synthetic_digits(200, 0), synthetic_digits(50, 1)))
    assert [row["step"] for row in history] == [0, 30, 60]
    assert history[-1]["test_elbo"] > history[0]["test_elbo"] + 100, history
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["history"] == history and saved["config"]["z_dim"] == 2
    grid_shape = image_grid(np.zeros((64, 1, 28, 28))).shape
    for name in ("samples.png", "reconstructions.png"):
        from PIL import Image
        assert np.asarray(Image.open(tmp_path / name)).shape == grid_shape
    again, meta = load_vae(tmp_path / "vae.npz")
    assert meta["step"] == 60 and not again.training
    x = tinygan.tensor(synthetic_digits(5, 2))
    with tinygan.no_grad():
        np.testing.assert_array_equal(again.reconstruct(x).numpy(), model.reconstruct(x).numpy())
    samples = model.sample(7, np.random.default_rng(0))
    assert samples.shape == (7, 784) and samples.min() >= 0 and samples.max() <= 1


def test_bad_input_is_refused_with_a_clear_error(tmp_path):
    model = tiny_vae()
    with pytest.raises(ValueError, match=r"shape \(B, 5\)"):
        model.encode(t64(np.zeros((2, 1, 5))))
    with pytest.raises(ValueError, match=r"\[0, 1\].*to_unit_interval"):
        model.encode(t64(np.full((2, 5), -1.0)))       # tinygan's [-1, 1] images, not yet mapped to [0, 1]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.encode(t64(np.full((2, 5), np.nan)))
    with pytest.raises(TypeError, match="Tensor"):
        model.encode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"z of shape \(B, 2\)"):
        model.decode(t64(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="eps must have shape"):
        model(t64(np.zeros((2, 5))), eps=t64(np.zeros((3, 2))))
    with pytest.raises(ValueError, match="z_dim must be a positive integer"):
        VAE(z_dim=0)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        model.sample(0)
    with pytest.raises(ValueError, match="larger than the 10 training images"):
        train_vae(tmp_path, steps=1, data=(synthetic_digits(10, 0), synthetic_digits(10, 1)), progress=False)
    with pytest.raises(ValueError, match="positive number of steps"):
        train_vae(tmp_path, epochs=0, config=VAEConfig(batch_size=5), progress=False,
                  data=(synthetic_digits(10, 0), synthetic_digits(10, 1)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        train_vae(tmp_path, steps=1, config=VAEConfig(batch_size=5), progress=False,
                  data=(2 * synthetic_digits(10, 0) - 1, synthetic_digits(10, 1)))
    save_checkpoint(tmp_path / "other.npz", {"G": tiny_vae()}, {}, {"kind": "gan"})
    with pytest.raises(ValueError, match="not a VAE checkpoint"):
        load_vae(tmp_path / "other.npz")


@pytest.mark.slow
def test_a_short_run_on_mnist_lowers_the_negative_elbo_clearly(tmp_path):
    """300 steps of 100 on the first 1000 training digits (the paper's model, N_z = 20, 500 tanh units)
    take the test -ELBO on 500 test digits from 784 ln 2 = 543 nats (every pixel a coin flip) below 260."""
    reason = _mnist_missing()
    if reason:
        pytest.skip(reason)
    _, history = train_vae(tmp_path, steps=300, n_train=1000, n_test=500, eval_every=300, progress=False)
    start, end = -history[0]["test_elbo"], -history[-1]["test_elbo"]
    assert abs(start - 784 * math.log(2)) < 2, start
    assert end < 260, history
