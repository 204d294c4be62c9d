"""PyTorch's semantics at the edges (issue 9): each case against PyTorch's documented values.

Every case runs by value (the numbers below are PyTorch's) and, where torch is installed, against
torch itself. A case is one function of the library (``tinygan`` or ``torch``, same API) and its
float64 inputs, in the manner of tinygrad's ``test_ops.py``.
"""
import numpy as np
import pytest

import tinygan

INF, NAN = np.inf, np.nan
F = "nn.functional"


def fn(lib, path):
    """lib.nn.functional (path 'nn.functional') or lib itself (path '')."""
    for name in filter(None, path.split(".")):
        lib = getattr(lib, name)
    return lib


# name: (function of (lib, *inputs), inputs, PyTorch's value, PyTorch's gradients of value.sum())
SINGULAR = {
    "norm_of_a_zero_row": (lambda lib, x: x.norm(dim=1), [[[0.0, 0.0], [3.0, 4.0]]],
                           [0.0, 5.0], [[[0.0, 0.0], [0.6, 0.8]]]),
    "norm_of_zero": (lambda lib, x: x.norm(), [[0.0, 0.0, 0.0]], 0.0, [[0.0, 0.0, 0.0]]),
    "pow_0_at_0": (lambda lib, x: x ** 0, [[0.0, 2.0]], [1.0, 1.0], [[0.0, 0.0]]),
    "std_of_a_constant": (lambda lib, x: x.std(), [[2.0, 2.0, 2.0]], 0.0, [[0.0, 0.0, 0.0]]),
    "std_of_a_constant_row": (lambda lib, x: x.std(dim=1), [[[1.0, 1.0], [1.0, 3.0]]], [0.0, 2 ** 0.5],
                              [[[0.0, 0.0], [-(0.5 ** 0.5), 0.5 ** 0.5]]]),
    "var_of_a_constant": (lambda lib, x: x.var(), [[2.0, 2.0, 2.0]], 0.0, [[0.0, 0.0, 0.0]]),
    "logsumexp_of_a_minus_inf_row": (lambda lib, x: x.logsumexp(1), [[[-INF, -INF], [0.0, 0.0]]],
                                     [-INF, np.log(2.0)], [[[NAN, NAN], [0.5, 0.5]]]),
    "logsumexp_with_inf": (lambda lib, x: x.logsumexp(1), [[[INF, 0.0], [-INF, 0.0]]],
                           [INF, 0.0], [[[NAN, 0.0], [0.0, 1.0]]]),
    "logsumexp_of_a_0d_minus_inf": (lambda lib, x: x.logsumexp(0), [-INF], -INF, [NAN]),
    # x = 0 or 1: log clamped at -100, gradient (x - y) / max(x (1 - x), 1e-12)
    "bce_at_0_and_1": (lambda lib, x, y: fn(lib, F).binary_cross_entropy(x, y, reduction="none"),
                       [[0.0, 1.0, 0.0, 1.0, 0.5], [1.0, 0.0, 0.0, 1.0, 0.3]],
                       [100.0, 100.0, 0.0, 0.0, np.log(2.0)],
                       [[-1e12, 1e12, 0.0, 0.0, 0.8], [INF, -INF, INF, -INF, 0.0]]),
    # a Tensor exponent: negative bases with integer exponents; 0^0 = 1 with gradients 0
    "pow_tensor_negative_base": (lambda lib, x, y: x ** y, [[-2.0, -2.0, -3.0], [3.0, 2.0, 0.0]],
                                 [-8.0, 4.0, 1.0], [[12.0, -4.0, 0.0], [NAN, NAN, NAN]]),
    "pow_tensor_zero_base": (lambda lib, x, y: x ** y, [[0.0, 0.0, 0.0, 2.0], [0.0, 2.0, -1.0, 0.5]],
                             [1.0, 0.0, INF, 2 ** 0.5],
                             [[0.0, 0.0, -INF, 0.5 * 2 ** -0.5], [0.0, 0.0, -INF, 2 ** 0.5 * np.log(2.0)]]),
    # tensor bounds: each output's gradient goes to x or to the bound it equals (x at a tie)
    "clamp_tensor_bounds": (lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
                            [[[-2.0, 0.5, 3.0, 1.0], [0.7, 0.2, -1.0, 2.0]], [[-1.0], [0.6]], 1.0],
                            [[-1.0, 0.5, 1.0, 1.0], [0.7, 0.6, 0.6, 1.0]],
                            [[[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]], [[1.0], [2.0]], 2.0]),
    "clamp_tensor_min_only": (lambda lib, x, lo: lib.clamp(x, min=lo), [[1.0, 5.0], [2.0, 2.0]],
                              [2.0, 5.0], [[0.0, 1.0], [1.0, 0.0]]),
}


def run(lib, case):
    f, inputs, _, _ = case
    xs = [lib.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in inputs]
    y = f(lib, *xs)
    y.sum().backward()
    return y.detach().numpy(), [x.grad.numpy() for x in xs]


@pytest.mark.parametrize("name", list(SINGULAR))
def test_singular_points_by_value(name):
    with np.errstate(divide="ignore", invalid="ignore"):
        value, grads = run(tinygan, SINGULAR[name])
    _, _, expected_value, expected_grads = SINGULAR[name]
    np.testing.assert_allclose(value, expected_value, rtol=1e-12, err_msg=name)
    for i, (g, e) in enumerate(zip(grads, expected_grads)):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15, err_msg=f"{name}, input {i}")


@pytest.mark.parametrize("name", list(SINGULAR))
def test_singular_points_against_torch(name):
    torch = pytest.importorskip("torch")
    value, grads = run(torch, SINGULAR[name])
    with np.errstate(divide="ignore", invalid="ignore"):
        ours, our_grads = run(tinygan, SINGULAR[name])
    np.testing.assert_allclose(ours, value, rtol=1e-12, err_msg=name)
    for i, (g, e) in enumerate(zip(our_grads, grads)):  # (torch's BCE clamp 1e-12 is a float32 constant)
        np.testing.assert_allclose(g, e, rtol=1e-8, atol=1e-15, err_msg=f"{name}, input {i}")


# ---- dimensions --------------------------------------------------------------------------------
OUT_OF_RANGE = {  # on x of shape (2, 3, 4, 1): every dim argument outside [-4, 3] is an IndexError
    "squeeze": lambda lib, x: x.squeeze(50),
    "squeeze_negative": lambda lib, x: x.squeeze(-5),
    "squeeze_tuple": lambda lib, x: x.squeeze((0, 4)),
    "unsqueeze": lambda lib, x: x.unsqueeze(5),
    "transpose": lambda lib, x: x.transpose(0, 4),
    "permute": lambda lib, x: x.permute(0, 1, 2, 4),
    "flatten": lambda lib, x: x.flatten(1, 4),
    "sum": lambda lib, x: x.sum(4),
    "mean_tuple": lambda lib, x: x.mean((0, -5)),
    "max": lambda lib, x: x.max(4),
    "std": lambda lib, x: x.std(4),
    "norm": lambda lib, x: x.norm(dim=4),
    "logsumexp": lambda lib, x: x.logsumexp(-5),
    "softmax": lambda lib, x: fn(lib, F).softmax(x, 4),
    "cat": lambda lib, x: lib.cat([x, x], 4),
    "stack": lambda lib, x: lib.stack([x, x], 5),
    "unflatten": lambda lib, x: lib.nn.Unflatten(4, (1, 1))(x),
    "size": lambda lib, x: x.size(4),
    "unsqueeze_of_0d": lambda lib, x: x.sum().unsqueeze(1),
    "squeeze_of_0d": lambda lib, x: x.sum().squeeze(1),
}


@pytest.mark.parametrize("name", list(OUT_OF_RANGE))
def test_out_of_range_dims_raise_index_error(name):
    with pytest.raises(IndexError):
        OUT_OF_RANGE[name](tinygan, tinygan.zeros(2, 3, 4, 1))


@pytest.mark.parametrize("name", list(OUT_OF_RANGE))
def test_out_of_range_dims_against_torch(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(IndexError):
        OUT_OF_RANGE[name](torch, torch.zeros(2, 3, 4, 1))


SQUEEZE = [  # (input shape, dim, PyTorch's result shape)
    ((2, 3, 4, 1), 3, (2, 3, 4)), ((2, 3, 4, 1), -1, (2, 3, 4)), ((2, 3, 4, 1), 2, (2, 3, 4, 1)),
    ((1, 2, 1), (0, 2), (2,)), ((1, 2, 1), (0, 1), (2, 1)), ((1, 2, 1), (), (1, 2, 1)),
    ((1, 2, 1), None, (2,)), ((), 0, ()), ((), -1, ()), ((), (0,), ()), ((), None, ()),
]


@pytest.mark.parametrize("shape,dim,expected", SQUEEZE)
def test_squeeze_shapes(shape, dim, expected):
    x = tinygan.zeros(shape, requires_grad=True)
    y = x.squeeze() if dim is None else x.squeeze(dim)
    assert y.shape == expected
    (y * 2.0).sum().backward()
    assert x.grad.shape == shape


@pytest.mark.parametrize("shape,dim,expected", SQUEEZE)
def test_squeeze_shapes_against_torch(shape, dim, expected):
    torch = pytest.importorskip("torch")
    x = torch.zeros(shape)
    assert tuple((x.squeeze() if dim is None else x.squeeze(dim)).shape) == expected


def test_squeeze_with_a_repeated_dim_raises():
    with pytest.raises(RuntimeError, match="multiple times"):
        tinygan.zeros(1, 2, 1).squeeze((0, -3))


# ---- advanced indexing -----------------------------------------------------------------------------
# PyTorch applies integers first (each removes its dim), then index arrays: x[1, :, [0, 2]] is
# x[1][:, [0, 2]], of shape (3, 2); NumPy would give (2, 3), moving the array's dim to the front
# because a slice (or None) separates it from the integer.
INDEXING = {
    "int_slice_array": (lambda x, t: x[1, :, [0, 2]], lambda a: a[1][:, [0, 2]], (3, 2, 5)),
    "slice_int_slice_array": (lambda x, t: x[:, 1, :, [0, 2]], lambda a: a[:, 1][:, :, [0, 2]], (2, 4, 2)),
    "int_none_array": (lambda x, t: x[1, None, [0, 2]], lambda a: a[1][None][:, [0, 2]], (1, 2, 4, 5)),
    "tensor_int_slice_array": (lambda x, t: x[t.tensor(1), :, t.tensor([0, 2])], lambda a: a[1][:, [0, 2]],
                               (3, 2, 5)),
    "array_slice_int_array": (lambda x, t: x[[0, 1], :, 2, [1, 3]], lambda a: a[:, :, 2][[0, 1], :, [1, 3]],
                              (2, 3)),
    "adjacent_int_array": (lambda x, t: x[:, 1, [0, 2]], lambda a: a[:, 1, [0, 2]], (2, 2, 5)),
    "int_mask": (lambda x, t: x[1, t.tensor([True, False, True])], lambda a: a[1][[True, False, True]],
                 (2, 4, 5)),
}


@pytest.mark.parametrize("name", list(INDEXING))
def test_indexing_follows_pytorch(name):
    ours, reference, shape = INDEXING[name]
    a = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    x = tinygan.tensor(a, requires_grad=True)
    y = ours(x, tinygan)
    assert y.shape == shape
    np.testing.assert_array_equal(y.detach().numpy(), reference(a))
    y.backward(tinygan.tensor(np.arange(y.numel(), dtype=np.float64).reshape(shape)))
    expected = np.zeros(a.size)  # each gradient entry lands where its value (a flat index of a) came from
    expected[reference(a).ravel().astype(int)] = np.arange(y.numel())
    expected = expected.reshape(a.shape)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("name", list(INDEXING))
def test_indexing_against_torch(name):
    torch = pytest.importorskip("torch")
    ours, _, _ = INDEXING[name]
    a = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(ours(tinygan.tensor(a), tinygan).numpy(), ours(torch.tensor(a), torch).numpy())


# ---- dtype promotion -------------------------------------------------------------------------------
PROMOTION = {  # name: (expression of lib, PyTorch's result dtype)
    "int64_plus_float32": (lambda lib: lib.tensor([1, 2]) + lib.tensor([0.5, 1.5]), "float32"),
    "int64_times_float_number": (lambda lib: lib.tensor([1, 2]) * 2.5, "float32"),
    "int_div_int": (lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 2]), "float32"),
    "int_div_number": (lambda lib: lib.tensor([1, 3]) / 2, "float32"),
    "int_pow_float": (lambda lib: lib.tensor([1, 3]) ** 2.0, "float32"),
    "int_pow_int": (lambda lib: lib.tensor([1, 3]) ** 2, "int64"),
    "bool_plus_int": (lambda lib: lib.tensor([True, False]) + 1, "int64"),
    "float32_plus_0d_float64": (lambda lib: lib.tensor([1.0]) + lib.tensor(1.0, dtype=lib.float64), "float32"),
    "int64_plus_0d_float64": (lambda lib: lib.tensor([1]) + lib.tensor(1.0, dtype=lib.float64), "float64"),
    "float32_times_float64": (lambda lib: lib.tensor([1.0]) * lib.tensor([2.0], dtype=lib.float64), "float64"),
    "where_int_float": (lambda lib: lib.where(lib.tensor([True, False]), lib.tensor([1, 2]), lib.tensor([0.5, 1.5])),
                        "float32"),
    "pow_int_float_tensor": (lambda lib: lib.tensor([2, 3]) ** lib.tensor([0.5, 2.0]), "float32"),
}


@pytest.mark.parametrize("name", list(PROMOTION))
def test_dtype_promotion(name):
    expr, dtype = PROMOTION[name]
    assert str(expr(tinygan).dtype) == dtype


@pytest.mark.parametrize("name", list(PROMOTION))
def test_dtype_promotion_against_torch(name):
    torch = pytest.importorskip("torch")
    expr, dtype = PROMOTION[name]
    assert str(expr(torch).dtype) == "torch." + dtype
    np.testing.assert_allclose(expr(tinygan).numpy(), expr(torch).numpy())


def widen(lib):
    """A user's Function: y = x as float64, whose backward returns the float64 g as it is."""
    if lib is tinygan:
        class Widen(tinygan.Function):
            def forward(self, x):
                return x.astype(np.float64)

            def backward(self, g):
                return g
        return Widen.apply

    class TorchWiden(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.double()

        @staticmethod
        def backward(ctx, g):
            return g
    return TorchWiden.apply


def leaf_grads(lib):
    """The .grad dtypes of float32 leaves mixed with float64 (a tensor, a backward gradient, and a
    Function whose backward returns float64: the engine casts each gradient to its input's dtype)."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    (x * lib.tensor([3.0, 4.0], dtype=lib.float64)).sum().backward()
    y = lib.tensor([1.0, 2.0], requires_grad=True)
    (y * 2.0).backward(lib.tensor([1.0, 1.0], dtype=lib.float64))
    z = lib.tensor([1.0, 2.0], requires_grad=True)
    (widen(lib)(z) * 3.0).sum().backward()
    return x.grad, y.grad, z.grad


def test_a_leaf_grad_has_the_leaf_dtype():
    gx, gy, gz = leaf_grads(tinygan)
    assert gx.dtype == gy.dtype == gz.dtype == np.float32
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(gy.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(gz.numpy(), [3.0, 3.0])


def test_a_leaf_grad_has_the_leaf_dtype_against_torch():
    torch = pytest.importorskip("torch")
    assert all(g.dtype == torch.float32 for g in leaf_grads(torch))


MIXED = {  # float32 parameters fed float64: PyTorch raises (a RuntimeError) instead of promoting
    "linear_module": lambda lib: lib.nn.Linear(2, 3)(lib.ones(4, 2, dtype=lib.float64)),
    "linear": lambda lib: fn(lib, F).linear(lib.ones(4, 2), lib.ones(3, 2, dtype=lib.float64)),
    "matmul": lambda lib: lib.ones(2, 2) @ lib.ones(2, 2, dtype=lib.float64),
    "conv2d": lambda lib: lib.nn.Conv2d(1, 2, 3)(lib.ones(1, 1, 5, 5, dtype=lib.float64)),
}


@pytest.mark.parametrize("name", list(MIXED))
def test_float32_layers_refuse_float64_input(name):
    with pytest.raises(RuntimeError, match="dtype"):
        MIXED[name](tinygan)


@pytest.mark.parametrize("name", list(MIXED))
def test_float32_layers_refuse_float64_input_against_torch(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        MIXED[name](torch)


# ---- misuse PyTorch refuses ------------------------------------------------------------------------
@pytest.mark.parametrize("lib_name", ["tinygan", "torch"])
def test_numpy_asarray_refuses_a_tensor_that_requires_grad(lib_name):
    lib = tinygan if lib_name == "tinygan" else pytest.importorskip("torch")
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(x)
    a = np.asarray(x.detach())
    assert a.dtype == np.float32 and a.tolist() == [1.0, 2.0]
    assert np.asarray(x.detach(), dtype=np.float64).dtype == np.float64
    y = np.float64(3.0) - x  # NumPy on the left still defers to the tensor
    assert isinstance(y, type(x)) and y.requires_grad
