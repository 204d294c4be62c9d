"""Tensor creation and conversion: dtype rules, factories, seeding, and the error messages."""
import numpy as np
import pytest

import tinygan
from tinygan import backend
from tinygan.ops.matmul import linear


# ---------------------------------------------------------------- tinygan.tensor
@pytest.mark.parametrize("data,dtype", [
    (1.5, np.float32),                        # Python floats -> float32, as torch
    ([1.0, 2.5], np.float32),
    ([[1, 2.0]], np.float32),                 # mixed ints and floats
    (3, np.int64),                            # Python ints -> int64
    ([1, 2, 3], np.int64),
    (True, np.bool_),
    (np.array([1.0, 2.0]), np.float64),       # NumPy keeps its dtype
    (np.float64(2.0), np.float64),
    (np.array([1.0], dtype=np.float32), np.float32),
    (np.array([1, 2], dtype=np.int32), np.int32),
])
def test_tensor_dtype_rules(data, dtype):
    t = tinygan.tensor(data)
    assert t.dtype == dtype and t.shape == np.shape(data)
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))


def test_tensor_copies_and_takes_dtype_and_requires_grad():
    a = np.array([1.0, 2.0])
    t = tinygan.tensor(a, dtype=np.float32, requires_grad=True)
    a[0] = 100.0
    assert t.dtype == np.float32 and t.requires_grad and t.is_leaf and t.detach().numpy()[0] == 1.0
    assert tinygan.tensor(t).dtype == np.float32  # from a Tensor
    with pytest.raises(TypeError, match="floating point"):
        tinygan.tensor([1, 2], requires_grad=True)


# ---------------------------------------------------------------- factories
@pytest.mark.parametrize("factory,value", [(tinygan.zeros, 0.0), (tinygan.ones, 1.0)])
def test_zeros_ones(factory, value):
    for t in (factory(2, 3), factory((2, 3)), factory([2, 3])):
        assert t.shape == (2, 3) and t.dtype == np.float32 and not t.requires_grad
        assert (t.numpy() == value).all()
    assert factory(4).shape == (4,) and factory(()).shape == ()
    t = factory(2, dtype=np.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad and t.device == "cpu"
    assert factory(3, dtype="int64").dtype == np.int64


def test_full():
    t = tinygan.full((2, 3), 1.5)
    assert t.shape == (2, 3) and t.dtype == np.float32 and (t.numpy() == 1.5).all()
    assert tinygan.full(4, 2.0, dtype=np.float64, requires_grad=True).requires_grad
    assert tinygan.full((2,), 7).dtype == np.int64  # dtype from the fill value, as torch.full
    assert tinygan.full((2,), True).dtype == np.bool_


@pytest.mark.parametrize("factory", [tinygan.randn, tinygan.rand])
def test_random_factories_shapes_and_seeding(factory):
    for t in (factory(3, 4), factory((3, 4))):
        assert t.shape == (3, 4) and t.dtype == np.float32
    assert factory(2, dtype=np.float64, requires_grad=True).requires_grad
    tinygan.manual_seed(123)
    a = factory(5, dtype=np.float64)
    b = factory(5, dtype=np.float64)
    tinygan.manual_seed(123)
    np.testing.assert_array_equal(factory(5, dtype=np.float64).numpy(), a.numpy())
    np.testing.assert_array_equal(factory(5, dtype=np.float64).numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), b.numpy())
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    np.testing.assert_array_equal(factory(3, generator=g1).numpy(), factory(3, generator=g2).numpy())


def test_rand_and_randn_distributions():
    tinygan.manual_seed(0)
    u, z = tinygan.rand(20000).numpy(), tinygan.randn(20000).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03


def test_arange():
    assert tinygan.arange(5).tolist() == [0, 1, 2, 3, 4] and tinygan.arange(5).dtype == np.int64
    assert tinygan.arange(1, 7, 2).tolist() == [1, 3, 5]
    t = tinygan.arange(0.0, 1.0, 0.25)
    assert t.dtype == np.float32 and t.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert tinygan.arange(3, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("factory,value", [(tinygan.zeros_like, 0.0), (tinygan.ones_like, 1.0)])
def test_like_factories(factory, value):
    src = tinygan.tensor(np.full((2, 3), 7.0), requires_grad=True)
    t = factory(src)
    assert t.shape == (2, 3) and t.dtype == np.float64 and not t.requires_grad and (t.numpy() == value).all()
    assert factory(src, dtype=np.float32).dtype == np.float32
    assert factory(src, dtype=np.dtype("float32")).dtype == np.float32
    assert factory(src, requires_grad=True).requires_grad


# ---------------------------------------------------------------- conversion and properties
def test_item_numpy_detach_shape_dtype_device():
    t = tinygan.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    assert t.shape == (1, 3) and t.dtype == np.float64 and t.device == "cpu" and t.ndim == 2 and t.numel() == 3
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    d = t.detach()
    assert isinstance(d.numpy(), np.ndarray) and not d.requires_grad
    assert t.sum().item() == 6.0 and isinstance(t.sum().item(), float)
    with pytest.raises(ValueError, match="one element"):
        t.item()
    assert float(t[0, 1]) == 2.0 and int(t[0, 2]) == 3


def test_dtype_conversions_are_differentiable():
    x = tinygan.tensor(np.array([1.5, -2.0], dtype=np.float32), requires_grad=True)
    assert x.to(np.float64).dtype == np.float64 and x.double().dtype == np.float64
    assert x.double().float().dtype == np.float32
    assert x.float() is x and x.to("cpu") is x
    (x.to(np.float64) * 2).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 2.0]
    assert tinygan.tensor([1.7]).long().dtype == np.int64


@pytest.mark.skipif(backend.cuda_is_available(), reason="checks the message shown without a GPU")
def test_cuda_without_cupy_or_gpu_says_how_to_install():
    x = tinygan.ones(2)
    for move in (lambda: x.to("cuda"), x.cuda, lambda: tinygan.zeros(2, device="cuda")):
        with pytest.raises(RuntimeError, match=r"pip install -e \.\[cuda12\]"):
            move()


def test_unknown_device_is_rejected():
    with pytest.raises(ValueError, match="unknown device"):
        tinygan.ones(2).to("tpu")


# ---------------------------------------------------------------- shape errors name the op
@pytest.mark.parametrize("op,name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"), (lambda a, b: a * b, "mul"),
    (lambda a, b: a / b, "div"),
])
def test_broadcast_mismatch_names_the_op_and_both_shapes(op, name):
    with pytest.raises(ValueError, match=rf"{name}.*\(2, 3\).*\(4,\)"):
        op(tinygan.zeros(2, 3), tinygan.zeros(4))
    with pytest.raises(ValueError, match=rf"{name}.*\(4,\).*\(2, 3\)"):
        op(tinygan.zeros(4), tinygan.zeros(2, 3))


def test_where_mismatch_names_the_op():
    with pytest.raises(ValueError, match=r"where.*\(2,\).*\(3,\)"):
        tinygan.where(np.array([True, False]), tinygan.zeros(3), 0.0)


def test_matmul_mismatch_names_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        tinygan.zeros(2, 3) @ tinygan.zeros(4, 5)
    with pytest.raises(ValueError, match=r"matmul.*\(3,\).*\(4,\)"):
        tinygan.matmul(tinygan.zeros(3), tinygan.zeros(4))
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3, 4\).*\(3, 4, 5\)"):
        tinygan.zeros(2, 3, 4) @ tinygan.zeros(3, 4, 5)  # batch dims 2 and 3 do not broadcast
    with pytest.raises(ValueError, match="matmul"):
        tinygan.zeros(()) @ tinygan.zeros(3)


def test_linear_mismatch_names_the_op():
    with pytest.raises(ValueError, match=r"linear.*\(2, 3\).*\(4, 5\)"):
        linear(tinygan.zeros(2, 3), tinygan.zeros(4, 5))
    with pytest.raises(ValueError, match="linear.*bias"):
        linear(tinygan.zeros(2, 5), tinygan.zeros(4, 5), tinygan.zeros(5))
