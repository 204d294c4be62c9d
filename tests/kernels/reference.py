"""NumPy references for the kernel tests: direct loops and textbook formulas, slow and obviously right.

Shared by test_conv_numba.py (Numba twins, in the CUDA simulator) and test_kernels_gpu.py (CuPy).
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st


def out_size(size: int, k: int, stride: int, pad: int, dilation: int) -> int:
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


@st.composite
def conv_geometries(draw, max_n: int = 2, max_c: int = 3, max_hw: int = 7):
    """(x_shape, kernel_size, stride, padding, dilation) with tiny shapes and Ho, Wo >= 1."""
    pair = lambda lo, hi: (draw(st.integers(lo, hi)), draw(st.integers(lo, hi)))
    x_shape = (draw(st.integers(1, max_n)), draw(st.integers(1, max_c)), *pair(1, max_hw))
    k, s, p, d = pair(1, 3), pair(1, 3), pair(0, 2), pair(1, 2)
    for axis in (0, 1):   # reject windows that do not fit
        assume(out_size(x_shape[2 + axis], k[axis], s[axis], p[axis], d[axis]) >= 1)
    return x_shape, k, s, p, d


def im2col_ref(x, kernel_size, stride, padding, dilation):
    """cols[(c*kh + i)*kw + j, (n*Ho + oh)*Wo + ow] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]."""
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    Ho, Wo = out_size(H, kh, sh, ph, dh), out_size(W, kw, sw, pw, dw)
    cols = np.zeros((C * kh * kw, N * Ho * Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(kh):
                for j in range(kw):
                    for oh in range(Ho):
                        for ow in range(Wo):
                            h, w = oh * sh - ph + i * dh, ow * sw - pw + j * dw
                            if 0 <= h < H and 0 <= w < W:
                                cols[(c * kh + i) * kw + j, (n * Ho + oh) * Wo + ow] = x[n, c, h, w]
    return cols


def col2im_ref(cols, x_shape, kernel_size, stride, padding, dilation):
    """The adjoint of im2col_ref: the same loops, adding each cols entry back where it was read."""
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    Ho, Wo = out_size(H, kh, sh, ph, dh), out_size(W, kw, sw, pw, dw)
    x = np.zeros(x_shape, dtype=np.float64)
    for n in range(N):
        for c in range(C):
            for i in range(kh):
                for j in range(kw):
                    for oh in range(Ho):
                        for ow in range(Wo):
                            h, w = oh * sh - ph + i * dh, ow * sw - pw + j * dw
                            if 0 <= h < H and 0 <= w < W:
                                x[n, c, h, w] += cols[(c * kh + i) * kw + j, (n * Ho + oh) * Wo + ow]
    return x


def _norm_axes(x, mode):
    """The axes a group spans: (0, 2, 3, ...) for batch norm, (2, 3, ...) for instance norm."""
    spatial = tuple(range(2, x.ndim))
    return (0, *spatial) if mode == "batch" else spatial


def norm_forward_ref(x, gamma, beta, eps, mode):
    """(y, mean, rstd) in float64; mean and rstd shaped (C,) or (N, C)."""
    x = x.astype(np.float64)
    axes = _norm_axes(x, mode)
    mean = x.mean(axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean) * rstd * gamma.reshape(shape) + beta.reshape(shape)
    N, C = x.shape[:2]
    stats_shape = (C,) if mode == "batch" else (N, C)
    return y, mean.reshape(stats_shape), rstd.reshape(stats_shape)


def norm_backward_ref(dy, x, gamma, eps, mode):
    """(dx, dgamma, dbeta) in float64: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma."""
    dy, x = dy.astype(np.float64), x.astype(np.float64)
    axes = _norm_axes(x, mode)
    mean = x.mean(axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    xhat = (x - mean) * rstd
    g = dy * gamma.reshape((1, -1) + (1,) * (x.ndim - 2))
    dx = rstd * (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True))
    channel_axes = (0, *range(2, x.ndim))
    return dx, (dy * xhat).sum(axis=channel_axes), dy.sum(axis=channel_axes)


def adam_ref(p, g, m, v, lr, beta1, beta2, eps, weight_decay, step):
    """One step of torch.optim.Adam (L2 weight decay), in float64; returns new (p, m, v)."""
    g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
