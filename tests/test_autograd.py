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
    (3.0 * x).sum().backward()  # a second graph: its gradient adds up in x.grad
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0, 9.0])
    assert not x.grad.requires_grad and x.grad.grad_fn is None


def test_backward_twice_on_the_same_graph_needs_retain_graph():
    x = leaf(2.0)
    y = x ** 3
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 12.0)
    with pytest.raises(RuntimeError, match="second time"):  # the second call freed the graph, as in torch
        y.backward()
    assert x.grad.item() == pytest.approx(2 * 12.0)  # and added nothing


def test_a_freed_graph_refuses_grad_and_backward_through_it():
    x = leaf([1.0, 2.0])
    h = x.exp()
    tinygan.grad(h.sum(), x)  # without retain_graph, grad() frees what it walked (h's Function)
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (2.0 * h).sum().backward()  # a new graph on top of the freed one
    y = x.tanh()
    (g,) = tinygan.grad(y.sum(), x, create_graph=True)  # create_graph keeps the graph by default
    (g.sum() + y.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), -2 * np.tanh([1.0, 2.0]) / np.cosh([1.0, 2.0]) ** 2
                               + 1 / np.cosh([1.0, 2.0]) ** 2)


def test_retain_graph_against_torch():
    torch = pytest.importorskip("torch")
    for lib, make in ((torch, lambda v: torch.tensor(v, requires_grad=True)), (tinygan, leaf)):
        x = make([1.0, 2.0])
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        np.testing.assert_allclose(x.grad.detach().numpy(), [4.0, 8.0])
        with pytest.raises(RuntimeError, match="second time"):
            y.backward()
        with pytest.raises(RuntimeError, match="second time"):
            lib.autograd.grad(y, x) if lib is torch else tinygan.grad(y, x)


# PyTorch frees the values a graph saved, so only ops that saved some refuse a second backward:
# (expression of lib and x, whether a second backward raises)
SECOND_BACKWARD = {
    "sum": (lambda lib, x: x.sum(), False),
    "mean": (lambda lib, x: x.mean(), False),
    "mean_keepdim": (lambda lib, x: x.reshape(1, 3).mean(1, keepdim=True).sum(), False),
    "add_sub_neg": (lambda lib, x: (1.0 - (-x + 2.0)).sum(), False),
    "views": (lambda lib, x: x.reshape(3, 1).expand(3, 2).permute(1, 0)[:, 1:].sum(), False),
    "cat_pad_cast": (lambda lib, x: lib.nn.functional.pad(lib.cat([x, x]), (1, 2)).double().sum(), False),
    "mul_by_a_number": (lambda lib, x: (x * 2.0).sum(), True),
    "exp": (lambda lib, x: x.exp().sum(), True),
    "index_array": (lambda lib, x: x[lib.tensor([0, 2])].sum(), True),
    "clamp": (lambda lib, x: x.clamp(0.0, 1.0).sum(), True),
}


def second_backward(lib, name):
    """x.grad after two backward calls through one graph, or 'raises'."""
    f, _ = SECOND_BACKWARD[name]
    x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = f(lib, x)
    y.backward()
    first = x.grad.numpy().copy()
    try:
        y.backward()
    except RuntimeError as e:
        assert "second time" in str(e)
        np.testing.assert_array_equal(x.grad.numpy(), first)  # nothing was added
        return "raises"
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)
    return x.grad.numpy()


@pytest.mark.parametrize("name", list(SECOND_BACKWARD))
def test_a_second_backward_raises_where_a_freed_value_is_needed(name):
    assert isinstance(second_backward(tinygan, name), str) is SECOND_BACKWARD[name][1]


@pytest.mark.parametrize("name", list(SECOND_BACKWARD))
def test_a_second_backward_raises_where_a_freed_value_is_needed_against_torch(name):
    torch = pytest.importorskip("torch")
    theirs = second_backward(torch, name)
    assert isinstance(theirs, str) is SECOND_BACKWARD[name][1]
    if not isinstance(theirs, str):
        np.testing.assert_allclose(second_backward(tinygan, name), theirs)


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
    y.backward(retain_graph=True)
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


def test_a_forward_may_return_constants_beside_its_output():
    """forward -> (output, *extras): the extras come back as constant Tensors (batch norm's statistics)."""
    from tinygan.tensor import Function

    class SquareAndMean(Function):
        def forward(self, x):
            return x * x, x.mean()

        def backward(self, g):
            return g * 2 * self.parents[0]

    x = tinygan.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y, mean = SquareAndMean.apply(x)
    assert mean.item() == 2.0 and not mean.requires_grad and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])
