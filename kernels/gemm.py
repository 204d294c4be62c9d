"""SGEMM on cupy arrays with tinygan's own kernel (kernels/gemm.cu).

    C = alpha * op(A) @ op(B) + beta * C        op(A): (M, K)   op(B): (K, N)   C: (M, N)

Mapping: each block of 256 threads computes a 128 x 128 tile of C, each thread an 8 x 8 micro-tile
(two 4 x 4 blocks in each direction), stepping through K 8 at a time. Launch shape:
grid = (ceil(N / 128), ceil(M / 128)), block = (256,). See the header of gemm.cu for the details.
"""
from __future__ import annotations

import numpy as np

from tinygan import backend

from .loader import check_array, get_kernel

TILE = 128      # rows and columns of C per block (BM = BN in gemm.cu)
THREADS = 256


def sgemm(a, b, trans_a: bool = False, trans_b: bool = False, alpha: float = 1.0, beta: float = 0.0,
          out=None):
    """alpha * op(a) @ op(b) + beta * out, written into ``out`` (a new (M, N) array if None).

    ``trans_a=True`` means ``a`` is stored (K, M) and used transposed; likewise ``b`` is (N, K).
    ``beta`` other than 0 needs ``out``; with beta == 0 the old contents of ``out`` are never read.
    """
    cp = backend.cupy()
    a = check_array("sgemm", "a", a, ndim=2)
    b = check_array("sgemm", "b", b, ndim=2)
    M, K = a.shape[::-1] if trans_a else a.shape
    Kb, N = b.shape[::-1] if trans_b else b.shape
    if K != Kb:
        raise ValueError(f"sgemm: inner dimensions differ: op(a) is {(M, K)}, op(b) is {(Kb, N)}")
    if out is None:
        if beta != 0:
            raise ValueError("sgemm: beta != 0 needs an `out` array to accumulate into")
        out = cp.empty((M, N), dtype=cp.float32)
    out = check_array("sgemm", "out", out, ndim=2, inplace=True)
    if out.shape != (M, N):
        raise ValueError(f"sgemm: out must have shape {(M, N)}, got {out.shape}")
    if M == 0 or N == 0:
        return out

    name = "sgemm_" + ("t" if trans_a else "n") + ("t" if trans_b else "n")
    lda, ldb, ldc = a.shape[1], b.shape[1], N      # row strides of the stored (contiguous) arrays
    grid = (-(-N // TILE), -(-M // TILE))
    get_kernel("gemm", name)(grid, (THREADS,), (
        np.int32(M), np.int32(N), np.int32(K), np.float32(alpha),
        a, np.int32(lda), b, np.int32(ldb),
        np.float32(beta), out, np.int32(ldc)))
    return out
