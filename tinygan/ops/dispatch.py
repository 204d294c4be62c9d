"""The one place where hot paths branch by device.

Every other op is written once against ``xp``. These few kernels carry most of the FLOPs,
so on the GPU they call tinygan's own CUDA kernels (``kernels/``) and on the CPU the
fastest NumPy formulation (one BLAS call).
"""
from __future__ import annotations

from .. import backend


def matmul(a, b):
    """a @ b for arrays with NumPy's matmul semantics (batched when ndim > 2)."""
    if backend.is_cupy_array(a) and not backend.cublas_enabled():
        if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype == "float32":
            from ..kernels.gemm import sgemm
            return sgemm(a, b)
    return a @ b
