"""Why G's gradient vanishes with the minimax cost, and with which costs it does not.

    python examples/theory/vanishing_gradients.py             # seconds; writes docs/theory_vanishing_gradients.png
    python examples/theory/vanishing_gradients.py --steps 3   # the smoke test: the theory only, docs/ untouched

1. The three generator costs of Goodfellow's tutorial (NIPS 2016, Sec. 3.2, Fig. 16) as functions of D's
   verdict D(G(z)) on a fake (``tinygan/losses.py``): minimax log(1 - D), non-saturating -log D, and maximum
   likelihood -1/2 exp(sigma^-1(D)) = -1/2 D / (1 - D). Where D rejects the fakes (D -> 0) the minimax cost is
   flat and the other two are steep.
2. The same as a function of the distance between two Gaussians on the line: p_data = N(0, 1) and
   p_g = N(mu, 1), G(z) = mu + z. For each mu, D is the optimal one, D* = p_data / (p_data + p_g), whose logit
   log p_data(x) - log p_g(x) = mu^2/2 - mu x is a logistic regression on x, held fixed while G moves. The
   engine differentiates each cost through D's logit and G's sample, and the expectation over z is a quadrature
   (no sampling noise). Theory, asserted on every run:
     minimax        dJ/dmu = mu E_g[D*]        -> 0 (about mu Phi(-mu/2): ~1e-6 at mu = 10)
     non-saturating dJ/dmu = mu E_g[1 - D*]    -> mu (it grows with the distance)
     max likelihood dJ/dmu = mu / 2            exactly: half the gradient of KL(p_data || p_g) = mu^2 / 2
     Wasserstein    dJ/dmu = 1                 with the optimal 1-Lipschitz critic f(x) = -x (W_1 = mu)
3. A logistic D trained by Adam (``--steps`` steps of ``minimax_d_loss`` on fresh samples for each mu) in place
   of D*. Once the two samples are separable (mu >~ 5) its loss is already near 0 and its slope stalls far below
   D*'s |mu| (about 1.7 at mu = 10 against 10): it is less sure than D*, so the minimax gradient it gives is
   larger than D*'s, yet it still falls with mu, while the non-saturating one stays above 1. The maximum-
   likelihood gradient vanishes too: with D* it is carried by the rare fakes that land near the data (z ~ -mu),
   where exp(logit) = p_data/p_g is huge, and only D* rates them that high. A run with the
   default steps and batch size asserts that the ratio minimax / non-saturating falls at every mu >= 2 and is
   below 1e-3 at mu = 10, and writes docs/theory_vanishing_gradients.png.
"""
import math
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import tinygan
from tinygan import losses, nn, optim

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/, where _shared.py lives
import _shared

DEFAULT_STEPS, DEFAULT_BATCH_SIZE = 500, 256
MUS = np.arange(0.5, 10.01, 0.5)                 # distances between p_g = N(mu, 1) and p_data = N(0, 1)
Z = np.linspace(-20.0, 20.0, 8001)              # quadrature nodes for z ~ N(0, 1) (ML weighs z ~ -mu)
W = np.exp(-0.5 * Z ** 2) / math.sqrt(2 * math.pi) * (Z[1] - Z[0])  # their weights: E_z[h] = sum W h(Z)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "theory_vanishing_gradients.png"
G_COSTS = {"minimax": losses.minimax_g_loss, "non-saturating": losses.nonsaturating_g_loss,
           "maximum likelihood": losses.maximum_likelihood_g_loss}


def optimal_critic(mu: float):
    """D*'s logit for p_data = N(0, 1), p_g = N(mu, 1): log p_data(x) - log p_g(x) = mu^2/2 - mu x."""
    return lambda x: mu * mu / 2 - mu * x


def expected_gradient(g_loss, critic, mu: float) -> float:
    """dE_z[J(G(z))]/dmu for G(z) = mu + z, D fixed. The engine differentiates the batch mean of G's cost over
    the nodes x_i = mu + z_i (giving each node's dJ/dx divided by their number); the weights take the
    expectation, and dx/dmu = 1."""
    x = tinygan.tensor((mu + Z).reshape(-1, 1), requires_grad=True)  # (N, 1) G's samples at the nodes
    (g,) = tinygan.grad(g_loss(critic(x)), x)                         # (N, 1)
    return float((W * g.numpy().ravel()).sum() * len(Z))


def gradients(critics: dict) -> dict:
    """{cost: [dJ/dmu for each mu]} for the costs of G_COSTS with D's logit from critics[mu], and Wasserstein."""
    out = {name: [expected_gradient(fn, critics[mu], mu) for mu in MUS] for name, fn in G_COSTS.items()}
    out["Wasserstein"] = [expected_gradient(losses.wasserstein_g_loss, lambda x: -x, mu) for mu in MUS]
    return {k: np.array(v) for k, v in out.items()}


def check_theory(grad: dict) -> None:
    """The claims of the docstring's part 2, against formulas evaluated without the engine."""
    d_star = np.array([(W / (1 + np.exp(-(-mu * mu / 2 - mu * Z)))).sum() for mu in MUS])  # E_g[D*(mu + z)]
    np.testing.assert_allclose(grad["minimax"], MUS * d_star, rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(grad["non-saturating"], MUS * (1 - d_star), rtol=1e-6)
    np.testing.assert_allclose(grad["maximum likelihood"], MUS / 2, rtol=1e-6)
    np.testing.assert_allclose(grad["Wasserstein"], 1.0, rtol=1e-9)
    peak = int(np.argmax(grad["minimax"]))
    assert np.all(np.diff(grad["minimax"][peak:]) < 0), "minimax: falls past its peak"
    assert grad["minimax"][-1] < 1e-5 < grad["minimax"][peak] / 1e4, "minimax: vanishes by mu = 10"
    assert np.all(grad["non-saturating"][MUS >= 6] > 0.99 * MUS[MUS >= 6]), "non-saturating: grows like mu"


def trained_critic(mu: float, steps: int, batch_size: int, seed: int):
    """A logistic D, logit = w x + b, trained by Adam on minimax_d_loss between N(0, 1) and N(mu, 1)."""
    tinygan.manual_seed(seed)
    D = nn.Linear(1, 1).double()
    opt = optim.Adam(D.parameters(), lr=0.2, betas=(0.5, 0.999))
    rng = np.random.default_rng([seed, int(mu * 100)])
    for _ in range(steps):
        real = tinygan.tensor(rng.standard_normal((batch_size, 1)))
        fake = tinygan.tensor(mu + rng.standard_normal((batch_size, 1)))
        opt.zero_grad()
        losses.minimax_d_loss(D(real), D(fake)).backward()
        opt.step()
    D.requires_grad_(False)
    return D


def plot(grad: dict, trained: dict, steps: int) -> Figure:
    fig = Figure(figsize=(11, 4.2))
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    logits = np.linspace(-6, 6, 241)
    for name, fn in G_COSTS.items():
        left.plot(1 / (1 + np.exp(-logits)), _shared.loss_curve(fn, logits)[0], label=name)
    left.set(xlabel="D(G(z))", ylabel="J(G)", ylim=(-20, 5), title="G's cost against D's verdict (Goodfellow 2016, Fig. 16)")
    for (name, values), color in zip(grad.items(), ("C0", "C1", "C2", "C3")):
        critic = "critic f(x) = -x" if name == "Wasserstein" else "D*"
        right.semilogy(MUS, np.abs(values), color=color, label=f"{name}, {critic}")
        if name in trained:
            right.semilogy(MUS, np.abs(trained[name]), color=color, ls="--", label=f"{name}, D trained {steps} steps")
    right.set(xlabel="mu: p_data = N(0, 1), p_g = N(mu, 1)", ylabel="|dJ/dmu|", title="G's gradient against the distance")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return fig


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    full_run = steps >= DEFAULT_STEPS and batch_size >= DEFAULT_BATCH_SIZE  # see the docstring's rule
    grad = gradients({mu: optimal_critic(mu) for mu in MUS})
    check_theory(grad)
    trained = gradients({mu: trained_critic(mu, steps, batch_size, seed) for mu in MUS})
    del trained["Wasserstein"]  # its critic is the optimal one in both
    print("|dJ/dmu| with D* (and with the trained logistic D, in brackets):")
    print(f"{'mu':>5} " + " ".join(f"{name:>28}" for name in grad))
    for i, mu in enumerate(MUS):
        if mu in (0.5, 1, 2, 4, 6, 8, 10):
            cells = [f"{grad[k][i]:.3e}" + (f" [{trained[k][i]:.3e}]" if k in trained else "") for k in grad]
            print(f"{mu:5.1f} " + " ".join(f"{c:>28}" for c in cells))
    ratio = trained["minimax"] / trained["non-saturating"]  # (len(MUS),)
    print("trained D, minimax / non-saturating gradient: " + ", ".join(
        f"{r:.1e} at mu = {mu:g}" for mu, r in zip(MUS, ratio) if mu in (1, 2, 4, 6, 8, 10)))
    if full_run:
        assert np.all(np.diff(ratio[MUS >= 2]) < 0) and ratio[-1] < 1e-3, "the minimax gradient has not vanished"
        assert np.all(trained["non-saturating"][MUS >= 2] > 1), "the non-saturating gradient has vanished"
    fig = plot(grad, trained, steps)
    for path in [out / "vanishing_gradients.png"] + ([DOCS] if full_run else []):
        print(f"costs and gradients: {_shared.save_figure(fig, path)}")


if __name__ == "__main__":
    _shared.run(main, default_steps=DEFAULT_STEPS, default_batch_size=DEFAULT_BATCH_SIZE)
