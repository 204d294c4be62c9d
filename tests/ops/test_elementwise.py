"""Elementwise ops: values against NumPy, gradients against finite differences (float64).

One line per op: (name, tinygan function, NumPy reference, domain of the generated inputs).
Domains keep away from the kinks (relu, abs and leaky_relu at 0, clamp at its bounds) and
stay inside the domain (log, sqrt, fractional powers on positive inputs).
"""
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import FEW, SETTINGS, arrays, broadcastable_pairs, leaf, positive, shapes

import tinygan
from tinygan.gradcheck import gradcheck, gradgradcheck
from tinygan.ops import elementwise as E

REAL = arrays
AWAY_FROM_0 = partial(arrays, avoid=(0.0,))
FAR_FROM_0 = partial(arrays, avoid=(0.0,), gap=0.4)  # for 1/x: keeps the derivative small
POSITIVE = positive

UNARY = [
    ("neg", lambda x: -x, np.negative, REAL),
    ("exp", lambda x: x.exp(), np.exp, REAL),
    ("log", lambda x: x.log(), np.log, POSITIVE),
    ("sqrt", lambda x: x.sqrt(), np.sqrt, POSITIVE),
    ("abs", abs, np.abs, AWAY_FROM_0),
    ("tanh", lambda x: x.tanh(), np.tanh, REAL),
    ("sigmoid", lambda x: x.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), REAL),
    ("relu", lambda x: x.relu(), lambda a: np.maximum(a, 0), AWAY_FROM_0),
    ("leaky_relu", lambda x: E.leaky_relu(x, 0.2), lambda a: np.where(a > 0, a, 0.2 * a), AWAY_FROM_0),
    ("leaky_relu_default", E.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a), AWAY_FROM_0),
    ("softplus", E.softplus, lambda a: np.log1p(np.exp(a)), REAL),
    ("softplus_beta", lambda x: E.softplus(x, beta=2.0), lambda a: np.log1p(np.exp(2 * a)) / 2, REAL),
    ("clamp", lambda x: x.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), partial(arrays, avoid=(-0.5, 0.7))),
    ("clamp_min", lambda x: x.clamp(min=0.3), lambda a: np.maximum(a, 0.3), partial(arrays, avoid=(0.3,))),
    ("clamp_max", lambda x: x.clamp(max=-0.2), lambda a: np.minimum(a, -0.2), partial(arrays, avoid=(-0.2,))),
    ("pow_2", lambda x: x ** 2, np.square, REAL),
    ("pow_3", lambda x: x ** 3, lambda a: a ** 3, REAL),
    ("pow_0", lambda x: x ** 0, np.ones_like, AWAY_FROM_0),
    ("pow_0.5", lambda x: x ** 0.5, np.sqrt, POSITIVE),
    ("pow_-1", lambda x: x ** -1, np.reciprocal, FAR_FROM_0),
    ("pow_-1.5", lambda x: x.pow(-1.5), lambda a: a ** -1.5, POSITIVE),
    ("rpow", lambda x: 2 ** x, lambda a: 2.0 ** a, REAL),  # a tensor exponent
    ("radd", lambda x: 3 + x, lambda a: 3 + a, REAL),
    ("rsub", lambda x: 2 - x, lambda a: 2 - a, REAL),
    ("sub_number", lambda x: x - 1.5, lambda a: a - 1.5, REAL),
    ("rmul", lambda x: 2.5 * x, lambda a: 2.5 * a, REAL),
    ("div_number", lambda x: x / 3, lambda a: a / 3, REAL),
    ("rdiv", lambda x: 1 / x, lambda a: 1 / a, FAR_FROM_0),
    ("numpy_left", lambda x: np.float64(2.0) - x, lambda a: 2.0 - a, REAL),
    ("square_by_mul", lambda x: x * x, np.square, REAL),  # one tensor used twice
]
UNARY_IDS = [u[0] for u in UNARY]

BINARY = [
    ("add", lambda a, b: a + b, np.add, REAL, REAL),
    ("sub", lambda a, b: a - b, np.subtract, REAL, REAL),
    ("mul", lambda a, b: a * b, np.multiply, REAL, REAL),
    ("div", lambda a, b: a / b, np.divide, REAL, FAR_FROM_0),
    ("pow", lambda a, b: a ** b, np.power, POSITIVE, REAL),
    ("add_fn", E.add, np.add, REAL, REAL),
    ("sub_method", lambda a, b: a.sub(b), np.subtract, REAL, REAL),
]
BINARY_IDS = [b[0] for b in BINARY]


@pytest.mark.parametrize("name,op,ref,domain", UNARY, ids=UNARY_IDS)
@SETTINGS
@given(data=st.data())
def test_unary(name, op, ref, domain, data):
    a = data.draw(domain())
    out = op(tinygan.tensor(a))
    assert out.dtype == np.float64 and out.shape == a.shape
    np.testing.assert_allclose(out.numpy(), ref(a), rtol=1e-12, atol=1e-12)
    assert gradcheck(op, [leaf(a)])


@pytest.mark.parametrize("name,op,ref,domain", UNARY, ids=UNARY_IDS)
@FEW
@given(data=st.data())
def test_unary_gradgrad(name, op, ref, domain, data):
    assert gradgradcheck(op, [leaf(data.draw(domain(shapes(max_dims=2, max_side=3))))])


@pytest.mark.parametrize("name,op,ref,domain", UNARY, ids=UNARY_IDS)
def test_unary_keeps_float32(name, op, ref, domain):
    a = np.linspace(0.6, 1.9, 6, dtype=np.float32).reshape(2, 3)  # inside every domain above
    out = op(tinygan.tensor(a))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), ref(a.astype(np.float64)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,op,ref,dom_a,dom_b", BINARY, ids=BINARY_IDS)
@SETTINGS
@given(data=st.data(), pair=broadcastable_pairs(), which=st.sampled_from(["both", "first", "second"]))
def test_binary_broadcasting(name, op, ref, dom_a, dom_b, data, pair, which):
    a, b = data.draw(dom_a(pair[0])), data.draw(dom_b(pair[1]))
    out = op(tinygan.tensor(a), tinygan.tensor(b))
    np.testing.assert_allclose(out.numpy(), ref(a, b), rtol=1e-12, atol=1e-12)
    x = leaf(a) if which != "second" else tinygan.tensor(a)
    y = leaf(b) if which != "first" else tinygan.tensor(b)
    assert gradcheck(op, [x, y])


@pytest.mark.parametrize("name,op,ref,dom_a,dom_b", BINARY, ids=BINARY_IDS)
@FEW
@given(data=st.data(), pair=broadcastable_pairs(max_dims=2, max_side=3))
def test_binary_gradgrad(name, op, ref, dom_a, dom_b, data, pair):
    assert gradgradcheck(op, [leaf(data.draw(dom_a(pair[0]))), leaf(data.draw(dom_b(pair[1])))])


@SETTINGS
@given(data=st.data(), shapes3=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
def test_where(data, shapes3):
    sc, sa, sb = shapes3.input_shapes
    cond = data.draw(hnp.arrays(bool, sc))
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))

    def op(x, y):
        return tinygan.where(tinygan.tensor(cond), x, y)

    np.testing.assert_array_equal(op(tinygan.tensor(a), tinygan.tensor(b)).numpy(), np.where(cond, a, b))
    assert gradcheck(op, [leaf(a), leaf(b)])
    assert gradgradcheck(op, [leaf(a), leaf(b)])
    np.testing.assert_array_equal(tinygan.where(cond, tinygan.tensor(a), 0.5).numpy(), np.where(cond, a, 0.5))
    assert gradcheck(lambda x: tinygan.where(cond, 0.5, x), [leaf(b)])


def test_where_gradient_goes_to_the_chosen_side():
    x, y = leaf([1.0, 2.0, 3.0]), leaf(5.0)
    tinygan.where(tinygan.tensor(np.array([True, False, True])), x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 1])
    assert y.grad.item() == 1.0  # broadcast scalar: its gradient is summed


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softplus_are_stable_at_large_inputs(dtype):
    x = tinygan.tensor(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=dtype))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, sp = x.sigmoid().numpy(), E.softplus(x).numpy()
    np.testing.assert_allclose(s, [0.0, 1 / (1 + np.exp(30.0)), 0.5, 1 / (1 + np.exp(-30.0)), 1.0], rtol=1e-6)
    np.testing.assert_allclose(sp, [0.0, np.log1p(np.exp(-30.0)), np.log(2.0), 30.0, 1000.0], rtol=1e-6)
    assert s.dtype == sp.dtype == dtype


def test_relu_family_gradient_values():
    x = leaf([-2.0, -0.5, 0.5, 3.0])
    assert tinygan.grad(x.relu().sum(), x)[0].tolist() == [0, 0, 1, 1]
    assert tinygan.grad(E.leaky_relu(x, 0.1).sum(), x)[0].tolist() == [0.1, 0.1, 1, 1]
    assert tinygan.grad(x.clamp(-1.0, 1.0).sum(), x)[0].tolist() == [0, 1, 1, 0]
    assert tinygan.grad(abs(x).sum(), x)[0].tolist() == [-1, -1, 1, 1]


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp"):
        tinygan.tensor([1.0]).clamp()


# ---- the CPU's one-pass LeakyReLU loops (kernels/cpu_numba.py) against the definition ----------------
@settings(deadline=None, max_examples=20)
@given(size=st.sampled_from([1, 7, 1000, (1 << 16) + 3]), slope=st.sampled_from([0.0, 0.2, 1.0, 1.5, -0.1]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_cpu_leaky_relu_kernels_match_the_definition(size, slope, dtype, seed):
    from tinygan.kernels import cpu_numba
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(size).astype(dtype)
    x[:3] = [0.0, -0.0, np.nan][:min(3, size)]  # the edges of x > 0
    y, mask = cpu_numba.leaky_relu(x.reshape(-1, 1), slope)
    np.testing.assert_array_equal(mask[:, 0], x > 0)
    np.testing.assert_array_equal(y[:, 0], np.where(x > 0, x, x * dtype(slope)))
    assert y.dtype == dtype and y.shape == (size, 1)
    g = rng.standard_normal(size).astype(dtype)
    np.testing.assert_array_equal(cpu_numba.masked_scale(g, x > 0, slope), np.where(x > 0, g, g * dtype(slope)))
