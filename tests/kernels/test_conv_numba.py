"""The Numba twins of im2col/col2im against direct NumPy loops, in the CUDA simulator.

numba-cuda is a test dependency: if it is missing, importing conv_numba fails and so does this file.
Small blocks and a capped grid keep the simulator (one Python thread per CUDA thread) fast, and
also exercise the kernels' grid-stride loops.
"""
import numpy as np
import pytest
from conv_numba import col2im_numba, im2col_numba
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import col2im_ref, conv_geometries, im2col_ref

pytestmark = pytest.mark.cudasim
LAUNCH = {"threads": 32, "max_blocks": 4}


@settings(deadline=None, max_examples=25)
@given(conv_geometries(), st.integers(0, 2**32 - 1))
def test_im2col_col2im_match_reference_and_are_adjoint(geometry, seed):
    x_shape, *conv = geometry                      # conv = kernel_size, stride, padding, dilation
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(np.float32)
    cols = im2col_numba(x, *conv, **LAUNCH)
    np.testing.assert_array_equal(cols, im2col_ref(x, *conv))

    c = rng.standard_normal(cols.shape).astype(np.float32)
    xc = col2im_numba(c, x_shape, *conv, **LAUNCH)
    np.testing.assert_allclose(xc, col2im_ref(c, x_shape, *conv), rtol=1e-5, atol=1e-5)

    # <im2col(x), c> == <x, col2im(c)>
    np.testing.assert_allclose(np.vdot(cols.astype(np.float64), c), np.vdot(x.astype(np.float64), xc),
                               rtol=1e-5, atol=1e-5)
