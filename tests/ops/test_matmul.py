"""matmul and linear: values against NumPy, gradients against finite differences (float64).

Shapes come from NumPy's gufunc signature of matmul, ``(n?,k),(k,m?)->(n?,m?)``: 1-D operands
on either side, and batch dims that broadcast ((2, 1, 3, 4) @ (5, 4, 2) -> (2, 5, 3, 2)).
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import FEW, SETTINGS, arrays, leaf

import tinygan
from tinygan.gradcheck import gradcheck, gradgradcheck
from tinygan.ops.matmul import linear

MATMUL_SHAPES = hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2, max_side=3)


@SETTINGS
@given(data=st.data(), shapes=MATMUL_SHAPES,
       op=st.sampled_from([lambda a, b: a @ b, tinygan.matmul, lambda a, b: a.matmul(b)]))
def test_matmul(data, shapes, op):
    (sa, sb), result = shapes.input_shapes, shapes.result_shape
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    out = op(tinygan.tensor(a), tinygan.tensor(b))
    assert out.shape == result
    np.testing.assert_allclose(out.numpy(), np.matmul(a, b), rtol=1e-12, atol=1e-12)
    assert gradcheck(op, [leaf(a), leaf(b)])
    assert gradcheck(lambda x: op(x, tinygan.tensor(b)), [leaf(a)])  # one operand constant
    assert gradcheck(lambda y: op(tinygan.tensor(a), y), [leaf(b)])


@FEW
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=1,
                                                                 max_side=3))
def test_matmul_gradgrad(data, shapes):
    sa, sb = shapes.input_shapes
    assert gradgradcheck(tinygan.matmul, [leaf(data.draw(arrays(sa))), leaf(data.draw(arrays(sb)))])


@SETTINGS
@given(data=st.data(), lead=st.lists(st.integers(1, 3), max_size=2), n_in=st.integers(1, 3),
       n_out=st.integers(1, 3), with_bias=st.booleans())
def test_linear(data, lead, n_in, n_out, with_bias):
    x, w, b = data.draw(arrays((*lead, n_in))), data.draw(arrays((n_out, n_in))), data.draw(arrays((n_out,)))
    expected = x @ w.T + (b if with_bias else 0)
    op = (lambda x, w, b: linear(x, w, b)) if with_bias else (lambda x, w: linear(x, w))
    inputs = [x, w, b] if with_bias else [x, w]
    np.testing.assert_allclose(op(*[tinygan.tensor(a) for a in inputs]).numpy(), expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(op, [leaf(a) for a in inputs])


@FEW
@given(data=st.data())
def test_linear_gradgrad(data):
    x, w, b = data.draw(arrays((2, 3))), data.draw(arrays((2, 3))), data.draw(arrays((2,)))
    assert gradgradcheck(lambda x, w, b: linear(x, w, b).tanh(), [leaf(x), leaf(w), leaf(b)])


def test_matmul_float32_stays_float32():
    a = tinygan.randn(3, 4)
    assert (a @ tinygan.randn(4, 2)).dtype == np.float32
