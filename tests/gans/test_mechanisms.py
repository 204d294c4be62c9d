"""Tests with teeth for the training layer: each test guards one mechanism of common.GAN, train.py
or a variant, on tiny networks, and fails when that mechanism is removed."""
import copy
import itertools

import numpy as np
import pytest

import tinygan.nn.functional as F
from tinygan import losses, nn
from tinygan.tensor import Tensor, grad, no_grad
from tinygan.train import TrainConfig, train

N = 8  # batch size of the single-step tests


# ---- helpers -------------------------------------------------------------------------------------
def _batch(data, n=N, dtype=np.float32) -> Tensor:
    return Tensor(data.x[:n].astype(dtype))


def _params(module) -> dict:
    return {k: p.data.copy() for k, p in module.named_parameters()}


def _grads(module) -> dict:
    return {k: None if p.grad is None else p.grad.data.copy() for k, p in module.named_parameters()}


def _spy(monkeypatch, obj, method: str) -> list:
    """Wrap ``obj.method`` (on the instance); return the list that collects (args, result) of each call."""
    calls, original = [], getattr(obj, method)

    def wrapper(*args):
        calls.append((args, original(*args)))
        return calls[-1][1]
    monkeypatch.setattr(obj, method, wrapper)
    return calls


def _step(monkeypatch, gan, which: str, real: Tensor, seed: int = 1):
    """Run ``gan.d_step`` or ``gan.g_step`` once: return its logs, the fake batch it made and D before it."""
    D_before = copy.deepcopy(gan.D)
    fakes = _spy(monkeypatch, gan, "generate")
    logs = getattr(gan, which)(real, None, np.random.default_rng(seed))
    return logs, fakes[-1][1], D_before


def _assert_close_dicts(a: dict, b: dict, rtol: float, atol: float = 0.0) -> None:
    assert a.keys() == b.keys()
    for k, value in a.items():
        np.testing.assert_allclose(value, b[k], rtol=rtol, atol=atol, err_msg=k)


def _max_diff(a: dict, b: dict) -> float:
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


# ---- 1. initialisation ---------------------------------------------------------------------------
def _assert_moments(name, w, mean, std):
    """w's sample mean and std are (mean, std) within 4 standard errors of n normal draws (uniform
    draws vary less): a std off by 10x, or PyTorch's default init in place of N(0, 0.02), fails."""
    n = w.size
    assert abs(w.std() / std - 1) < 4 / np.sqrt(2 * n), (name, w.std(), std)
    assert abs(w.mean() - mean) < 4 * std / np.sqrt(n), (name, w.mean(), mean)


def _assert_normal_init(nets, std):
    """Every weight ~ N(0, std), every bias 0, every batch-norm scale ~ N(1, std) and shift 0."""
    checked = set()
    for net in nets:
        for prefix, m in net.named_modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d)):
                is_norm = isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))
                _assert_moments(prefix, m.weight.data, 1.0 if is_norm else 0.0, std)
                checked.add(id(m.weight))
                if m.bias is not None:
                    np.testing.assert_array_equal(m.bias.data, 0.0, err_msg=prefix)
                    checked.add(id(m.bias))
    every = [p for net in nets for p in net.parameters()]
    assert {id(p) for p in every} == checked  # no parameter escaped the check


@pytest.mark.parametrize("variant,nets", [("dcgan", "GD"), ("ebgan", "G")])
def test_image_init_is_normal_0_02(variant, nets, build, tiny_images):
    """DCGAN's N(0, 0.02) init of convs, transposed convs, linears and batch norms (Radford et al. 2016,
    Sec. 4): DCGAN's G and D, EBGAN's image G."""
    gan = build(variant, tiny_images)
    _assert_normal_init([getattr(gan, net) for net in nets], 0.02)


def test_point_mlp_init_std_reaches_maxout_and_batchnorm(build, tiny_points):
    """init_std=0.02 reaches every layer of the point MLPs: Maxout's Linear, G's BatchNorm1d (PacGAN)."""
    gan = build("gan", tiny_points, init_std=0.02, maxout=5, g_batchnorm=True)
    assert any(isinstance(m, nn.Maxout) for m in gan.D.modules())
    assert any(isinstance(m, nn.BatchNorm1d) for m in gan.G.modules())
    _assert_normal_init([gan.G, gan.D], 0.02)


@pytest.mark.parametrize("variant", ["ebgan", "began"])
def test_autoencoder_width_follows_d_hidden(variant, build, tiny_points):
    """d_hidden sets the autoencoder D's width on points; G keeps hidden."""
    gan = build(variant, tiny_points, hidden=12, d_hidden=5, code=3)
    widths = lambda net: [m.out_features for m in net.modules() if isinstance(m, nn.Linear)]
    assert widths(gan.D) == [5, 3, 5, 2]
    assert widths(gan.G)[:-1] == [12, 12]


def test_point_mlp_default_init_is_pytorchs(build, tiny_points):
    """init_std=0 keeps PyTorch's Linear init: weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    gan = build("gan", tiny_points)
    linears = [m for net in (gan.G, gan.D) for m in net.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 8
    for m in linears:
        bound = 1 / np.sqrt(m.in_features)
        assert np.abs(m.weight.data).max() <= bound and np.abs(m.bias.data).max() <= bound
        _assert_moments("weight", m.weight.data, 0.0, bound / np.sqrt(3))  # std of U(-b, b) = b / sqrt(3)
    assert all(np.any(m.bias.data != 0) for m in linears)


# ---- 2. unrolled GAN -------------------------------------------------------------------------------
UNROLL_LR = 0.5


def _unrolled_gan(build, tiny_points, k, **overrides):
    """A float64 unrolled GAN on tiny MLPs whose G step (lr 0) leaves G's gradient in p.grad."""
    gan = build("unrolled", tiny_points, hidden=8, z_dim=4, g_layers=1, d_layers=1, unroll_steps=k,
                unroll_lr=UNROLL_LR, lr_g=0.0, **overrides)
    gan.G.double()
    gan.D.double()
    sample_z = gan.sample_z
    gan.sample_z = lambda n, rng: sample_z(n, rng).double()
    return gan


def _unrolled_g_grad(gan, real, seed=5):
    gan.g_step(real, None, np.random.default_rng(seed))
    return _grads(gan.G)


def _f_K(gan, z, real, k):
    """Metz et al. 2017, Eq. 5-7, by hand: k steps on a copy of D against the fixed fake batch (plain
    gradient steps, or Adam's from the moments D's optimizer holds), then G's loss under the updated D."""
    with no_grad():
        fake = gan.G(z)
    D = copy.deepcopy(gan.D)
    group = gan.opt_d.param_groups[0]
    (beta1, beta2), lr, eps = group["betas"], group["lr"], group["eps"]
    moments = [[gan.opt_d.state[p][key].copy() for key in ("exp_avg", "exp_avg_sq")] + [gan.opt_d.state[p]["step"]]
               for p in gan.D.parameters()] if gan.cfg.unroll_optimizer == "adam" else None
    for _ in range(k):
        D.zero_grad()
        losses.minimax_d_loss(D(real), D(fake)).backward()
        for i, p in enumerate(D.parameters()):
            g = p.grad.data
            if moments is None:
                p.data -= UNROLL_LR * g
                continue
            m, v, t = moments[i]
            m, v, t = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g, t + 1
            moments[i] = [m, v, t]
            p.data -= lr / (1 - beta1**t) * m / (np.sqrt(v / (1 - beta2**t)) + eps)
    with no_grad():
        return losses.nonsaturating_g_loss(D(fake)).item()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_unrolled_g_gradient_is_the_derivative_of_f_K(optimizer, build, tiny_points):
    """G's gradient is df_K/dtheta_G, the total derivative through K unrolled D updates (Metz et al. 2017,
    Eq. 7-8): checked against a central difference of f_K along a random direction of G's parameters.
    The Adam unrolling continues from the moments of a D step taken before."""
    k, eps = 3, 1e-6
    gan = _unrolled_gan(build, tiny_points, k, unroll_optimizer=optimizer, lr_d=0.05)
    real = _batch(tiny_points, dtype=np.float64)
    if optimizer == "adam":
        gan.d_step(real, None, np.random.default_rng(4))
    analytic = _unrolled_g_grad(gan, real)
    z = gan.sample_z(N, np.random.default_rng(5))
    params = dict(gan.G.named_parameters())
    v = {name: np.random.default_rng(0).standard_normal(p.shape) for name, p in params.items()}

    def f_along(t):
        for name, p in params.items():
            p.data += t * v[name]
        value = _f_K(gan, z, real, k)
        for name, p in params.items():
            p.data -= t * v[name]
        return value
    numeric = (f_along(eps) - f_along(-eps)) / (2 * eps)
    directional = sum(float((analytic[name] * v[name]).sum()) for name in params)
    assert directional == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_unrolled_g_gradient_differs_from_plain_gradient(build, tiny_points):
    """With K = 3 unrolled steps G's gradient is not the K = 0 (plain GAN) one (Metz et al. 2017, Eq. 7)."""
    real = _batch(tiny_points, dtype=np.float64)
    unrolled = _unrolled_g_grad(_unrolled_gan(build, tiny_points, 3), real)
    plain = _unrolled_g_grad(_unrolled_gan(build, tiny_points, 0), real)
    assert _max_diff(unrolled, plain) > 0.1 * max(np.abs(g).max() for g in plain.values())


# ---- 3. packing (PacGAN) ---------------------------------------------------------------------------
@pytest.mark.parametrize("variant,kind", [("gan", "points"), ("dcgan", "images")])
def test_pacgan_packs_consecutive_samples(variant, kind, build, tiny_points, tiny_images, monkeypatch):
    """PacGAN (Lin et al. 2018, Sec. 3) with m = 2: D's first layer takes m*C channels (m*2 features), and
    its trunk sees group g = [x_{gm}, ..., x_{gm+m-1}] concatenated along dim 1; one D and one G step run."""
    m, data = 2, (tiny_points if kind == "points" else tiny_images)
    gan = build(variant, data, pack=m)
    assert next(gan.D.trunk.parameters()).shape[1] == m * data.x.shape[1]
    trunk_calls = _spy(monkeypatch, gan.D.trunk, "forward")
    real = _batch(data)
    logs = gan.d_step(real, None, np.random.default_rng(0)) | gan.g_step(real, None, np.random.default_rng(1))
    assert all(np.isfinite(v) for v in logs.values())
    x = real.data
    packed = np.stack([np.concatenate(x[g * m:(g + 1) * m]) for g in range(N // m)])  # (N/m, m*C, ...)
    assert [args[0].shape[0] for args, _ in trunk_calls] == [N // m] * 3  # D(real), D(fake), D(G(z))
    np.testing.assert_array_equal(trunk_calls[0][0][0].data, packed)    # D(real) of the D step


# ---- 4. randomness keyed by (seed, step), dropout, resume -----------------------------------------
@pytest.fixture
def no_plots(monkeypatch):
    """train() without sample frames and plots (test_train.py covers them): these tests look at the steps."""
    import tinygan.train as train_module
    monkeypatch.setattr(train_module, "_write_frame", lambda *args: {})
    monkeypatch.setattr(train_module, "_final_plots", lambda *args: None)


TRAIN_BATCH = 16


def _train(gan, data, out, steps, seed=3, resume=False):
    cfg = TrainConfig(steps=steps, batch_size=TRAIN_BATCH, seed=seed, out=str(out), log_every=1,
                      sample_every=10**6, checkpoint_every=2, progress=False)
    return train(gan, data, cfg, resume=resume)


def _seen_in_training(monkeypatch, build, data, out, seed, steps=3):
    """Train a fresh GAN; return the noise of each sample_z call (D's then G's, per step) and the real
    batch of each D step."""
    gan = build("gan", data)
    noise, d_steps = _spy(monkeypatch, gan, "sample_z"), _spy(monkeypatch, gan, "d_step")
    _train(gan, data, out, steps, seed)
    steps_noise = [z.data for _, z in noise if z.shape[0] == TRAIN_BATCH]  # not the sample grid's fixed noise
    return steps_noise, [args[0].data for args, _ in d_steps]


def _distinct(arrays) -> bool:
    return len({a.tobytes() for a in arrays}) == len(arrays)


def test_noise_and_batches_are_fresh_each_step_and_keyed_by_seed_and_step(build, tiny_points, tmp_path,
                                                                          monkeypatch, no_plots):
    """train.py: step s draws its noise and real batch from (seed, s): new ones every step, the same in two
    runs with one seed, others with another seed."""
    runs = {name: _seen_in_training(monkeypatch, build, tiny_points, tmp_path / name, seed)
            for name, seed in (("first", 3), ("same_seed", 3), ("other_seed", 4))}
    z, x = runs["first"]
    assert len(z) == 6 and len(x) == 3
    assert _distinct(z) and _distinct(x)
    z_same, x_same = runs["same_seed"]
    for a, b in zip(z + x, z_same + x_same, strict=True):
        np.testing.assert_array_equal(a, b)
    z_other, x_other = runs["other_seed"]
    assert all(not np.array_equal(a, b) for a, b in zip(z + x, z_other + x_other, strict=True))


def test_dropout_masks_change_from_step_to_step(build, tiny_images, tmp_path, monkeypatch, no_plots):
    """train.py seeds dropout per step from (seed, step): the mlp_gan D's Dropout(0.3) masks of step 1 are
    not those of step 0."""
    masks, dropout = [], F.dropout

    def recording_dropout(x, p=0.5, training=True):
        out = dropout(x, p, training)
        masks.append(out.data == 0)
        return out
    monkeypatch.setattr(F, "dropout", recording_dropout)
    _train(build("gan", tiny_images), tiny_images, tmp_path, steps=2)
    per_step = len(masks) // 2
    assert per_step == 9  # 3 Dropout layers x [D(real), D(fake), D(G(z))]
    assert 0.2 < masks[0].mean() < 0.4
    for i in range(per_step):
        assert not np.array_equal(masks[i], masks[per_step + i]), i


def test_resumed_run_with_dropout_replays_exactly(build, tiny_images, tmp_path, no_plots):
    """A run resumed from its step-2 checkpoint equals the uninterrupted run (losses, G and D), with
    dropout in D: train.py's per-step seeding makes the masks of step s independent of the past."""
    full = build("gan", tiny_images)
    full_rows = _train(full, tiny_images, tmp_path / "full", steps=4)
    _train(build("gan", tiny_images), tiny_images, tmp_path / "part", steps=2)
    resumed = build("gan", tiny_images)
    part_rows = _train(resumed, tiny_images, tmp_path / "part", steps=4, resume=True)
    loss = [{k: v for k, v in r.items() if k.endswith("loss")} for r in full_rows]
    assert [{k: v for k, v in r.items() if k.endswith("loss")} for r in part_rows] == loss
    for net in ("G", "D"):
        _assert_close_dicts(_params(getattr(resumed, net)), _params(getattr(full, net)), rtol=0)


# ---- 5. what each step may touch ------------------------------------------------------------------
def test_d_step_builds_no_graph_through_G(build, tiny_points, monkeypatch):
    """d_step generates under no_grad: the fake batch has no history and G gets no gradient."""
    gan = build("gan", tiny_points)
    _, fake, _ = _step(monkeypatch, gan, "d_step", _batch(tiny_points))
    assert not fake.requires_grad and fake.grad_fn is None
    assert all(g is None for g in _grads(gan.G).values())
    assert all(g is not None for g in _grads(gan.D).values())


@pytest.mark.parametrize("variant", ["gan", "unrolled"])
def test_g_step_leaves_D_untouched(variant, build, tiny_points):
    """g_step moves G only: after a D step, D's parameters and the .grad its step left are bitwise unchanged
    by the G step, and D requires grad again (the unrolled GAN's theta_D^K never replaces D's parameters)."""
    gan = build(variant, tiny_points, **({"unroll_steps": 2} if variant == "unrolled" else {}))
    real = _batch(tiny_points)
    gan.d_step(real, None, np.random.default_rng(0))
    D_before, D_grads_before, G_before = _params(gan.D), _grads(gan.D), _params(gan.G)
    gan.g_step(real, None, np.random.default_rng(1))
    _assert_close_dicts(_params(gan.D), D_before, rtol=0)
    _assert_close_dicts(_grads(gan.D), D_grads_before, rtol=0)
    assert all(p.requires_grad for p in gan.D.parameters())
    assert _max_diff(_params(gan.G), G_before) > 0


# ---- 6. each variant's distinctive update --------------------------------------------------------
def test_wgan_clips_every_critic_weight(build, tiny_points):
    """WGAN (Arjovsky et al. 2017, Alg. 1 line 7): after a critic step every parameter is in [-c, c]."""
    gan = build("wgan", tiny_points, clip=0.01)  # the paper's c
    c = np.float32(gan.cfg.clip)
    assert max(np.abs(w).max() for w in _params(gan.D).values()) > 10 * c  # default init: far outside
    gan.d_step(_batch(tiny_points), None, np.random.default_rng(0))
    assert max(np.abs(w).max() for w in _params(gan.D).values()) == c


@pytest.mark.parametrize("lambda_k,gamma,clipped_to", [(0.1, 0.5, None), (100.0, 0.0, 0.0),
                                                       (100.0, 100.0, 1.0)])
def test_began_k_follows_the_equilibrium_update(lambda_k, gamma, clipped_to, build, tiny_points, monkeypatch):
    """BEGAN (Berthelot et al. 2017, Eq. 4): k <- clip(k + lambda_k (gamma L(x) - L(G(z))), 0, 1), with the
    L1 energies of this D step's real and fake batches under D before its update."""
    gan = build("began", tiny_points, lambda_k=lambda_k, gamma=gamma)
    gan.equilibrium.k = k0 = 0.5
    real = _batch(tiny_points)
    logs, fake, D_before = _step(monkeypatch, gan, "d_step", real)
    with no_grad():
        real_energy, fake_energy = (float(np.abs(D_before(x)[0].data - x.data).mean()) for x in (real, fake))
    k = k0 + lambda_k * (gamma * real_energy - fake_energy)
    if clipped_to is None:
        assert 0 < k < 1 and abs(k - k0) > 1e-3
        assert gan.equilibrium.k - k0 == pytest.approx(k - k0, rel=1e-5)
    else:
        assert not 0 <= k <= 1 and gan.equilibrium.k == clipped_to
    assert logs["k"] == gan.equilibrium.k


def _wgan_gp_d_grads(build, data, monkeypatch, lambda_gp):
    """D's gradient after one WGAN-GP critic step (lr 0), the fake batch and D of that step."""
    gan = build("wgan_gp", data, lambda_gp=lambda_gp, lr_d=0.0)
    _, fake, D_before = _step(monkeypatch, gan, "d_step", _batch(data))  # the step's rng: default_rng(1)
    return _grads(gan.D), fake, D_before, gan


def test_wgan_gp_penalty_gradient_reaches_the_critic(build, tiny_points, monkeypatch):
    """WGAN-GP (Gulrajani et al. 2017, Eq. 3): the critic's gradient is that of the Wasserstein term plus
    that of the gradient penalty, a second derivative through grad(..., create_graph=True)."""
    with_gp, fake, D, gan = _wgan_gp_d_grads(build, tiny_points, monkeypatch, 10.0)
    without_gp, _, _, _ = _wgan_gp_d_grads(build, tiny_points, monkeypatch, 0.0)
    assert _max_diff(with_gp, without_gp) > 1e-2 * max(np.abs(g).max() for g in without_gp.values())
    real, params = _batch(tiny_points), dict(D.named_parameters())
    wasserstein = grad(losses.wasserstein_d_loss(D(real), D(fake)), list(params.values()))
    rng = np.random.default_rng(1)  # the step's generator: the fake batch's noise, then the penalty's eps
    gan.sample_z(len(fake), rng)
    penalty = grad(losses.gradient_penalty(D, real, fake, rng, lambda_=10.0), list(params.values()),
                   allow_unused=True)
    _assert_close_dicts(without_gp, {k: g.data for k, g in zip(params, wasserstein)}, rtol=1e-5, atol=1e-7)
    # biases before a LeakyReLU (and the head's) only shift kinks: the penalty does not depend on them
    expected = {k: a.data + (0 if b is None else b.data) for k, a, b in zip(params, wasserstein, penalty)}
    _assert_close_dicts(with_gp, expected, rtol=1e-4, atol=1e-6)


def test_infogan_mutual_information_term_trains_G_and_Q(build, tiny_images):
    """InfoGAN (Chen et al. 2016, Eq. 5): G and Q descend lambda * (-L_I). The term reaches G's gradient, and
    on a fixed batch with fixed codes (the same z and c each step) the Q loss falls step after step."""
    real = _batch(tiny_images)
    g_grads = {}
    for weight in (0.0, 1.0):
        gan = build("infogan", tiny_images, info_weight=weight, lr_g=0.0)
        gan.g_step(real, None, np.random.default_rng(1))
        g_grads[weight] = _grads(gan.G)
    assert _max_diff(g_grads[1.0], g_grads[0.0]) > 1e-3 * max(np.abs(g).max() for g in g_grads[0.0].values())
    for paper_networks, lr in ((False, 1e-4), (True, 2e-4)):  # dcgan.py's pair, and the paper's networks
        gan = build("infogan", tiny_images, lr_g=lr, paper_networks=paper_networks)
        info = [gan.g_step(real, None, np.random.default_rng(1))["info_loss"] for _ in range(6)]
        assert all(a > b for a, b in itertools.pairwise(info)), info
        assert info[-1] < 0.5 * info[0], info


def test_feature_matching_g_loss_reads_D_features_not_its_output(build, tiny_points, monkeypatch):
    """Feature matching (Salimans et al. 2016, Sec. 3.1): L_G = ||E f(x) - E f(G(z))||^2 with f = D.features;
    D's head does not enter G's loss or gradient, D's trunk does."""
    gan, real = build("gan", tiny_points, feature_matching=True, lr_g=0.0), _batch(tiny_points)

    def g_step():
        logs, fake, _ = _step(monkeypatch, gan, "g_step", real)
        return logs["g_loss"], _grads(gan.G), fake.data

    loss, grads, fake = g_step()
    with no_grad():
        diff = gan.D.features(real).data.mean(0) - gan.D.features(Tensor(fake)).data.mean(0)
    assert loss == pytest.approx(float((diff**2).sum()), rel=1e-5)
    gan.D.head.weight.data *= -3.0
    gan.D.head.bias.data += 1.0
    loss_new_head, grads_new_head, _ = g_step()
    assert loss_new_head == loss
    _assert_close_dicts(grads_new_head, grads, rtol=0)
    next(gan.D.trunk.parameters()).data *= 1.5
    loss_new_trunk, grads_new_trunk, _ = g_step()
    assert loss_new_trunk != pytest.approx(loss, rel=1e-3) and _max_diff(grads_new_trunk, grads) > 0


def _bce(logits, target) -> float:
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    return float(-(target * np.log(p) + (1 - target) * np.log1p(-p)).mean())


def test_label_smoothing_changes_only_the_real_targets(build, tiny_points, monkeypatch):
    """One-sided label smoothing (Salimans et al. 2016, Sec. 3.4): L_D = BCE(D(x), 0.9) + BCE(D(G(z)), 0);
    the fake term and G's loss are those of the unsmoothed GAN."""
    real = _batch(tiny_points)
    smooth, plain = build("gan", tiny_points, real_label=0.9), build("gan", tiny_points)
    g_losses = [gan.g_step(real, None, np.random.default_rng(2))["g_loss"] for gan in (smooth, plain)]
    assert g_losses[0] == g_losses[1]
    for gan, target in ((smooth, 0.9), (plain, 1.0)):
        logs, fake, D = _step(monkeypatch, gan, "d_step", real)
        with no_grad():
            expected = _bce(D(real).data, target) + _bce(D(fake).data, 0.0)
        assert logs["d_loss"] == pytest.approx(expected, rel=1e-5), target
