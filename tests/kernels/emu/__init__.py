"""A CPU emulator of the CUDA execution model: tinygan's .cu kernels run unchanged on CPU threads.

cuda_emu.h (force-included before a .cu file) defines the CUDA built-ins; emulator.py compiles a
.cu file with g++ and exposes its kernels the way cupy.RawModule does. See both files' headers.
"""
from .emulator import EmulatedKernel, EmulatedModule, build, get_kernel, parse_kernels

__all__ = ["EmulatedKernel", "EmulatedModule", "build", "get_kernel", "parse_kernels"]
