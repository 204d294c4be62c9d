"""tinygan.nn.functional: gradcheck properties, values against NumPy formulas, and (if installed) torch."""
import contextlib

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygan
import tinygan.nn.functional as F
from tinygan.gradcheck import gradcheck, gradgradcheck

REDUCTIONS = ["mean", "sum", "none"]
seeds = st.integers(0, 2**16)
small = st.integers(1, 3)


def leaf(a, requires_grad=True) -> tinygan.Tensor:
    return tinygan.Tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


def ints(a) -> tinygan.Tensor:
    return tinygan.Tensor(np.array(a, dtype=np.int64))


def away_from_zero(rng, shape, low=0.1):
    """Normal samples with |x| >= low: clear of the kinks of relu, leaky_relu and abs."""
    x = rng.normal(size=shape)
    return np.where(np.abs(x) < low, np.sign(x + 1e-12) * low, x)


@contextlib.contextmanager
def fixed_rng(seed=0):
    """Reseed tinygan's default generator on entry and restore the previous state on exit."""
    state = tinygan.get_rng_state()
    tinygan.manual_seed(seed)
    try:
        yield
    finally:
        tinygan.set_rng_state(state)


# ---- second derivatives needed by gradient penalties (acceptance criteria) ------------------
GRADGRAD = {
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda rng: [away_from_zero(rng, (3, 4))]),
    "relu": (F.relu, lambda rng: [away_from_zero(rng, (3, 4))]),
    "tanh": (F.tanh, lambda rng: [rng.normal(size=(3, 4))]),
    "sigmoid": (F.sigmoid, lambda rng: [rng.normal(size=(3, 4))]),
    "softplus": (F.softplus, lambda rng: [rng.normal(size=(3, 4))]),
    "mean": (lambda x: (x * x).mean(1), lambda rng: [rng.normal(size=(3, 4))]),
    "sum": (lambda x: (x * x).sum((0, 2), keepdim=True), lambda rng: [rng.normal(size=(2, 3, 2))]),
    "pow": (lambda x: x ** 3, lambda rng: [rng.normal(size=(3, 4))]),
    "sqrt": (lambda x: x.sqrt(), lambda rng: [rng.uniform(0.5, 2.0, (3, 4))]),
    "reshape": (lambda x: (x * x).reshape(4, 3), lambda rng: [rng.normal(size=(3, 4))]),
    "linear": (F.linear, lambda rng: [rng.normal(size=(3, 4)), rng.normal(size=(2, 4)), rng.normal(size=2)]),
}


@pytest.mark.parametrize("name", list(GRADGRAD))
def test_gradgradcheck_penalty_ops(name):
    fn, make = GRADGRAD[name]
    inputs = [leaf(a) for a in make(np.random.default_rng(0))]
    gradcheck(fn, inputs)
    gradgradcheck(fn, inputs)


# ---- softmax, log_softmax --------------------------------------------------------------------
@settings(deadline=None, max_examples=10)
@given(shape=st.tuples(small, small, small), dim=st.integers(-3, 2), seed=seeds)
def test_softmax_gradcheck(shape, dim, seed):
    x = leaf(np.random.default_rng(seed).normal(size=shape))
    gradcheck(lambda x: F.softmax(x, dim), (x,))
    gradcheck(lambda x: F.log_softmax(x, dim), (x,))


def test_softmax_values_and_stability():
    x = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0]])
    e = np.exp(x - x.max(1, keepdims=True))
    expect = e / e.sum(1, keepdims=True)
    p = F.softmax(leaf(x, False), 1).numpy()
    np.testing.assert_allclose(p, expect, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-12)
    log_p = F.log_softmax(leaf(x, False), dim=1).numpy()
    assert np.isfinite(log_p).all()
    np.testing.assert_allclose(log_p, x - x.max(1, keepdims=True) - np.log(e.sum(1, keepdims=True)), rtol=1e-12)
    np.testing.assert_allclose(F.softmax(leaf(x, False), 0).numpy().sum(0), 1.0, rtol=1e-12)


def test_softmax_gradgradcheck():
    x = leaf(np.random.default_rng(1).normal(size=(2, 3)))
    gradgradcheck(lambda x: F.log_softmax(x, 1), (x,))
    gradgradcheck(lambda x: F.softmax(x, 1), (x,))


# ---- dropout -------------------------------------------------------------------------------------
def test_dropout_train_scales_survivors_and_eval_is_identity():
    x = leaf(np.random.default_rng(2).uniform(1.0, 2.0, (100, 100)), False)
    with fixed_rng(3):
        y = F.dropout(x, p=0.3).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02  # 10,000 Bernoulli(0.7) draws: std 0.005
    np.testing.assert_allclose(y[kept], x.numpy()[kept] / 0.7, rtol=1e-12)
    assert F.dropout(x, p=0.3, training=False) is x
    assert F.dropout(x, p=0.0) is x
    np.testing.assert_array_equal(F.dropout(x, p=1.0).numpy(), 0.0)
    with fixed_rng(3):
        np.testing.assert_array_equal(F.dropout(x, p=0.3).numpy(), y)  # the seed fixes the mask


def test_dropout_gradients_and_errors():
    x = leaf(np.ones((4, 5)))
    F.dropout(x, p=1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)
    with fixed_rng(4):
        y = F.dropout(x, p=0.5)
    x.grad = None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())  # gradient = mask / (1 - p)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout.*p"):
            F.dropout(x, p)


@settings(deadline=None, max_examples=5)
@given(shape=st.tuples(small, small), p=st.floats(0.1, 0.9), seed=seeds)
def test_dropout_gradcheck(shape, p, seed):
    x = leaf(np.random.default_rng(seed).normal(size=shape))

    def fn(x):
        with fixed_rng(seed):  # the same mask on every call
            return F.dropout(x, p)
    gradcheck(fn, (x,))


# ---- embedding -----------------------------------------------------------------------------------
def test_embedding_values_and_repeated_index_gradient():
    w = leaf(np.arange(12.0).reshape(4, 3))
    idx = ints([[0, 2], [0, 0]])
    y = F.embedding(idx, w)
    np.testing.assert_array_equal(y.detach().numpy(), w.detach().numpy()[idx.numpy()])
    g = np.random.default_rng(5).normal(size=(2, 2, 3))
    y.backward(tinygan.Tensor(g))
    expect = np.zeros((4, 3))
    expect[0] = g[0, 0] + g[1, 0] + g[1, 1]  # row 0 was picked three times: the gradients add up
    expect[2] = g[0, 1]
    np.testing.assert_allclose(w.grad.numpy(), expect, rtol=1e-12)
    with pytest.raises(ValueError, match="embedding.*integer"):
        F.embedding(leaf([0.0, 1.0], False), w)
    with pytest.raises(ValueError, match=r"embedding.*\(12,\)"):
        F.embedding(idx, leaf(np.zeros(12)))


@settings(deadline=None, max_examples=5)
@given(n=st.integers(2, 4), dim=small, k=st.integers(1, 5), seed=seeds)
def test_embedding_gradcheck(n, dim, k, seed):
    rng = np.random.default_rng(seed)
    idx = ints(rng.integers(0, n, k))
    gradcheck(lambda w: F.embedding(idx, w), (leaf(rng.normal(size=(n, dim))),))


# ---- interpolate, avg_pool2d, pad ---------------------------------------------------------------
@settings(deadline=None, max_examples=8)
@given(shape=st.tuples(small, small, small, small), s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       by_size=st.booleans(), seed=seeds)
def test_interpolate_nearest_values_and_gradcheck(shape, s, by_size, seed):
    x = leaf(np.random.default_rng(seed).normal(size=shape))
    out_size = (shape[2] * s[0], shape[3] * s[1])
    kwargs = {"size": out_size} if by_size else {"scale_factor": s}
    y = F.interpolate(x, **kwargs)
    assert y.shape == shape[:2] + out_size
    expect = np.repeat(np.repeat(x.detach().numpy(), s[0], axis=2), s[1], axis=3)
    np.testing.assert_array_equal(y.detach().numpy(), expect)
    gradcheck(lambda x: F.interpolate(x, **kwargs), (x,))


def test_interpolate_forms_and_errors():
    x = leaf(np.arange(6.0).reshape(1, 2, 3), False)
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2.0).numpy(), np.repeat(x.numpy(), 2, axis=2))
    assert F.interpolate(leaf(np.zeros((1, 1, 2, 2, 2)), False), size=4).shape == (1, 1, 4, 4, 4)
    x4 = leaf(np.zeros((1, 1, 2, 3)), False)
    for kwargs, match in [({"scale_factor": 2, "mode": "bicubic"}, "nearest"), ({}, "exactly one"),
                          ({"size": 4, "scale_factor": 2}, "exactly one"), ({"scale_factor": 1.5}, "integer"),
                          ({"size": (4, 4)}, "multiple"), ({"size": (4, 6, 2)}, "size")]:
        with pytest.raises(ValueError, match="interpolate.*" + match):
            F.interpolate(x4, **kwargs)


def np_avg_pool2d(x, k, s, p, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """One window at a time: its sum over the input, divided by divisor_override, or by how many of its
    entries lie in the input (plus the padding, with count_include_pad)."""
    H, W = x.shape[2:]

    def out_size(n):
        o = -(-(n + 2 * p - k) // s) + 1 if ceil_mode else (n + 2 * p - k) // s + 1
        return o - 1 if ceil_mode and (o - 1) * s >= n + p else o  # the last window starts inside

    out = np.zeros(x.shape[:2] + (out_size(H), out_size(W)))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            h0, w0 = i * s - p, j * s - p
            window = x[:, :, max(h0, 0):min(h0 + k, H), max(w0, 0):min(w0 + k, W)]
            padded = (min(h0 + k, H + p) - h0) * (min(w0 + k, W + p) - w0)
            divisor = divisor_override or (padded if count_include_pad else window.shape[2] * window.shape[3])
            out[:, :, i, j] = window.sum(axis=(2, 3)) / divisor
    return out


@settings(deadline=None, max_examples=10)
@given(nc=st.tuples(small, small), hw=st.tuples(st.integers(3, 6), st.integers(3, 6)), k=st.integers(1, 3),
       s=st.integers(1, 3), p=st.integers(0, 1), seed=seeds)
def test_avg_pool2d_values_and_gradcheck(nc, hw, k, s, p, seed):
    p = min(p, k // 2)
    x = leaf(np.random.default_rng(seed).normal(size=nc + hw))
    for stride in (s, None):  # None: stride = kernel_size, the reshape-mean path when p == 0
        y = F.avg_pool2d(x, k, stride, p)
        expect = np_avg_pool2d(x.detach().numpy(), k, k if stride is None else stride, p)
        assert y.shape == expect.shape
        np.testing.assert_allclose(y.detach().numpy(), expect, rtol=1e-12, atol=1e-14)
        gradcheck(lambda x, stride=stride: F.avg_pool2d(x, k, stride, p), (x,))


@settings(deadline=None, max_examples=25)
@given(c=small, hw=st.tuples(st.integers(3, 7), st.integers(3, 7)), k=st.integers(1, 4), s=st.integers(1, 3),
       p=st.integers(0, 2), ceil_mode=st.booleans(), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, 3]), batched=st.booleans(), seed=seeds)
def test_avg_pool2d_ceil_mode_count_include_pad_and_unbatched(c, hw, k, s, p, ceil_mode, count_include_pad,
                                                              divisor_override, batched, seed):
    p = min(p, k // 2)
    assume(k <= min(hw) + 2 * p)
    a = np.random.default_rng(seed).normal(size=(2, c) + hw)
    args = (k, s, p, ceil_mode, count_include_pad, divisor_override)
    expect = np_avg_pool2d(a, *args)
    x = leaf(a if batched else a[0])
    y = F.avg_pool2d(x, *args)
    np.testing.assert_allclose(y.detach().numpy(), expect if batched else expect[0], rtol=1e-12, atol=1e-14)
    gradcheck(lambda x: F.avg_pool2d(x, *args), (x,))


def test_avg_pool2d_errors_and_double_backward():
    with pytest.raises(ValueError, match=r"avg_pool2d.*\(3, 4\)"):
        F.avg_pool2d(leaf(np.zeros((3, 4)), False), 2)
    with pytest.raises(ValueError, match="avg_pool2d.*padding"):
        F.avg_pool2d(leaf(np.zeros((1, 1, 4, 4)), False), 2, padding=2)
    x = leaf(np.random.default_rng(6).normal(size=(1, 2, 4, 4)))
    gradgradcheck(lambda x: F.avg_pool2d(x, 2) ** 2, (x,))
    gradgradcheck(lambda x: F.avg_pool2d(x, 3, 1, 1) ** 2, (x,))


@settings(deadline=None, max_examples=8)
@given(shape=st.tuples(small, st.integers(2, 4), st.integers(2, 4)), seed=seeds, data=st.data())
def test_pad_reflect_matches_numpy_and_gradcheck(shape, seed, data):
    pads = [data.draw(st.integers(0, n - 1)) for n in (shape[2], shape[2], shape[1], shape[1])]
    x = leaf(np.random.default_rng(seed).normal(size=shape))
    y = F.pad(x, pads, mode="reflect")
    expect = np.pad(x.detach().numpy(), ((0, 0), (pads[2], pads[3]), (pads[0], pads[1])), mode="reflect")
    np.testing.assert_array_equal(y.detach().numpy(), expect)
    gradcheck(lambda x: F.pad(x, pads, mode="reflect"), (x,))
    gradgradcheck(lambda x: F.pad(x, pads, mode="reflect") ** 2, (x,))  # the fold's own backward
    gradcheck(lambda x: F.pad(x, pads, value=1.5), (x,))


# ---- losses --------------------------------------------------------------------------------------
def reduce_np(loss, reduction):
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_elementwise_loss_values(reduction):
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))
    w = rng.uniform(0.5, 2.0, (1, 4))
    X, Y, W = leaf(x, False), leaf(y, False), leaf(w, False)
    cases = [
        (F.mse_loss(X, Y, reduction=reduction), (x - y) ** 2),
        (F.l1_loss(X, Y, reduction=reduction), np.abs(x - y)),
        (F.binary_cross_entropy(X, Y, W, reduction), -w * (y * np.log(x) + (1 - y) * np.log(1 - x))),
        (F.binary_cross_entropy_with_logits(X, Y, W, reduction),
         -w * (y * np.log(1 / (1 + np.exp(-x))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-x))))),
    ]
    for got, loss in cases:
        np.testing.assert_allclose(got.numpy(), reduce_np(loss, reduction), rtol=1e-12)
    pw = rng.uniform(0.5, 3.0, 4)
    s = 1 / (1 + np.exp(-x))
    got = F.binary_cross_entropy_with_logits(X, Y, reduction=reduction, pos_weight=leaf(pw, False))
    np.testing.assert_allclose(got.numpy(), reduce_np(-(pw * y * np.log(s) + (1 - y) * np.log(1 - s)), reduction),
                               rtol=1e-12)


def test_loss_errors():
    a, b = leaf(np.full((2, 3), 0.5), False), leaf(np.full((3, 2), 0.5), False)
    for loss in (F.mse_loss, F.l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(ValueError, match=rf"{loss.__name__}.*\(3, 2\).*\(2, 3\)"):
            loss(a, b)
        with pytest.raises(ValueError, match=f"{loss.__name__}.*reduction"):
            loss(a, a, reduction="avg")
    with pytest.raises(ValueError, match="binary_cross_entropy.*between 0 and 1"):
        F.binary_cross_entropy(leaf([0.5, 1.5], False), leaf([0.0, 1.0], False))
    with pytest.raises(ValueError, match=r"cross_entropy.*\(2, 3\).*\(3,\)"):
        F.cross_entropy(a, ints([0, 1, 2]))
    with pytest.raises(ValueError, match=r"nll_loss.*\(6,\)"):
        F.nll_loss(a.reshape(6), ints([0]))
    with pytest.raises(ValueError, match=r"cross_entropy.*\[0, 3\)"):
        F.cross_entropy(a, ints([0, 3]))
    with pytest.raises(ValueError, match="cross_entropy.*integer"):
        F.cross_entropy(a, leaf([0.0, 1.0], False))
    with pytest.raises(ValueError, match=r"cross_entropy.*weight.*\(3,\)"):
        F.cross_entropy(a, ints([0, 1]), weight=leaf(np.ones(2), False))


def test_bce_with_logits_is_exact_and_finite_at_large_logits():
    x = leaf([1000.0, 1000.0, -1000.0, -1000.0, 1000.0, -1000.0])
    y = leaf([1.0, 0.0, 1.0, 0.0, 0.5, 0.25], False)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    # (1 - y) x + softplus(-x), with softplus(-1000) = 0 and softplus(1000) = 1000 in float64
    np.testing.assert_array_equal(loss.detach().numpy(), [0.0, 1000.0, 1000.0, 0.0, 500.0, 250.0])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, -1.0, 0.0, 0.5, -0.25])  # sigmoid(x) - y
    x32 = tinygan.tensor([1000.0, -1000.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x32, tinygan.tensor([0.0, 0.0]), pos_weight=tinygan.tensor([3.0]))
    assert loss.item() == 500.0
    loss.backward()
    assert np.isfinite(x32.grad.numpy()).all()


def test_bce_clamps_log_at_minus_100():
    x = leaf([0.0, 1.0, 0.0, 1.0])
    y = leaf([1.0, 0.0, 0.0, 1.0], False)
    loss = F.binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_array_equal(loss.detach().numpy(), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()  # PyTorch's gradient (x - y) / max(x (1 - x), 1e-12): large, finite, right sign
    np.testing.assert_allclose(x.grad.numpy(), [-1e12, 1e12, 0.0, 0.0], rtol=1e-12)


def np_cross_entropy(x, t, w, reduction, eps):
    if x.ndim == 1:  # unbatched: one sample
        return np_cross_entropy(x[None], t[None], w, reduction, eps).reshape(())
    if x.ndim > 2:  # (N, C, d1, ...): every (n, d1, ...) is a sample of its own
        out = np_cross_entropy(np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]), t.ravel(), w, reduction, eps)
        return out.reshape(t.shape) if reduction == "none" else out
    log_p = x - x.max(1, keepdims=True)
    log_p = log_p - np.log(np.exp(log_p).sum(1, keepdims=True))
    N, C = x.shape
    w = np.ones(C) if w is None else w
    nll = -w[t] * log_p[np.arange(N), t]
    smooth = -(w * log_p).sum(1)
    if reduction == "mean":
        nll, smooth = nll.sum() / w[t].sum(), smooth.sum() / w[t].sum()
    elif reduction == "sum":
        nll, smooth = nll.sum(), smooth.sum()
    return (1 - eps) * nll + eps / C * smooth


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_cross_entropy_and_nll_values(reduction, weighted, eps):
    rng = np.random.default_rng(8)
    x, t = rng.normal(0, 3, (5, 4)), rng.integers(0, 4, 5)
    w = rng.uniform(0.5, 2.0, 4) if weighted else None
    W = None if w is None else leaf(w, False)
    got = F.cross_entropy(leaf(x, False), ints(t), W, reduction, label_smoothing=eps)
    np.testing.assert_allclose(got.numpy(), np_cross_entropy(x, t, w, reduction, eps), rtol=1e-12)
    if eps == 0.0:
        got = F.nll_loss(F.log_softmax(leaf(x, False), 1), ints(t), W, reduction)
        np.testing.assert_allclose(got.numpy(), np_cross_entropy(x, t, w, reduction, 0.0), rtol=1e-12)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 4, 3), (2, 4, 3, 2)], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_and_nll_on_unbatched_and_spatial_inputs(shape, reduction, weighted):
    rng = np.random.default_rng(sum(shape))
    C = 4
    x, t = rng.normal(0, 3, shape), rng.integers(0, C, shape[:1] + shape[2:] if len(shape) > 1 else ())
    w = rng.uniform(0.5, 2.0, C) if weighted else None
    W = None if w is None else leaf(w, False)
    for eps in (0.0, 0.2):
        got = F.cross_entropy(leaf(x, False), ints(t), W, reduction, label_smoothing=eps)
        expected = np_cross_entropy(x, t, w, reduction, eps)
        assert got.shape == np.shape(expected)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
        gradcheck(lambda x, eps=eps: F.cross_entropy(x, ints(t), W, reduction, label_smoothing=eps), (leaf(x),))
    log_p = F.log_softmax(leaf(x, False), 1 if len(shape) > 1 else 0)
    np.testing.assert_allclose(F.nll_loss(log_p, ints(t), W, reduction).numpy(),
                               np_cross_entropy(x, t, w, reduction, 0.0), rtol=1e-12)
    with pytest.raises(ValueError, match="nll_loss.*target"):
        F.nll_loss(log_p, ints(np.zeros(t.shape + (2,), dtype=np.int64)))


@settings(deadline=None, max_examples=10)
@given(shape=st.tuples(small, st.integers(2, 4)), reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans(), seed=seeds)
def test_loss_gradcheck(shape, reduction, weighted, seed):
    rng = np.random.default_rng(seed)
    C = shape[1]
    w = leaf(rng.uniform(0.5, 2.0, C)) if weighted else None
    logits, prob = leaf(rng.normal(size=shape)), leaf(rng.uniform(0.05, 0.95, shape))
    target = leaf(rng.uniform(0, 1, shape))
    a, b = rng.normal(size=shape), rng.normal(size=shape)
    a = np.where(np.abs(a - b) < 0.1, b + 0.1, a)  # l1: away from the kink at x == y
    t = ints(rng.integers(0, C, shape[0]))
    pw = leaf(rng.uniform(0.5, 2.0, C))
    gradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction), (leaf(a), leaf(b)))
    gradcheck(lambda x, y: F.l1_loss(x, y, reduction=reduction), (leaf(a), leaf(b)))
    gradcheck(lambda x, y: F.binary_cross_entropy(x, y, w, reduction), (prob, target))
    gradcheck(lambda x, y, p: F.binary_cross_entropy_with_logits(x, y, w, reduction, pos_weight=p),
              (logits, target, pw))
    constant = leaf(target.detach().numpy(), False)  # the fused op (BCEWithLogits): no weights, a constant target
    gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, constant, reduction=reduction), (logits,))
    gradcheck(lambda x: F.cross_entropy(x, t, w, reduction, label_smoothing=0.1), (logits,))
    gradcheck(lambda x: F.nll_loss(x, t, w, reduction), (logits,))


def test_loss_gradgradcheck():
    rng = np.random.default_rng(9)
    logits, target = leaf(rng.normal(size=(3, 2))), leaf(rng.uniform(0, 1, (3, 2)), False)
    gradgradcheck(lambda x: F.binary_cross_entropy_with_logits(x, target), (logits,))
    gradgradcheck(lambda x: F.binary_cross_entropy(x.sigmoid(), target), (logits,))
    gradgradcheck(lambda x: F.cross_entropy(x, ints([0, 1, 1])), (logits,))
    gradgradcheck(lambda x: F.mse_loss(x, target), (logits,))


# ---- against PyTorch -----------------------------------------------------------------------------
def _torch_cases(torch, TF):
    rng = np.random.default_rng(10)
    x4, s4 = rng.normal(size=(2, 3, 4, 4)), rng.normal(size=(2, 3, 3, 5))
    w3, b3 = rng.normal(size=3), rng.normal(size=3)
    x2, t2 = rng.normal(size=(5, 4)), rng.integers(0, 4, 5)
    cw, y2 = rng.uniform(0.5, 2, 4), rng.uniform(0, 1, (5, 4))
    t4, cw4 = rng.integers(0, 3, (2, 4, 4)), rng.normal(size=(2, 3, 2, 3))  # (N, d1, d2) classes, a 2x3 kernel

    def adain_torch(x, y, eps=1e-5):
        mx, vx = x.mean((2, 3), keepdim=True), x.var((2, 3), unbiased=False, keepdim=True)
        my, vy = y.mean((2, 3), keepdim=True), y.var((2, 3), unbiased=False, keepdim=True)
        return (vy + eps).sqrt() * (x - mx) / (vx + eps).sqrt() + my

    # (name, tinygan fn, torch fn, differentiable inputs)
    return [
        ("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), [x4, w3, b3]),
        ("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
         lambda x, w, b: TF.instance_norm(x, weight=w, bias=b), [x4, w3, b3]),
        ("layer_norm", lambda x: F.layer_norm(x, (3, 4, 4)), lambda x: TF.layer_norm(x, (3, 4, 4)), [x4]),
        ("adaptive_instance_norm", F.adaptive_instance_norm, adain_torch, [x4, s4]),
        ("log_softmax", lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1), [x2]),
        ("cross_entropy", lambda x: F.cross_entropy(x, ints(t2), leaf(cw, False), label_smoothing=0.1),
         lambda x: TF.cross_entropy(x, torch.tensor(t2), torch.tensor(cw), label_smoothing=0.1), [x2]),
        ("bce_with_logits_fused", lambda x: F.binary_cross_entropy_with_logits(x, leaf(y2, False)),
         lambda x: TF.binary_cross_entropy_with_logits(x, torch.tensor(y2)), [x2 * 5]),
        ("bce_with_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=leaf(cw, False)),
         lambda x, y: TF.binary_cross_entropy_with_logits(x, y, pos_weight=torch.tensor(cw)), [x2 * 5, y2]),
        ("binary_cross_entropy", lambda x, y: F.binary_cross_entropy(x.sigmoid(), y, reduction="sum"),
         lambda x, y: TF.binary_cross_entropy(x.sigmoid(), y, reduction="sum"), [x2, y2]),
        ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1), lambda x: TF.avg_pool2d(x, 3, 2, 1), [x4]),
        ("avg_pool2d_ceil_exclude_pad", lambda x: F.avg_pool2d(x, 3, 2, 1, True, False),
         lambda x: TF.avg_pool2d(x, 3, 2, 1, True, False), [x4[:, :, :, :3]]),
        ("avg_pool2d_unbatched_divisor", lambda x: F.avg_pool2d(x, 2, 3, ceil_mode=True, divisor_override=3),
         lambda x: TF.avg_pool2d(x, 2, 3, ceil_mode=True, divisor_override=3), [x4[0]]),
        ("cross_entropy_spatial", lambda x: F.cross_entropy(x, ints(t4), leaf(cw[:3], False), label_smoothing=0.1),
         lambda x: TF.cross_entropy(x, torch.tensor(t4), torch.tensor(cw[:3]), label_smoothing=0.1), [x4]),
        ("cross_entropy_unbatched", lambda x: F.cross_entropy(x, ints(2), label_smoothing=0.2),
         lambda x: TF.cross_entropy(x, torch.tensor(2), label_smoothing=0.2), [x2[0]]),
        ("nll_loss_spatial", lambda x: F.nll_loss(x, ints(t4), reduction="none"),
         lambda x: TF.nll_loss(x, torch.tensor(t4), reduction="none"), [x4]),
        ("pad_negative", lambda x: F.pad(x, (-1, 2, 1, -2), value=0.5), lambda x: TF.pad(x, (-1, 2, 1, -2), value=0.5),
         [x4]),
        ("pad_reflect_negative", lambda x: F.pad(x, (2, -1, -1, 1), mode="reflect"),
         lambda x: TF.pad(x, (2, -1, -1, 1), mode="reflect"), [x4]),
        ("conv2d_same", lambda x, w: F.conv2d(x, w, padding="same", dilation=(1, 2)),
         lambda x, w: TF.conv2d(x, w, padding="same", dilation=(1, 2)), [x4, cw4]),
        ("conv2d_valid", lambda x, w: F.conv2d(x, w, padding="valid"), lambda x, w: TF.conv2d(x, w, padding="valid"),
         [x4, cw4]),
        ("interpolate", lambda x: F.interpolate(x, scale_factor=2), lambda x: TF.interpolate(x, scale_factor=2),
         [x4]),
    ]


def test_against_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    for name, ours, theirs, arrays in _torch_cases(torch, TF):
        xs = [leaf(a) for a in arrays]
        ts = [torch.tensor(a, requires_grad=True) for a in arrays]
        y, yt = ours(*xs), theirs(*ts)
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
        g = np.random.default_rng(11).normal(size=yt.shape)
        y.backward(tinygan.Tensor(g))
        yt.backward(torch.tensor(g))
        for i, (x, t) in enumerate(zip(xs, ts)):
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name}, input {i}")

    # running statistics after a training step (momentum 0.1, unbiased variance)
    x = np.random.default_rng(12).normal(2.0, 3.0, (4, 3, 2, 2))
    rm, rv = tinygan.zeros(3, dtype=np.float64), tinygan.ones(3, dtype=np.float64)
    rmt, rvt = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    F.batch_norm(leaf(x, False), rm, rv, training=True)
    TF.batch_norm(torch.tensor(x), rmt, rvt, training=True)
    np.testing.assert_allclose(rm.numpy(), rmt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), rvt.numpy(), rtol=1e-12)
    F.instance_norm(leaf(x, False), rm, rv, momentum=0.3)
    TF.instance_norm(torch.tensor(x), rmt, rvt, momentum=0.3)
    np.testing.assert_allclose(rm.numpy(), rmt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), rvt.numpy(), rtol=1e-12)
