"""Tests for tinygan.losses: known values from the papers, stability, gradchecks, penalties."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
from tinygan import losses as L
from tinygan.gradcheck import gradcheck

try:
    from tinygan.nn.functional import conv2d
except ImportError:  # functional.py is written in parallel; fall back to a matmul critic
    conv2d = None

LOG4 = math.log(4.0)


def t(values, requires_grad=False):
    return tinygan.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def close(tensor, expected, tol=1e-12):
    assert tensor.shape == ()
    assert abs(tensor.item() - expected) <= tol * max(1.0, abs(expected)), (tensor.item(), expected)


# ---- known values -------------------------------------------------------------------------------
def test_optimal_discriminator_value_is_minus_log4():
    # p_data = p_g: D* = 1/2 everywhere (logit 0), so V(D*, G) = -log 4 and D's loss is log 4
    zeros = t(np.zeros(5))
    close(L.minimax_d_loss(zeros, zeros), LOG4)
    close(L.minimax_g_loss(zeros), -math.log(2.0))  # E[log(1 - 1/2)]
    close(L.nonsaturating_g_loss(zeros), math.log(2.0))  # -E[log 1/2]


def test_minimax_matches_log_sigmoid_formula():
    r, f = np.array([0.3, -1.2, 2.0]), np.array([-0.7, 0.1, 1.5])
    sig = lambda x: 1 / (1 + np.exp(-x))
    close(L.minimax_d_loss(t(r), t(f)), -np.log(sig(r)).mean() - np.log(1 - sig(f)).mean())
    close(L.minimax_g_loss(t(f)), np.log(1 - sig(f)).mean())
    close(L.nonsaturating_g_loss(t(f)), -np.log(sig(f)).mean())


def test_one_sided_label_smoothing():
    zeros = t(np.zeros(4))
    # -0.9 log(1/2) - 0.1 log(1 - 1/2) - log(1 - 1/2) = 2 log 2
    close(L.minimax_d_loss(zeros, zeros, real_label=0.9), LOG4)
    r, f = np.array([1.5, -0.5]), np.array([0.25, -2.0])
    sig = lambda x: 1 / (1 + np.exp(-x))
    expected = (-(0.9 * np.log(sig(r)) + 0.1 * np.log(1 - sig(r)))).mean() - np.log(1 - sig(f)).mean()
    close(L.minimax_d_loss(t(r), t(f), real_label=0.9), expected)
    assert L.minimax_d_loss(t(r), t(f), real_label=0.9).item() != L.minimax_d_loss(t(r), t(f)).item()


@pytest.mark.parametrize("loss", ["minimax_d", "minimax_g", "nonsaturating_g"])
def test_logit_losses_are_stable_at_1000(loss):
    big = np.array([1000.0, -1000.0, 800.0, -800.0])
    r, f = t(big, requires_grad=True), t(-big, requires_grad=True)
    if loss == "minimax_d":
        out, args = L.minimax_d_loss(r, f), (r, f)
    elif loss == "minimax_g":
        out, args = L.minimax_g_loss(f), (f,)
    else:
        out, args = L.nonsaturating_g_loss(f), (f,)
    assert np.isfinite(out.item())
    grads = tinygan.grad(out, args)
    for g in grads:
        assert np.all(np.isfinite(g.numpy()))


def test_logit_losses_at_extremes_have_the_limit_values():
    hi, lo = t([1000.0]), t([-1000.0])
    close(L.minimax_d_loss(hi, lo), 0.0)  # D right with certainty
    close(L.minimax_d_loss(lo, hi), 2000.0)  # -log sigmoid(-1000) - log(1 - sigmoid(1000))
    close(L.nonsaturating_g_loss(lo), 1000.0)
    close(L.minimax_g_loss(hi), -1000.0)


def test_lsgan_wasserstein_hinge_hand_values():
    r, f = t([1.0, 3.0]), t([0.5, -1.0])
    close(L.lsgan_d_loss(r, f), 0.5 * (0 + 4) / 2 + 0.5 * (0.25 + 1) / 2)  # 1.3125
    close(L.lsgan_d_loss(r, f, a=-1.0, b=1.0), 0.5 * 2.0 + 0.5 * (2.25 + 0) / 2)
    close(L.lsgan_g_loss(f), 0.5 * (0.25 + 4) / 2)  # 1.0625
    close(L.lsgan_g_loss(f, c=0.0), 0.5 * (0.25 + 1) / 2)
    close(L.wasserstein_d_loss(r, f), -0.25 - 2.0)
    close(L.wasserstein_g_loss(f), 0.25)
    r, f = t([0.5, 2.0]), t([-2.0, 0.5])
    close(L.hinge_d_loss(r, f), (0.5 + 0) / 2 + (0 + 1.5) / 2)
    close(L.hinge_g_loss(f), 0.75)


def test_ebgan_and_began_values():
    x = t(np.zeros((2, 1, 2, 2)))
    rec = t(np.array([1.0, -1, 1, -1, 2, 0, 0, 0]).reshape(2, 1, 2, 2))
    np.testing.assert_allclose(L.ebgan_energy(x, rec).numpy(), [1.0, 1.0])  # (1+1+1+1)/4, 4/4
    np.testing.assert_allclose(L.began_energy(x, rec).numpy(), [1.0, 0.5])  # 4/4, 2/4
    real_e, fake_e = t([0.2, 0.4]), t([0.5, 2.0])
    close(L.ebgan_d_loss(real_e, fake_e, margin=1.0), 0.3 + (0.5 + 0.0) / 2)
    close(L.ebgan_g_loss(fake_e), 1.25)
    close(L.began_d_loss(real_e, fake_e, k=0.1), 0.3 - 0.1 * 1.25)
    close(L.began_g_loss(fake_e), 1.25)


def test_pullaway_term():
    same = t([[1.0, 2.0, -1.0], [2.0, 4.0, -2.0], [0.5, 1.0, -0.5]])  # one direction, three lengths
    close(L.pullaway_term(same), 1.0)
    close(L.pullaway_term(t(np.eye(3) * [1.0, 2.0, 3.0])), 0.0)  # orthogonal
    sixty = t([[1.0, 0.0], [0.5, math.sqrt(3) / 2]])  # cos = 1/2: (2 * 1/4) / (2 * 1)
    close(L.pullaway_term(sixty), 0.25)
    close(L.pullaway_term(t(np.ones((2, 1, 2, 2)))), 1.0)  # (N, ...) is flattened per example
    with pytest.raises(ValueError, match="pullaway_term"):
        L.pullaway_term(t([[1.0, 2.0]]))


def test_began_equilibrium_updates():
    eq = L.BEGANEquilibrium(gamma=0.5, lambda_k=0.1)
    assert eq.k == 0.0
    m = eq.update(0.4, 0.1)  # balance 0.5*0.4 - 0.1 = 0.1
    assert eq.k == pytest.approx(0.01) and m == pytest.approx(0.5)
    m = eq.update(0.2, 0.5)  # balance -0.4: k would go to -0.03, clipped to 0
    assert eq.k == 0.0 and m == pytest.approx(0.6)
    eq = L.BEGANEquilibrium(gamma=1.0, lambda_k=0.5, k=0.9)
    assert eq.update(1.0, 0.0) == pytest.approx(2.0) and eq.k == 1.0  # clipped to 1
    saved = eq.state()
    other = L.BEGANEquilibrium()
    other.load_state(saved)
    assert other.state() == saved == {"gamma": 1.0, "lambda_k": 0.5, "k": 1.0}
    assert isinstance(L.BEGANEquilibrium().update(t(0.4).item(), 0.1), float)


def test_infogan_losses():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    codes = np.array([1, 0])
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    close(L.infogan_categorical_loss(t(logits), codes), -(logp[0, 1] + logp[1, 0]) / 2)
    close(L.infogan_categorical_loss(t(logits), tinygan.tensor(codes)), -(logp[0, 1] + logp[1, 0]) / 2)
    mu, c, log_std = np.array([[0.0, 1.0], [2.0, 0.5]]), np.array([[1.0, 1.0], [0.0, 0.0]]), \
        np.array([[0.0, 0.5], [-0.5, 0.2]])
    close(L.infogan_continuous_loss(t(mu), None, t(c)), (0.5 * (1 + 0) + 0.5 * (4 + 0.25)) / 2)
    nll = log_std + 0.5 * ((c - mu) / np.exp(log_std)) ** 2 + 0.5 * np.log(2 * np.pi)
    close(L.infogan_continuous_loss(t(mu), t(log_std), t(c)), nll.sum(1).mean())
    with pytest.raises(ValueError, match=r"infogan_categorical_loss.*\(2, 3\).*\(3,\)"):
        L.infogan_categorical_loss(t(logits), np.array([0, 1, 2]))


def test_feature_matching_value_and_real_side_is_constant():
    real = t([[1.0, 2.0], [3.0, 0.0]], requires_grad=True)  # batch mean (2, 1)
    fake = t([[0.0, 0.0], [1.0, 1.0]], requires_grad=True)  # batch mean (0.5, 0.5)
    out = L.feature_matching_loss(real, fake)
    close(out, 1.5 ** 2 + 0.5 ** 2)
    g_real, g_fake = tinygan.grad(out, [real, fake], allow_unused=True)
    assert g_real is None
    np.testing.assert_allclose(g_fake.numpy(), [[-1.5, -0.5], [-1.5, -0.5]])  # -2 diff / N


def test_l1_and_cycle_consistency_values():
    a, rec_a = t([[1.0, 2.0], [3.0, 4.0]]), t([[1.5, 2.0], [2.0, 4.0]])  # |diff| mean 1.5/4
    b, rec_b = t([0.0, 0.0, 0.0]), t([1.0, -2.0, 3.0])  # mean 2
    close(L.l1_loss(rec_a, a), 0.375)
    close(L.cycle_consistency_loss(a, rec_a, b, rec_b), 0.375 + 2.0)


@pytest.mark.parametrize("fn, args", [
    (L.minimax_d_loss, 2), (L.lsgan_d_loss, 2), (L.wasserstein_d_loss, 2), (L.hinge_d_loss, 2),
    (L.ebgan_energy, 2), (L.began_energy, 2), (L.feature_matching_loss, 2), (L.l1_loss, 2),
])
def test_mismatched_shapes_raise(fn, args):
    with pytest.raises(ValueError, match=rf"{fn.__name__}.*\(2, 1\).*\(3, 1\)"):
        fn(t(np.zeros((2, 1))), t(np.zeros((3, 1))))


def test_mismatched_shapes_raise_for_the_other_losses():
    a, b = t(np.zeros(2)), t(np.zeros(3))
    for call in (lambda: L.ebgan_d_loss(a, b, 1.0), lambda: L.began_d_loss(a, b, 0.1),
                 lambda: L.infogan_continuous_loss(a, None, b), lambda: L.infogan_continuous_loss(a, b, a),
                 lambda: L.cycle_consistency_loss(a, a, a, b),
                 lambda: L.gradient_penalty(lambda x: x, a, b)):
        with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)|\(3,\).*\(2,\)"):
            call()


def test_registry():
    assert set(L.LOSSES) == {"minimax", "nonsaturating", "maximum_likelihood", "lsgan", "wasserstein", "hinge"}
    assert L.LOSSES["nonsaturating"] == (L.minimax_d_loss, L.nonsaturating_g_loss)
    r, f = t([0.3, -0.2]), t([0.1, 0.4])
    for d_loss, g_loss in L.LOSSES.values():
        assert d_loss(r, f).shape == () and g_loss(f).shape == ()


# ---- gradchecks (float64), one property per loss --------------------------------------------------
def _away(rng, shape, center=0.0):
    """Values at least 0.2 from ``center`` (keeps relu and |.| off their kinks)."""
    return center + rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 1.5, shape)


def _case(name, rng, n, d):
    """(function, inputs) for gradchecking loss ``name`` on a batch of n examples of d features."""
    x = lambda *s: rng.normal(size=s)
    g = lambda a: t(a, requires_grad=True)
    cases = {
        "minimax_d": lambda: (L.minimax_d_loss, [g(x(n, 1)), g(x(n, 1))]),
        "minimax_d_smoothed": lambda: (lambda r, f: L.minimax_d_loss(r, f, real_label=0.9),
                                       [g(x(n, 1)), g(x(n, 1))]),
        "minimax_g": lambda: (L.minimax_g_loss, [g(x(n))]),
        "nonsaturating_g": lambda: (L.nonsaturating_g_loss, [g(x(n))]),
        "lsgan_d": lambda: (L.lsgan_d_loss, [g(x(n)), g(x(n))]),
        "lsgan_g": lambda: (L.lsgan_g_loss, [g(x(n))]),
        "wasserstein_d": lambda: (L.wasserstein_d_loss, [g(x(n)), g(x(n))]),
        "wasserstein_g": lambda: (L.wasserstein_g_loss, [g(x(n))]),
        "hinge_d": lambda: (L.hinge_d_loss, [g(_away(rng, (n,), 1.0)), g(_away(rng, (n,), -1.0))]),
        "hinge_g": lambda: (L.hinge_g_loss, [g(x(n))]),
        "ebgan_energy": lambda: (L.ebgan_energy, [g(x(n, d)), g(x(n, d))]),
        "ebgan_d": lambda: (lambda r, f: L.ebgan_d_loss(r, f, margin=1.0),
                            [g(x(n) ** 2), g(_away(rng, (n,), 1.0) ** 2)]),
        "ebgan_g": lambda: (L.ebgan_g_loss, [g(x(n) ** 2)]),
        "pullaway": lambda: (L.pullaway_term, [g(x(n + 1, d))]),
        "began_energy": lambda: ((lambda a, b: L.began_energy(a, a + b)),
                                 [g(x(n, d)), g(_away(rng, (n, d)))]),
        "began_d": lambda: (lambda r, f: L.began_d_loss(r, f, k=0.3), [g(x(n) ** 2), g(x(n) ** 2)]),
        "began_g": lambda: (L.began_g_loss, [g(x(n) ** 2)]),
        "infogan_categorical": lambda: (lambda q: L.infogan_categorical_loss(q, rng_codes),
                                        [g(x(n, d + 1))]),
        "infogan_continuous": lambda: (lambda m: L.infogan_continuous_loss(m, None, codes),
                                       [g(x(n, d))]),
        "infogan_continuous_std": lambda: ((lambda m, s: L.infogan_continuous_loss(m, s, codes)),
                                           [g(x(n, d)), g(x(n, d))]),
        "feature_matching": lambda: ((lambda f: L.feature_matching_loss(real_features, f)), [g(x(n, d))]),
        "l1": lambda: ((lambda a, b: L.l1_loss(a + b, a)), [g(x(n, d)), g(_away(rng, (n, d)))]),
        "cycle": lambda: ((lambda a, b, c, e: L.cycle_consistency_loss(a, a + b, c, c + e)),
                          [g(x(n, d)), g(_away(rng, (n, d))), g(x(n, 2)), g(_away(rng, (n, 2)))]),
    }
    rng_codes = rng.integers(0, d + 1, n)
    codes, real_features = t(x(n, d)), t(x(n, d))  # held constant by the losses
    return cases[name]()


GRADCHECKED = ["minimax_d", "minimax_d_smoothed", "minimax_g", "nonsaturating_g", "lsgan_d", "lsgan_g",
               "wasserstein_d", "wasserstein_g", "hinge_d", "hinge_g", "ebgan_energy", "ebgan_d", "ebgan_g",
               "pullaway", "began_energy", "began_d", "began_g", "infogan_categorical", "infogan_continuous",
               "infogan_continuous_std", "feature_matching", "l1", "cycle"]


@pytest.mark.parametrize("name", GRADCHECKED)
@settings(deadline=None, max_examples=20)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 4), d=st.integers(1, 3))
def test_gradcheck(name, seed, n, d):
    fn, inputs = _case(name, np.random.default_rng(seed), n, d)
    assert gradcheck(fn, inputs)


def test_gradcheck_detects_a_wrong_gradient():
    # the property above can fail: a loss whose gradient ignores a term is caught
    wrong = lambda f: L.nonsaturating_g_loss(f) + f.detach().mean()  # value moves, grad does not
    with pytest.raises(AssertionError):
        gradcheck(wrong, [t([0.3, -0.4], requires_grad=True)])


# ---- gradient penalty and R1 ----------------------------------------------------------------------
def _linear_critic(w):
    return lambda x: x.reshape(x.shape[0], -1) @ w  # (N,): D(x) = x . w, gradient w everywhere


def _conv_critic(w):
    """A tiny critic with a nonlinearity, so its input gradient depends on x and on w."""
    if conv2d is not None:  # (N, 1, 4, 4) -> conv 3x3 -> (N, 2, 2, 2) -> tanh -> (N,)
        return lambda x: conv2d(x, w).tanh().reshape(x.shape[0], -1).sum(dim=1)
    # no conv yet: the same weights (2, 1, 3, 3) applied to the top-left 3x3 patch only
    return lambda x: (x[:, 0, :3, :3].reshape(x.shape[0], 9) @ w.reshape(2, 9).T).tanh().sum(dim=1)


def test_gradient_penalty_of_a_linear_critic_is_exact():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(2 * 3 * 3,))
    real, fake = t(rng.normal(size=(5, 2, 3, 3))), t(rng.normal(size=(5, 2, 3, 3)))
    out = L.gradient_penalty(_linear_critic(t(w)), real, fake, rng=rng, lambda_=7.0)
    close(out, 7.0 * (np.linalg.norm(w) - 1.0) ** 2, tol=1e-10)


def test_gradient_penalty_interpolates_with_one_eps_per_example():
    # D(x) = |x|^2 / 2 per example has gradient x_hat, so the norm is |x_hat_i|
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 2))
    critic = lambda x: (x * x).reshape(x.shape[0], -1).sum(dim=1) * 0.5
    out = L.gradient_penalty(critic, t(real), t(fake), rng=np.random.default_rng(5))
    eps = np.random.default_rng(5).random((4, 1, 1))
    norms = np.linalg.norm((eps * real + (1 - eps) * fake).reshape(4, -1), axis=1)
    close(out, 10.0 * ((norms - 1) ** 2).mean(), tol=1e-10)
    state = tinygan.get_rng_state()
    try:  # without rng= the eps come from tinygan's seeded default generator
        tinygan.manual_seed(5)
        close(L.gradient_penalty(critic, t(real), t(fake)), out.item(), tol=1e-12)
    finally:
        tinygan.set_rng_state(state)


def test_gradient_penalty_does_not_differentiate_into_real_or_fake():
    rng = np.random.default_rng(3)
    w = t(rng.normal(size=(2, 1, 3, 3)), requires_grad=True)
    real = t(rng.normal(size=(2, 1, 4, 4)), requires_grad=True)
    fake = t(rng.normal(size=(2, 1, 4, 4)), requires_grad=True)
    out = L.gradient_penalty(_conv_critic(w), real, fake, rng=rng)
    g_w, g_real, g_fake = tinygan.grad(out, [w, real, fake], allow_unused=True)
    assert g_real is None and g_fake is None
    assert np.abs(g_w.numpy()).max() > 0


def _relu_critic_penalty(lib, grad, w):
    """WGAN-GP's penalty for D(x) = relu(x . w) where example 1 is in relu's flat part: its input
    gradient is an all-zero row, of norm 0, whose gradient PyTorch defines as 0 (not 0/0 = NaN)."""
    x = lib.tensor([[1.0, 2.0], [-3.0, -1.0], [0.5, 0.5]], dtype=lib.float64, requires_grad=True)
    (g,) = grad((x @ w).relu().sum(), x, create_graph=True)  # rows: w, 0, w
    penalty = 10.0 * ((g.norm(dim=1) - 1.0) ** 2).mean()
    penalty.backward()
    return penalty.item(), w.grad.numpy()


def test_gradient_penalty_with_a_zero_input_gradient_row_stays_finite():
    value, g_w = _relu_critic_penalty(tinygan, tinygan.grad, t([0.6, 0.3], requires_grad=True))
    norm = math.sqrt(0.45)  # |w|: (2 (|w| - 1)^2 + (0 - 1)^2) / 3, times 10
    assert value == pytest.approx(10.0 * (2 * (norm - 1.0) ** 2 + 1.0) / 3, rel=1e-12)
    np.testing.assert_allclose(g_w, 10.0 * 2 * 2 * (norm - 1.0) / norm * np.array([0.6, 0.3]) / 3, rtol=1e-12)
    torch = pytest.importorskip("torch")
    w = torch.tensor([0.6, 0.3], dtype=torch.float64, requires_grad=True)
    t_value, t_w = _relu_critic_penalty(torch, torch.autograd.grad, w)
    assert value == pytest.approx(t_value, rel=1e-12)
    np.testing.assert_allclose(g_w, t_w, rtol=1e-12)


@settings(deadline=None, max_examples=4)
@given(seed=st.integers(0, 2**31 - 1))
def test_gradient_penalty_gradcheck_wrt_critic_weights(seed):
    rng = np.random.default_rng(seed)
    real, fake = t(rng.normal(size=(2, 1, 4, 4))), t(rng.normal(size=(2, 1, 4, 4)))
    w = t(rng.normal(size=(2, 1, 3, 3)) * 0.3, requires_grad=True)

    def penalty(w):  # re-seeded: the same eps at every finite-difference probe
        return L.gradient_penalty(_conv_critic(w), real, fake, rng=np.random.default_rng(seed))

    assert gradcheck(penalty, [w])


def test_r1_penalty_values():
    rng = np.random.default_rng(4)
    w = rng.normal(size=(6,))
    real = rng.normal(size=(3, 2, 3))
    close(L.r1_penalty(_linear_critic(t(w)), t(real), gamma=4.0), 2.0 * (w ** 2).sum(), tol=1e-10)
    critic = lambda x: (x * x).reshape(x.shape[0], -1).sum(dim=1) * 0.5  # gradient x
    close(L.r1_penalty(critic, t(real)), 5.0 * (real.reshape(3, -1) ** 2).sum(1).mean(), tol=1e-10)


@settings(deadline=None, max_examples=4)
@given(seed=st.integers(0, 2**31 - 1))
def test_r1_penalty_gradcheck_wrt_critic_weights(seed):
    rng = np.random.default_rng(seed)
    real = t(rng.normal(size=(2, 1, 4, 4)))
    w = t(rng.normal(size=(2, 1, 3, 3)) * 0.3, requires_grad=True)
    assert gradcheck(lambda w: L.r1_penalty(_conv_critic(w), real, gamma=3.0), [w])


@pytest.mark.gpu
def test_gradient_penalty_on_cuda_matches_cpu():
    rng = np.random.default_rng(6)
    w, real, fake = rng.normal(size=(8,)), rng.normal(size=(3, 2, 4)), rng.normal(size=(3, 2, 4))
    critic = lambda x: (x.reshape(3, -1) @ t(w).cuda()).tanh()
    gpu = L.gradient_penalty(critic, t(real).cuda(), t(fake).cuda(), rng=np.random.default_rng(0))
    assert gpu.device == "cuda"
    critic = lambda x: (x.reshape(3, -1) @ t(w)).tanh()
    cpu = L.gradient_penalty(critic, t(real), t(fake), rng=np.random.default_rng(0))
    close(gpu.cpu(), cpu.item(), tol=1e-10)


# ---- Goodfellow's maximum-likelihood G cost ---------------------------------------------------------
def test_maximum_likelihood_g_loss_values_and_registry():
    close(L.maximum_likelihood_g_loss(t(np.zeros(3))), -0.5)  # D = 1/2: exp(logit) = D / (1 - D) = 1
    d = np.array([2 / 3, 1 / 3])  # D / (1 - D) = 2 and 1/2
    close(L.maximum_likelihood_g_loss(t(np.log(d / (1 - d)))), -0.5 * (2 + 0.5) / 2)
    f = t([0.3, -1.2], requires_grad=True)
    (g,) = tinygan.grad(L.maximum_likelihood_g_loss(f), f)
    np.testing.assert_allclose(g.numpy(), -0.5 * np.exp([0.3, -1.2]) / 2)  # -1/2 exp(logit) / N
    assert L.LOSSES["maximum_likelihood"] == (L.minimax_d_loss, L.maximum_likelihood_g_loss)


def test_maximum_likelihood_gradient_is_half_the_kl_gradient_at_the_optimal_d():
    # p = N(0, 1), q_theta = N(theta, 1): D*'s logit is log p(x) - log q(x) = theta^2/2 - theta x (held fixed);
    # G(z) = theta + z. Goodfellow 2014: the expected gradient of J is 1/2 dKL(p || q)/dtheta = theta / 2.
    z, w = np.polynomial.hermite_e.hermegauss(40)  # E_z[h(z)] ~ sum_i w_i h(z_i) / sqrt(2 pi) (Gauss-Hermite)
    w = w / math.sqrt(2 * math.pi)
    for theta0 in (-1.5, 0.4, 2.0):
        theta = t(theta0, requires_grad=True)
        logits = theta0 ** 2 / 2 - theta0 * (theta + t(z))  # D's logit at G's samples, (40,)
        cost = sum(w[i] * L.maximum_likelihood_g_loss(logits[i:i + 1]) for i in range(40))  # E_z[J] by quadrature
        (g,) = tinygan.grad(cost, theta)
        assert g.item() == pytest.approx(theta0 / 2, rel=1e-10)


def test_maximum_likelihood_gradcheck():
    rng = np.random.default_rng(0)
    assert gradcheck(L.maximum_likelihood_g_loss, [t(rng.normal(size=(4, 1)), requires_grad=True)])


# ---- f-GAN (Nowozin et al. 2016) ----------------------------------------------------------------------
# Written out again from the paper, independently of losses.py: Table 1's generator f, its derivative, and
# Table 2's output activation g_f, its inverse and the conjugate f*, as the tables print them.
F_TABLE = {  # name: (f(u), f'(u), g_f(v), g_f^-1(t), f*(t))
    "kl": (lambda u: u * np.log(u), lambda u: 1 + np.log(u),
           lambda v: v, lambda t_: t_, lambda t_: np.exp(t_ - 1)),
    "reverse_kl": (lambda u: -np.log(u), lambda u: -1 / u,
                   lambda v: -np.exp(-v), lambda t_: -np.log(-t_), lambda t_: -1 - np.log(-t_)),
    "pearson": (lambda u: (u - 1) ** 2, lambda u: 2 * (u - 1),
                lambda v: v, lambda t_: t_, lambda t_: t_ ** 2 / 4 + t_),
    "squared_hellinger": (lambda u: (np.sqrt(u) - 1) ** 2, lambda u: 1 - 1 / np.sqrt(u),
                          lambda v: 1 - np.exp(-v), lambda t_: -np.log(1 - t_), lambda t_: t_ / (1 - t_)),
    "jensen_shannon": (lambda u: -(u + 1) * np.log((1 + u) / 2) + u * np.log(u), lambda u: np.log(2 * u / (1 + u)),
                       lambda v: np.log(2) - np.log(1 + np.exp(-v)), lambda t_: -np.log(2 * np.exp(-t_) - 1),
                       lambda t_: -np.log(2 - np.exp(t_))),
    "gan": (lambda u: u * np.log(u) - (u + 1) * np.log(u + 1), lambda u: np.log(u / (u + 1)),
            lambda v: -np.log(1 + np.exp(-v)), lambda t_: -np.log(np.exp(-t_) - 1),
            lambda t_: -np.log(1 - np.exp(t_))),
}
DIVERGENCES = list(F_TABLE)


def _optimal_v(name, ratio):
    """V* = g_f^-1(T*), T* = f'(p/q): the discriminator that makes the bound tight (Eq. 5)."""
    _, f_prime, _, g_inverse, _ = F_TABLE[name]
    return g_inverse(f_prime(ratio))


def test_the_f_divergences_are_those_of_the_paper():
    assert list(L.F_DIVERGENCES) == DIVERGENCES


@pytest.mark.parametrize("name", DIVERGENCES)
def test_fgan_losses_match_table_2(name):
    _, _, g_f, _, conjugate = F_TABLE[name]
    real, fake = np.array([-1.3, 0.2, 0.9]), np.array([0.5, -0.4, 1.7])
    close(L.fgan_d_loss(t(real), t(fake), name), conjugate(g_f(fake)).mean() - g_f(real).mean(), tol=1e-12)
    close(L.fgan_g_loss(t(fake), name), -g_f(fake).mean(), tol=1e-12)
    close(L.fgan_g_loss(t(fake), name, alternative=False), -conjugate(g_f(fake)).mean(), tol=1e-12)


def test_fgan_gan_divergence_is_the_original_gan():
    r, f = t([0.3, -1.2, 2.0]), t([-0.7, 0.1, 1.5])
    close(L.fgan_d_loss(r, f, "gan"), L.minimax_d_loss(r, f).item(), tol=1e-12)
    close(L.fgan_g_loss(f, "gan"), L.nonsaturating_g_loss(f).item(), tol=1e-12)
    close(L.fgan_g_loss(f, "gan", alternative=False), L.minimax_g_loss(f).item(), tol=1e-12)


@pytest.mark.parametrize("name", ["squared_hellinger", "jensen_shannon", "gan"])
def test_fgan_losses_stay_finite_where_the_table_formula_overflows(name):
    # f*(g_f(v)) as printed divides by 0 or takes log(0) at v = 40 in float64 (exp(-40) vanishes beside 1)
    v = np.array([40.0, -40.0])
    _, _, g_f, _, conjugate = F_TABLE[name]
    with np.errstate(all="ignore"):
        assert not np.isfinite(conjugate(g_f(v))[0])
    x = t(v, requires_grad=True)
    out = L.fgan_d_loss(x, x, name) + L.fgan_g_loss(x, name) + L.fgan_g_loss(x, name, alternative=False)
    assert np.isfinite(out.item())
    assert np.all(np.isfinite(tinygan.grad(out, x)[0].numpy()))


def test_fgan_unknown_divergence_names_the_choices():
    with pytest.raises(ValueError, match="unknown divergence 'tv'; choose from kl, reverse_kl"):
        L.fgan_d_loss(t([0.0]), t([0.0]), "tv")
    with pytest.raises(ValueError, match="fgan_g_loss: unknown divergence"):
        L.fgan_g_loss(t([0.0]), "tv")
    with pytest.raises(ValueError, match=r"fgan_d_loss.*\(2,\).*\(3,\)"):
        L.fgan_d_loss(t(np.zeros(2)), t(np.zeros(3)))


@pytest.mark.parametrize("name", DIVERGENCES)
@settings(deadline=None, max_examples=10)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 4))
def test_fgan_gradcheck(name, seed, n):
    rng = np.random.default_rng(seed)
    real, fake = (t(rng.normal(size=(n, 1)), requires_grad=True) for _ in range(2))
    assert gradcheck(lambda r, f: L.fgan_d_loss(r, f, name), [real, fake])
    assert gradcheck(lambda f: L.fgan_g_loss(f, name), [fake])
    assert gradcheck(lambda f: L.fgan_g_loss(f, name, alternative=False), [fake])


@pytest.mark.parametrize("name", DIVERGENCES)
def test_fgan_bound_at_the_optimal_v_is_the_divergence_of_discrete_distributions(name):
    # P and Q on four atoms, as batches: atom i appears 1, 2, 3, 4 times among P's 10 samples, 4, 3, 2, 1 among Q's
    p, q = np.array([1, 2, 3, 4]) / 10, np.array([4, 3, 2, 1]) / 10
    f = F_TABLE[name][0]
    true = (q * f(p / q)).sum()  # D_f(P || Q) = sum_x q(x) f(p(x)/q(x))
    v = _optimal_v(name, p / q)  # (4,) V* at the atoms
    real, fake = t(np.repeat(v, [1, 2, 3, 4])), t(np.repeat(v, [4, 3, 2, 1]))
    close(-L.fgan_d_loss(real, fake, name), true, tol=1e-12)
    for shift in (-0.3, 0.2):  # any other V gives less: F is a lower bound (Eq. 4)
        assert -L.fgan_d_loss(real + shift, fake + shift, name).item() < true


def _gauss(x, mu, sigma):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


# closed forms for P = N(m1, s1^2), Q = N(m2, s2^2); the others by quadrature of q f(p/q)
GAUSSIAN_CLOSED_FORMS = {
    "kl": lambda m1, s1, m2, s2: math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5,
    "reverse_kl": lambda m1, s1, m2, s2: math.log(s1 / s2) + (s2 ** 2 + (m1 - m2) ** 2) / (2 * s1 ** 2) - 0.5,
    "squared_hellinger": lambda m1, s1, m2, s2: 2 - 2 * math.sqrt(2 * s1 * s2 / (s1 ** 2 + s2 ** 2))
    * math.exp(-(m1 - m2) ** 2 / (4 * (s1 ** 2 + s2 ** 2))),
    # 1 + chi^2 = int p^2 / q, finite for 2 s2^2 > s1^2
    "pearson": lambda m1, s1, m2, s2: s2 ** 2 / (s1 * math.sqrt(2 * s2 ** 2 - s1 ** 2))
    * math.exp((m1 - m2) ** 2 / (2 * s2 ** 2 - s1 ** 2)) - 1,
}


@pytest.mark.parametrize("name", DIVERGENCES)
def test_fgan_bound_at_the_optimal_v_is_the_divergence_of_two_gaussians(name):
    m1, s1, m2, s2 = 0.0, 1.0, 1.0, 1.3  # P = N(0, 1), Q = N(1, 1.3^2)
    x = np.linspace(-14.0, 15.0, 58001)  # the integrands are smooth and negligible beyond
    dx = x[1] - x[0]
    p, q = _gauss(x, m1, s1), _gauss(x, m2, s2)
    v = t(_optimal_v(name, p / q))
    g_f, conjugate = L.F_DIVERGENCES[name]
    bound = ((g_f(v) * t(p)).sum() - (conjugate(v) * t(q)).sum()) * dx  # F = int p g_f(V*) - q f*(g_f(V*))
    by_quadrature = (q * F_TABLE[name][0](p / q)).sum() * dx  # D_f = int q f(p/q)
    close(bound, by_quadrature, tol=1e-9)
    if name in GAUSSIAN_CLOSED_FORMS:
        close(bound, GAUSSIAN_CLOSED_FORMS[name](m1, s1, m2, s2), tol=1e-9)
    if name == "jensen_shannon":  # Table 1's f gives twice the JSD: KL(P || M) + KL(Q || M)
        m = (p + q) / 2
        close(bound, ((p * np.log(p / m)).sum() + (q * np.log(q / m)).sum()) * dx, tol=1e-9)


def _g_gradient(divergence, alternative, log_ratio, mu0, s0):
    """(dJ/dmu, dJ/dsigma) of G's f-GAN loss for Q = N(mu, sigma^2) sampled as mu + sigma z, with V held at its
    optimum for (mu0, s0); log_ratio(x) is log p(x) - log q0(x) as tinygan ops. E_z by quadrature: the engine
    gives each node's dJ/dx (times the node count, as the loss is a batch mean), the weights the expectation."""
    z = np.linspace(-12.0, 12.0, 4801)
    w = np.exp(-z ** 2 / 2) / math.sqrt(2 * math.pi) * (z[1] - z[0])
    x = t((mu0 + s0 * z).reshape(-1, 1), requires_grad=True)
    _, f_prime, _, g_inverse, _ = F_TABLE[divergence]
    v = {"kl": lambda r: 1 + r, "reverse_kl": lambda r: r, "pearson": lambda r: 2 * (r.exp() - 1)}[divergence]
    assert np.allclose(v(t(0.3)).item(), g_inverse(f_prime(math.exp(0.3))))  # V* = g_f^-1(f'(p/q)) of Table 2
    (g,) = tinygan.grad(L.fgan_g_loss(v(log_ratio(x)), divergence, alternative), x)
    per_node = w * g.numpy().ravel() * len(z)
    return per_node.sum(), (per_node * z).sum()


@pytest.mark.parametrize("divergence, alternative, target", [
    ("kl", False, "KL(P||Q)"), ("kl", True, "KL(Q||P)"), ("reverse_kl", False, "KL(Q||P)"),
    ("pearson", True, "2 KL(P||Q)"), ("pearson", False, "chi2(P||Q)")])
def test_fgan_g_gradient_at_the_optimal_v_is_a_divergence_gradient(divergence, alternative, target):
    # P = N(0, 1), Q = N(mu, sigma^2). Eq. 6's G step (alternative=False) follows grad D_f(P || Q) itself (by
    # Fenchel's equality f*(f'(u)) = u f'(u) - f(u)); Sec. 3.2's follows the gradient of another divergence.
    mu0, s0 = 0.7, 1.3
    log_ratio = lambda x: -x * x / 2 + (x - mu0) ** 2 / (2 * s0 ** 2) + math.log(s0)  # log p - log q0
    closed = {  # (d/dmu, d/dsigma) at (mu0, s0)
        "KL(P||Q)": (mu0 / s0 ** 2, 1 / s0 - (1 + mu0 ** 2) / s0 ** 3),
        "KL(Q||P)": (mu0, s0 - 1 / s0),
        "2 KL(P||Q)": (2 * mu0 / s0 ** 2, 2 / s0 - 2 * (1 + mu0 ** 2) / s0 ** 3),
    }
    if target == "chi2(P||Q)":  # central differences of the closed form
        chi2 = lambda m, s: GAUSSIAN_CLOSED_FORMS["pearson"](0.0, 1.0, m, s)
        h = 1e-6
        closed[target] = ((chi2(mu0 + h, s0) - chi2(mu0 - h, s0)) / (2 * h), (chi2(mu0, s0 + h) - chi2(mu0, s0 - h)) / (2 * h))
    got = _g_gradient(divergence, alternative, log_ratio, mu0, s0)
    np.testing.assert_allclose(got, closed[target], rtol=1e-6, atol=1e-9)
