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
    assert set(L.LOSSES) == {"minimax", "nonsaturating", "lsgan", "wasserstein", "hinge"}
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
