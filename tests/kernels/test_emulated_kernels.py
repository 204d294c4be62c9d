"""tinygan's CUDA kernels run on CPU threads (tests/kernels/emu) and checked against NumPy: no GPU needed.

Every test calls the real wrapper (tinygan.kernels.gemm, conv, norm, elementwise, random) with
``tinygan.backend.cupy()`` patched to return ``Device``, a NumPy stand-in for CuPy, and the wrappers'
``get_kernel`` patched to return the emulated kernels: the same Python and the same .cu text as on a
GPU, only the executor differs. Device memory is modelled a little: every allocation is filled with
0xFF bytes (NaN for floats, as cp.empty holds garbage) and sits between 256-byte guard zones of
random bytes, checked after every launch; so a kernel that skips an element of its output, reads
outside an input (garbage) or writes outside an output fails here.
"""
import math
import shutil
import weakref

import numpy as np
import pytest
from emu import get_kernel as emulated_kernel
from hypothesis import example, given, settings
from hypothesis import strategies as st
from reference import (
    adam_ref,
    conv_geometries,
    norm_backward_ref,
    norm_forward_ref,
)
from tinygan.kernels import conv as conv_kernels
from tinygan.kernels import elementwise as elementwise_kernels
from tinygan.kernels import gemm as gemm_kernels
from tinygan.kernels import norm as norm_kernels
from tinygan.kernels import random as random_kernels

from tinygan import backend
from tinygan.ops.dispatch import _col2im_strided, _im2col_strided

pytestmark = pytest.mark.skipif(shutil.which("g++") is None,
                                reason="g++ not on PATH: the CUDA emulator compiles the kernels with it")

WRAPPERS = (gemm_kernels, conv_kernels, norm_kernels, elementwise_kernels, random_kernels)
GUARD = 256      # bytes of guard zone on each side of an allocation (CuPy aligns to 256 bytes)
POISON = 0xFF    # every byte of fresh memory: a float32 NaN, an integer -1


class DeviceArray(np.ndarray):
    """A NumPy array posing as a CuPy array: ``get()`` copies it to the host."""

    def get(self) -> np.ndarray:
        return np.array(self)


class Device:
    """NumPy in CuPy's place, with poisoned, guarded allocations (see the module docstring).

    The wrappers use only cp.ndarray, float32/uint32, empty, empty_like, zeros, full and
    ascontiguousarray, and the array methods get() (random.py) and fill/reshape/sum.
    """

    __name__ = "emulated-cupy"    # norm.py keys its cached constants by the array module's name
    ndarray = DeviceArray

    def __init__(self):
        self._allocations = []    # (weak reference to the raw buffer, start, nbytes, its guard bytes)
        self._rng = np.random.default_rng(0)

    def __getattr__(self, name):  # dtypes and anything else: NumPy's
        return getattr(np, name)

    def empty(self, shape, dtype=float) -> DeviceArray:
        shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        # Random guard bytes, different for every allocation: a kernel copying one array's guard
        # into another's (NaN * 1 keeps a NaN's bits) cannot go unseen.
        raw = self._rng.integers(0, 256, nbytes + 3 * GUARD, dtype=np.uint8)
        start = GUARD + (-raw.ctypes.data) % GUARD          # 256-byte aligned, a full guard in front
        raw[start:start + nbytes] = POISON
        guards = np.concatenate([raw[:start], raw[start + nbytes:]])
        self._allocations.append((weakref.ref(raw), start, nbytes, guards))
        return raw[start:start + nbytes].view(dtype).reshape(shape).view(DeviceArray)

    def empty_like(self, a, dtype=None) -> DeviceArray:
        return self.empty(a.shape, a.dtype if dtype is None else dtype)

    def zeros(self, shape, dtype=float) -> DeviceArray:
        return self.full(shape, 0, dtype)

    def full(self, shape, fill_value, dtype=None) -> DeviceArray:
        out = self.empty(shape, np.asarray(fill_value).dtype if dtype is None else dtype)
        out[...] = fill_value
        return out

    def asarray(self, a, dtype=None) -> DeviceArray:
        """A host-to-device copy."""
        a = np.asarray(a, dtype=dtype)
        out = self.empty(a.shape, a.dtype)
        out[...] = a
        return out

    def ascontiguousarray(self, a, dtype=None) -> DeviceArray:
        if isinstance(a, DeviceArray) and a.flags.c_contiguous and (dtype is None or a.dtype == dtype):
            return a
        return self.asarray(a, dtype)

    def check_guards(self, kernel: str) -> None:
        """Raise if a guard zone of a live allocation was written."""
        self._allocations = [a for a in self._allocations if a[0]() is not None]
        for ref, start, nbytes, guards in self._allocations:
            raw = ref()
            if raw is not None and not np.array_equal(np.r_[raw[:start], raw[start + nbytes:]], guards):
                raise AssertionError(f"{kernel} wrote outside an allocation of {nbytes} bytes")


@pytest.fixture(scope="module")
def cp():
    """The wrappers run on the emulator for the tests of this module."""
    device = Device()

    def get_kernel(family, name):
        kernel = emulated_kernel(family, name)

        def launch(grid, block, args, **kwargs):
            kernel(grid, block, args, **kwargs)
            device.check_guards(f"{family}.{name}")
        return launch

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backend, "cupy", lambda: device)
        for module in WRAPPERS:
            mp.setattr(module, "get_kernel", get_kernel)
        yield device


def randn(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# --- the emulator itself ------------------------------------------------------------------------

def _adam_args(p, g, m, v, n):
    """adam_update's arguments (p, g, m, v, int n, then 7 floats: lr, beta1, beta2, eps, weight_decay, bc1, bc2)."""
    floats = (1e-2, 0.5, 0.999, 1e-8, 0.0, 0.5, 1e-3)
    return (p, g, m, v, np.int32(n), *map(np.float32, floats))


def test_emulated_kernels_check_their_arguments(cp):
    """Arguments a GPU launch would misread are refused: wrong scalar width, dtype, layout, count."""
    kernel = emulated_kernel("elementwise", "adam_update")
    a = cp.zeros(8, np.float32)
    args = _adam_args(a, a, a, a, 8)
    kernel((1,), (32,), args)
    with pytest.raises(TypeError, match="Python int"):       # CuPy would pass int64 for `int n`
        kernel((1,), (32,), (*args[:4], 8, *args[5:]))
    with pytest.raises(TypeError, match="float32"):
        kernel((1,), (32,), (*args[:5], np.float64(1e-2), *args[6:]))
    with pytest.raises(TypeError, match="float32 array"):
        kernel((1,), (32,), (a.astype(np.float64), *args[1:]))
    with pytest.raises(ValueError, match="contiguous"):
        kernel((1,), (32,), _adam_args(a[::2], a[:4], a[:4], a[:4], 4))
    with pytest.raises(TypeError, match="takes 12 arguments"):
        kernel((1,), (32,), args[:-1])
    with pytest.raises(ValueError, match="limits"):
        kernel((1,), (2048,), args)


def test_writes_outside_an_allocation_are_caught(cp):
    """The guard zones work: a launch told n is larger than its arrays fails the test."""
    p, g, m, v = (cp.asarray(np.ones(8, np.float32)) for _ in range(4))
    launch = elementwise_kernels.get_kernel("elementwise", "adam_update")
    with pytest.raises(AssertionError, match="wrote outside"):
        launch((1,), (32,), _adam_args(p, g, m, v, 12))


# --- gemm ---------------------------------------------------------------------------------------
# Tiles are 128 x 128 with k steps of 8: sizes 1, just below and above 128, and K not a multiple of 8.
GEMM_SIZES = [(1, 1, 1), (7, 33, 17), (129, 130, 9), (33, 257, 1), (130, 7, 64), (128, 128, 8),
              (1, 129, 33), (257, 131, 23), (65, 70, 133)]


def sgemm_ref(a, b, trans_a, trans_b):
    return (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b).astype(np.float64)


@pytest.mark.parametrize("M,N,K", GEMM_SIZES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (-1.5, 0.5)])
def test_sgemm(cp, M, N, K, trans_a, trans_b, alpha, beta):
    rng = np.random.default_rng(M * 1000 + N + K)
    a = randn(rng, *((K, M) if trans_a else (M, K)))
    b = randn(rng, *((N, K) if trans_b else (K, N)))
    c = randn(rng, M, N) if beta else np.full((M, N), np.nan, np.float32)   # beta = 0: C is never read
    out = cp.asarray(c)
    gemm_kernels.sgemm(cp.asarray(a), cp.asarray(b), trans_a, trans_b, alpha, beta, out=out)
    expect = alpha * sgemm_ref(a, b, trans_a, trans_b) + (beta * c if beta else 0)
    np.testing.assert_allclose(out.get(), expect, rtol=1e-4, atol=1e-4 * np.sqrt(K))


@settings(deadline=None, max_examples=25)
@given(st.tuples(st.integers(1, 270) | st.sampled_from([1, 127, 128, 129, 257]),
                 st.integers(1, 270) | st.sampled_from([1, 127, 128, 129, 257]),
                 st.integers(1, 140) | st.sampled_from([1, 7, 8, 9])),
       st.booleans(), st.booleans(), st.integers(0, 2**32 - 1))
def test_sgemm_random_sizes(cp, sizes, trans_a, trans_b, seed):
    (M, N, K), rng = sizes, np.random.default_rng(seed)
    a = randn(rng, *((K, M) if trans_a else (M, K)))
    b = randn(rng, *((N, K) if trans_b else (K, N)))
    out = gemm_kernels.sgemm(cp.asarray(a), cp.asarray(b), trans_a, trans_b)
    expect = sgemm_ref(a, b, trans_a, trans_b)
    np.testing.assert_allclose(out.get(), expect, rtol=1e-4, atol=1e-4 * np.sqrt(K))


@pytest.mark.parametrize("trans_b", [False, True])
def test_sgemm_unaligned_operands(cp, trans_b):
    """Pointers off a 16-byte boundary take the one-float-at-a-time loads and stores."""
    M, N, K = 37, 131, 20
    rng = np.random.default_rng(3)
    a = cp.asarray(randn(rng, M * K + 1))[1:].reshape(M, K)
    b = cp.asarray(randn(rng, N * K + 1))[1:].reshape((N, K) if trans_b else (K, N))
    c = randn(rng, M, N)
    out = cp.asarray(np.concatenate([[0], c.ravel()]).astype(np.float32))[1:].reshape(M, N)
    gemm_kernels.sgemm(a, b, trans_b=trans_b, alpha=2.0, beta=-1.0, out=out)
    expect = 2 * sgemm_ref(a.get(), b.get(), False, trans_b) - c
    np.testing.assert_allclose(out.get(), expect, rtol=1e-4, atol=1e-3)


# --- im2col / col2im ----------------------------------------------------------------------------

@settings(deadline=None, max_examples=40)
@given(conv_geometries(max_n=3, max_c=4, max_hw=9), st.integers(0, 2**32 - 1))
def test_im2col_col2im(cp, geometry, seed):
    x_shape, *conv = geometry                      # conv = kernel_size, stride, padding, dilation
    rng = np.random.default_rng(seed)
    x = randn(rng, *x_shape)
    cols = conv_kernels.im2col(cp.asarray(x), *conv).get()
    np.testing.assert_array_equal(cols, _im2col_strided(x, *conv))
    c = randn(rng, *cols.shape)
    xc = conv_kernels.col2im(cp.asarray(c), x_shape, *conv).get()
    np.testing.assert_allclose(xc, _col2im_strided(c, x_shape, *conv), rtol=1e-5, atol=1e-5)
    # adjoint: <im2col(x), c> == <x, col2im(c)>
    np.testing.assert_allclose(np.vdot(cols.astype(np.float64), c), np.vdot(x.astype(np.float64), xc),
                               rtol=1e-5, atol=1e-5)


# --- norm ---------------------------------------------------------------------------------------

@st.composite
def norm_shapes(draw):
    """(N, C, *spatial) with 0 to 2 spatial axes; batch groups of up to 4*81 = 324 > 256 threads."""
    return (draw(st.integers(1, 4)), draw(st.integers(1, 4)),
            *draw(st.lists(st.integers(1, 9), max_size=2)))


@settings(deadline=None, max_examples=30)
@given(norm_shapes(), st.sampled_from(["batch", "instance"]), st.booleans(), st.integers(0, 2**32 - 1))
@example(shape=(3, 2, 10, 11), mode="batch", affine=True, seed=0)     # groups of 330 and 300 elements:
@example(shape=(2, 3, 300), mode="instance", affine=True, seed=1)    # every warp of the block holds data
def test_norm_forward_backward(cp, shape, mode, affine, seed):
    rng = np.random.default_rng(seed)
    C, eps = shape[1], 1e-5
    x, dy = 3 + 2 * randn(rng, *shape), randn(rng, *shape)
    gamma, beta = (randn(rng, C), randn(rng, C)) if affine else (np.ones(C), np.zeros(C))
    g_cp, b_cp = (cp.asarray(gamma), cp.asarray(beta)) if affine else (None, None)

    y, mean, rstd = norm_kernels.norm_forward(cp.asarray(x), g_cp, b_cp, eps, mode)
    y_ref, mean_ref, rstd_ref = norm_forward_ref(x, gamma, beta, eps, mode)
    np.testing.assert_allclose(mean.get(), mean_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rstd.get(), rstd_ref, rtol=1e-4)
    np.testing.assert_allclose(y.get(), y_ref, rtol=1e-4, atol=1e-4 * max(1.0, rstd_ref.max()))

    dx, dgamma, dbeta = norm_kernels.norm_backward(cp.asarray(dy), cp.asarray(x), mean, rstd, g_cp, mode)
    dx_ref, dgamma_ref, dbeta_ref = norm_backward_ref(dy, x, gamma, eps, mode)
    # rounding errors in x - mean are scaled by rstd, large for groups of nearly equal values
    np.testing.assert_allclose(dx.get(), dx_ref, rtol=1e-3, atol=1e-4 * max(1.0, rstd_ref.max()))
    if affine:
        np.testing.assert_allclose(dgamma.get(), dgamma_ref, rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(dbeta.get(), dbeta_ref, rtol=1e-4, atol=1e-3)
    else:
        assert dgamma is None and dbeta is None


# --- Adam ---------------------------------------------------------------------------------------

ADAM = {"lr": 1e-2, "beta1": 0.5, "beta2": 0.999, "eps": 1e-8}
# What the kernels compute with: float32(0.999) = 0.99900001287, so 1 - beta2 is 1.3e-5 (relative)
# off 0.001, more than rtol on v; the reference gets the same rounded values.
ADAM_F32 = {name: float(np.float32(value)) for name, value in ADAM.items()}


@settings(deadline=None, max_examples=10)
@given(st.lists(st.integers(1, 20), min_size=1, max_size=3), st.sampled_from([0.0, 0.01]),
       st.integers(0, 2**32 - 1))
def test_adam_update(cp, shape, weight_decay, seed):
    rng = np.random.default_rng(seed)
    p = randn(rng, *shape)
    p_cp, m_cp, v_cp = cp.asarray(p), cp.zeros(p.shape, np.float32), cp.zeros(p.shape, np.float32)
    p_ref, m_ref, v_ref = p.astype(np.float64), np.zeros(p.shape), np.zeros(p.shape)
    for step in (1, 2, 3):
        g = randn(rng, *shape)
        elementwise_kernels.adam_update(p_cp, cp.asarray(g), m_cp, v_cp, step=step, weight_decay=weight_decay,
                                        **ADAM)
        p_ref, m_ref, v_ref = adam_ref(p_ref, g, m_ref, v_ref, step=step, weight_decay=weight_decay,
                                       **ADAM_F32)
    np.testing.assert_allclose(m_cp.get(), m_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v_cp.get(), v_ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(p_cp.get(), p_ref, rtol=1e-5, atol=1e-5)


def test_step_increment(cp):
    step = cp.zeros(1, np.float32)
    for t in (1, 2, 3):
        elementwise_kernels.step_increment(step)
        assert step.get()[0] == t


@settings(deadline=None, max_examples=10)
@given(st.lists(st.integers(1, 20), min_size=1, max_size=3), st.sampled_from([0.0, 0.01]),
       st.integers(0, 2**32 - 1))
def test_adam_update_capturable(cp, shape, weight_decay, seed):
    """The step count lives on the device; the kernel makes the bias corrections 1 - beta^t itself."""
    rng = np.random.default_rng(seed)
    p = randn(rng, *shape)
    p_cp, m_cp, v_cp = cp.asarray(p), cp.zeros(p.shape, np.float32), cp.zeros(p.shape, np.float32)
    step = cp.zeros(1, np.float32)
    p_ref, m_ref, v_ref = p.astype(np.float64), np.zeros(p.shape), np.zeros(p.shape)
    for t in (1, 2, 3, 4):
        g = randn(rng, *shape)
        elementwise_kernels.step_increment(step)
        elementwise_kernels.adam_update_capturable(p_cp, cp.asarray(g), m_cp, v_cp,
                                                   weight_decay=weight_decay, step=step, **ADAM)
        p_ref, m_ref, v_ref = adam_ref(p_ref, g, m_ref, v_ref, step=t, weight_decay=weight_decay, **ADAM_F32)
    assert step.get()[0] == 4
    np.testing.assert_allclose(m_cp.get(), m_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v_cp.get(), v_ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(p_cp.get(), p_ref, rtol=1e-5, atol=1e-5)


# --- Philox4x32-10 ------------------------------------------------------------------------------
# Salmon et al. (2011), Sec. 4.2; constants and known answers from Random123 (kat_vectors).
M0, M1, W0, W1 = (np.uint64(c) for c in (0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85))
MASK32 = np.uint64(0xFFFFFFFF)
KNOWN_ANSWERS = [  # counter (4 words), key (2 words) -> philox4x32_10
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]


def philox4x32_10(counters, keys):
    """NumPy Philox4x32-10: counters (n, 4) and keys (n, 2) of 32-bit words -> (n, 4) uint32.

    Words are held in uint64, so the 32 x 32-bit products are exact; hi/lo are their two halves."""
    c0, c1, c2, c3 = np.asarray(counters, dtype=np.uint64).T
    k0, k1 = np.asarray(keys, dtype=np.uint64).T
    for rnd in range(10):
        if rnd:
            k0, k1 = (k0 + W0) & MASK32, (k1 + W1) & MASK32
        p0, p1 = M0 * c0, M1 * c2
        hi0, lo0, hi1, lo1 = p0 >> np.uint64(32), p0 & MASK32, p1 >> np.uint64(32), p1 & MASK32
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return np.stack([c0, c1, c2, c3], axis=1).astype(np.uint32)


def philox_uniform_ref(n, seed, offset):
    """u_i = (word >> 8) * 2^-24, word = word i % 4 of philox(counter = offset + i // 4, key = seed)."""
    c = np.uint64(offset) + np.arange(-(-n // 4), dtype=np.uint64)
    counters = np.stack([c & MASK32, c >> np.uint64(32), 0 * c, 0 * c], axis=1)
    keys = np.broadcast_to(np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint64), (len(c), 2))
    words = philox4x32_10(counters, keys).reshape(-1)[:n]
    return (words >> 8).astype(np.float32) * np.float32(2.0**-24)


@pytest.mark.parametrize("counter,key,expect", KNOWN_ANSWERS)
def test_philox_known_answers(cp, counter, key, expect):
    np.testing.assert_array_equal(philox4x32_10([counter], [key])[0], expect)         # the reference
    out = random_kernels.philox_raw(cp.asarray(np.array([counter], np.uint32)),
                                    cp.asarray(np.array([key], np.uint32)))
    np.testing.assert_array_equal(out.get()[0], expect)                                # the kernel


def test_philox_raw_matches_reference(cp):
    rng = np.random.default_rng(5)
    counters = rng.integers(0, 2**32, size=(300, 4), dtype=np.uint32)   # > 256: two blocks
    keys = rng.integers(0, 2**32, size=(300, 2), dtype=np.uint32)
    out = random_kernels.philox_raw(cp.asarray(counters), cp.asarray(keys))
    np.testing.assert_array_equal(out.get(), philox4x32_10(counters, keys))


@settings(deadline=None, max_examples=10)
@given(st.lists(st.integers(1, 700), min_size=1, max_size=3), st.integers(0, 2**64 - 1),
       st.integers(0, 2**64 - 2**20) | st.sampled_from([2**32 - 3, 2**64 - 2**20]))
def test_philox_uniform(cp, sizes, seed, offset):
    """Successive draws use successive counters (offset near 2**32: the counter's high word moves)."""
    gen = random_kernels.PhiloxGenerator(seed)
    gen.set_state({"seed": seed, "offset": offset})
    for n in sizes:
        u = gen.uniform((n,)).get()
        np.testing.assert_array_equal(u, philox_uniform_ref(n, seed, offset))
        assert u.min() >= 0 and u.max() < 1
        offset += -(-n // 4)
        assert gen.get_state() == {"seed": seed, "offset": offset}


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_philox_dropout_mask(cp, p):
    gen, n = random_kernels.PhiloxGenerator(seed=2**40 + 7), 20_000
    gen.uniform((3,))                                            # offset 1
    mask = gen.dropout_mask((100, n // 100), p).get().reshape(-1)
    u, p32 = philox_uniform_ref(n, gen.seed, 1), np.float32(p)      # the kernel gets p as a float32
    scale = np.float32(1) / (np.float32(1) - p32)
    np.testing.assert_array_equal(mask, np.where(u >= p32, scale, np.float32(0)))
    kept = np.mean(mask > 0)
    assert abs(kept - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n) + 1e-12     # 5 sigma
    assert gen.get_state()["offset"] == 1 + n // 4


def test_philox_dropout_keeps_u_equal_to_p(cp):
    """u >= p is kept: seed 0, counter 454764 (found by search) has word 3 = 0x80000001, u = 0.5."""
    gen = random_kernels.PhiloxGenerator(seed=0)
    gen.set_state({"seed": 0, "offset": 454764})
    assert gen.uniform((4,)).get()[3] == 0.5
    gen.set_state({"seed": 0, "offset": 454764})
    assert gen.dropout_mask((4,), 0.5).get()[3] == 2.0


def test_philox_generator_state(cp):
    gen = random_kernels.PhiloxGenerator(seed=123)
    state = gen.get_state()
    first = gen.uniform((5, 7)).get()
    second = gen.uniform((5, 7)).get()
    assert not np.array_equal(first, second)
    gen.set_state(state)
    np.testing.assert_array_equal(gen.uniform((5, 7)).get(), first)
    gen.manual_seed(123)
    np.testing.assert_array_equal(gen.uniform((5, 7)).get(), first)


# --- grid-stride loops --------------------------------------------------------------------------

@pytest.mark.parametrize("grid,block", [((1,), (32,)), ((3,), (64,)), ((2,), (96,))])
def test_grid_stride_loops_cover_any_launch_shape(cp, grid, block):
    """The wrappers launch enough blocks to cover n; the kernels must also work with fewer."""
    rng = np.random.default_rng(7)
    p, g = randn(rng, 3, 5, 41), randn(rng, 3, 5, 41)
    p_cp, m, v = cp.asarray(p), cp.zeros(p.shape, np.float32), cp.zeros(p.shape, np.float32)
    emulated_kernel("elementwise", "adam_update")(grid, block, (
        p_cp, cp.asarray(g), m, v, np.int32(p.size), *map(np.float32, (ADAM["lr"], ADAM["beta1"], ADAM["beta2"],
                                                                        ADAM["eps"], 0.0, 1 - ADAM["beta1"],
                                                                        1 - ADAM["beta2"]))))
    p_ref, _, _ = adam_ref(p.astype(np.float64), g, 0 * p, 0 * p, step=1, weight_decay=0.0, **ADAM_F32)
    np.testing.assert_allclose(p_cp.get(), p_ref, rtol=1e-5, atol=1e-5)    # every element updated

    geometry = ((3, 2), (2, 1), (1, 0), (1, 2))
    _, _, args = conv_kernels.geometry("im2col", (2, 3, 7, 6), *geometry)
    xi = randn(rng, 2, 3, 7, 6)
    cols = cp.empty(_im2col_strided(xi, *geometry).shape, np.float32)
    emulated_kernel("conv", "im2col")(grid, block, (cp.asarray(xi), cols, *map(np.int32, args)))
    np.testing.assert_array_equal(cols.get(), _im2col_strided(xi, *geometry))
    back = cp.empty(xi.shape, np.float32)
    emulated_kernel("conv", "col2im")(grid, block, (cols, back, *map(np.int32, args)))
    np.testing.assert_allclose(back.get(), _col2im_strided(cols.get(), xi.shape, *geometry), rtol=1e-6)

    u = cp.empty(1001, np.float32)
    emulated_kernel("random", "philox_uniform")(grid, block, (
        u, np.int32(1001), np.uint64(99), cp.asarray(np.array([5], np.uint64))))
    np.testing.assert_array_equal(u.get(), philox_uniform_ref(1001, 99, 5))
