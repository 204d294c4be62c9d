"""Consensus optimization: its step is v + gamma grad(1/2 ||v||^2), checked against finite differences of
||v||^2 itself; both players step from the same weights (simultaneous); n_critic must be 1."""
import numpy as np
import pytest

import tinygan
from tinygan.tensor import grad

TINY = {"hidden": 3, "g_layers": 1, "d_layers": 1, "z_dim": 2}


def _double_gan(build, tiny_points, gamma):
    gan = build("consensus", tiny_points, gamma=gamma, **TINY)
    gan.G.double()
    gan.D.double()
    z = tinygan.tensor(np.random.default_rng(1).standard_normal((8, 2)))
    gan.sample_z = lambda n, rng: z                                   # one fixed z: the step is a function
    real = tinygan.tensor(tiny_points.x[:8].astype(np.float64))
    return gan, real


def _v(gan, real) -> list[np.ndarray]:
    """The vector field (grad_phi L_D, grad_theta L_G) at the current weights, first order only."""
    fake = gan.generate(gan.sample_z(len(real), None))
    d_loss, g_loss = gan.d_loss(real, fake, None, None), gan.g_loss(fake, None, real)
    dv = grad(d_loss, list(gan.D.parameters()), retain_graph=True)
    gv = grad(g_loss, list(gan.G.parameters()))
    return [g.data.copy() for g in dv + gv]


@pytest.mark.parametrize("gamma", [0.0, 10.0])
def test_consensus_step_is_v_plus_gamma_grad_of_half_squared_norm(gamma, build, tiny_points, monkeypatch):
    gan, real = _double_gan(build, tiny_points, gamma)
    params = list(gan.D.parameters()) + list(gan.G.parameters())
    for opt in (gan.opt_d, gan.opt_g):
        monkeypatch.setattr(opt, "step", lambda: None)               # keep the weights: read the step taken
    gan.d_step(real, None, np.random.default_rng(0))
    taken = [p.grad.data.copy() for p in params]

    def half_sq(_):
        return 0.5 * sum(float((g * g).sum()) for g in _v(gan, real))

    expected, eps = _v(gan, real), 1e-6
    for p, e in zip(params, expected):
        flat = p.data.reshape(-1)
        grad_L = np.zeros_like(flat)
        for i in range(flat.size):                                    # central differences of 1/2 ||v||^2
            old = flat[i]
            flat[i] = old + eps
            up = half_sq(None)
            flat[i] = old - eps
            down = half_sq(None)
            flat[i] = old
            grad_L[i] = (up - down) / (2 * eps)
        e += gamma * grad_L.reshape(e.shape)
    for t, e in zip(taken, expected):
        np.testing.assert_allclose(t, e, rtol=1e-5, atol=1e-8)


def test_both_players_step_from_the_same_weights(build, tiny_points, monkeypatch):
    """Simultaneous: the gradient G steps along is taken at D's weights from before D's step."""
    gan, real = _double_gan(build, tiny_points, 0.0)
    v = _v(gan, real)
    n_d = len(list(gan.D.parameters()))
    seen = {}
    g_step = gan.opt_g.step

    def record_then_step():
        seen["g"] = [p.grad.data.copy() for p in gan.G.parameters()]
        g_step()

    d0 = [p.data.copy() for p in gan.D.parameters()]
    monkeypatch.setattr(gan.opt_g, "step", record_then_step)
    gan.d_step(real, None, np.random.default_rng(0))
    assert any(not np.array_equal(p.data, before) for p, before in zip(gan.D.parameters(), d0))
    for got, want in zip(seen["g"], v[n_d:]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_consensus_refuses_more_than_one_d_step(build, tiny_points):
    with pytest.raises(ValueError, match="consensus: .*n_critic must be 1, got 5"):
        build("consensus", tiny_points, n_critic=5)
