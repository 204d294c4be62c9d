"""Numba CUDA twins of kernels/conv.cu: im2col and col2im, line for line (test-only: they check the
.cu indexing in the CUDA simulator).

Same names, same arguments (flat arrays standing in for pointers, then N, C, H, W, kh, kw, sh, sw,
ph, pw, dh, dw, Ho, Wo) and the same indexing as the CUDA C kernels, so the two read side by side.
(The .cu loops count with a 64-bit k and narrow it to a 32-bit idx; Python ints need no such care.)
They run on a GPU through numba-cuda, or on the CPU under NUMBA_ENABLE_CUDASIM=1 (slowly: one
Python thread per CUDA thread), which is how the tests check the indexing without a GPU.

Mapping: im2col has one thread per element of cols, col2im one thread per element of x (a gather,
no atomics). Launch shape: block = (threads,), grid = (ceil(elements / threads),) capped at
max_blocks, with a grid-stride loop in the kernel.

Importing this module imports numba (tinygan.kernels itself does not).
"""
from __future__ import annotations

import numpy as np
from numba import cuda
from tinygan.kernels.conv import Pair, geometry


@cuda.jit
def im2col(x, cols, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo):
    Q = N * Ho * Wo                                       # columns of cols
    total = C * kh * kw * Q
    for idx in range(cuda.grid(1), total, cuda.gridsize(1)):
        r, q = idx // Q, idx % Q
        j, i, c = r % kw, (r // kw) % kh, r // (kw * kh)
        ow, oh, n = q % Wo, (q // Wo) % Ho, q // (Wo * Ho)
        h, w = oh * sh - ph + i * dh, ow * sw - pw + j * dw
        inside = 0 <= h < H and 0 <= w < W
        cols[idx] = x[((n * C + c) * H + h) * W + w] if inside else 0.0


@cuda.jit
def col2im(cols, x, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo):
    Q = N * Ho * Wo
    total = N * C * H * W
    for idx in range(cuda.grid(1), total, cuda.gridsize(1)):
        w, h, c, n = idx % W, (idx // W) % H, (idx // W // H) % C, idx // W // H // C
        s = np.float32(0.0)                               # float, like the .cu kernel
        for i in range(kh):
            th = h + ph - i * dh                          # = oh * sh if offset i reaches row h
            if th < 0 or th % sh != 0 or th // sh >= Ho:
                continue
            oh = th // sh
            for j in range(kw):
                tw = w + pw - j * dw
                if tw < 0 or tw % sw != 0 or tw // sw >= Wo:
                    continue
                ow = tw // sw
                r = (c * kh + i) * kw + j
                q = (n * Ho + oh) * Wo + ow
                s += cols[r * Q + q]
        x[idx] = s


def _grid(n: int, threads: int, max_blocks: int) -> int:
    return max(1, min(-(-n // threads), max_blocks))


def im2col_numba(x: np.ndarray, kernel_size: Pair, stride: Pair = (1, 1), padding: Pair = (0, 0),
                 dilation: Pair = (1, 1), threads: int = 128, max_blocks: int = 1024) -> np.ndarray:
    """cols (C*kh*kw, N*Ho*Wo) of the NumPy array x (N, C, H, W), computed by the Numba kernel."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    Ho, Wo, args = geometry("im2col_numba", x.shape, kernel_size, stride, padding, dilation)
    (N, C, _, _), (kh, kw) = x.shape, kernel_size
    cols = cuda.device_array(C * kh * kw * N * Ho * Wo, dtype=np.float32)
    im2col[_grid(cols.size, threads, max_blocks), threads](cuda.to_device(x.ravel()), cols, *args)
    return cols.copy_to_host().reshape(C * kh * kw, N * Ho * Wo)


def col2im_numba(cols: np.ndarray, x_shape, kernel_size: Pair, stride: Pair = (1, 1),
                 padding: Pair = (0, 0), dilation: Pair = (1, 1), threads: int = 128,
                 max_blocks: int = 1024) -> np.ndarray:
    """x (N, C, H, W) from the NumPy array cols, computed by the Numba kernel."""
    x_shape = tuple(int(s) for s in x_shape)
    Ho, Wo, args = geometry("col2im_numba", x_shape, kernel_size, stride, padding, dilation)
    (N, C, _, _), (kh, kw) = x_shape, kernel_size
    cols = np.ascontiguousarray(cols, dtype=np.float32)
    if cols.shape != (C * kh * kw, N * Ho * Wo):
        raise ValueError(f"col2im_numba: cols must have shape {(C * kh * kw, N * Ho * Wo)}, got {cols.shape}")
    x = cuda.device_array(int(np.prod(x_shape)), dtype=np.float32)
    col2im[_grid(x.size, threads, max_blocks), threads](cuda.to_device(cols.ravel()), x, *args)
    return x.copy_to_host().reshape(x_shape)
