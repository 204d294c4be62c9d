"""The one loader of tinygan's CUDA sources, and the checks every kernel wrapper shares.

Each family of kernels lives in ``kernels/<family>.cu``. ``load_module(family)`` reads that text and
builds a ``cupy.RawModule`` from it (``path=`` would take only cubin/ptx); NVRTC compiles it on the
first kernel lookup, and the module is cached for the life of the process.

    kernel = get_kernel("gemm", "sgemm_nn")
    kernel(grid, block, (np.int32(M), ...))      # RawKernel: raw pointers, explicit scalar types

All the kernels are ``extern "C"`` (templates are instantiated into extern "C" wrappers), so no
``name_expressions`` are needed. CuPy is reached only through ``tinygan.backend.cupy()``, inside
functions, so importing this module needs neither CuPy nor a GPU.
"""
from __future__ import annotations

import functools
from pathlib import Path

from tinygan import backend

HERE = Path(__file__).resolve().parent
BLOCK = 256          # threads per block of the elementwise (grid-stride) kernels
MAX_BLOCKS = 65535   # cap on their grid; the grid-stride loop covers the rest
MAX_ELEMENTS = 2**31 - 1   # the kernels index arrays with 32-bit ints


def cuda_sources() -> list[Path]:
    """The .cu files of this package, one per kernel family."""
    return sorted(HERE.glob("*.cu"))


@functools.cache
def load_module(family: str):
    """The cupy.RawModule compiled from ``<family>.cu`` (built once per process)."""
    path = HERE / f"{family}.cu"
    if not path.is_file():
        raise ValueError(f"no CUDA source for kernel family {family!r} (looked for {path})")
    cp = backend.cupy()
    return cp.RawModule(code=path.read_text(encoding="utf-8"), options=("-std=c++17",))


@functools.cache
def get_kernel(family: str, name: str):
    """The cupy.RawKernel ``name`` from ``<family>.cu``."""
    return load_module(family).get_function(name)


def grid_1d(n: int, block: int = BLOCK) -> tuple[int]:
    """Grid for a grid-stride kernel over n elements: one thread per element, capped."""
    return (max(1, min(-(-n // block), MAX_BLOCKS)),)


def check_size(kernel: str, name: str, n: int) -> None:
    """Raise unless an array of n elements can be indexed with a 32-bit int."""
    if n > MAX_ELEMENTS:
        raise ValueError(f"{kernel}: {name} has {n} elements; the kernels index with 32-bit ints "
                         f"(at most {MAX_ELEMENTS})")


def check_array(kernel: str, name: str, a, ndim: int | None = None, min_ndim: int | None = None,
                inplace: bool = False):
    """Check that ``a`` is a float32 cupy array of the right rank and size; return it C-contiguous.

    RawKernel sees only a pointer, so strides are lost: inputs are copied to contiguous memory
    when needed. Arrays the kernel writes in place (``inplace``) cannot be copied and must already
    be contiguous.
    """
    cp = backend.cupy()
    if not isinstance(a, cp.ndarray):
        raise TypeError(f"{kernel}: {name} must be a cupy.ndarray, got {type(a).__name__}")
    if a.dtype != cp.float32:
        raise TypeError(f"{kernel}: {name} must be float32, got {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{kernel}: {name} must be {ndim}-D, got shape {a.shape}")
    if min_ndim is not None and a.ndim < min_ndim:
        raise ValueError(f"{kernel}: {name} must have at least {min_ndim} dimensions, got shape {a.shape}")
    check_size(kernel, name, a.size)
    if inplace:
        if not a.flags.c_contiguous:
            raise ValueError(f"{kernel}: {name} is updated in place and must be C-contiguous")
        return a
    return cp.ascontiguousarray(a)
