"""Fused CPU loops compiled with Numba (``@njit``), for what NumPy cannot do in one pass.

NumPy evaluates ``m = b1*m + (1-b1)*g`` as several passes over memory, each with a temporary.
These loops read and write each array once, in parallel over large arrays: Adam's update, batch
and instance norm (forward and backward), LeakyReLU and its backward, im2col / col2im, and
minibatch discrimination's similarities. ``tinygan/ops/dispatch.py`` chooses them (elsewhere the
definitions run as array code), and each is tested against its definition. Numba is imported on
first use: importing tinygan does not need it (it is an install requirement).
"""
from __future__ import annotations

import math
import os

import numba
import numpy as np

from tinygan.ops.dispatch import conv_output_hw

# Numba's default threading layer here is OpenMP, whose idle threads spin, as OpenBLAS's do after each
# GEMM: with as many threads as cores the two pools then fight over the cores whenever a Numba loop
# follows a GEMM (the README's speed section has the figures). The workqueue layer's idle threads
# sleep. NUMBA_THREADING_LAYER, when set, still decides.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"


# The elementwise loops below come in two drivers around one inlined body per element: a serial loop,
# and a parallel one for arrays of at least PARALLEL_MIN elements (below that, starting the threads
# costs more than the whole pass).
PARALLEL_MIN = 1 << 16


# error_model="numpy": x / 0 gives inf or NaN, as in NumPy and PyTorch, where Numba's default (Python's
# model) raises ZeroDivisionError; no fastmath, which assumes there is no NaN or inf. So a NaN or
# infinite gradient flows into p as it does in torch.optim.Adam, where the training loop's guard sees it.
@numba.njit(cache=True, error_model="numpy", inline="always")
def _adam_at(i, p, g, m, v, step_size, beta1, beta2, eps, weight_decay, bc2_sqrt):
    # torch.optim.Adam's arithmetic for element i, scalars in the arrays' precision
    gi = g[i] + weight_decay * p[i] if weight_decay != 0 else g[i]
    m[i] = beta1 * m[i] + (1 - beta1) * gi
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
    p[i] -= step_size * m[i] / (math.sqrt(v[i]) / bc2_sqrt + eps)


@numba.njit(cache=True, error_model="numpy")
def _adam(p, g, m, v, step_size, beta1, beta2, eps, weight_decay, bc2_sqrt):
    for i in range(p.size):
        _adam_at(i, p, g, m, v, step_size, beta1, beta2, eps, weight_decay, bc2_sqrt)


@numba.njit(cache=True, error_model="numpy", parallel=True)
def _adam_parallel(p, g, m, v, step_size, beta1, beta2, eps, weight_decay, bc2_sqrt):
    for i in numba.prange(p.size):
        _adam_at(i, p, g, m, v, step_size, beta1, beta2, eps, weight_decay, bc2_sqrt)


def adam_update(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, lr: float, beta1: float,
                beta2: float, eps: float, weight_decay: float, step: int) -> None:
    """Adam's update of p, m and v in place (all contiguous, same dtype)."""
    if not all(a.flags.c_contiguous for a in (p, m, v)):
        raise ValueError("adam_update: p, m and v must be contiguous arrays (they are updated in place)")
    f = p.dtype.type  # float32 scalars keep a float32 update in float32, so it vectorises
    (_adam_parallel if p.size >= PARALLEL_MIN else _adam)(
        p.reshape(-1), np.ascontiguousarray(g, dtype=p.dtype).reshape(-1), m.reshape(-1), v.reshape(-1),
        f(lr / (1 - beta1 ** step)), f(beta1), f(beta2), f(eps), f(weight_decay), f(math.sqrt(1 - beta2 ** step)))


# LeakyReLU (tinygan/ops/elementwise.py) in one pass each way, one body for both: out = a where mask,
# slope * a elsewhere. The forward (from_sign) first sets the mask to a > 0, so y and the mask are
# written together; the backward (a = g) reads the mask the forward kept.
@numba.njit(cache=True, inline="always")
def _select_scale_at(i, a, slope, mask, out, from_sign):
    if from_sign:
        mask[i] = a[i] > 0
    out[i] = a[i] if mask[i] else a[i] * slope


@numba.njit(cache=True)
def _select_scale(a, slope, mask, out, from_sign):
    for i in range(a.size):
        _select_scale_at(i, a, slope, mask, out, from_sign)


@numba.njit(cache=True, parallel=True)
def _select_scale_parallel(a, slope, mask, out, from_sign):
    for i in numba.prange(a.size):
        _select_scale_at(i, a, slope, mask, out, from_sign)


def _select_scale_flat(a: np.ndarray, slope: float, mask: np.ndarray, from_sign: bool) -> np.ndarray:
    out = np.empty_like(a)
    (_select_scale_parallel if a.size >= PARALLEL_MIN else _select_scale)(a, a.dtype.type(slope), mask, out, from_sign)
    return out


def leaky_relu(x: np.ndarray, slope: float):
    """(y, mask) for a float array x: y = x where x > 0, else slope * x; mask = x > 0."""
    flat = np.ascontiguousarray(x).reshape(-1)
    mask = np.empty(flat.shape, bool)
    y = _select_scale_flat(flat, slope, mask, True)
    return y.reshape(x.shape), mask.reshape(x.shape)


def masked_scale(g: np.ndarray, mask: np.ndarray, slope: float) -> np.ndarray:
    """g where mask, else slope * g (g float, mask bool of g's shape)."""
    flat = np.ascontiguousarray(g).reshape(-1)
    return _select_scale_flat(flat, slope, np.ascontiguousarray(mask).reshape(-1), False).reshape(g.shape)


# im2col / col2im on the CPU, the layout of kernels/conv.cu:
#   cols[(c*kh + i)*kw + j, (n*Ho + oh)*Wo + ow] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]
# Parallel over channels c (prange): every thread owns the rows of cols, and the plane of x,
# that belong to its channel, so col2im's additions never race. The layout is conv.cu's; col2im is not
# its gather (one writer per x element, the window offsets found by division): on the CPU a thread
# that owns a whole plane can add into it directly while streaming rows of cols, where the gather
# reads kh*kw scattered rows per element (the README's speed section has the measurement).
@numba.njit(cache=True, parallel=True)
def _im2col(x, cols, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo):
    n_, c_, h_, w_ = x.shape
    for c in numba.prange(c_):
        for i in range(kh):
            for j in range(kw):
                r = (c * kh + i) * kw + j
                for n in range(n_):
                    for oh in range(ho):
                        ih = oh * sh - ph + i * dh
                        q = (n * ho + oh) * wo
                        if ih < 0 or ih >= h_:
                            cols[r, q:q + wo] = 0
                            continue
                        for ow in range(wo):
                            iw = ow * sw - pw + j * dw
                            cols[r, q + ow] = x[n, c, ih, iw] if 0 <= iw < w_ else 0


@numba.njit(cache=True, parallel=True)
def _col2im(cols, x, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo):
    n_, c_, h_, w_ = x.shape
    for c in numba.prange(c_):
        x[:, c] = 0
        for i in range(kh):
            for j in range(kw):
                r = (c * kh + i) * kw + j
                for n in range(n_):
                    for oh in range(ho):
                        ih = oh * sh - ph + i * dh
                        if ih < 0 or ih >= h_:
                            continue
                        q = (n * ho + oh) * wo
                        for ow in range(wo):
                            iw = ow * sw - pw + j * dw
                            if 0 <= iw < w_:
                                x[n, c, ih, iw] += cols[r, q + ow]


def im2col(x: np.ndarray, kernel_size, stride, padding, dilation) -> np.ndarray:
    """cols (C*kh*kw, N*Ho*Wo) of a contiguous x (N, C, H, W)."""
    (n, c, _, _), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = x.shape, kernel_size, stride, padding, dilation
    ho, wo = conv_output_hw(x.shape, kernel_size, stride, padding, dilation)
    cols = np.empty((c * kh * kw, n * ho * wo), dtype=x.dtype)
    _im2col(np.ascontiguousarray(x), cols, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo)
    return cols


def col2im(cols: np.ndarray, x_shape, kernel_size, stride, padding, dilation) -> np.ndarray:
    """x (N, C, H, W) with every entry of cols added onto the pixel im2col read it from."""
    (n, c, h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = x_shape, kernel_size, stride, padding, dilation
    ho, wo = conv_output_hw(x_shape, kernel_size, stride, padding, dilation)
    x = np.empty((n, c, h, w), dtype=cols.dtype)
    _col2im(np.ascontiguousarray(cols), x, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo)
    return x


# Minibatch discrimination's similarities (tinygan/gans/common.py, MinibatchSimilarity): one pass over
# the pairs (i, j), each thread a row i, so no (N, N, B, K) array of differences is ever made.
#   o[i, b] = sum_{j != i} exp(-sum_k |m[i, b, k] - m[j, b, k]|)
#   gm[i, b, k] = -sum_j (g[i, b] + g[j, b]) exp(-l1[i, j, b]) sign(m[i, b, k] - m[j, b, k])
@numba.njit(cache=True, inline="always")
def _l1(m, i, j, b):  # sum_k |m[i, b, k] - m[j, b, k]|
    s = m.dtype.type(0)
    for k in range(m.shape[2]):
        s += abs(m[i, b, k] - m[j, b, k])
    return s


@numba.njit(cache=True, parallel=True)
def _similarity(m, o):
    n, nb = m.shape[:2]
    for i in numba.prange(n):
        for j in range(n):
            if j != i:
                for b in range(nb):
                    o[i, b] += math.exp(-_l1(m, i, j, b))


@numba.njit(cache=True, parallel=True)
def _similarity_vjp(m, g, gm):
    n, nb, nk = m.shape
    for i in numba.prange(n):
        for j in range(n):
            if j != i:
                for b in range(nb):
                    w = -(g[i, b] + g[j, b]) * math.exp(-_l1(m, i, j, b))
                    for k in range(nk):
                        d = m[i, b, k] - m[j, b, k]
                        if d > 0:
                            gm[i, b, k] += w
                        elif d < 0:
                            gm[i, b, k] -= w


def minibatch_similarity(m: np.ndarray) -> np.ndarray:
    """o (N, B) of m (N, B, K): each sample's summed L1 similarity to the others, per kernel b."""
    m = np.ascontiguousarray(m)
    o = np.zeros(m.shape[:2], dtype=m.dtype)
    _similarity(m, o)
    return o


def minibatch_similarity_vjp(m: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The gradient of sum(g * minibatch_similarity(m)) with respect to m."""
    m = np.ascontiguousarray(m)
    gm = np.zeros_like(m)
    _similarity_vjp(m, np.ascontiguousarray(g, dtype=m.dtype), gm)
    return gm


# Batch norm and instance norm (tinygan/ops/norm.py, Normalize), the layout of kernels/norm.cu: x
# (N, C, *spatial) is viewed as (A, G, L) and each group g is normalized over its (A, L) values --
# batch norm: A = N, G = C (per channel over the batch and the pixels); instance norm: A = 1, G = N*C
# (per sample and channel over the pixels). Parallel over groups; sums in float64.
@numba.njit(cache=True, parallel=True)
def _norm_forward(x, gamma, beta, eps, y, mean, rstd):
    a_, g_, l_ = x.shape
    c_ = gamma.size
    for g in numba.prange(g_):
        s = 0.0
        for a in range(a_):
            for i in range(l_):
                s += x[a, g, i]
        mu = s / (a_ * l_)
        s = 0.0
        for a in range(a_):
            for i in range(l_):
                d = x[a, g, i] - mu
                s += d * d
        r = 1.0 / math.sqrt(s / (a_ * l_) + eps)
        mean[g], rstd[g] = mu, r
        scale = r * gamma[g % c_]
        shift = beta[g % c_] - mu * scale
        for a in range(a_):
            for i in range(l_):
                y[a, g, i] = x[a, g, i] * scale + shift


@numba.njit(cache=True, parallel=True)
def _norm_backward(dy, x, mean, rstd, gamma, dx, sum_dy, sum_dy_xhat):
    a_, g_, l_ = x.shape
    c_ = gamma.size
    for g in numba.prange(g_):
        mu, r = mean[g], rstd[g]
        s1 = s2 = 0.0
        for a in range(a_):
            for i in range(l_):
                s1 += dy[a, g, i]
                s2 += dy[a, g, i] * (x[a, g, i] - mu)
        s2 *= r
        sum_dy[g], sum_dy_xhat[g] = s1, s2
        m = a_ * l_
        k = gamma[g % c_] * r
        for a in range(a_):
            for i in range(l_):
                xhat = (x[a, g, i] - mu) * r
                dx[a, g, i] = k * (dy[a, g, i] - s1 / m - xhat * (s2 / m))


def _norm_view(x: np.ndarray, mode: str) -> np.ndarray:
    n, c, l_ = x.shape[0], x.shape[1], int(np.prod(x.shape[2:], dtype=np.int64))
    return np.ascontiguousarray(x).reshape((n, c, l_) if mode == "batch" else (1, n * c, l_))


def norm_forward(x: np.ndarray, gamma=None, beta=None, eps: float = 1e-5, mode: str = "batch"):
    """(y, mean, rstd) as kernels/norm.py's norm_forward: y = (x - mean) * rstd * gamma[c] + beta[c];
    mean and rstd (C,) for mode="batch", (N, C) for mode="instance"."""
    v = _norm_view(x, mode)
    groups, c = v.shape[1], x.shape[1]
    one = np.ones(c, x.dtype) if gamma is None else np.ascontiguousarray(gamma)
    zero = np.zeros(c, x.dtype) if beta is None else np.ascontiguousarray(beta)
    y, mean, rstd = np.empty_like(v), np.empty(groups, x.dtype), np.empty(groups, x.dtype)
    _norm_forward(v, one, zero, eps, y, mean, rstd)
    shape = (c,) if mode == "batch" else x.shape[:2]
    return y.reshape(x.shape), mean.reshape(shape), rstd.reshape(shape)


def norm_backward(dy: np.ndarray, x: np.ndarray, mean, rstd, gamma=None, mode: str = "batch"):
    """(dx, dgamma, dbeta) of norm_forward, as kernels/norm.py's norm_backward (None, None without gamma)."""
    v = _norm_view(x, mode)
    groups, c = v.shape[1], x.shape[1]
    one = np.ones(c, x.dtype) if gamma is None else np.ascontiguousarray(gamma)
    dx = np.empty_like(v)
    sum_dy, sum_dy_xhat = np.empty(groups, np.float64), np.empty(groups, np.float64)
    _norm_backward(_norm_view(dy, mode), v, mean.reshape(-1), rstd.reshape(-1), one, dx, sum_dy, sum_dy_xhat)
    if gamma is None:
        return dx.reshape(x.shape), None, None
    if mode == "instance":  # per-(n, c) sums -> per-channel sums
        sum_dy, sum_dy_xhat = sum_dy.reshape(-1, c).sum(0), sum_dy_xhat.reshape(-1, c).sum(0)
    return dx.reshape(x.shape), sum_dy_xhat.astype(x.dtype), sum_dy.astype(x.dtype)
