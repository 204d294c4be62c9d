"""Reductions: sum, max/min, and the statistics built from them (mean, var, std, logsumexp)."""
from __future__ import annotations

import builtins
import math
from collections import namedtuple

from .. import backend
from ..tensor import Function, Tensor
from .elementwise import where
from .shape import wrap_dims

MaxMin = namedtuple("MaxMin", ["values", "indices"])  # what torch.max(x, dim) returns


def _axes(dim, ndim: int) -> tuple:
    """Normalise ``dim`` (None, int or tuple, possibly negative) to a sorted tuple of axes."""
    if dim is None:
        return tuple(range(ndim))
    axes = wrap_dims(dim, ndim)
    return tuple(sorted(axes)) if ndim else ()  # a 0-d tensor takes dim 0 or -1 and has no axes


def _count(x: Tensor, axes: tuple) -> int:
    """How many elements each output of a reduction over ``axes`` sums."""
    return math.prod(x.shape[a] for a in axes)


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# y = scale * (sum of x over axes)      (scale 1 for sum, 1/n for mean)
# vjp: scale * g broadcast back over the summed axes
class Sum(Function):
    saves_tensors = False  # only shapes and the scale: a second backward through it is allowed, as torch

    def forward(self, x, axes, keepdim, scale=1.0):
        self.in_shape, self.kept, self.scale = x.shape, _kept_shape(x.shape, axes), scale
        y = x.sum(axis=axes, keepdims=keepdim)
        return y if scale == 1.0 else y * x.dtype.type(scale)

    def backward(self, g):
        g = g.reshape(self.kept).expand(self.in_shape)
        return g if self.scale == 1.0 else g * self.scale


# y = sqrt(sum of x^2 over axes)   (the 2-norm)
# vjp: x * (g / y), with g / y taken as 0 where y = 0 (a zero vector), as PyTorch's masked_fill
class Norm(Function):
    save_output = True

    def forward(self, x, axes, keepdim):
        self.kept = _kept_shape(x.shape, axes)
        return backend.xp_of(x).sqrt((x * x).sum(axis=axes, keepdims=keepdim))

    def backward(self, g):
        (x,) = self.parents
        y, zero = self.output.reshape(self.kept), self.output.data.reshape(self.kept) == 0
        return x * where(zero, 0.0, g.reshape(self.kept) / where(zero, 1.0, y))


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
    """The mean over ``dim``: one op (a scaled sum), so that a graph through it may be walked twice,
    as torch's; like torch it refuses integer and bool tensors."""
    if x.dtype.kind != "f":
        raise RuntimeError(f"mean(): expected a floating point tensor, got {x.dtype}")
    axes = _axes(dim, x.ndim)
    return Sum.apply(x, axes=axes, keepdim=keepdim, scale=1.0 / _count(x, axes))


def _ddof(unbiased: bool, correction) -> int:
    return (1 if unbiased else 0) if correction is None else correction


def var(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance, by default with Bessel's correction (divide by n - 1), as ``torch.var``."""
    axes = _axes(dim, x.ndim)
    n = builtins.max(_count(x, axes) - _ddof(unbiased, correction), 0)
    centered = x - mean(x, axes, keepdim=True)
    # n - ddof <= 0 divides by zero: nan (or inf), as torch.var, not a ZeroDivisionError
    return sum(centered * centered, axes, keepdim) / n


def std(x: Tensor, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None) -> Tensor:
    """sqrt(var) = ||x - mean(x)|| / sqrt(n - ddof): through the norm, so a constant x has gradient 0, as torch.std."""
    axes = _axes(dim, x.ndim)
    n = builtins.max(_count(x, axes) - _ddof(unbiased, correction), 0)
    return norm(x - mean(x, axes, keepdim=True), 2, axes, keepdim) / math.sqrt(n)


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) = m + log(sum(exp(x - m))) with m = max(x), the shift treated as a constant
    (and 0 where the max is infinite, as torch: a row of -inf gives -inf, not NaN)."""
    axes = _axes(dim, x.ndim)
    xp, m = backend.xp_of(x.data), x.data.max(axis=axes, keepdims=True)
    m = Tensor(xp.where(xp.isinf(m), 0, m).astype(x.dtype))  # (x - m with m = -inf would be -inf + inf = NaN)
    out = (x - m).exp().sum(axes, keepdim=True).log() + m
    return out if keepdim else out.reshape(tuple(n for i, n in enumerate(out.shape) if i not in axes))


def norm(x: Tensor, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm over ``dim`` (p = 2 or 1), as ``Tensor.norm``."""
    if p == 2:
        return Norm.apply(x, axes=_axes(dim, x.ndim), keepdim=keepdim)
    if p == 1:
        return sum(x.abs(), dim, keepdim)
    raise ValueError(f"norm: p must be 1 or 2, got {p}")
