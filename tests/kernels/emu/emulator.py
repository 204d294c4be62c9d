"""Run tinygan's CUDA C kernels, unchanged, on CPU threads: a stand-in for ``cupy.RawModule``.

    module = EmulatedModule("gemm")                      # compiles kernels/gemm.cu with g++ (cached)
    kernel = module.get_function("sgemm_nn")
    kernel(grid, block, (np.int32(M), ..., a, ...))      # a RawKernel call; arrays are NumPy arrays

How: the ``extern "C" __global__ void name(params)`` declarations are read from the .cu text with a
regex; a launch wrapper ``extern "C" void launch_<name>(dim3 grid, dim3 block, params...)`` is
generated for each, which hands a lambda calling the kernel to ``emu::launch`` (cuda_emu.h: each
block runs as blockDim OS threads, one block at a time). The .cu text, followed by the wrappers, is
compiled as one C++ file with cuda_emu.h force-included into a shared library, cached under a hash
of everything that went in, and loaded with ctypes.

Arguments follow CuPy's RawKernel convention and are checked against the declared C types, so a
wrapper bug that would silently corrupt a GPU launch raises here: an array must be C-contiguous with
the dtype of the pointer (float* -> float32), a scalar must be a NumPy scalar of the exact type
(int -> np.int32); a Python int or float is refused where CuPy would pass int64 or float64 to a
narrower parameter. Launch shapes are checked against CUDA's limits.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEADER = Path(__file__).resolve().with_name("cuda_emu.h")
# The .cu files to run; $TINYGAN_CUDA_EMU_KERNELS points elsewhere (e.g. a copy with a planted bug,
# to see that the tests catch it).
KERNEL_DIR = Path(os.environ.get("TINYGAN_CUDA_EMU_KERNELS")
                  or Path(__file__).resolve().parents[3] / "kernels")
CXX = "g++"
FLAGS = ("-O1", "-std=c++20", "-pthread", "-shared", "-fPIC", "-fno-strict-aliasing")

# C scalar types -> (NumPy dtype, ctypes type). Pointers to them must point at arrays of that dtype.
C_TYPES = {
    "bool": (np.bool_, ctypes.c_bool),
    "int": (np.int32, ctypes.c_int32),
    "unsigned int": (np.uint32, ctypes.c_uint32),
    "unsigned": (np.uint32, ctypes.c_uint32),
    "long long": (np.int64, ctypes.c_int64),
    "unsigned long long": (np.uint64, ctypes.c_uint64),
    "float": (np.float32, ctypes.c_float),
    "double": (np.float64, ctypes.c_double),
}

KERNEL_DECL = re.compile(
    r'extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?(\w+)\s*\(([^)]*)\)')
COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
QUALIFIERS = re.compile(r"\b(?:const|volatile|__restrict__)\b")


@dataclass(frozen=True)
class Param:
    """One kernel parameter: ``const float* __restrict__ x`` -> name "x", base "float", pointer."""
    name: str
    base: str            # the C type without qualifiers and '*'
    pointer: bool
    decl: str            # the declaration as written

    @property
    def dtype(self):
        """The NumPy dtype of the scalar, or of the pointed-to elements; None for void* and others."""
        return np.dtype(C_TYPES[self.base][0]) if self.base in C_TYPES else None


def parse_param(decl: str) -> Param:
    decl = " ".join(decl.split())
    match = re.fullmatch(r"(.*?)\s*\b(\w+)", decl)
    if match is None:
        raise ValueError(f"cannot parse kernel parameter {decl!r}")
    ctype, name = match.groups()
    pointer = "*" in ctype
    base = " ".join(QUALIFIERS.sub(" ", ctype.replace("*", " ")).split())
    if not pointer and base not in C_TYPES:
        raise ValueError(f"kernel parameter {decl!r}: scalar type {base!r} is not one of {tuple(C_TYPES)}")
    if ctype.count("*") > 1:
        raise ValueError(f"kernel parameter {decl!r}: pointers to pointers are not supported")
    return Param(name, base, pointer, decl)


def parse_kernels(source: str) -> dict[str, tuple[Param, ...]]:
    """The ``extern "C" __global__`` kernels of a .cu text: name -> parameters, in source order."""
    kernels = {}
    for name, params in KERNEL_DECL.findall(COMMENT.sub(" ", source)):
        kernels[name] = tuple(parse_param(p) for p in params.split(",") if p.strip())
    return kernels


def launch_wrapper(name: str, params: tuple[Param, ...]) -> str:
    """C++ source of ``launch_<name>(grid, block, params...)``, which runs the kernel over the grid."""
    decls = "".join(f", {p.decl}" for p in params)
    names = ", ".join(p.name for p in params)
    return (f'extern "C" void launch_{name}(unsigned int gx, unsigned int gy, unsigned int gz,\n'
            f"    unsigned int bx, unsigned int by, unsigned int bz{decls})\n"
            f"{{\n    emu::launch(dim3{{gx, gy, gz}}, dim3{{bx, by, bz}}, [=] {{ {name}({names}); }});\n}}\n")


@functools.cache
def compiler_version() -> str:
    return subprocess.run([CXX, "--version"], check=True, capture_output=True, text=True).stdout


def cache_dir() -> Path:
    """$TINYGAN_CUDA_EMU_CACHE, else a per-user folder in the temp dir."""
    env = os.environ.get("TINYGAN_CUDA_EMU_CACHE")
    user = os.environ.get("USER") or str(os.getuid())
    return Path(env) if env else Path(tempfile.gettempdir()) / f"tinygan-cuda-emu-{user}"


def build(source: Path) -> tuple[Path, dict[str, tuple[Param, ...]]]:
    """Compile ``source`` (a .cu file) and its launch wrappers into a cached shared library."""
    if shutil.which(CXX) is None:
        raise RuntimeError(f"the CUDA emulator needs {CXX} on PATH")
    text = source.read_text(encoding="utf-8")
    kernels = parse_kernels(text)
    if not kernels:
        raise ValueError(f'{source}: no extern "C" __global__ kernels found')
    # #line makes compiler errors point into the original .cu file.
    unit = (f'#line 1 "{source}"\n{text}\n#line 1 "launch wrappers of {source.name}"\n'
            + "\n".join(launch_wrapper(name, params) for name, params in kernels.items()))
    key = hashlib.sha256("\0".join(
        [HEADER.read_text(encoding="utf-8"), unit, " ".join(FLAGS), compiler_version()]).encode())
    library = cache_dir() / f"{source.stem}-{key.hexdigest()[:20]}.so"
    if not library.exists():
        library.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=library.parent) as tmp:
            cpp, so = Path(tmp) / f"{source.stem}.cpp", Path(tmp) / library.name
            cpp.write_text(unit, encoding="utf-8")
            cmd = [CXX, *FLAGS, "-include", str(HEADER), str(cpp), "-o", str(so)]
            result = subprocess.run(cmd, check=False, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"compiling {source} for the CUDA emulator failed:\n"
                                   f"{' '.join(cmd)}\n{result.stderr}")
            os.replace(so, library)   # atomic: a concurrent build of the same key is harmless
    return library, kernels


# Function-scope statics of the header and the C++ library, which are not __shared__ variables.
NOT_SHARED = re.compile(r"_ZZN?K?(?:3emu|St|9__gnu_cxx)")


def shared_variables(library: Path) -> list[tuple[int, int]]:
    """(offset in the library, bytes) of each __shared__ variable of ``library``.

    ``__shared__`` is ``static``, so these are the function-scope statics (mangled ``_ZZ...``) other
    than the header's and the C++ library's: device code has no other kind. Read with ``nm``
    (binutils, installed with g++); without it, shared memory is simply not poisoned.
    """
    if shutil.which("nm") is None:
        return []
    listing = subprocess.run(["nm", "--defined-only", "-S", str(library)], check=True,
                             capture_output=True, text=True).stdout
    found = []
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[3].startswith("_ZZ") and not NOT_SHARED.match(fields[3]):
            found.append((int(fields[0], 16), int(fields[1], 16)))
    return found


def symbol_offset(library: Path, name: str) -> int:
    listing = subprocess.run(["nm", "--defined-only", str(library)], check=True, capture_output=True,
                             text=True).stdout
    return next(int(f[0], 16) for f in map(str.split, listing.splitlines()) if f[-1] == name)


def _dims(what: str, dims) -> tuple[int, int, int]:
    dims = (dims,) if isinstance(dims, int | np.integer) else tuple(dims)
    if not 1 <= len(dims) <= 3 or not all(isinstance(d, int | np.integer) for d in dims):
        raise TypeError(f"{what} must be an int or a tuple of 1 to 3 ints, got {dims!r}")
    return tuple(int(d) for d in dims) + (1,) * (3 - len(dims))


class EmulatedKernel:
    """One kernel of an EmulatedModule, called like ``cupy.RawKernel``: ``kernel(grid, block, args)``."""

    def __init__(self, name: str, params: tuple[Param, ...], function):
        self.name, self.params = name, params
        self._function = function
        function.restype = None
        function.argtypes = [ctypes.c_uint] * 6 + [
            ctypes.c_void_p if p.pointer else C_TYPES[p.base][1] for p in params]

    def __call__(self, grid, block, args, shared_mem: int = 0):
        grid, block = _dims("grid", grid), _dims("block", block)
        if min(grid + block) < 1:
            raise ValueError(f"{self.name}: empty launch grid={grid} block={block} (CUDA: invalid argument)")
        if block[0] * block[1] * block[2] > 1024 or block[2] > 64:
            raise ValueError(f"{self.name}: block {block} exceeds CUDA's limits (1024 threads, z <= 64)")
        if grid[0] > 2**31 - 1 or grid[1] > 65535 or grid[2] > 65535:
            raise ValueError(f"{self.name}: grid {grid} exceeds CUDA's limits")
        if shared_mem:
            raise ValueError(f"{self.name}: dynamic shared memory is not emulated")
        args = tuple(args)
        if len(args) != len(self.params):
            raise TypeError(f"{self.name} takes {len(self.params)} arguments "
                            f"({', '.join(p.decl for p in self.params)}), got {len(args)}")
        values = [self._convert(i, p, a) for i, (p, a) in enumerate(zip(self.params, args, strict=True))]
        self._function(*grid, *block, *values)

    def _convert(self, i: int, param: Param, arg):
        where = f"{self.name}: argument {i} ({param.decl})"
        if param.pointer:
            if not isinstance(arg, np.ndarray):
                raise TypeError(f"{where} needs an array, got {type(arg).__name__}")
            if not arg.flags.c_contiguous:
                raise ValueError(f"{where}: the array is not C-contiguous (a kernel sees only its pointer)")
            if param.dtype is not None and arg.dtype != param.dtype:
                raise TypeError(f"{where} needs a {param.dtype} array, got {arg.dtype}")
            return arg.ctypes.data
        if isinstance(arg, np.ndarray) or not isinstance(arg, np.generic | bool | int | float):
            raise TypeError(f"{where} needs a NumPy scalar, got {type(arg).__name__}")
        # CuPy passes a Python bool/int/float as bool/int64/float64 (NumPy's default types).
        dtype = np.asarray(arg).dtype if isinstance(arg, np.generic) else np.dtype(type(arg))
        if dtype != param.dtype:
            raise TypeError(f"{where} needs {param.dtype.name}, got {dtype.name}"
                            + ("" if isinstance(arg, np.generic) else f" (a Python {type(arg).__name__})"))
        return arg.item() if isinstance(arg, np.generic) else arg


class EmulatedModule:
    """The kernels of ``kernels/<family>.cu`` (or of the .cu file ``path``), compiled for the CPU.

    Stands in for ``cupy.RawModule``: ``get_function(name)`` returns a RawKernel-like callable.
    """

    def __init__(self, family: str | None = None, path: str | os.PathLike | None = None):
        if (family is None) == (path is None):
            raise TypeError("give a kernel family or the path of a .cu file")
        self.source = Path(path) if path is not None else KERNEL_DIR / f"{family}.cu"
        library, self.kernels = build(self.source)
        self._library = ctypes.CDLL(str(library))
        shared = shared_variables(library)
        if shared:   # load address = run-time address of a symbol - its offset in the file
            anchor = f"launch_{next(iter(self.kernels))}"
            address = ctypes.cast(getattr(self._library, anchor), ctypes.c_void_p).value
            base = address - symbol_offset(library, anchor)
            n = len(shared)
            self._library.emu_set_shared_variables(
                (ctypes.c_void_p * n)(*(base + offset for offset, _ in shared)),
                (ctypes.c_ulonglong * n)(*(size for _, size in shared)), ctypes.c_int(n))
        self.shared_variables = shared

    def get_function(self, name: str) -> EmulatedKernel:
        if name not in self.kernels:
            raise ValueError(f'{self.source} has no extern "C" __global__ kernel {name!r} '
                             f"(it has {', '.join(self.kernels)})")
        return EmulatedKernel(name, self.kernels[name], getattr(self._library, f"launch_{name}"))


@functools.cache
def load_module(family: str) -> EmulatedModule:
    return EmulatedModule(family)


@functools.cache
def get_kernel(family: str, name: str) -> EmulatedKernel:
    """Drop-in for ``tinygan.kernels.loader.get_kernel``: the emulated kernel ``name`` of ``family``."""
    return load_module(family).get_function(name)
