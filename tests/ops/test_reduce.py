"""Reductions: values against NumPy, gradients against finite differences (float64).

``dim`` is drawn as None, an int or a tuple, negative ones included, with keepdim both ways.
max/min/amax/std draw arrays whose elements are pairwise apart (no ties, no zero variance).
"""
from functools import partial

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import FEW, SETTINGS, arrays, dims, distinct_arrays, leaf, shapes

import tinygan
from tinygan.gradcheck import gradcheck, gradgradcheck


def np_logsumexp(a, axis, keepdims):
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


# name, tinygan op (x, dim, keepdim), NumPy reference (a, axis, keepdims), domain, dim=None allowed
REDUCE = [
    ("sum", lambda x, d, k: x.sum(d, keepdim=k), np.sum, arrays, True),
    ("mean", lambda x, d, k: x.mean(d, keepdim=k), np.mean, arrays, True),
    ("var", lambda x, d, k: x.var(d, keepdim=k), partial(np.var, ddof=1), distinct_arrays, True),
    ("var_biased", lambda x, d, k: x.var(d, unbiased=False, keepdim=k), np.var, distinct_arrays, True),
    ("var_correction0", lambda x, d, k: x.var(d, keepdim=k, correction=0), np.var, distinct_arrays, True),
    ("std", lambda x, d, k: x.std(d, keepdim=k), partial(np.std, ddof=1), distinct_arrays, True),
    ("std_biased", lambda x, d, k: x.std(d, unbiased=False, keepdim=k), np.std, distinct_arrays, True),
    ("amax", lambda x, d, k: x.amax(d, keepdim=k), np.amax, distinct_arrays, True),
    ("logsumexp", lambda x, d, k: x.logsumexp(d, keepdim=k), np_logsumexp, arrays, False),
    ("norm", lambda x, d, k: x.norm(dim=d, keepdim=k), lambda a, axis, keepdims:
     np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdims)), partial(arrays, avoid=(0.0,)), True),
    ("norm_p1", lambda x, d, k: x.norm(1, d, k), lambda a, axis, keepdims:
     np.sum(np.abs(a), axis=axis, keepdims=keepdims), partial(arrays, avoid=(0.0,)), True),
]
IDS = [r[0] for r in REDUCE]


def draw_case(data, domain, allow_none, max_dims=3, max_side=4):
    a = data.draw(domain(shapes(min_dims=0 if allow_none else 1, max_dims=max_dims, max_side=max_side)))
    dim = data.draw(dims(a.ndim, allow_none=allow_none))
    axes = range(a.ndim) if dim is None else [dim] if isinstance(dim, int) else dim
    count = int(np.prod([a.shape[d] for d in axes]))
    return a, dim, count


@pytest.mark.parametrize("name,op,ref,domain,allow_none", REDUCE, ids=IDS)
@SETTINGS
@given(data=st.data(), keepdim=st.booleans())
def test_reduce(name, op, ref, domain, allow_none, data, keepdim):
    a, dim, count = draw_case(data, domain, allow_none)
    if name.startswith(("var", "std")):
        assume(count >= 2)  # one element: var is nan (unbiased) or std has no derivative (biased)
    out = op(tinygan.tensor(a), dim, keepdim)
    expected = ref(a, axis=dim, keepdims=keepdim)
    assert out.shape == np.shape(expected) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x: op(x, dim, keepdim), [leaf(a)])


@pytest.mark.parametrize("name,op,ref,domain,allow_none", REDUCE, ids=IDS)
@FEW
@given(data=st.data(), keepdim=st.booleans())
def test_reduce_gradgrad(name, op, ref, domain, allow_none, data, keepdim):
    a, dim, count = draw_case(data, domain, allow_none, max_dims=2, max_side=3)
    if name.startswith(("var", "std")):
        assume(count >= 2)
    assert gradgradcheck(lambda x: op(x, dim, keepdim), [leaf(a)])


@pytest.mark.parametrize("fn,np_fn,np_arg", [(tinygan.max, np.max, np.argmax), (tinygan.min, np.min, np.argmin)])
@SETTINGS
@given(data=st.data(), keepdim=st.booleans())
def test_max_min_over_a_dim_give_values_and_indices(fn, np_fn, np_arg, data, keepdim):
    a = data.draw(distinct_arrays(shapes(min_dims=1)))
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    values, indices = fn(tinygan.tensor(a), dim, keepdim=keepdim)
    np.testing.assert_array_equal(values.numpy(), np_fn(a, axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(indices.numpy(), np_arg(a, axis=dim, keepdims=keepdim))
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert fn(tinygan.tensor(a), dim).values.shape == np_fn(a, axis=dim).shape
    assert gradcheck(lambda x: fn(x, dim, keepdim=keepdim).values, [leaf(a)])


@pytest.mark.parametrize("fn,np_fn", [(tinygan.max, np.max), (tinygan.min, np.min)])
@SETTINGS
@given(a=distinct_arrays())
def test_max_min_of_everything(fn, np_fn, a):
    out = fn(tinygan.tensor(a))
    assert out.shape == () and out.item() == np_fn(a)
    assert gradcheck(fn, [leaf(a)])


def test_max_ties_share_the_gradient_like_torch_amax():
    x = leaf([1.0, 3.0, 3.0, 2.0])
    x.amax().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5, 0.0])


def test_logsumexp_is_stable():
    x = tinygan.tensor(np.array([[1000.0, 1000.0], [-1000.0, -1000.0]]))
    with np.errstate(over="raise", under="ignore"):
        np.testing.assert_allclose(x.logsumexp(1).numpy(), [1000 + np.log(2), -1000 + np.log(2)])


def test_var_of_one_element_is_nan_as_torch():
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(tinygan.tensor([2.0]).var().item())
        assert tinygan.tensor([2.0]).var(unbiased=False).item() == 0.0


def test_reduce_errors():
    x = tinygan.tensor(np.ones((2, 3)))
    with pytest.raises(IndexError, match="out of range"):
        x.sum(2)
    with pytest.raises(ValueError, match="norm"):
        x.norm(3)


@pytest.mark.parametrize("name,op,ref,domain,allow_none", REDUCE, ids=IDS)
def test_reduce_keeps_float32(name, op, ref, domain, allow_none):
    a = np.linspace(0.6, 1.9, 6, dtype=np.float32).reshape(2, 3)
    x = tinygan.tensor(a, requires_grad=True)
    out = op(x, 1, False)
    np.testing.assert_allclose(out.detach().numpy(), ref(a.astype(np.float64), axis=1, keepdims=False), rtol=1e-5)
    (g,) = tinygan.grad(out.sum(), x, create_graph=True)
    assert out.dtype == g.dtype == np.float32
