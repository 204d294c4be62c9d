"""Minibatch discrimination (Salimans et al. 2016, Sec. 3.2): the fused similarity op against its
definition, finite differences and a double backward, and what D sees of a collapsed batch."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygan.gans.common import MinibatchDiscrimination, MinibatchSimilarity, minibatch_similarity
from tinygan.gradcheck import gradcheck, gradgradcheck
from tinygan.tensor import Tensor, grad


def _m(seed, n, b, k, dtype=np.float64, ties=False):
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.5, (n, b, k)).astype(dtype)
    if ties:  # equal rows and equal entries: sign(0) = 0, c = 1
        m[1] = m[0]
        m[2, :, 0] = m[3, :, 0]
    return m


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6), st.integers(4, 12), st.integers(1, 4), st.integers(1, 5), st.booleans())
def test_fused_similarity_equals_its_definition(seed, n, b, k, ties):
    """Value and vector-Jacobian product of the Numba pass equal those of the autograd formula."""
    m, g = _m(seed, n, b, k, ties=ties), np.random.default_rng(seed + 1).normal(size=(n, b))
    fused, ref = Tensor(m, requires_grad=True), Tensor(m, requires_grad=True)
    out, expected = MinibatchSimilarity.apply(fused), minibatch_similarity(ref)
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-12, atol=1e-12)
    (gm,) = grad(out, [fused], Tensor(g))
    (expected_gm,) = grad(expected, [ref], Tensor(g))
    np.testing.assert_allclose(gm.data, expected_gm.data, rtol=1e-10, atol=1e-12)


def test_fused_similarity_float32_keeps_its_dtype():
    m = Tensor(_m(0, 16, 3, 4, np.float32), requires_grad=True)
    out = MinibatchSimilarity.apply(m)
    (out * 1.0).sum().backward()
    assert out.dtype == np.float32 and m.grad.dtype == np.float32
    np.testing.assert_allclose(out.data, minibatch_similarity(Tensor(m.data)).data, rtol=1e-5)


def test_fused_similarity_gradient_matches_finite_differences():
    m = Tensor(_m(3, 6, 2, 3), requires_grad=True)
    assert gradcheck(lambda t: MinibatchSimilarity.apply(t), [m])


def test_fused_similarity_double_backward_for_a_gradient_penalty():
    """WGAN-GP differentiates D's input gradient: the second derivative goes through the definition."""
    m = Tensor(_m(4, 6, 2, 3), requires_grad=True)
    assert gradgradcheck(lambda t: MinibatchSimilarity.apply(t), [m])


def test_a_collapsed_batch_is_seen_as_one():
    """N equal samples: each is exp(0) = 1 similar to each of the N - 1 others; spread ones: ~0."""
    layer = MinibatchDiscrimination(in_features=3, kernels=5, kernel_dim=4)
    same = Tensor(np.ones((7, 3), np.float32))
    out = layer(same)
    assert out.shape == (7, 3 + 5)
    np.testing.assert_allclose(out.data[:, 3:], 6.0, rtol=1e-6)
    spread = Tensor(np.arange(21, dtype=np.float32).reshape(7, 3) * 100)
    assert layer(spread).data[:, 3:].max() < 1e-3
