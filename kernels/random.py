"""Random numbers on the GPU (kernels/random.cu): a Philox4x32-10 generator whose offset lives on the device.

    gen = PhiloxGenerator(seed=0)
    u = gen.uniform((128, 1024))            # U[0, 1) float32, a fresh draw each call
    mask = gen.dropout_mask((128, 1024), p)  # 1/(1-p) where kept, 0 where dropped

Every draw is two launches: the draw itself (one thread per element, block = 256, grid-stride),
which reads the offset from device memory, and ``philox_advance`` (one thread), which moves the
offset past the counters used. No host value changes between draws, so draws captured in a CUDA
graph (tinygan.cuda.graph) give new numbers on each replay.
"""
from __future__ import annotations

import numpy as np

from tinygan import backend

from .loader import BLOCK, check_size, get_kernel, grid_1d

_MASK64 = 2**64 - 1


class PhiloxGenerator:
    """The state of tinygan's CUDA generator: a 64-bit key (the seed) and a 64-bit counter offset."""

    def __init__(self, seed: int = 0):
        self.seed = int(seed) & _MASK64
        self._offset = None  # a (1,) uint64 cupy array, made on first use

    @property
    def offset(self):
        if self._offset is None:
            self._offset = backend.cupy().zeros(1, dtype=np.uint64)
        return self._offset

    def manual_seed(self, seed: int) -> None:
        """Restart the stream: key = seed, offset = 0 (in place, so captured graphs see it too)."""
        self.seed = int(seed) & _MASK64
        if self._offset is not None:
            self._offset.fill(0)

    def get_state(self) -> dict:
        return {"seed": self.seed, "offset": int(self.offset.get()[0])}

    def set_state(self, state: dict) -> None:
        self.seed = int(state["seed"]) & _MASK64
        self.offset[...] = np.uint64(int(state["offset"]))

    def _draw(self, kernel: str, shape: tuple, *extra):
        cp = backend.cupy()
        out = cp.empty(shape, dtype=cp.float32)
        n = out.size
        check_size(kernel, "out", n)
        if n:
            get_kernel("random", kernel)(grid_1d(n), (BLOCK,), (out, np.int32(n), *extra,
                                                                np.uint64(self.seed), self.offset))
            get_kernel("random", "philox_advance")((1,), (1,), (self.offset, np.uint64(-(-n // 4))))
        return out

    def uniform(self, shape: tuple):
        """float32 samples of U[0, 1), 24 random bits each."""
        return self._draw("philox_uniform", tuple(shape))

    def dropout_mask(self, shape: tuple, p: float):
        """Inverted dropout's mask: 1 / (1 - p) with probability 1 - p, else 0 (needs 0 <= p < 1)."""
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout_mask: p must be in [0, 1), got {p}")
        return self._draw("philox_dropout_mask", tuple(shape), np.float32(p))


def philox_raw(counters, keys):
    """Raw Philox4x32-10 words: counters (n, 4) and keys (n, 2) uint32 cupy arrays -> (n, 4) uint32."""
    cp = backend.cupy()
    counters = cp.ascontiguousarray(counters, dtype=cp.uint32)
    keys = cp.ascontiguousarray(keys, dtype=cp.uint32)
    if counters.ndim != 2 or counters.shape[1] != 4 or keys.shape != (counters.shape[0], 2):
        raise ValueError(f"philox_raw: expected counters (n, 4) and keys (n, 2), got {counters.shape} "
                         f"and {keys.shape}")
    out = cp.empty_like(counters)
    n = counters.shape[0]
    if n:
        get_kernel("random", "philox_raw")(grid_1d(n), (BLOCK,), (counters, keys, out, np.int32(n)))
    return out
