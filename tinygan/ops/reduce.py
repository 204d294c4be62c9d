"""Reductions: sum, max/min, and the statistics built from them (mean, var, std, logsumexp)."""
from __future__ import annotations

import builtins
from collections import namedtuple

from .. import backend
from ..tensor import Function, Tensor
from .shape import wrap_dims

MaxMin = namedtuple("MaxMin", ["values", "indices"])  # what torch.max(x, dim) returns


def _axes(dim, ndim: int) -> tuple:
    """Normalise ``dim`` (None, int or tuple, possibly negative) to a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    axes = wrap_dims(dim, ndim)
    return tuple(sorted(axes)) if ndim else ()  # a 0-d tensor takes dim 0 or -1 and has no axes


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# y = sum of x over axes
# vjp: g broadcast back over the summed axes
class Sum(Function):
    def forward(self, x, axes, keepdim):
        self.in_shape, self.kept = x.shape, _kept_shape(x.shape, axes)
        return x.sum(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return g.reshape(self.kept).expand(self.in_shape)


# y = max (or min) of x over axes
# vjp: g shared equally among the elements that attain the extreme value
class Extreme(Function):
    def forward(self, x, axes, keepdim, largest):
        xp = backend.xp_of(x)
        y = (x.max if largest else x.min)(axis=axes, keepdims=True)
        hit = (x == y).astype(x.dtype)
        self.share = hit / hit.sum(axis=axes, keepdims=True)
        self.kept, self.in_shape = y.shape, x.shape
        return y if keepdim else xp.squeeze(y, axis=axes)

    def backward(self, g):
        return g.reshape(self.kept).expand(self.in_shape) * Tensor(self.share)


def sum(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return Sum.apply(x, axes=_axes(dim, x.ndim), keepdim=keepdim)


def _extreme(x: Tensor, dim, keepdim: bool, largest: bool):
    if dim is None:
        return Extreme.apply(x, axes=_axes(None, x.ndim), keepdim=False, largest=largest)
    axes = _axes(dim, x.ndim)
    values = Extreme.apply(x, axes=axes, keepdim=keepdim, largest=largest)
    xp = backend.xp_of(x.data)
    idx = (xp.argmax if largest else xp.argmin)(x.data, axis=axes[0])
    return MaxMin(values, Tensor(xp.expand_dims(idx, axes[0]) if keepdim else idx))


def max(x: Tensor, dim=None, keepdim: bool = False):
    """``max(x)`` -> Tensor; ``max(x, dim)`` -> (values, indices), as in PyTorch."""
    return _extreme(x, dim, keepdim, largest=True)


def min(x: Tensor, dim=None, keepdim: bool = False):
    return _extreme(x, dim, keepdim, largest=False)


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return Extreme.apply(x, axes=_axes(dim, x.ndim), keepdim=keepdim, largest=True)


def mean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    axes = _axes(dim, x.ndim)
    count = 1
    for a in axes:
        count *= x.shape[a]
    return sum(x, axes, keepdim) * (1.0 / count)


def var(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance, by default with Bessel's correction (divide by n - 1), as ``torch.var``."""
    axes = _axes(dim, x.ndim)
    count = 1
    for a in axes:
        count *= x.shape[a]
    ddof = (1 if unbiased else 0) if correction is None else correction
    centered = x - mean(x, axes, keepdim=True)
    # n - ddof <= 0 divides by zero: nan (or inf), as torch.var, not a ZeroDivisionError
    return sum(centered * centered, axes, keepdim) / builtins.max(count - ddof, 0)


def std(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None) -> Tensor:
    return var(x, dim, unbiased, keepdim, correction=correction).sqrt()


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) = m + log(sum(exp(x - m))) with m = max(x), the shift treated as a constant."""
    axes = _axes(dim, x.ndim)
    m = Tensor(x.data.max(axis=axes, keepdims=True))
    out = (x - m).exp().sum(axes, keepdim=True).log() + m
    return out if keepdim else out.reshape(tuple(n for i, n in enumerate(out.shape) if i not in axes))


def norm(x: Tensor, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm over ``dim`` (p = 2 or 1), as ``Tensor.norm``."""
    if p == 2:
        return sum(x * x, dim, keepdim).sqrt()
    if p == 1:
        return sum(x.abs(), dim, keepdim)
    raise ValueError(f"norm: p must be 1 or 2, got {p}")

