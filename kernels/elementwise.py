"""Fused elementwise kernels on cupy arrays (kernels/elementwise.cu): Adam (and the capturable Adam
of CUDA graphs, whose step count lives on the device).

Mapping: one thread per element of the (contiguous) array. Launch shape (all): block = (256,),
grid = (ceil(n / 256),) capped, with a grid-stride loop in the kernel.
"""
from __future__ import annotations

import numpy as np

from .loader import BLOCK, check_array, get_kernel, grid_1d


def _check_adam(kernel: str, p, g, m, v):
    for name, a in (("p", p), ("m", m), ("v", v)):
        check_array(kernel, name, a, inplace=True)
    g = check_array(kernel, "g", g)
    if not p.shape == g.shape == m.shape == v.shape:
        raise ValueError(f"{kernel}: p, g, m, v shapes differ: {p.shape}, {g.shape}, {m.shape}, {v.shape}")
    return g


def adam_update(p, g, m, v, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                step: int) -> None:
    """One Adam step (PyTorch's formula, L2 weight decay added to g), in place on p, m and v.

    ``step`` is the 1-based step count t of the bias corrections 1 - beta^t.
    """
    g = _check_adam("adam_update", p, g, m, v)
    if step < 1:
        raise ValueError(f"adam_update: step counts from 1, got {step}")
    bc1, bc2 = 1.0 - beta1 ** step, 1.0 - beta2 ** step
    if p.size:
        get_kernel("elementwise", "adam_update")(grid_1d(p.size), (BLOCK,), (
            p, g, m, v, np.int32(p.size), np.float32(lr), np.float32(beta1), np.float32(beta2),
            np.float32(eps), np.float32(weight_decay), np.float32(bc1), np.float32(bc2)))


def adam_update_capturable(p, g, m, v, lr: float, beta1: float, beta2: float, eps: float,
                           weight_decay: float, step) -> None:
    """adam_update with the step count t in device memory: ``step`` is a (1,) float32 cupy array
    holding t (already incremented, see ``step_increment``). Nothing in the launch depends on t,
    so the update can be captured in a CUDA graph and replayed."""
    g = _check_adam("adam_update_capturable", p, g, m, v)
    step = check_array("adam_update_capturable", "step", step, ndim=1, inplace=True)
    if step.shape != (1,):
        raise ValueError(f"adam_update_capturable: step must have shape (1,), got {step.shape}")
    if p.size:
        get_kernel("elementwise", "adam_update_capturable")(grid_1d(p.size), (BLOCK,), (
            p, g, m, v, np.int32(p.size), np.float32(lr), np.float32(beta1), np.float32(beta2),
            np.float32(eps), np.float32(weight_decay), step))


def step_increment(step) -> None:
    """step[0] += 1 on the device (the step count of a capturable optimizer)."""
    step = check_array("step_increment", "step", step, ndim=1, inplace=True)
    get_kernel("elementwise", "step_increment")((1,), (1,), (step,))
