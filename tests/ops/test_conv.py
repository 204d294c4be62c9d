"""conv2d and conv_transpose2d against direct-loop NumPy references, their gradients and second
derivatives by finite differences, the im2col/col2im layout and adjointness, and PyTorch."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygan
from tinygan.gradcheck import gradcheck, gradgradcheck
from tinygan.ops import dispatch
from tinygan.ops.conv import conv2d, conv_output_size, conv_transpose2d, conv_transpose_output_size


# ---- references: one multiply-add per (output pixel, kernel offset), written as loops ----------
def conv2d_ref(x, w, stride, padding, dilation):
    (n, _, h, wd), (c_out, _, kh, kw) = x.shape, w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho, wo = conv_output_size(h, kh, sh, ph, dh), conv_output_size(wd, kw, sw, pw, dw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((n, c_out, ho, wo))
    for oh in range(ho):
        for ow in range(wo):
            for i in range(kh):
                for j in range(kw):
                    y[:, :, oh, ow] += xp[:, :, oh * sh + i * dh, ow * sw + j * dw] @ w[:, :, i, j].T
    return y


def conv_transpose2d_ref(x, w, stride, padding, output_padding, dilation):
    """Every input pixel scatters x[n, :, h, w] @ W[:, :, i, j] onto output pixel (h*s + i*d - p)."""
    (n, _, h, wd), (_, c_out, kh, kw) = x.shape, w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    full = np.zeros((n, c_out, (h - 1) * sh + dh * (kh - 1) + 1 + oph, (wd - 1) * sw + dw * (kw - 1) + 1 + opw))
    for ih in range(h):
        for iw in range(wd):
            for i in range(kh):
                for j in range(kw):
                    full[:, :, ih * sh + i * dh, iw * sw + j * dw] += x[:, :, ih, iw] @ w[:, :, i, j]
    return full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw]


# ---- geometries ---------------------------------------------------------------------------------
@st.composite
def geometries(draw, transpose=False, max_batch=2, max_channels=3, max_size=7):
    pair = lambda lo, hi: (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))
    g = {"n": draw(st.integers(1, max_batch)), "c_in": draw(st.integers(1, max_channels)),
         "c_out": draw(st.integers(1, max_channels)), "size": pair(1, max_size), "kernel": pair(1, 3),
         "stride": pair(1, 3), "padding": pair(0, 2), "dilation": pair(1, 2)}
    g["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(g["stride"], g["dilation"]))
    if transpose:
        out = [conv_transpose_output_size(*a) for a in zip(g["size"], g["kernel"], g["stride"], g["padding"],
                                                            g["output_padding"], g["dilation"])]
    else:
        out = [conv_output_size(*a) for a in zip(g["size"], g["kernel"], g["stride"], g["padding"], g["dilation"])]
    assume(min(out) >= 1)
    return g


def arrays(g, transpose, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((g["n"], g["c_in"], *g["size"]))
    w_shape = (g["c_in"], g["c_out"]) if transpose else (g["c_out"], g["c_in"])
    return x, rng.standard_normal(w_shape + g["kernel"]), rng.standard_normal(g["c_out"])


def leaf(a):
    return tinygan.tensor(a, requires_grad=True)


def conv_args(g):
    return {"stride": g["stride"], "padding": g["padding"], "dilation": g["dilation"]}


def convt_args(g):
    return {**conv_args(g), "output_padding": g["output_padding"]}


# ---- forward values -------------------------------------------------------------------------------
@settings(deadline=None, max_examples=60)
@given(geometries(), st.integers(0, 2**16))
def test_conv2d_matches_reference(g, seed):
    x, w, b = arrays(g, False, seed)
    y = conv2d(tinygan.tensor(x), tinygan.tensor(w), tinygan.tensor(b), **conv_args(g))
    ref = conv2d_ref(x, w, g["stride"], g["padding"], g["dilation"]) + b.reshape(1, -1, 1, 1)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-10)


@settings(deadline=None, max_examples=60)
@given(geometries(transpose=True), st.integers(0, 2**16))
def test_conv_transpose2d_matches_reference(g, seed):
    x, w, b = arrays(g, True, seed)
    y = conv_transpose2d(tinygan.tensor(x), tinygan.tensor(w), tinygan.tensor(b), **convt_args(g))
    ref = conv_transpose2d_ref(x, w, g["stride"], g["padding"], g["output_padding"], g["dilation"])
    np.testing.assert_allclose(y.numpy(), ref + b.reshape(1, -1, 1, 1), rtol=1e-10, atol=1e-10)


def test_float32_and_unbatched_input():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 6, 5)).astype(np.float32), rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    y = conv2d(tinygan.tensor(x), tinygan.tensor(w), stride=2, padding=1)
    assert y.dtype == np.float32 and y.shape == (4, 3, 3)
    ref = conv2d_ref(x[None].astype(np.float64), w.astype(np.float64), (2, 2), (1, 1), (1, 1))[0]
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-5)
    yt = conv_transpose2d(tinygan.tensor(x), tinygan.tensor(w.transpose(1, 0, 2, 3).copy()), stride=2)
    assert yt.dtype == np.float32 and yt.shape == (4, 13, 11)


# ---- first and second derivatives -------------------------------------------------------------------
small = {"max_channels": 2, "max_size": 5}


@settings(deadline=None, max_examples=40)
@given(geometries(**small), st.integers(0, 2**16))
def test_conv2d_gradcheck(g, seed):
    x, w, b = (leaf(a) for a in arrays(g, False, seed))
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, **conv_args(g)), (x, w, b))


@settings(deadline=None, max_examples=40)
@given(geometries(transpose=True, **small), st.integers(0, 2**16))
def test_conv_transpose2d_gradcheck(g, seed):
    x, w, b = (leaf(a) for a in arrays(g, True, seed))
    assert gradcheck(lambda x, w, b: conv_transpose2d(x, w, b, **convt_args(g)), (x, w, b))


tiny = {"max_batch": 1, "max_channels": 2, "max_size": 4}


@settings(deadline=None, max_examples=15)
@given(geometries(**tiny), st.integers(0, 2**16))
def test_conv2d_gradgradcheck(g, seed):
    x, w, b = (leaf(a) for a in arrays(g, False, seed))
    assert gradgradcheck(lambda x, w, b: conv2d(x, w, b, **conv_args(g)), (x, w, b))


@settings(deadline=None, max_examples=15)
@given(geometries(transpose=True, **tiny), st.integers(0, 2**16))
def test_conv_transpose2d_gradgradcheck(g, seed):
    x, w, b = (leaf(a) for a in arrays(g, True, seed))
    assert gradgradcheck(lambda x, w, b: conv_transpose2d(x, w, b, **convt_args(g)), (x, w, b))


def test_gradient_penalty_reaches_the_weight():
    """d/dW of ||d sum(conv(x))/dx||^2 -- what WGAN-GP differentiates -- against finite differences."""
    rng = np.random.default_rng(1)
    x, w = leaf(rng.standard_normal((1, 2, 5, 5))), leaf(rng.standard_normal((3, 2, 3, 3)))

    def penalty(w):
        (gx,) = tinygan.grad(conv2d(x, w, stride=2, padding=1).tanh().sum(), x, create_graph=True)
        return (gx * gx).sum()

    assert gradcheck(penalty, (w,))


# ---- the im2col layout shared with kernels/conv.cu ---------------------------------------------------
@settings(deadline=None, max_examples=30)
@given(geometries(), st.integers(0, 2**16))
def test_im2col_layout_and_adjoint(g, seed):
    rng = np.random.default_rng(seed)
    (n, c), (h, w), (kh, kw) = (g["n"], g["c_in"]), g["size"], g["kernel"]
    (sh, sw), (ph, pw), (dh, dw) = g["stride"], g["padding"], g["dilation"]
    geometry = ((kh, kw), (sh, sw), (ph, pw), (dh, dw))
    x = rng.standard_normal((n, c, h, w))
    cols = dispatch.im2col(x, *geometry)
    ho, wo = conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)
    assert cols.shape == (c * kh * kw, n * ho * wo)
    r, q = rng.integers(cols.shape[0]), rng.integers(cols.shape[1])  # one entry, by the formula
    ci, i, j, ni, oh, ow = *np.unravel_index(r, (c, kh, kw)), *np.unravel_index(q, (n, ho, wo))
    y, z = oh * sh - ph + i * dh, ow * sw - pw + j * dw
    assert cols[r, q] == (x[ni, ci, y, z] if 0 <= y < h and 0 <= z < w else 0.0)
    c_rand = rng.standard_normal(cols.shape)
    back = dispatch.col2im(c_rand, x.shape, *geometry)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.vdot(cols, c_rand), np.vdot(x, back), rtol=1e-10, atol=1e-10)


# ---- errors --------------------------------------------------------------------------------------------
def test_errors_name_the_op_and_shapes():
    x, w = tinygan.zeros(2, 3, 5, 5), tinygan.zeros(4, 3, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d: .*\(2, 2, 5, 5\).*\(4, 3, 3, 3\)"):
        conv2d(tinygan.zeros(2, 2, 5, 5), w)
    with pytest.raises(ValueError, match=r"conv_transpose2d: .*\(2, 3, 5, 5\).*\(4, 3, 3, 3\)"):
        conv_transpose2d(x, w)  # weight is (C_in, C_out, kh, kw): 4 input channels expected
    with pytest.raises(ValueError, match=r"conv2d: .*\(3, 5, 5, 1, 1\).*\(4, 3, 3, 3\)"):
        conv2d(tinygan.zeros(3, 5, 5, 1, 1), w)
    with pytest.raises(ValueError, match="conv2d: only groups=1"):
        conv2d(x, w, groups=3)
    with pytest.raises(ValueError, match="conv_transpose2d: only groups=1"):
        conv_transpose2d(x, tinygan.zeros(3, 4, 3, 3), groups=2)
    with pytest.raises(ValueError, match=r"conv2d: bias of shape \(3,\)"):
        conv2d(x, w, tinygan.zeros(3))
    with pytest.raises(ValueError, match="conv2d: output size"):
        conv2d(tinygan.zeros(1, 3, 2, 2), w)
    with pytest.raises(ValueError, match="conv_transpose2d: output_padding"):
        conv_transpose2d(x, tinygan.zeros(3, 4, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="conv2d: stride"):
        conv2d(x, w, stride=0)


# ---- PyTorch, when it is installed ------------------------------------------------------------------------
@pytest.mark.parametrize("geometry", [
    {"stride": 2, "padding": 1},                                    # DCGAN's 4x4 down/up-sampling
    {"stride": (1, 2), "padding": (2, 0), "dilation": (2, 1)},
    {"stride": 1, "padding": 1, "dilation": 2, "output_padding": 1},  # output_padding >= stride
    {"stride": 3, "padding": 0, "output_padding": 2},
])
def test_against_torch(geometry):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal(4)
    for transpose in (False, True):
        w = rng.standard_normal((3, 4, 4, 3) if transpose else (4, 3, 4, 3))
        args = dict(geometry) if transpose else {k: v for k, v in geometry.items() if k != "output_padding"}
        ours, theirs = (conv_transpose2d, torch.nn.functional.conv_transpose2d) if transpose else \
                       (conv2d, torch.nn.functional.conv2d)
        ts = [leaf(a) for a in (x, w, b)]
        ps = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
        y, ty = ours(*ts, **args), theirs(*ps, **args)
        gy = rng.standard_normal(ty.shape)
        y.backward(tinygan.tensor(gy))
        ty.backward(torch.tensor(gy))
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
        for t, p in zip(ts, ps):
            np.testing.assert_allclose(t.grad.numpy(), p.grad.numpy(), rtol=1e-10, atol=1e-10)


# ---- the GPU: the same op on cupy arrays (float32 runs tinygan's kernels, float64 the strided code) ----------
@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gpu_matches_cpu(dtype):
    rng = np.random.default_rng(0)
    x, w, wt = (rng.standard_normal(s).astype(dtype) for s in ((2, 3, 9, 8), (4, 3, 3, 3), (3, 4, 4, 4)))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for fn, w_, kw in ((conv2d, w, {"stride": 2, "padding": 1}),
                       (conv_transpose2d, wt, {"stride": 2, "padding": 1, "output_padding": 1})):
        cpu = [leaf(a) for a in (x, w_)]
        gpu = [tinygan.tensor(a, device="cuda", requires_grad=True) for a in (x, w_)]
        y_cpu, y_gpu = fn(*cpu, **kw), fn(*gpu, **kw)
        (y_cpu * y_cpu).sum().backward()
        (y_gpu * y_gpu).sum().backward()
        np.testing.assert_allclose(y_gpu.detach().cpu().numpy(), y_cpu.detach().numpy(), rtol=tol, atol=tol)
        for a, b in zip(gpu, cpu):
            np.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.numpy(), rtol=tol, atol=tol * 10)



@settings(deadline=None, max_examples=40)
@given(geometries(), st.integers(0, 2**16))
def test_cpu_numba_im2col_col2im_match_the_strided_numpy_versions(g, seed):
    """The Numba CPU loops (the default on the CPU) equal the NumPy stride-trick formulation."""
    from tinygan.kernels import cpu_numba
    x, _, _ = arrays(g, False, seed)
    geo = (g["kernel"], g["stride"], g["padding"], g["dilation"])
    cols = dispatch._im2col_strided(x, *geo)
    np.testing.assert_array_equal(cpu_numba.im2col(x, *geo), cols)
    np.testing.assert_allclose(cpu_numba.col2im(cols, x.shape, *geo), dispatch._col2im_strided(cols, x.shape, *geo),
                               rtol=1e-12, atol=1e-12)


# ---- the batch in chunks (conv.COLS_BUDGET) -------------------------------------------------------
@settings(deadline=None, max_examples=25)
@given(geometries(max_batch=4), st.integers(0, 2**16), st.booleans())
def test_chunked_batches_give_the_same_values_and_gradients(g, seed, transpose):
    """With a budget of one byte every image is its own chunk: the same outputs and gradients."""
    from tinygan.ops import conv as conv_module
    if transpose:
        out = [conv_transpose_output_size(*a) for a in zip(g["size"], g["kernel"], g["stride"], g["padding"],
                                                            g["output_padding"], g["dilation"])]
        assume(min(out) >= 1)
    x, w, _ = arrays(g, transpose, seed)
    op, args = (conv_transpose2d, convt_args(g)) if transpose else (conv2d, conv_args(g))

    def run():
        xt, wt = leaf(x), leaf(w)
        y = op(xt, wt, **args)
        (y * y).sum().backward()
        return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()

    whole = run()
    budget = conv_module.COLS_BUDGET
    conv_module.COLS_BUDGET = 1
    try:
        assert len(conv_module.batch_chunks(g["n"], 8)) == g["n"]
        chunked = run()
    finally:
        conv_module.COLS_BUDGET = budget
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-10)
    ref = (conv_transpose2d_ref(x, w, g["stride"], g["padding"], g["output_padding"], g["dilation"]) if transpose
           else conv2d_ref(x, w, g["stride"], g["padding"], g["dilation"]))
    np.testing.assert_allclose(chunked[0], ref, rtol=1e-10, atol=1e-10)
