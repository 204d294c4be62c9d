"""The autograd engine: Tensor.backward, tinygan.grad, no_grad/detach and higher-order gradients."""
import sys

import numpy as np
import pytest

import tinygan
from tinygan.gradcheck import gradcheck


def leaf(values) -> tinygan.Tensor:
    return tinygan.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ---------------------------------------------------------------- Tensor.backward
def test_backward_accumulates_into_leaf_grad_across_calls():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
    (3.0 * x).sum().backward()  # graphs are kept, so backward on a new (or the same) graph adds up
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0, 9.0])
    assert not x.grad.requires_grad and x.grad.grad_fn is None


def test_backward_twice_on_the_same_graph():
    x = leaf(2.0)
    y = x ** 3
    y.backward()
    y.backward(retain_graph=True)
    assert x.grad.item() == pytest.approx(2 * 12.0)


def test_a_tensor_used_twice_gets_both_contributions():
    x = leaf([1.5, -2.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -4.0])


def test_diamond_graph():
    # x -> a = 2x, b = tanh(x) -> c = a * b: dc/dx = 2 tanh(x) + 2x (1 - tanh(x)^2)
    v = np.array([-0.7, 0.3, 1.2])
    x = leaf(v)
    a, b = 2 * x, x.tanh()
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.tanh(v) + 2 * v * (1 - np.tanh(v) ** 2), rtol=1e-12)


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    y = x * 3
    with pytest.raises(RuntimeError, match=r"scalar outputs.*shape \(2,\).*gradient="):
        y.backward()
    y.backward(gradient=tinygan.tensor(np.array([1.0, -2.0])))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -6.0])
    with pytest.raises(ValueError, match="shape"):
        y.backward(gradient=tinygan.tensor(np.ones(3)))


def test_backward_on_a_tensor_without_history_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tinygan.tensor([1.0]).sum().backward()


def test_grads_of_intermediates_are_not_kept():
    x = leaf(1.0)
    y = x * 2
    (y * y).backward()
    assert y.grad is None and x.grad.item() == 8.0


# ---------------------------------------------------------------- tinygan.grad
def test_grad_with_grad_outputs():
    x = leaf([1.0, 2.0, 3.0])
    (g,) = tinygan.grad(x * x, x, grad_outputs=tinygan.tensor(np.array([1.0, 0.5, -1.0])))
    np.testing.assert_allclose(g.numpy(), [2.0, 2.0, -6.0])
    assert x.grad is None  # grad() returns gradients, it does not accumulate them


def test_grad_allow_unused():
    x, unused = leaf(2.0), leaf(5.0)
    with pytest.raises(RuntimeError, match="input 1.*allow_unused"):
        tinygan.grad(x * x, [x, unused])
    gx, gu = tinygan.grad(x * x, [x, unused], allow_unused=True)
    assert gx.item() == 4.0 and gu is None


def test_grad_of_several_outputs_and_inputs():
    x, y = leaf(2.0), leaf(3.0)
    # d(xy + x^2)/dx = y + 2x = 7,  d(xy + x^2)/dy = x = 2; the outputs' gradients add up
    gx, gy = tinygan.grad([x * y, x * x], [x, y])
    assert (gx.item(), gy.item()) == (7.0, 2.0)
    gx, gy = tinygan.grad([x * y, x * x], [x, y], grad_outputs=[tinygan.tensor(2.0), None])
    assert (gx.item(), gy.item()) == (2 * 3.0 + 4.0, 2 * 2.0)


def test_grad_with_respect_to_a_non_leaf():
    x = leaf([1.0, -2.0])
    h = 3 * x
    y = (h * h).sum()
    gh, gx = tinygan.grad(y, [h, x])
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())
    np.testing.assert_allclose(gx.numpy(), 18 * x.detach().numpy())


def test_grad_of_an_input_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="input 0 does not require grad"):
        tinygan.grad(leaf(1.0) * 2, tinygan.tensor(1.0))


def test_create_graph_false_builds_no_graph_and_true_does():
    x = leaf(1.5)
    (g,) = tinygan.grad(x ** 3, x)
    assert not g.requires_grad and g.grad_fn is None
    (g,) = tinygan.grad(x ** 3, x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    assert g.item() == pytest.approx(3 * 1.5 ** 2)


def test_second_derivative_of_cube_is_6x():
    v = np.array([-1.0, 0.5, 2.0])
    x = leaf(v)
    (d1,) = tinygan.grad((x ** 3).sum(), x, create_graph=True)
    (d2,) = tinygan.grad(d1.sum(), x, create_graph=True)
    (d3,) = tinygan.grad(d2.sum(), x)
    np.testing.assert_allclose(d1.detach().numpy(), 3 * v ** 2)
    np.testing.assert_allclose(d2.detach().numpy(), 6 * v)
    np.testing.assert_allclose(d3.numpy(), [6.0, 6.0, 6.0])


def test_backward_with_create_graph_gives_a_differentiable_grad():
    x = leaf(2.0)
    (x ** 3).backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = tinygan.grad(x.grad, x)
    assert g2.item() == pytest.approx(12.0)


# ---------------------------------------------------------------- no_grad, detach
def test_no_grad_builds_no_graph():
    x = leaf([1.0, 2.0])
    with tinygan.no_grad():
        y = (x * x).exp()
        assert not tinygan.is_grad_enabled()
        with tinygan.enable_grad():
            z = x * 2
    assert tinygan.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_no_grad_as_a_decorator():
    @tinygan.no_grad()
    def f(t):
        return t * 2

    assert not f(leaf(1.0)).requires_grad
    assert tinygan.is_grad_enabled()


def test_detach_cuts_the_graph_and_keeps_values():
    x = leaf([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    np.testing.assert_array_equal(d.numpy(), [3.0, 6.0])
    (x * d).sum().backward()  # d is a constant: only the direct path to x counts
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 6.0])


# ---------------------------------------------------------------- deep graphs
def test_a_deep_chain_does_not_hit_the_recursion_limit():
    depth = 5000
    assert depth > sys.getrecursionlimit()  # a recursive walk would fail
    x = leaf(1.0)
    y = x
    for _ in range(depth):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** depth, rel=1e-9)
    (g,) = tinygan.grad(y, x, create_graph=True)
    assert g.item() == pytest.approx(1.0001 ** depth, rel=1e-9)
    del y, g  # freeing the chain must not overflow either


# ---------------------------------------------------------------- a WGAN-GP penalty
N, F, H = 3, 4, 5  # batch, features (2 x 2 images), hidden units


def critic(x, w1, b1, w2, b2=0.0):
    """A small MLP critic of matmul + tanh: (N, 2, 2) -> (N, 1)."""
    return (x.reshape(N, -1) @ w1 + b1).tanh() @ w2 + b2


def gradient_penalty(x, w1, b1, w2, b2=0.0):
    """Gulrajani et al. 2017: E[(||grad_x D(x)||_2 - 1)^2]."""
    out = critic(x, w1, b1, w2, b2)
    (g,) = tinygan.grad(out, x, grad_outputs=tinygan.ones_like(out), create_graph=True)
    return ((g.reshape(N, -1).norm(dim=1) - 1) ** 2).mean()


def critic_weights(seed=0):
    rng = np.random.default_rng(seed)
    return leaf(rng.standard_normal((F, H))), leaf(0.1 * rng.standard_normal(H)), leaf(rng.standard_normal((H, 1)))


def test_gradient_penalty_backpropagates_into_the_critic_and_passes_gradcheck():
    x = leaf(np.random.default_rng(1).standard_normal((N, 2, 2)))
    w1, b1, w2 = critic_weights()
    b2 = leaf([0.3])
    gradient_penalty(x, w1, b1, w2, b2).backward()
    for w in (w1, b1, w2):
        assert w.grad is not None and w.grad.shape == w.shape and np.abs(w.grad.numpy()).max() > 0
    assert b2.grad is None  # the output bias does not change grad_x D, so the penalty ignores it
    assert gradcheck(lambda w1, b1, w2: gradient_penalty(tinygan.tensor(x.detach().numpy(), requires_grad=True),
                                                         w1, b1, w2), critic_weights())


def test_gradient_penalty_of_a_linear_critic_has_a_closed_form():
    # D(x) = x w  =>  grad_x D = w for every sample, penalty (|w| - 1)^2, d/dw = 2 (|w| - 1) w / |w|
    v = np.array([[0.5], [-1.0], [2.0], [0.25]])
    w = leaf(v)
    x = leaf(np.ones((N, F)))
    out = x @ w
    (g,) = tinygan.grad(out, x, grad_outputs=tinygan.ones_like(out), create_graph=True)
    gp = ((g.norm(dim=1) - 1) ** 2).mean()
    gp.backward()
    r = np.linalg.norm(v)
    assert gp.item() == pytest.approx((r - 1) ** 2)
    np.testing.assert_allclose(w.grad.numpy(), 2 * (r - 1) * v / r, rtol=1e-12)
