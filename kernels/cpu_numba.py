"""Fused CPU loops compiled with Numba (``@njit``), for the few updates NumPy cannot fuse.

NumPy evaluates ``m = b1*m + (1-b1)*g`` as several passes over memory, each with a
temporary. For a memory-bound update such as Adam's, one pass that reads p, g, m, v and
writes p, m, v once is ~3x faster. Numba is imported on first use: importing tinygan
does not need it (it is an install requirement, so it is there when an optimizer steps).
"""
from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, fastmath=True)
def _adam(p, g, m, v, step_size, beta1, beta2, eps, weight_decay, bc2_sqrt):
    # one element per iteration; torch.optim.Adam's arithmetic, scalars in the arrays' precision
    c1, c2 = 1 - beta1, 1 - beta2
    for i in range(p.size):
        gi = g[i] + weight_decay * p[i] if weight_decay != 0 else g[i]
        m[i] = beta1 * m[i] + c1 * gi
        v[i] = beta2 * v[i] + c2 * gi * gi
        p[i] -= step_size * m[i] / (math.sqrt(v[i]) / bc2_sqrt + eps)


def adam_update(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, lr: float, beta1: float,
                beta2: float, eps: float, weight_decay: float, step: int) -> None:
    """Adam's update of p, m and v in place (all contiguous, same dtype)."""
    if not all(a.flags.c_contiguous for a in (p, m, v)):
        raise ValueError("adam_update: p, m and v must be contiguous arrays (they are updated in place)")
    f = p.dtype.type  # float32 scalars keep a float32 update in float32, so it vectorises
    _adam(p.reshape(-1), np.ascontiguousarray(g, dtype=p.dtype).reshape(-1), m.reshape(-1), v.reshape(-1),
          f(lr / (1 - beta1 ** step)), f(beta1), f(beta2), f(eps), f(weight_decay), f(math.sqrt(1 - beta2 ** step)))
