"""The array-module switch: the only module in tinygan that imports CuPy.

Every op body is written once against ``xp``, the array module of its inputs:
``numpy`` for arrays on the CPU, ``cupy`` for arrays on a CUDA device. The
device follows the data, so there is no global "current device" flag.

    xp = xp_of(a, b)        # numpy unless a or b lives on the GPU
    xp.exp(a) * b           # the same line runs on either device

Importing tinygan never needs CuPy, a GPU, nvcc or Numba; asking for
``device="cuda"`` without them raises a clear error saying how to install.
"""
from __future__ import annotations

import contextlib
import os

import numpy as np

_cupy = None          # the cupy module once imported successfully
_cupy_error = None    # why importing or using cupy failed, if it did

DEVICES = ("cpu", "cuda")
INSTALL_HINT = ("install the GPU extra matching your CUDA major version: "
                "pip install -e .[cuda12]  or  pip install -e .[cuda13]")


def _try_cupy():
    """Import cupy lazily and remember the outcome (never raises)."""
    global _cupy, _cupy_error
    if _cupy is None and _cupy_error is None:
        try:
            import cupy
            if cupy.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("CuPy found no CUDA device")
            _cupy = cupy
        except Exception as e:  # noqa: BLE001  (ImportError, CUDARuntimeError, ...: any failure means no GPU)
            _cupy_error = f"{type(e).__name__}: {e}"
    return _cupy


def cuda_is_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    return _try_cupy() is not None


def cupy():
    """The cupy module; raises a RuntimeError with install advice when it is unusable."""
    cp = _try_cupy()
    if cp is None:
        raise RuntimeError(f"device 'cuda' is not available ({_cupy_error}); {INSTALL_HINT}")
    return cp


def is_cupy_array(a) -> bool:
    return _cupy is not None and isinstance(a, _cupy.ndarray)


def xp_of(*arrays):
    """The array module of the given arrays: cupy if any of them is a cupy array, else numpy."""
    if _cupy is not None:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


def get_xp(device: str):
    """The array module that holds arrays of `device` ('cpu' or 'cuda')."""
    return cupy() if check_device(device) == "cuda" else np


def check_device(device) -> str:
    """Normalise a device name: 'cpu', 'cuda' or 'cuda:0' (one GPU is supported)."""
    if device is None:
        return default_device()
    name = str(device)
    if name in ("cuda:0",):
        name = "cuda"
    if name not in DEVICES:
        raise ValueError(f"unknown device {device!r}: expected one of {DEVICES}")
    if name == "cuda":
        cupy()  # raise early with the install hint
    return name


def default_device() -> str:
    """The default device: $TINYGAN_DEVICE if set, else 'cpu'."""
    name = os.environ.get("TINYGAN_DEVICE", "cpu") or "cpu"
    if name not in DEVICES and name != "cuda:0":
        raise ValueError(f"TINYGAN_DEVICE={name!r}: expected one of {DEVICES}")
    return "cuda" if name.startswith("cuda") else "cpu"


def device_of(a) -> str:
    """'cuda' for a cupy array, 'cpu' otherwise."""
    return "cuda" if is_cupy_array(a) else "cpu"


def to_device(a, device: str):
    """Copy array `a` to `device` (no copy when it is already there)."""
    device = check_device(device)
    if device == "cuda":
        if not is_cupy_array(a):
            _check_transfer("copying a host array of shape {} to the GPU", a)
        return cupy().asarray(a)
    if is_cupy_array(a):
        _check_transfer("copying a GPU array of shape {} to the host", a)
        return a.get()
    return np.asarray(a)


def to_numpy(a) -> np.ndarray:
    """A NumPy array holding `a`'s values (copied from the GPU if needed).

    Reading values on the host (``Tensor.item()``, ``float(t)``, ``.numpy()``) comes through here:
    on the GPU it waits for every kernel before it, so it is refused inside a ``transfer_guard``.
    """
    _check_transfer("reading an array of shape {} on the host", a)
    return a.get() if is_cupy_array(a) else np.asarray(a)


# --- no host <-> device traffic inside a captured step ---
_transfer_guard: str | None = None  # what is running that must not copy between host and GPU


@contextlib.contextmanager
def transfer_guard(what: str):
    """Within this block, reading values on the host (to_numpy, Tensor.item) and copying host
    arrays to the GPU raise a RuntimeError naming ``what``. A step captured into a CUDA graph must
    do neither: a read would stall the capture and a host copy would be frozen into the graph.
    On the CPU the same reads raise too, so a step can be checked for them without a GPU."""
    global _transfer_guard
    previous, _transfer_guard = _transfer_guard, what
    try:
        yield
    finally:
        _transfer_guard = previous


def _check_transfer(action: str, a) -> None:
    """Raise inside a transfer_guard; `action` gets a's shape (the message is built only then)."""
    if _transfer_guard is not None:
        action = action.format(np.shape(a))
        raise RuntimeError(f"{_transfer_guard}: {action} is not allowed here (it would synchronize with or "
                           "copy from the host); read values and draw host inputs outside the step")


# --- matmul routing (issue: cuBLAS for comparison, our kernels by default) ---
_use_cublas = False


def use_cublas(flag: bool = True) -> None:
    """Route GPU matmuls to cuBLAS (cupy.matmul) instead of tinygan's own SGEMM kernel."""
    global _use_cublas
    _use_cublas = bool(flag)


def cublas_enabled() -> bool:
    return _use_cublas


def scatter_add(out, key, values) -> None:
    """out[key] += values, adding up repeated indices (NumPy's ``add.at``, CuPy's ``scatter_add``)."""
    if is_cupy_array(out):
        import cupyx
        cupyx.scatter_add(out, key, values)
    else:
        np.add.at(out, key, values)
