"""What every benchmark does about the machine it runs on.

These development machines set ``OPENBLAS_CORETYPE=Haswell`` and ``OPENBLAS_L2_SIZE=512`` (a
workaround for old OpenBLAS builds). They pin NumPy's OpenBLAS to its AVX2 kernels, about half the
speed of the AVX-512 (SkylakeX) ones on these CPUs, and users' machines don't set them. So the
benchmarks run their timed processes without both, and report which BLAS kernel those processes get.
Tests and CI never touch them.
"""
from __future__ import annotations

import os
import subprocess
import sys

PINNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def bench_env(threads: int | None = None) -> dict:
    """This process's environment without the OpenBLAS pinning; with ``threads``, every library's
    thread count set to it (BLAS, OpenMP for PyTorch, Numba)."""
    env = {k: v for k, v in os.environ.items() if k not in PINNING}
    if threads is not None:
        env.update({k: str(threads) for k in THREAD_VARS})
    return env


_PROBE = """
import numpy
try:
    from threadpoolctl import threadpool_info
except ImportError:
    print("unknown (pip install threadpoolctl to see it)")
else:
    print(", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} ({i.get('num_threads')} threads)"
                    for i in threadpool_info() if i.get("user_api") == "blas") or "none found")
"""


def blas_kernel(env: dict) -> str:
    """The BLAS library, version and CPU kernel that NumPy loads in a process with ``env``
    (as threadpoolctl reports them), e.g. 'openblas 0.3.31 SkylakeX (2 threads)'."""
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, check=False)
    return proc.stdout.strip() or f"unknown ({proc.stderr.strip()[-200:]})"
