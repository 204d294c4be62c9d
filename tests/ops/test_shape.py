"""Shape ops: results against NumPy, gradients against finite differences (float64).

These ops only move values around, so their gradient must put each output gradient back
where its value came from -- adding up where one input element feeds several outputs
(expand, integer-array indexing with repeats, reflect padding).
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import FEW, SETTINGS, arrays, leaf, shapes

import tinygan
from tinygan.gradcheck import gradcheck, gradgradcheck
from tinygan.ops import shape as S


def check(op, ref, *inputs):
    """op's values equal the NumPy reference and its gradients pass gradcheck."""
    out = op(*[tinygan.tensor(a) for a in inputs])
    expected = ref(*inputs)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.numpy(), expected)
    assert gradcheck(op, [leaf(a) for a in inputs])


@st.composite
def reshape_targets(draw, shape):
    """A shape with the same number of elements, one entry maybe -1: (2, 6) -> (3, -1, 2)."""
    n, target = math.prod(shape), []
    for _ in range(draw(st.integers(0, 3))):
        d = draw(st.sampled_from([k for k in range(1, n + 1) if n % k == 0]))
        target.append(d)
        n //= d
    target.append(n)
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


@SETTINGS
@given(data=st.data(), a=arrays(shapes(max_side=4)), how=st.sampled_from(["reshape", "view", "varargs", "fn"]))
def test_reshape_and_view(data, a, how):
    t = data.draw(reshape_targets(a.shape))
    op = {"reshape": lambda x: x.reshape(t), "view": lambda x: x.view(t),
          "varargs": lambda x: x.reshape(*t), "fn": lambda x: tinygan.reshape(x, t)}[how]
    check(op, lambda a: a.reshape(t), a)


@FEW
@given(data=st.data(), a=arrays(shapes(max_dims=2, max_side=3)))
def test_reshape_gradgrad(data, a):
    t = data.draw(reshape_targets(a.shape))
    assert gradgradcheck(lambda x: x.reshape(t) * x.reshape(t), [leaf(a)])  # squared: a nonzero 2nd derivative
    assert gradgradcheck(lambda x: x.reshape(t), [leaf(a)])


@SETTINGS
@given(data=st.data(), a=arrays(shapes(min_dims=1, max_dims=4, max_side=3)))
def test_flatten(data, a):
    s = data.draw(st.integers(-a.ndim, a.ndim - 1))
    e = data.draw(st.integers(s % a.ndim, a.ndim - 1)) - data.draw(st.sampled_from([0, a.ndim]))
    s0, e0 = s % a.ndim, e % a.ndim
    check(lambda x: x.flatten(s, e), lambda a: a.reshape(a.shape[:s0] + (-1,) + a.shape[e0 + 1:]), a)
    check(lambda x: tinygan.flatten(x, s), lambda a: a.reshape(a.shape[:s0] + (-1,)), a)


def test_flatten_of_a_scalar_has_one_element():
    assert tinygan.tensor(3.0).flatten().shape == (1,)


@SETTINGS
@given(data=st.data(), a=arrays(shapes(min_dims=1, max_dims=4, max_side=3)))
def test_permute_and_transpose(data, a):
    p = data.draw(st.permutations(range(a.ndim)))
    neg = tuple(d - a.ndim for d in p)
    d0, d1 = data.draw(st.integers(-a.ndim, a.ndim - 1)), data.draw(st.integers(-a.ndim, a.ndim - 1))
    check(lambda x: x.permute(*p), lambda a: a.transpose(p), a)
    check(lambda x: x.permute(neg), lambda a: a.transpose(p), a)
    check(lambda x: x.transpose(d0, d1), lambda a: np.swapaxes(a, d0, d1), a)
    check(lambda x: x.T, lambda a: a.T, a)
    assert gradgradcheck(lambda x: x.permute(p) * x.permute(p), [leaf(a)])


@SETTINGS
@given(data=st.data(), a=arrays(shapes(min_dims=1, max_dims=4, max_side=2)))
def test_squeeze_and_unsqueeze(data, a):
    d = data.draw(st.integers(-a.ndim, a.ndim - 1))
    u = data.draw(st.integers(-a.ndim - 1, a.ndim))
    check(lambda x: x.squeeze(), np.squeeze, a)
    check(lambda x: x.squeeze(d), lambda a: np.squeeze(a, d) if a.shape[d] == 1 else a, a)
    check(lambda x: x.unsqueeze(u), lambda a: np.expand_dims(a, u), a)
    check(lambda x: tinygan.squeeze(x, d), lambda a: np.squeeze(a, d) if a.shape[d] == 1 else a, a)
    check(lambda x: tinygan.unsqueeze(x, u), lambda a: np.expand_dims(a, u), a)


@st.composite
def expansions(draw, shape):
    """A shape ``shape`` broadcasts to, written as torch's expand takes it (-1 keeps a dim)."""
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    rest = tuple(draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    written = tuple(-1 if n == m and draw(st.booleans()) else n for n, m in zip(rest, shape))
    return lead + rest, lead + written


@SETTINGS
@given(data=st.data(), a=arrays(shapes(max_dims=3, max_side=3)))
def test_expand(data, a):
    full, written = data.draw(expansions(a.shape))
    check(lambda x: x.expand(*written), lambda a: np.broadcast_to(a, full), a)
    check(lambda x: x.expand(written) * 1.5, lambda a: np.broadcast_to(a, full) * 1.5, a)
    assert gradgradcheck(lambda x: x.expand(written) * x.expand(written), [leaf(a)])


@SETTINGS
@given(data=st.data(), a=arrays(shapes(min_dims=1, max_dims=3, max_side=5)))
def test_basic_indexing(data, a):
    """ints (negative too), slices with steps (negative too), None and Ellipsis."""
    key = data.draw(hnp.basic_indices(a.shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    check(lambda x: x[key], lambda a: a[key], a)


@SETTINGS
@given(data=st.data(), a=arrays(shapes(min_dims=1, max_dims=3, max_side=4)))
def test_integer_array_indexing_adds_up_repeated_indices(data, a):
    key = data.draw(hnp.integer_array_indices(a.shape, result_shape=hnp.array_shapes(max_dims=2, max_side=5)))
    check(lambda x: x[key], lambda a: a[key], a)
    idx = data.draw(hnp.arrays(np.int64, data.draw(st.integers(1, 6)), elements=st.integers(-a.shape[-1],
                                                                                             a.shape[-1] - 1)))
    check(lambda x: x[..., idx], lambda a: a[..., idx], a)  # mixed with Ellipsis
    check(lambda x: x[..., tinygan.tensor(idx)], lambda a: a[..., idx], a)  # an integer Tensor as index
    assert gradgradcheck(lambda x: x[..., idx] * x[..., idx], [leaf(a)])


def test_repeated_indices_count_each_use():
    x = leaf(np.arange(4.0))
    x[[0, 0, 2, -1, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 0, 1, 1])
    y = leaf(np.ones((2, 3)))
    y[:, np.array([1, 1])].sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[0, 2, 0], [0, 2, 0]])


def test_boolean_mask_indexing():
    a = np.array([[-1.0, 2.0, 0.5], [3.0, -2.0, 1.5]])
    check(lambda x: x[tinygan.tensor(a) > 0.7], lambda a: a[a > 0.7], a)


@st.composite
def cat_inputs(draw, stacked: bool):
    base = draw(shapes(min_dims=1, max_dims=3, max_side=3))
    k = draw(st.integers(1, 3))
    if stacked:
        dim = draw(st.integers(-len(base) - 1, len(base)))
        return [draw(arrays(base)) for _ in range(k)], dim
    dim = draw(st.integers(-len(base), len(base) - 1))
    sizes = [draw(st.integers(1, 3)) for _ in range(k)]
    return [draw(arrays(base[:dim % len(base)] + (n,) + base[dim % len(base) + 1:])) for n in sizes], dim


@SETTINGS
@given(case=cat_inputs(stacked=False))
def test_cat(case):
    xs, dim = case
    check(lambda *ts: tinygan.cat(ts, dim), lambda *arrs: np.concatenate(arrs, dim), *xs)
    assert gradgradcheck(lambda *ts: tinygan.cat([t * t for t in ts], dim), [leaf(a) for a in xs])


@SETTINGS
@given(case=cat_inputs(stacked=True))
def test_stack(case):
    xs, dim = case
    check(lambda *ts: tinygan.stack(ts, dim), lambda *arrs: np.stack(arrs, dim), *xs)


@st.composite
def pads(draw, shape, reflect: bool = False):
    """A torch pad tuple (last dim first): (left, right, top, bottom, ...)."""
    k = draw(st.integers(1, len(shape)))
    return tuple(draw(st.integers(0, shape[-1 - i // 2] - 1 if reflect else 2)) for i in range(2 * k))


def numpy_widths(ndim, pad):
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return widths


@SETTINGS
@given(data=st.data(), a=arrays(shapes(min_dims=1, max_dims=3, max_side=3)), value=st.floats(-2, 2))
def test_pad_constant(data, a, value):
    p = data.draw(pads(a.shape))
    check(lambda x: S.pad(x, p, value=value),
          lambda a: np.pad(a, numpy_widths(a.ndim, p), constant_values=value), a)
    assert gradgradcheck(lambda x: S.pad(x * x, p, value=value), [leaf(a)])


@SETTINGS
@given(data=st.data(), a=arrays(shapes(min_dims=1, max_dims=3, max_side=4)))
def test_pad_reflect(data, a):
    p = data.draw(pads(a.shape, reflect=True))
    check(lambda x: S.pad(x, p, mode="reflect"), lambda a: np.pad(a, numpy_widths(a.ndim, p), mode="reflect"), a)


@st.composite
def signed_pads(draw, shape, reflect: bool = False):
    """A torch pad tuple whose entries may be negative (a crop), each dim keeping one entry or more."""
    pad = []
    for i in range(draw(st.integers(1, len(shape)))):
        n, most = shape[-1 - i], shape[-1 - i] - 1 if reflect else 2
        lo = draw(st.integers(-(n - 1), most))
        pad += [lo, draw(st.integers(-(n - 1 - max(-lo, 0)), most))]
    return tuple(pad)


def numpy_signed_pad(a, pad, **kwargs):
    """F.pad as PyTorch documents it: pad by the positive entries, then crop by the negative ones."""
    widths = numpy_widths(a.ndim, pad)
    out = np.pad(a, [(max(lo, 0), max(hi, 0)) for lo, hi in widths], **kwargs)
    return out[tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, out.shape))]


@SETTINGS
@given(data=st.data(), a=arrays(shapes(min_dims=1, max_dims=3, max_side=4)), value=st.floats(-2, 2))
def test_pad_with_negative_pads_crops(data, a, value):
    p = data.draw(signed_pads(a.shape))
    check(lambda x: S.pad(x, p, value=value), lambda a: numpy_signed_pad(a, p, constant_values=value), a)
    assert gradgradcheck(lambda x: S.pad(x * x, p, value=value), [leaf(a)])
    p = data.draw(signed_pads(a.shape, reflect=True))
    check(lambda x: S.pad(x, p, mode="reflect"), lambda a: numpy_signed_pad(a, p, mode="reflect"), a)


def test_pad_refuses_a_crop_past_the_dim():
    with pytest.raises(ValueError, match="negative size"):
        S.pad(tinygan.tensor(np.ones((2, 3))), (-2, -2))


def test_shape_errors():
    x = tinygan.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="reshape"):
        x.reshape(4, -1)
    with pytest.raises(ValueError, match="reshape"):
        x.reshape(-1, -1)
    with pytest.raises(ValueError, match="permute"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match="expand"):
        x.expand(2, 4)
    with pytest.raises(ValueError, match="cat"):
        tinygan.cat([x, tinygan.tensor(np.ones((3, 2)))], 0)
    with pytest.raises(ValueError, match="stack"):
        tinygan.stack([x, tinygan.tensor(np.ones((3, 2)))])
    with pytest.raises(ValueError, match="pad"):
        S.pad(x, (1,))
    with pytest.raises(ValueError, match="reflect"):
        S.pad(x, (3, 0), mode="reflect")
