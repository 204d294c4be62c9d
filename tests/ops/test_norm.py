"""Normalization ops (tinygan/ops/norm.py) against NumPy formulas, plus gradcheck/gradgradcheck."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
from tinygan.gradcheck import gradcheck, gradgradcheck
from tinygan.ops.norm import adaptive_instance_norm, batch_norm, instance_norm, layer_norm

EPS = 1e-5


def leaf(a, requires_grad=True) -> tinygan.Tensor:
    return tinygan.Tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


def np_normalize(x, axes, eps=EPS):
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


shapes4 = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(2, 3))


# ---- batch norm ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3, 3), (2, 3, 5)])
def test_batch_norm_training_values_and_running_stats(shape):
    rng = np.random.default_rng(0)
    x = rng.normal(1.5, 2.0, shape)
    w, b = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    rm0, rv0 = rng.normal(size=shape[1]), rng.uniform(0.5, 2, shape[1])
    rm, rv = tinygan.Tensor(rm0.copy()), tinygan.Tensor(rv0.copy())
    rm_array = rm.data
    y = batch_norm(leaf(x, False), rm, rv, leaf(w, False), leaf(b, False), training=True, momentum=0.1, eps=EPS)

    axes = (0,) + tuple(range(2, x.ndim))
    expect = np_normalize(x, axes) * channel(w, x.ndim) + channel(b, x.ndim)
    np.testing.assert_allclose(y.numpy(), expect, rtol=1e-10, atol=1e-12)
    # PyTorch's update: running = (1 - momentum) running + momentum * batch stat, unbiased variance
    np.testing.assert_allclose(rm.numpy(), 0.9 * rm0 + 0.1 * x.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.9 * rv0 + 0.1 * x.var(axis=axes, ddof=1), rtol=1e-12)
    assert rm.data is rm_array  # updated in place


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4, 2)])
def test_batch_norm_eval_uses_running_stats(shape):
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape)
    rm0, rv0 = rng.normal(size=shape[1]), rng.uniform(0.5, 2, shape[1])
    w, b = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    rm, rv = tinygan.Tensor(rm0.copy()), tinygan.Tensor(rv0.copy())
    y = batch_norm(leaf(x, False), rm, rv, leaf(w, False), leaf(b, False), training=False)
    expect = (x - channel(rm0, x.ndim)) / np.sqrt(channel(rv0, x.ndim) + EPS) * channel(w, x.ndim) + channel(b, x.ndim)
    np.testing.assert_allclose(y.numpy(), expect, rtol=1e-10)
    np.testing.assert_array_equal(rm.numpy(), rm0)  # eval leaves the running stats alone
    np.testing.assert_array_equal(rv.numpy(), rv0)


def test_batch_norm_running_stats_follow_pytorch_over_steps():
    """Several steps of momentum 0.1 with float32 running stats and float64 data."""
    rng = np.random.default_rng(2)
    rm, rv = tinygan.zeros(3), tinygan.ones(3)
    m_ref, v_ref = np.zeros(3), np.ones(3)
    for _ in range(4):
        x = rng.normal(2.0, 3.0, (6, 3, 2, 2))
        batch_norm(leaf(x, False), rm, rv, training=True)
        m_ref = 0.9 * m_ref + 0.1 * x.mean(axis=(0, 2, 3))
        v_ref = 0.9 * v_ref + 0.1 * x.var(axis=(0, 2, 3), ddof=1)
    assert rm.dtype == np.float32
    np.testing.assert_allclose(rm.numpy(), m_ref, rtol=1e-5)
    np.testing.assert_allclose(rv.numpy(), v_ref, rtol=1e-5)


def test_batch_norm_errors():
    x = leaf(np.ones((1, 3)), False)
    with pytest.raises(ValueError, match=r"batch_norm.*\(1, 3\)"):
        batch_norm(x, None, None, training=True)  # one value per channel
    with pytest.raises(ValueError, match=r"batch_norm.*weight.*\(3,\).*\(2,\)"):
        batch_norm(leaf(np.ones((4, 3)), False), None, None, weight=leaf(np.ones(2)), training=True)
    with pytest.raises(ValueError, match="batch_norm.*running"):
        batch_norm(leaf(np.ones((4, 3)), False), None, None, training=False)
    with pytest.raises(ValueError, match=r"batch_norm.*\(4,\)"):
        batch_norm(leaf(np.ones(4), False), None, None, training=True)


@settings(deadline=None, max_examples=8)
@given(shape=shapes4, seed=st.integers(0, 2**16))
def test_batch_norm_gradcheck_training(shape, seed):
    if shape[0] * shape[2] * shape[3] < 2:
        shape = (2,) + shape[1:]
    rng = np.random.default_rng(seed)
    x, w, b = leaf(rng.normal(size=shape)), leaf(rng.normal(size=shape[1])), leaf(rng.normal(size=shape[1]))
    gradcheck(lambda x, w, b: batch_norm(x, None, None, w, b, training=True), (x, w, b))


@settings(deadline=None, max_examples=4)
@given(seed=st.integers(0, 2**16))
def test_batch_norm_gradgradcheck_training(seed):
    rng = np.random.default_rng(seed)
    x, w, b = leaf(rng.normal(size=(3, 2, 2, 2))), leaf(rng.normal(size=2)), leaf(rng.normal(size=2))
    gradgradcheck(lambda x, w, b: batch_norm(x, None, None, w, b, training=True), (x, w, b))
    x2 = leaf(rng.normal(size=(4, 3)))  # the (N, C) layout of a linear discriminator
    gradgradcheck(lambda x: batch_norm(x, None, None, training=True), (x2,))


def test_batch_norm_gradcheck_eval():
    rng = np.random.default_rng(3)
    rm, rv = leaf(rng.normal(size=2), False), leaf(rng.uniform(0.5, 2, 2), False)
    x, w, b = leaf(rng.normal(size=(2, 2, 3))), leaf(rng.normal(size=2)), leaf(rng.normal(size=2))
    gradgradcheck(lambda x, w, b: batch_norm(x, rm, rv, w, b, training=False), (x, w, b))


# ---- instance norm -------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 6)])
def test_instance_norm_values_and_running_stats(shape):
    rng = np.random.default_rng(4)
    x = rng.normal(-1.0, 3.0, shape)
    C, spatial = shape[1], tuple(range(2, len(shape)))
    w, b = rng.normal(size=C), rng.normal(size=C)
    y = instance_norm(leaf(x, False), weight=leaf(w, False), bias=leaf(b, False))
    expect = np_normalize(x, spatial) * channel(w, x.ndim) + channel(b, x.ndim)
    np.testing.assert_allclose(y.numpy(), expect, rtol=1e-10, atol=1e-12)

    rm0, rv0 = rng.normal(size=C), rng.uniform(0.5, 2, C)
    rm, rv = leaf(rm0, False), leaf(rv0, False)
    instance_norm(leaf(x, False), rm, rv, momentum=0.2)
    # PyTorch: the batch average of the per-instance mean and unbiased variance
    np.testing.assert_allclose(rm.numpy(), 0.8 * rm0 + 0.2 * x.mean(axis=spatial).mean(0), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), 0.8 * rv0 + 0.2 * x.var(axis=spatial, ddof=1).mean(0), rtol=1e-12)

    y = instance_norm(leaf(x, False), rm, rv, use_input_stats=False)
    m, v = rm.numpy(), rv.numpy()
    np.testing.assert_allclose(y.numpy(), (x - channel(m, x.ndim)) / np.sqrt(channel(v, x.ndim) + EPS), rtol=1e-10)


def test_instance_norm_errors():
    with pytest.raises(ValueError, match=r"instance_norm.*\(4, 3\)"):
        instance_norm(leaf(np.ones((4, 3)), False))
    with pytest.raises(ValueError, match=r"instance_norm.*\(2, 3, 1, 1\)"):
        instance_norm(leaf(np.ones((2, 3, 1, 1)), False))
    with pytest.raises(ValueError, match=r"instance_norm.*bias"):
        instance_norm(leaf(np.ones((2, 3, 2, 2)), False), bias=leaf(np.ones(4)))


@settings(deadline=None, max_examples=6)
@given(shape=shapes4, seed=st.integers(0, 2**16))
def test_instance_norm_gradcheck(shape, seed):
    rng = np.random.default_rng(seed)
    x, w, b = leaf(rng.normal(size=shape)), leaf(rng.normal(size=shape[1])), leaf(rng.normal(size=shape[1]))
    gradcheck(lambda x, w, b: instance_norm(x, weight=w, bias=b), (x, w, b))


def test_instance_norm_gradgradcheck():
    rng = np.random.default_rng(5)
    x, w, b = leaf(rng.normal(size=(2, 2, 2, 3))), leaf(rng.normal(size=2)), leaf(rng.normal(size=2))
    gradgradcheck(lambda x, w, b: instance_norm(x, weight=w, bias=b), (x, w, b))


# ---- layer norm ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape,normalized", [((4, 6), 6), ((2, 3, 4, 5), (3, 4, 5)), ((2, 3, 4), [4])])
def test_layer_norm_values(shape, normalized):
    rng = np.random.default_rng(6)
    x = rng.normal(2.0, 1.5, shape)
    ns = (normalized,) if isinstance(normalized, int) else tuple(normalized)
    w, b = rng.normal(size=ns), rng.normal(size=ns)
    axes = tuple(range(len(shape) - len(ns), len(shape)))
    y = layer_norm(leaf(x, False), normalized, leaf(w, False), leaf(b, False))
    np.testing.assert_allclose(y.numpy(), np_normalize(x, axes) * w + b, rtol=1e-10, atol=1e-12)
    y = layer_norm(leaf(x, False), normalized, eps=0.5)
    np.testing.assert_allclose(y.numpy(), np_normalize(x, axes, 0.5), rtol=1e-10, atol=1e-12)


def test_layer_norm_errors():
    with pytest.raises(ValueError, match=r"layer_norm.*\(2, 3\).*\(4,\)"):
        layer_norm(leaf(np.ones((2, 3)), False), 4)
    with pytest.raises(ValueError, match=r"layer_norm.*weight"):
        layer_norm(leaf(np.ones((2, 3)), False), 3, weight=leaf(np.ones(2)))


@settings(deadline=None, max_examples=6)
@given(shape=shapes4, k=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_layer_norm_gradcheck(shape, k, seed):
    rng = np.random.default_rng(seed)
    ns = shape[4 - k:]
    if np.prod(ns) < 2:
        ns, shape = (2,), shape[:3] + (2,)
    x, w, b = leaf(rng.normal(size=shape)), leaf(rng.normal(size=ns)), leaf(rng.normal(size=ns))
    gradcheck(lambda x, w, b: layer_norm(x, ns, w, b), (x, w, b))


# ---- adaptive instance norm ----------------------------------------------------------------
def test_adaptive_instance_norm_values():
    rng = np.random.default_rng(7)
    x = rng.normal(1.0, 2.0, (2, 3, 4, 5))
    y = rng.normal(-3.0, 0.5, (2, 3, 6, 3)) * rng.uniform(0.5, 3, (2, 3, 1, 1))  # other spatial size
    out = adaptive_instance_norm(leaf(x, False), leaf(y, False)).numpy()
    mu_y, var_y = y.mean(axis=(2, 3), keepdims=True), y.var(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(out, np.sqrt(var_y + EPS) * np_normalize(x, (2, 3)) + mu_y, rtol=1e-10)
    # the output carries the style's per-sample, per-channel mean and (up to eps) standard deviation
    np.testing.assert_allclose(out.mean(axis=(2, 3)), mu_y[..., 0, 0], rtol=1e-10)
    np.testing.assert_allclose(out.std(axis=(2, 3)), y.std(axis=(2, 3)), rtol=1e-4)
    # with eps = 0 exactly
    out0 = adaptive_instance_norm(leaf(x, False), leaf(y, False), eps=0.0).numpy()
    np.testing.assert_allclose(out0.std(axis=(2, 3)), y.std(axis=(2, 3)), rtol=1e-10)


def test_adaptive_instance_norm_errors():
    with pytest.raises(ValueError, match=r"adaptive_instance_norm.*\(2, 3, 4, 4\).*\(2, 4, 4, 4\)"):
        adaptive_instance_norm(leaf(np.ones((2, 3, 4, 4)), False), leaf(np.ones((2, 4, 4, 4)), False))
    with pytest.raises(ValueError, match=r"adaptive_instance_norm.*\(1, 3, 4, 4\)"):
        adaptive_instance_norm(leaf(np.ones((2, 3, 4, 4)), False), leaf(np.ones((1, 3, 4, 4)), False))
    with pytest.raises(ValueError, match=r"adaptive_instance_norm.*\(2, 3, 4\)"):
        adaptive_instance_norm(leaf(np.ones((2, 3, 4)), False), leaf(np.ones((2, 3, 4)), False))


@settings(deadline=None, max_examples=6)
@given(shape=shapes4, style_hw=st.tuples(st.integers(1, 3), st.integers(2, 3)), seed=st.integers(0, 2**16))
def test_adaptive_instance_norm_gradcheck(shape, style_hw, seed):
    rng = np.random.default_rng(seed)
    x, y = leaf(rng.normal(size=shape)), leaf(rng.normal(size=shape[:2] + style_hw))
    gradcheck(adaptive_instance_norm, (x, y))


def test_adaptive_instance_norm_gradgradcheck():
    rng = np.random.default_rng(8)
    x, y = leaf(rng.normal(size=(2, 2, 2, 2))), leaf(rng.normal(size=(2, 2, 3, 2)))
    gradgradcheck(adaptive_instance_norm, (x, y))


# ---- the CPU kernels (kernels/cpu_numba.py) against the definition as array code --------------------
@settings(deadline=None, max_examples=25)
@given(shape=st.sampled_from([(2, 3), (5, 1, 1), (3, 4, 5), (2, 3, 4, 5), (1, 2, 3, 1), (4, 2, 1, 7)]),
       mode=st.sampled_from(["batch", "instance"]), affine=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_cpu_norm_kernels_match_the_array_code(shape, mode, affine, dtype, seed):
    from tinygan.kernels import cpu_numba

    from tinygan.ops import dispatch
    if mode == "instance" and len(shape) < 3:
        return  # instance norm needs spatial dims
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    gamma = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    beta = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    spatial = tuple(range(2, len(shape)))
    axes = (0,) + spatial if mode == "batch" else spatial
    assert dispatch.norm_mode(x, axes) == mode  # so Normalize takes the kernel for these axes
    y, mean, rstd = cpu_numba.norm_forward(x, gamma, beta, eps=1e-5, mode=mode)
    x64 = x.astype(np.float64)  # the definition in float64
    mu = x64.mean(axis=axes, keepdims=True)
    var = x64.var(axis=axes, keepdims=True)
    r = 1 / np.sqrt(var + 1e-5)
    c = (1, shape[1]) + (1,) * (len(shape) - 2)
    # float32 keeps the mean and rstd in float32, as PyTorch does: x - mean then loses up to
    # |mean| / std times float32's precision, and the backward's terms are of size |g| rstd |gamma|
    scale = np.abs(g).max() * r.max() * (np.abs(gamma).max() if affine else 1) * (1 + np.abs(mu / np.sqrt(var)).max())
    tol = {"rtol": 1e-5, "atol": 1e-6 * scale} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12 * scale}
    ref = (x64 - mu) * r * (gamma.reshape(c) if affine else 1) + (beta.reshape(c) if affine else 0)
    np.testing.assert_allclose(y, ref, **tol)
    np.testing.assert_allclose(mean.reshape(mu.shape), mu, **tol)
    np.testing.assert_allclose(rstd.reshape(r.shape), r, **tol)
    assert y.dtype == mean.dtype == rstd.dtype == dtype
    dx, dgamma, dbeta = cpu_numba.norm_backward(g, x, mean, rstd, gamma, mode=mode)
    args = (g.astype(np.float64), x64, mu, r, None if gamma is None else gamma.astype(np.float64), axes)
    rdx, rdgamma, rdbeta = _reference_backward(*args)
    np.testing.assert_allclose(dx, rdx, **tol)
    assert dx.dtype == dtype
    if affine:
        np.testing.assert_allclose(dgamma, rdgamma, **tol)
        np.testing.assert_allclose(dbeta, rdbeta, **tol)
    else:
        assert dgamma is None and dbeta is None


def _reference_backward(g, x, mean, rstd, gamma, axes):
    """The closed form of norm.normalize_vjp, written out again for the kernels to be checked against (float64)."""
    x_hat = (x - mean) * rstd
    c = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    h = g if gamma is None else g * gamma.reshape(c)
    dx = rstd * (h - h.mean(axis=axes, keepdims=True) - x_hat * (h * x_hat).mean(axis=axes, keepdims=True))
    others = tuple(i for i in range(g.ndim) if i != 1)
    return dx, (g * x_hat).sum(axis=others), g.sum(axis=others)
