"""Why GAN training circles: the bilinear game min_x max_y f(x, y) = x y, four ways to play it.

    python examples/theory/bilinear_game.py             # seconds; also writes docs/theory_bilinear_game.png
    python examples/theory/bilinear_game.py --steps 3   # the smoke test: the closed forms only

Its only equilibrium is (0, 0). Players follow the vector field v(z) = (df/dx, -df/dy) = (y, -x) = A z,
z = (x, y), A = [[0, 1], [-1, 0]], whose Jacobian A has eigenvalues +-i: no real part to pull z in
(Mescheder et al. 2017, "The Numerics of GANs", Sec. 3). Three of the methods below step z <- M z with
M = a I - h A, a scaled rotation (A^2 = -I), so |z| changes by exactly sqrt(a^2 + h^2) per step:

* simultaneous gradient descent/ascent, z <- z - h v(z):  a = 1, |z| grows by sqrt(1 + h^2), spiralling out;
* alternating, x <- x - h y then y <- y + h x_new:  not a scaled rotation, but it keeps
  Q = x^2 - h x y + y^2 fixed, so |z|^2 stays in [Q / (1 + h/2), Q / (1 - h/2)] (Q's eigenvalues: 1 +- h/2);
* consensus optimization (Mescheder et al. 2017, Sec. 3): each player also descends gamma L, L = 1/2 |v|^2,
  z <- z - h (v + gamma grad L). Here L = (x^2 + y^2) / 2, so a = 1 - h gamma: |z| shrinks by
  sqrt((1 - h gamma)^2 + h^2). The script never writes grad L down: the engine computes it by double
  backward, grad of L with v itself from ``tinygan.grad(f, (x, y), create_graph=True)``;
* extragradient (Korpelevich 1976; Gidel et al. 2019, "A Variational Inequality Perspective on GANs"):
  look ahead z' = z - h v(z), then step z <- z - h v(z'): M = I - h A + h^2 A^2, a = 1 - h^2, so |z| shrinks
  by sqrt((1 - h^2)^2 + h^2) = sqrt(1 - h^2 + h^4). (On this game it is consensus with gamma = h.)

With h = 0.3, gamma = 1, N = 200 from (1, 1) the factors are 1.0440, 0.7616 and 0.9582, and |z_N| is 7819,
3.1e-24 and 2.8e-4 (alternating: 1.37, in the band [1.216, 1.414]). The script asserts
every |z_k| against its closed form (relative 1e-9) and the alternating band, at any N; a run of at
least the default steps also asserts that consensus and extragradient end within 1e-3 of the origin and
writes the figure to docs/theory_bilinear_game.png (a shorter run, as the smoke test's, leaves docs/ alone).
"""
import math
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import tinygan

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples/, where _shared.py lives
import _shared

DEFAULT_STEPS, H, GAMMA, Z0 = 200, 0.3, 1.0, (1.0, 1.0)
METHODS = ("simultaneous", "alternating", "consensus", "extragradient")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "theory_bilinear_game.png"


def f(x: tinygan.Tensor, y: tinygan.Tensor) -> tinygan.Tensor:
    return x * y


def field(x: float, y: float, gamma: float = 0.0, device: str = "cpu") -> np.ndarray:
    """v(z) + gamma grad L(z) at z = (x, y), v = (df/dx, -df/dy), L = 1/2 |v|^2, all by autograd (float64)."""
    xt, yt = (tinygan.tensor(c, dtype="float64", device=device, requires_grad=True) for c in (x, y))
    fx, fy = tinygan.grad(f(xt, yt), (xt, yt), create_graph=gamma != 0)  # a graph, to differentiate again
    v = [fx, -fy]
    if gamma != 0:
        L = 0.5 * (v[0] * v[0] + v[1] * v[1])
        Lx, Ly = tinygan.grad(L, (xt, yt))  # double backward, through the graph of fx and fy
        v = [v[0] + gamma * Lx, v[1] + gamma * Ly]
    return np.array([c.item() for c in v])


def run_bilinear(method: str, steps: int, h: float = H, gamma: float = GAMMA, z0=Z0,
                 device: str = "cpu") -> np.ndarray:
    """The iterates z_0 .. z_steps of ``method``, shape (steps + 1, 2)."""
    z = np.array(z0, dtype=np.float64)
    path = [z]
    for _ in range(steps):
        if method == "simultaneous":
            z = z - h * field(*z, device=device)
        elif method == "alternating":  # x moves first, then y answers the new x
            x = z[0] - h * field(*z, device=device)[0]
            z = np.array([x, z[1] - h * field(x, z[1], device=device)[1]])
        elif method == "consensus":
            z = z - h * field(*z, gamma, device=device)
        elif method == "extragradient":  # step from z with the field at the look-ahead point
            z = z - h * field(*(z - h * field(*z, device=device)), device=device)
        else:
            raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
        path.append(z)
    return np.stack(path)


def contraction_factor(method: str, h: float = H, gamma: float = GAMMA) -> float:
    """|z_{k+1}| / |z_k| = sqrt(a^2 + h^2) for the methods whose step is M = a I - h A (see the docstring)."""
    a = {"simultaneous": 1.0, "consensus": 1.0 - h * gamma, "extragradient": 1.0 - h * h}[method]
    return math.hypot(a, h)


def alternating_invariant(path: np.ndarray, h: float = H) -> np.ndarray:
    """Q = x^2 - h x y + y^2 at each iterate: the quantity alternating steps conserve."""
    x, y = path[:, 0], path[:, 1]
    return x * x - h * x * y + y * y


def alternating_band(h: float = H, z0=Z0) -> tuple[float, float]:
    """The bounds on |z| that the conserved Q imposes: sqrt(Q / (1 + h/2)) <= |z| <= sqrt(Q / (1 - h/2))."""
    q = alternating_invariant(np.array([z0], dtype=np.float64), h)[0]
    return math.sqrt(q / (1 + h / 2)), math.sqrt(q / (1 - h / 2))


def plot(paths: dict, steps: int) -> Figure:
    fig = Figure(figsize=(11, 5))
    plane, dist = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for method, path in paths.items():
        plane.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=0.8, label=method)
        dist.semilogy(np.hypot(path[:, 0], path[:, 1]), label=method)
    plane.plot(*Z0, "ko")
    plane.set(xlim=(-2.5, 2.5), ylim=(-2.5, 2.5), aspect="equal", xlabel="x (minimises x y)",
              ylabel="y (maximises x y)", title=f"{steps} steps from (1, 1), h = {H}, gamma = {GAMMA}")
    dist.set(xlabel="step k", ylabel="|z_k|, distance to the equilibrium (0, 0)",
             title="distance (log scale)")
    plane.legend(fontsize=8)
    dist.legend(fontsize=8)
    return fig


def main(steps: int, out: Path, device: str, seed: int, batch_size: int) -> None:
    del seed, batch_size  # the game is deterministic and has no data
    full_run = steps >= DEFAULT_STEPS  # see the docstring's rule
    paths = {method: run_bilinear(method, steps, device=device) for method in METHODS}
    r0 = math.hypot(*Z0)
    for method, path in paths.items():
        r = np.hypot(path[:, 0], path[:, 1])  # (steps + 1,) distances to (0, 0)
        if method == "alternating":
            lo, hi = alternating_band()
            q = alternating_invariant(path)
            print(f"{method:13s} |z_N| = {r[-1]:.6g}; every |z_k| in [{lo:.4f}, {hi:.4f}], "
                  f"Q = x^2 - h x y + y^2 = {q[0]:.4f} drifts {np.abs(q - q[0]).max():.1e}")
            assert lo - 1e-12 <= r.min() and r.max() <= hi + 1e-12, "alternating steps stay in the band"
            assert np.abs(q - q[0]).max() < 1e-9 * q[0], "alternating steps conserve Q"
        else:
            rho = contraction_factor(method)
            closed = r0 * rho ** np.arange(steps + 1)
            print(f"{method:13s} |z_N| = {r[-1]:.6g}; closed form |z_0| {rho:.6f}^N = {closed[-1]:.6g}")
            assert np.allclose(r, closed, rtol=1e-9, atol=0), f"{method}: |z_k| = |z_0| {rho:.6f}^k"
    if full_run:
        for method in ("consensus", "extragradient"):
            assert np.hypot(*paths[method][-1]) < 1e-3, f"{method} should end within 1e-3 of (0, 0)"
    fig = plot(paths, steps)
    for path in [out / "bilinear_game.png"] + ([DOCS] if full_run else []):
        print(f"trajectories and distances: {_shared.save_figure(fig, path)}")


if __name__ == "__main__":
    _shared.run(main, default_steps=DEFAULT_STEPS, default_batch_size=1)
