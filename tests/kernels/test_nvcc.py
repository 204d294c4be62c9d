"""Every CUDA source compiles with nvcc for Ampere (sm_80) and Hopper (sm_90).

CuPy compiles the same text with NVRTC at run time; this catches syntax and type errors on machines
without a GPU. Like NVRTC, the sources get no host headers (no <cstdio> and friends).
"""
import shutil
import subprocess
import sys

import pytest
from tinygan.kernels.loader import cuda_sources

needs_nvcc = pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not on PATH")


def test_there_are_cuda_sources():
    assert len(cuda_sources()) >= 1, "no .cu files found beside tinygan/kernels/loader.py"


@needs_nvcc
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("source", cuda_sources(), ids=lambda p: p.name)
def test_cuda_source_compiles(source, arch, tmp_path):
    ptx = tmp_path / f"{source.stem}.{arch}.ptx"
    cmd = ["nvcc", "--ptx", f"-arch={arch}", "-std=c++17", str(source), "-o", str(ptx)]
    result = subprocess.run(cmd, check=False, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr}"
    assert ptx.stat().st_size > 0


def test_kernel_wrappers_import_without_numba():
    """Importing the package and its CuPy wrappers must not need numba (nor CuPy, a GPU or nvcc)."""
    code = ("import sys, tinygan.kernels, tinygan.kernels.loader, tinygan.kernels.gemm, "
            "tinygan.kernels.conv, tinygan.kernels.norm, tinygan.kernels.elementwise; "
            "assert 'numba' not in sys.modules, 'numba was imported'")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
