"""im2col and col2im on cupy arrays (kernels/conv.cu).

x is (N, C, H, W); cols is (C*kh*kw, N*Ho*Wo) with row r = (c*kh + i)*kw + j and column
q = (n*Ho + oh)*Wo + ow holding x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] (0 outside the image).
col2im is the adjoint: it adds every cols entry back onto the x element it was read from.

Mapping: im2col has one thread per element of cols, col2im one thread per element of x (a gather,
so no atomics). Launch shape (both): block = (256,), grid = (ceil(elements / 256),), capped, with a
grid-stride loop in the kernel. x and cols must each have fewer than 2**31 elements (32-bit indexing).
"""
from __future__ import annotations

import math

import numpy as np

from tinygan import backend
from tinygan.ops.dispatch import conv_output_hw

from .loader import BLOCK, check_array, check_size, get_kernel, grid_1d

Pair = tuple[int, int]


def geometry(kernel: str, x_shape, kernel_size: Pair, stride: Pair, padding: Pair, dilation: Pair):
    """(Ho, Wo, args): the output size and the 14 ints both kernels take after their two arrays,
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo."""
    if len(x_shape) != 4:
        raise ValueError(f"{kernel}: x must be (N, C, H, W), got shape {tuple(x_shape)}")
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    if min(kh, kw, sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"{kernel}: kernel, stride, dilation must be >= 1 and padding >= 0")
    Ho, Wo = conv_output_hw(x_shape, kernel_size, stride, padding, dilation)
    if Ho < 1 or Wo < 1:
        raise ValueError(f"{kernel}: output would be {Ho} x {Wo} for input {H} x {W}, kernel {kh} x {kw}")
    return Ho, Wo, (N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)


def im2col(x, kernel_size: Pair, stride: Pair = (1, 1), padding: Pair = (0, 0), dilation: Pair = (1, 1)):
    """cols (C*kh*kw, N*Ho*Wo) of x (N, C, H, W)."""
    cp = backend.cupy()
    x = check_array("im2col", "x", x, ndim=4)
    Ho, Wo, args = geometry("im2col", x.shape, kernel_size, stride, padding, dilation)
    (N, C, _, _), (kh, kw) = x.shape, kernel_size
    check_size("im2col", "cols", C * kh * kw * N * Ho * Wo)
    cols = cp.empty((C * kh * kw, N * Ho * Wo), dtype=cp.float32)
    if cols.size:
        get_kernel("conv", "im2col")(grid_1d(cols.size), (BLOCK,), (x, cols, *map(np.int32, args)))
    return cols


def col2im(cols, x_shape, kernel_size: Pair, stride: Pair = (1, 1), padding: Pair = (0, 0),
           dilation: Pair = (1, 1)):
    """x (N, C, H, W) = the sum of the cols entries read from each of its elements."""
    cp = backend.cupy()
    cols = check_array("col2im", "cols", cols, ndim=2)
    x_shape = tuple(int(s) for s in x_shape)
    Ho, Wo, args = geometry("col2im", x_shape, kernel_size, stride, padding, dilation)
    (N, C, _, _), (kh, kw) = x_shape, kernel_size
    if cols.shape != (C * kh * kw, N * Ho * Wo):
        raise ValueError(f"col2im: cols must have shape {(C * kh * kw, N * Ho * Wo)}, got {cols.shape}")
    check_size("col2im", "x", math.prod(x_shape))
    x = cp.empty(x_shape, dtype=cp.float32)
    if x.size:
        get_kernel("conv", "col2im")(grid_1d(x.size), (BLOCK,), (cols, x, *map(np.int32, args)))
    return x
