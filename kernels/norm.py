"""Batch norm and instance norm on cupy arrays (kernels/norm.cu).

x (N, C, *spatial) is viewed as (N, C, L). Statistics are per group: per channel over (N, L) for
mode="batch", per (n, c) over L for mode="instance".

Mapping and launch shapes:
  norm_stats, norm_backward_reduce   one block per group: grid = (G,), block = (256,)
                                     (G = C for batch, N*C for instance)
  norm_apply, norm_backward_apply    one thread per element of x: block = (256,),
                                     grid = (ceil(x.size / 256),) capped, grid-stride loop
"""
from __future__ import annotations

import math

import numpy as np

from tinygan import backend

from .loader import BLOCK, check_array, get_kernel, grid_1d

MODES = ("batch", "instance")


def _layout(kernel: str, x, mode: str):
    """(N, C, L, G, reps, stride) of x viewed as (N, C, L) under `mode`."""
    if mode not in MODES:
        raise ValueError(f"{kernel}: mode must be one of {MODES}, got {mode!r}")
    N, C, L = x.shape[0], x.shape[1], math.prod(x.shape[2:])
    if mode == "batch":
        return N, C, L, C, N, C * L
    return N, C, L, N * C, 1, C * L


_constants: dict = {}  # (array module, C, fill) -> a (C,) array of fill, made once


def _per_channel(kernel: str, name: str, a, C: int, fill: float):
    """gamma or beta as a contiguous (C,) array; a constant `fill` when a is None (made once per
    size and kept, so that a normalization without affine costs no extra launches)."""
    cp = backend.cupy()
    if a is None:
        key = (cp.__name__, C, fill)
        if key not in _constants:
            _constants[key] = cp.full((C,), fill, dtype=cp.float32)
        return _constants[key]
    a = check_array(kernel, name, a, ndim=1)
    if a.shape != (C,):
        raise ValueError(f"{kernel}: {name} must have shape {(C,)}, got {a.shape}")
    return a


def norm_forward(x, gamma=None, beta=None, eps: float = 1e-5, mode: str = "batch"):
    """(y, mean, rstd): y = (x - mean) * rstd * gamma[c] + beta[c], rstd = 1 / sqrt(var + eps).

    mean and rstd have shape (C,) for batch norm and (N, C) for instance norm; the variance is
    the biased one (divided by the group size).
    """
    cp = backend.cupy()
    x = check_array("norm_forward", "x", x, min_ndim=2)
    if x.size == 0:
        raise ValueError(f"norm_forward: x must not be empty, got shape {x.shape}")
    N, C, L, G, reps, stride = _layout("norm_forward", x, mode)
    gamma = _per_channel("norm_forward", "gamma", gamma, C, 1.0)
    beta = _per_channel("norm_forward", "beta", beta, C, 0.0)
    mean = cp.empty(G, dtype=cp.float32)
    rstd = cp.empty(G, dtype=cp.float32)
    y = cp.empty_like(x)
    get_kernel("norm", "norm_stats")((G,), (BLOCK,), (
        x, mean, rstd, np.int32(L), np.int32(reps), np.int32(stride), np.float32(eps)))
    get_kernel("norm", "norm_apply")(grid_1d(x.size), (BLOCK,), (
        x, mean, rstd, gamma, beta, y, np.int32(x.size), np.int32(C), np.int32(L),
        np.int32(mode == "instance")))
    shape = (C,) if mode == "batch" else (N, C)
    return y, mean.reshape(shape), rstd.reshape(shape)


def norm_backward(dy, x, mean, rstd, gamma=None, mode: str = "batch"):
    """(dx, dgamma, dbeta) of norm_forward, given its mean and rstd.

    dx = gamma[c] * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)), means over the group;
    dgamma[c] = sum(dy * xhat), dbeta[c] = sum(dy) over all (n, l). Without gamma (no affine
    transform) dgamma and dbeta are None.
    """
    cp = backend.cupy()
    x = check_array("norm_backward", "x", x, min_ndim=2)
    dy = check_array("norm_backward", "dy", dy, min_ndim=2)
    if dy.shape != x.shape:
        raise ValueError(f"norm_backward: dy has shape {dy.shape}, x has {x.shape}")
    N, C, L, G, reps, stride = _layout("norm_backward", x, mode)
    mean = check_array("norm_backward", "mean", mean).reshape(-1)
    rstd = check_array("norm_backward", "rstd", rstd).reshape(-1)
    if mean.size != G or rstd.size != G:
        raise ValueError(f"norm_backward: mean and rstd must have {G} entries for mode={mode!r}")
    affine = gamma is not None
    gamma = _per_channel("norm_backward", "gamma", gamma, C, 1.0)

    sum_dy = cp.empty(G, dtype=cp.float32)
    sum_dy_xhat = cp.empty(G, dtype=cp.float32)
    dx = cp.empty_like(x)
    get_kernel("norm", "norm_backward_reduce")((G,), (BLOCK,), (
        dy, x, mean, rstd, sum_dy, sum_dy_xhat, np.int32(L), np.int32(reps), np.int32(stride)))
    get_kernel("norm", "norm_backward_apply")(grid_1d(x.size), (BLOCK,), (
        dy, x, mean, rstd, gamma, sum_dy, sum_dy_xhat, dx,
        np.int32(x.size), np.int32(C), np.int32(L), np.int32(mode == "instance")))
    if not affine:
        return dx, None, None
    if mode == "instance":                      # per-(n, c) sums -> per-channel sums
        sum_dy, sum_dy_xhat = sum_dy.reshape(N, C).sum(0), sum_dy_xhat.reshape(N, C).sum(0)
    return dx, sum_dy_xhat, sum_dy
