"""tinygan's CuPy kernels against NumPy references (skipped without CuPy and a CUDA device)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import (
    adam_ref,
    col2im_ref,
    conv_geometries,
    im2col_ref,
    norm_backward_ref,
    norm_forward_ref,
)

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cp():
    return pytest.importorskip("cupy")


def randn(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# --- gemm ---------------------------------------------------------------------------------------

GEMM_SIZES = [(1, 1, 1), (7, 33, 129), (257, 129, 7), (33, 257, 1), (129, 7, 257), (128, 128, 8),
              (1, 257, 33), (256, 260, 300)]


@pytest.mark.parametrize("M,N,K", GEMM_SIZES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (-1.5, 0.5)])
def test_sgemm(cp, M, N, K, trans_a, trans_b, alpha, beta):
    from tinygan.kernels.gemm import sgemm
    rng = np.random.default_rng(M * 1000 + N + K)
    a = randn(rng, *((K, M) if trans_a else (M, K)))
    b = randn(rng, *((N, K) if trans_b else (K, N)))
    c = randn(rng, M, N) if beta else np.full((M, N), np.nan, np.float32)   # beta = 0: C is never read
    out = cp.asarray(c)
    sgemm(cp.asarray(a), cp.asarray(b), trans_a, trans_b, alpha, beta, out=out)
    op_a, op_b = (a.T if trans_a else a).astype(np.float64), (b.T if trans_b else b).astype(np.float64)
    expect = alpha * op_a @ op_b + (beta * c if beta else 0)
    np.testing.assert_allclose(out.get(), expect, rtol=1e-4, atol=1e-4 * np.sqrt(K))


@settings(deadline=None, max_examples=30)
@given(st.tuples(*[st.integers(1, 300) | st.sampled_from([1, 7, 33, 129, 257])] * 3), st.booleans(),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_sgemm_random_sizes(cp, sizes, trans_a, trans_b, seed):
    from tinygan.kernels.gemm import sgemm
    (M, N, K), rng = sizes, np.random.default_rng(seed)
    a = randn(rng, *((K, M) if trans_a else (M, K)))
    b = randn(rng, *((N, K) if trans_b else (K, N)))
    out = sgemm(cp.asarray(a), cp.asarray(b), trans_a, trans_b)
    expect = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b)
    np.testing.assert_allclose(out.get(), expect, rtol=1e-4, atol=1e-4 * np.sqrt(K))


@pytest.mark.parametrize("M,N,K", [(33, 65, 17), (130, 129, 64)])
def test_sgemm_strided_and_unaligned_inputs(cp, M, N, K):
    """Views that are transposed (copied to contiguous) or start off a 16-byte boundary (scalar loads)."""
    from tinygan.kernels.gemm import sgemm
    rng = np.random.default_rng(0)
    a_big, b_big = cp.asarray(randn(rng, K, M + 1)), cp.asarray(randn(rng, N * K + 1))
    a = a_big[:, 1:].T                        # (M, K), non-contiguous
    b = b_big[1:].reshape(K, N)               # contiguous, pointer offset by 4 bytes
    np.testing.assert_allclose(sgemm(a, b).get(), a.get().astype(np.float64) @ b.get(), rtol=1e-4, atol=1e-3)


def test_sgemm_checks_its_inputs(cp):
    from tinygan.kernels.gemm import sgemm
    with pytest.raises(TypeError, match="sgemm"):
        sgemm(cp.ones((2, 2), cp.float64), cp.ones((2, 2), cp.float32))
    with pytest.raises(ValueError, match="sgemm"):
        sgemm(cp.ones((2, 3), cp.float32), cp.ones((2, 3), cp.float32))


# --- im2col / col2im ----------------------------------------------------------------------------

@settings(deadline=None, max_examples=50)
@given(conv_geometries(max_n=3, max_c=4, max_hw=9), st.integers(0, 2**32 - 1))
def test_im2col_col2im(cp, geometry, seed):
    from tinygan.kernels.conv import col2im, im2col
    x_shape, *conv = geometry
    rng = np.random.default_rng(seed)
    x = randn(rng, *x_shape)
    cols = im2col(cp.asarray(x), *conv)
    np.testing.assert_array_equal(cols.get(), im2col_ref(x, *conv))
    c = randn(rng, *cols.shape)
    xc = col2im(cp.asarray(c), x_shape, *conv)
    np.testing.assert_allclose(xc.get(), col2im_ref(c, x_shape, *conv), rtol=1e-5, atol=1e-5)


# --- norm ---------------------------------------------------------------------------------------

NORM_SHAPES = [(2, 3, 4, 5), (8, 3), (1, 1, 7, 7), (3, 2, 33), (2, 4, 40, 40)]


@pytest.mark.parametrize("shape", NORM_SHAPES)
@pytest.mark.parametrize("mode", ["batch", "instance"])
@pytest.mark.parametrize("affine", [True, False])
def test_norm_forward_backward(cp, shape, mode, affine):
    from tinygan.kernels.norm import norm_backward, norm_forward
    if mode == "instance" and len(shape) == 2:
        pytest.skip("instance norm over a single element per group")
    rng = np.random.default_rng(len(shape))
    C, eps = shape[1], 1e-5
    x, dy = 3 + 2 * randn(rng, *shape), randn(rng, *shape)
    gamma, beta = (randn(rng, C), randn(rng, C)) if affine else (np.ones(C), np.zeros(C))
    g_cp, b_cp = (cp.asarray(gamma), cp.asarray(beta)) if affine else (None, None)

    y, mean, rstd = norm_forward(cp.asarray(x), g_cp, b_cp, eps, mode)
    y_ref, mean_ref, rstd_ref = norm_forward_ref(x, gamma, beta, eps, mode)
    np.testing.assert_allclose(mean.get(), mean_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rstd.get(), rstd_ref, rtol=1e-4)
    np.testing.assert_allclose(y.get(), y_ref, rtol=1e-4, atol=1e-4)

    dx, dgamma, dbeta = norm_backward(cp.asarray(dy), cp.asarray(x), mean, rstd, g_cp, mode)
    dx_ref, dgamma_ref, dbeta_ref = norm_backward_ref(dy, x, gamma, eps, mode)
    np.testing.assert_allclose(dx.get(), dx_ref, rtol=1e-3, atol=1e-4)
    if affine:
        np.testing.assert_allclose(dgamma.get(), dgamma_ref, rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(dbeta.get(), dbeta_ref, rtol=1e-4, atol=1e-3)
    else:
        assert dgamma is None and dbeta is None


# --- Adam --------------------------------------------------------------------

@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("shape", [(1,), (7, 33), (64, 3, 5, 5)])
def test_adam_update(cp, weight_decay, shape):
    from tinygan.kernels.elementwise import adam_update
    rng = np.random.default_rng(2)
    hyper = {"lr": 1e-2, "beta1": 0.5, "beta2": 0.999, "eps": 1e-8, "weight_decay": weight_decay}
    p = randn(rng, *shape)
    m, v = np.zeros_like(p), np.zeros_like(p)
    p_cp, m_cp, v_cp = cp.asarray(p), cp.asarray(m), cp.asarray(v)
    p_ref, m_ref, v_ref = p.astype(np.float64), m.astype(np.float64), v.astype(np.float64)
    for step in (1, 2, 3):
        g = randn(rng, *shape)
        adam_update(p_cp, cp.asarray(g), m_cp, v_cp, step=step, **hyper)
        # the kernel gets float32 hyperparameters: 1 - float32(0.999) is 1.3e-5 (relative) off 0.001
        hyper32 = {k: float(np.float32(h)) for k, h in hyper.items()}
        p_ref, m_ref, v_ref = adam_ref(p_ref, g, m_ref, v_ref, step=step, **hyper32)
    np.testing.assert_allclose(m_cp.get(), m_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(v_cp.get(), v_ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(p_cp.get(), p_ref, rtol=1e-5, atol=1e-5)
