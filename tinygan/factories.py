"""Creating tensors: ``tinygan.tensor`` and the PyTorch-style factories, and the seeded RNG.

Random numbers of the factories (``randn``, ``rand``, ...) are always drawn on the CPU with one
NumPy ``Generator`` and then moved to the requested device. So a seed gives the same numbers on
every device, and a run on the GPU can be checked step by step against the same run on the CPU.

The one exception is dropout on the GPU: its masks come from tinygan's CUDA generator (Philox,
``kernels/random.cu``), made on the device, so that a training step with dropout can be captured
in a CUDA graph (a host draw would be frozen into it). ``manual_seed`` seeds both generators, as
``torch.manual_seed`` does; as in PyTorch, the CPU and CUDA streams differ.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .tensor import Tensor

_default_generator = np.random.default_rng(0)


_cuda_generator = None  # kernels.random.PhiloxGenerator, made on first use on the GPU
_cuda_seed = 0


def manual_seed(seed: int) -> np.random.Generator:
    """Seed tinygan's default random generator and the CUDA one (as ``torch.manual_seed``);
    returns the CPU generator."""
    global _default_generator, _cuda_seed
    _default_generator = np.random.default_rng(int(seed))
    _cuda_seed = int(seed)
    if _cuda_generator is not None:
        _cuda_generator.manual_seed(_cuda_seed)
    return _default_generator


def cuda_generator():
    """The generator of random numbers made on the GPU (dropout masks): a ``PhiloxGenerator``."""
    global _cuda_generator
    if _cuda_generator is None:
        from .kernels.random import PhiloxGenerator
        _cuda_generator = PhiloxGenerator(_cuda_seed)
    return _cuda_generator


def default_generator() -> np.random.Generator:
    return _default_generator


def get_rng_state() -> dict:
    """The default generator's state (a JSON-able dict), for checkpoints."""
    return _default_generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    _default_generator.bit_generator.state = state


def _dtype(dtype, default=np.float32) -> np.dtype:
    return np.dtype(default if dtype is None else dtype)


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _make(array: np.ndarray, device, requires_grad: bool) -> Tensor:
    device = backend.check_device(device)
    return Tensor(backend.to_device(array, device) if device != "cpu" else array,
                  requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (as ``torch.tensor``).

    Python floats become float32, Python ints int64; NumPy arrays keep their dtype.
    """
    if isinstance(data, Tensor):
        data = data.data
    if backend.is_cupy_array(data):
        array = data.astype(dtype if dtype is not None else data.dtype, copy=True)
        if device is not None and backend.check_device(device) == "cpu":
            array = backend.to_numpy(array)
        return Tensor(array, requires_grad=requires_grad)
    if dtype is None and not isinstance(data, (np.ndarray, np.generic)):
        probe = np.asarray(data)  # Python numbers and lists: float64 -> float32, as torch
        dtype = np.float32 if probe.dtype == np.float64 else probe.dtype
    array = np.array(data, dtype=dtype, copy=True)
    if requires_grad and array.dtype.kind != "f":
        raise TypeError(f"tensor: only floating point tensors can require grad, got dtype {array.dtype}")
    if device is None and not backend.is_cupy_array(array):
        device = backend.default_device()
    return _make(array, device, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make(np.zeros(_shape(size), _dtype(dtype)), device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_shape(size), _dtype(dtype)), device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; without dtype it is bool, int64 or float32 as the value (torch.full)."""
    if dtype is None:
        dtype = bool if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else np.float32
    return _make(np.full(_shape((size,)), fill_value, _dtype(dtype)), device, requires_grad)


def randn(*size, generator: np.random.Generator | None = None, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples, drawn on the CPU from ``generator`` (default: the seeded one)."""
    rng = generator or _default_generator
    return _make(rng.standard_normal(_shape(size), dtype=np.float64).astype(_dtype(dtype)), device,
                 requires_grad)


def rand(*size, generator: np.random.Generator | None = None, dtype=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    rng = generator or _default_generator
    return _make(rng.random(_shape(size)).astype(_dtype(dtype)), device, requires_grad)


def randint(low: int, high: int, size, generator: np.random.Generator | None = None,
            dtype=None, device=None) -> Tensor:
    rng = generator or _default_generator
    return _make(rng.integers(low, high, _shape((size,))).astype(_dtype(dtype, np.int64)), device, False)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else np.float32
    return _make(np.arange(start, end, step, dtype=dtype), device, requires_grad)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return zeros(*t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return ones(*t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def randn_like(t: Tensor, generator=None, dtype=None, device=None) -> Tensor:
    return randn(*t.shape, generator=generator, dtype=dtype or t.dtype, device=device or t.device)


def rand_like(t: Tensor, generator=None, dtype=None, device=None) -> Tensor:
    return rand(*t.shape, generator=generator, dtype=dtype or t.dtype, device=device or t.device)
