"""tinygan.gradcheck: it passes correct gradients and catches wrong ones, with a useful report."""
import ast
import re

import numpy as np
import pytest

import tinygan
from tinygan import Function, Tensor
from tinygan.gradcheck import GradcheckError, gradcheck, gradgradcheck


def leaf(values) -> Tensor:
    return tinygan.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# y = x^2, with a backward that is wrong by a factor 3/2
# vjp (wrong): g * 3x
class WrongSquare(Function):
    def forward(self, x):
        return x * x

    def backward(self, g):
        return g * (3.0 * self.parents[0])


# y = x^2, with a backward that is right but built from a constant: its own derivative is lost
# vjp: g * 2x, with x cut from the graph
class ConstantBackwardSquare(Function):
    def forward(self, x):
        return x * x

    def backward(self, g):
        return g * Tensor(2.0 * self.parents[0].data)


# y = a * b, with no gradient for b
# vjp (wrong): (g * b, nothing)
class ForgetfulMul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, g):
        return g * self.parents[1], None


def test_gradcheck_passes_correct_gradients():
    x, y = leaf([[0.5, -1.0], [2.0, 0.3]]), leaf([1.5, -0.7])
    assert gradcheck(lambda x, y: (x * y).tanh().sum(0) / y.exp(), [x, y])
    assert gradcheck(lambda x, y: (x @ y, x.sigmoid()), [x, y])  # several outputs
    assert gradcheck(lambda x, c: x * c, [x, tinygan.tensor(np.ones((2, 2)))])  # a constant input
    assert gradcheck(lambda x, c: x * c, [x, 3.0])  # a non-tensor input


def test_gradgradcheck_passes_correct_second_derivatives():
    x, y = leaf([[0.5, -1.0], [2.0, 0.3]]), leaf([1.5, -0.7])
    assert gradgradcheck(lambda x, y: (x * y).tanh() * y.exp(), [x, y])
    assert gradgradcheck(lambda x: x.sigmoid().log(), [x])


def parse(message: str):
    m = re.search(r"input (\d+) \(shape (.*?)\) is wrong at index (\(.*?\)): analytic (\S+), numeric (\S+) ",
                  message)
    assert m, message
    return int(m[1]), m[2], ast.literal_eval(m[3]), float(m[4].rstrip(",")), float(m[5])


def test_gradcheck_raises_on_a_wrong_backward_and_names_input_index_and_values():
    x, y = leaf([0.5, 1.0, -2.0]), leaf([1.5, 2.0, 3.0])
    with pytest.raises(GradcheckError) as err:
        gradcheck(lambda x, y: x.exp() + WrongSquare.apply(y), [x, y])
    i, shape, index, analytic, numeric = parse(str(err.value))
    assert i == 1 and shape == "(3,)" and index in {(0,), (1,), (2,)}
    assert analytic == pytest.approx(1.5 * numeric, rel=1e-4)  # 3y against the true 2y
    assert isinstance(err.value, AssertionError)  # so a failed check reads as a failed test
    assert gradcheck(lambda x, y: x.exp() + WrongSquare.apply(y), [x, y], raise_exception=False) is False


def test_gradcheck_catches_a_missing_gradient():
    with pytest.raises(GradcheckError, match=r"input 1 .*analytic 0, numeric"):
        gradcheck(ForgetfulMul.apply, [leaf([1.0, 2.0]), leaf([3.0, -4.0])])


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    x = leaf([0.5, -1.5])
    assert gradcheck(ConstantBackwardSquare.apply, [x])  # the first derivative is right ...
    with pytest.raises(GradcheckError, match=r"input 0 .*index \(\d,\).*analytic .*numeric"):
        gradgradcheck(ConstantBackwardSquare.apply, [x])  # ... the second is not


def test_gradcheck_leaves_the_inputs_as_they_were():
    a = np.array([[0.5, -1.0], [2.0, 0.3]])
    x = leaf(a)
    gradcheck(lambda x: x.exp(), [x])
    np.testing.assert_array_equal(x.detach().numpy(), a)


def test_gradcheck_perturbs_non_contiguous_inputs():
    x = tinygan.tensor(np.arange(6.0).reshape(2, 3).T, requires_grad=True)  # Fortran-ordered copy
    assert not x.data.flags["C_CONTIGUOUS"]
    assert gradcheck(lambda x: x * x, [x])


def test_gradcheck_needs_float64_inputs_that_require_grad():
    with pytest.raises(ValueError, match="input 0.*float32.*float64"):
        gradcheck(lambda x: x * x, [tinygan.tensor([1.0, 2.0], requires_grad=True)])
    with pytest.raises(ValueError, match="float64"):
        gradgradcheck(lambda x: x * x, [tinygan.tensor([1.0, 2.0], requires_grad=True)])
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda x: x * x, [tinygan.tensor(np.array([1.0, 2.0]))])
