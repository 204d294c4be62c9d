"""Reparametrisations of a layer's weight (``torch.nn.utils``): weight normalisation and its data-dependent init.

Weight normalisation (Salimans & Kingma 2016, "Weight Normalization", Eq. 2) writes each output
unit's weight vector as a direction and a length,

    w = g * v / ||v||,

so gradient descent on (g, v) sets the length and the direction apart. As in PyTorch,
``weight_norm(module)`` replaces the parameter ``weight`` by ``weight_g`` (the lengths, shape 1 but
along ``dim``) and ``weight_v`` (the directions), and recomputes ``module.weight`` from them before
each forward, so gradients reach g and v through ordinary differentiable ops.
"""
from __future__ import annotations

from ..tensor import Tensor, no_grad
from .module import Module, Parameter


def norm_except_dim(v: Tensor, dim: int = 0) -> Tensor:
    """||v|| over every dim but ``dim``, kept as size-1 dims: (out, in) -> (out, 1) for dim 0."""
    others = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return (v * v).sum(others, keepdim=True).sqrt()


def _weight(module: Module, name: str, dim: int) -> Tensor:
    g, v = getattr(module, name + "_g"), getattr(module, name + "_v")
    return v * (g / norm_except_dim(v, dim))  # w = g v / ||v||


def weight_norm(module: Module, name: str = "weight", dim: int = 0) -> Module:
    """Reparametrise ``module.<name>`` as g * v / ||v|| (``torch.nn.utils.weight_norm``); returns ``module``.

    g starts at ||w|| and v at w, so the layer computes what it did before. ``weight_g`` and
    ``weight_v`` are its parameters (and state-dict keys) from now on; ``module.<name>`` is the
    Tensor computed from them at the latest forward.
    """
    w = getattr(module, name, None)
    if not isinstance(w, Parameter):
        raise TypeError(f"weight_norm: {type(module).__name__}.{name} is not a Parameter (got {type(w).__name__})")
    delattr(module, name)
    module.register_parameter(name + "_g", Parameter(norm_except_dim(w, dim).data.copy()))
    module.register_parameter(name + "_v", Parameter(w.data.copy()))
    setattr(module, name, _weight(module, name, dim).detach())
    forward = module.forward

    def normalised_forward(*args, **kwargs):
        setattr(module, name, _weight(module, name, dim))  # a plain attribute: not a parameter
        return forward(*args, **kwargs)

    module.forward = normalised_forward  # an instance attribute: this module only
    return module


def data_dependent_init_(layers, x: Tensor) -> Tensor:
    """Salimans & Kingma 2016, Sec. 3: pass the batch x (N, ...) through ``layers`` in order and, at each
    weight-normed Linear, set g <- g / s and b <- -m / s, m and s the mean and std over the batch of each
    unit's pre-activation x w^T: it starts with mean 0 and std 1. Returns the last layer's output."""
    h = x
    with no_grad():
        for layer in layers:
            if hasattr(layer, "weight_v"):
                a = layer(h).data - layer.bias.data                          # (N, out) = x w^T
                m, s = a.mean(0), a.std(0)
                layer.weight_g.data /= s.reshape(-1, 1)
                layer.bias.data[...] = -m / s
            h = layer(h)
    return h
