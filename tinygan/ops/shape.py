"""Shape ops: reshape, permute, expand, indexing, concatenation and padding.

None of them computes anything: their backward only moves gradients back into place.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Function, Tensor


def wrap_dim(dim: int, ndim: int) -> int:
    """``dim`` in [-ndim, ndim) as an axis in [0, ndim), or an IndexError as PyTorch's (a 0-d tensor
    takes dim 0 or -1)."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def wrap_dims(dims, ndim: int) -> tuple:
    """An int or a sequence of dims as axes in [0, ndim) (each at most once, as PyTorch)."""
    axes = (wrap_dim(dims, ndim),) if isinstance(dims, int) else tuple(wrap_dim(d, ndim) for d in dims)
    for i, a in enumerate(axes):
        if a in axes[:i]:
            raise RuntimeError(f"dim {a} appears multiple times in the list of dims")
    return axes


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


# y = x viewed with another shape
# vjp: g reshaped back
class Reshape(Function):
    saves_tensors = False

    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


# y = x with its axes reordered
# vjp: g with the inverse order
class Permute(Function):
    saves_tensors = False

    def forward(self, x, dims):
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, g):
        return g.permute(self.inverse)


# y = x broadcast to a larger shape (a view, nothing is copied)
# vjp: g summed over the broadcast axes
class Expand(Function):
    saves_tensors = False

    def forward(self, x, shape):
        self.in_shape = x.shape
        return backend.xp_of(x).broadcast_to(x, shape)

    def backward(self, g):
        from .elementwise import unbroadcast
        return unbroadcast(g, self.in_shape)


def _is_int(k) -> bool:
    """An integer index: it selects one entry of its dim and removes the dim (a 0-d index array too)."""
    if isinstance(k, (int, np.integer)):
        return not isinstance(k, bool)
    return getattr(k, "ndim", None) == 0 and k.dtype.kind in "iu"


def _is_array(k) -> bool:
    """An index array (or list), which NumPy and PyTorch call advanced indexing."""
    return isinstance(k, list) or (getattr(k, "ndim", 0) > 0)


def _torch_order(key: tuple) -> tuple:
    """``x[key]`` as ``x[first][second]``: integers first, then the index arrays, as PyTorch does.

    NumPy counts an integer as one more index array, so where a slice or None separates it from
    an array the result's dims come out in another order: for x (2, 3, 4), x[1, :, [0, 2]] is
    (2, 3) in NumPy and (3, 2) in PyTorch, which selects x[1] first.
    """
    first, second = [], []
    for k in key:
        if _is_int(k):
            first.append(k)
        elif _is_array(k):
            mask = getattr(k, "dtype", None) == bool or (isinstance(k, list) and np.asarray(k).dtype == bool)
            first.extend([slice(None)] * (np.ndim(k) if mask else 1))  # a mask indexes as many dims as it has
            second.append(k)
        else:  # a slice, None or Ellipsis: applied in the first step, kept in the second
            first.append(k)
            second.append(Ellipsis if k is Ellipsis else slice(None))
    return tuple(first), tuple(second)


# y = x[key]
# vjp: a zero array of x's shape with g added at x[key] (IndexAdd)
class GetItem(Function):
    def forward(self, x, key, basic):
        self.key, self.basic, self.in_shape = key, basic, x.shape
        self.saves_tensors = not basic  # index arrays are saved tensors in PyTorch; slices are not
        return x[key]

    def backward(self, g):
        return IndexAdd.apply(g, key=self.key, basic=self.basic, shape=self.in_shape)


# y = zeros(shape); y[key] += g   (repeated indices add up)
# vjp: g[key]
class IndexAdd(Function):
    def forward(self, g, key, basic, shape):
        self.key, self.basic = key, basic
        xp = backend.xp_of(g)
        out = xp.zeros(shape, dtype=g.dtype)
        if basic:
            out[key] = g  # slices never repeat an element: plain assignment
        else:
            backend.scatter_add(out, key, g)
        return out

    def backward(self, gg):
        return GetItem.apply(gg, key=self.key, basic=self.basic)


# y = concatenate(xs, dim)
# vjp: the slice of g that each input occupied
class Cat(Function):
    saves_tensors = False

    def forward(self, *xs, dim):
        self.dim, self.sizes = dim, [x.shape[dim] for x in xs]
        return backend.xp_of(*xs).concatenate(xs, axis=dim)

    def backward(self, g):
        grads, start = [], 0
        for n in self.sizes:
            key = (slice(None),) * self.dim + (slice(start, start + n),)
            grads.append(g[key])
            start += n
        return tuple(grads)


# y = x with constant padding (PyTorch order: last dim first, (left, right, top, bottom, ...));
#     a negative width crops that side instead
# vjp: g with the opposite widths: cropped where x was padded, zero-padded where x was cropped
class ConstantPad(Function):
    saves_tensors = False

    def forward(self, x, pad, value):
        self.pad = pad
        k = len(pad) // 2
        widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, x.shape))
        positive = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        return backend.xp_of(x).pad(x[crop], positive, mode="constant", constant_values=value)

    def backward(self, g):
        return ConstantPad.apply(g, pad=tuple(-p for p in self.pad), value=0.0)


# y = x mirrored at its edges along the last k dims, widths (lo, hi) per dim, lo, hi >= 0 and < the size
#     (y[lo - i] = x[i], the edge not repeated: NumPy's and PyTorch's 'reflect')
# vjp: ReflectFold(g): each mirrored border of g folded back onto the entries it copied
class ReflectPad(Function):
    saves_tensors = False

    def forward(self, x, widths):
        self.widths = widths  # ((lo, hi) per dim of x)
        return backend.xp_of(x).pad(x, widths, mode="reflect")

    def backward(self, g):
        return ReflectFold.apply(g, widths=self.widths)


# y = g cropped to the middle, plus each border added back, mirrored, onto the entries it copied
# vjp: ReflectPad(gg) (the two are each other's adjoint)
class ReflectFold(Function):
    saves_tensors = False

    def forward(self, g, widths):
        self.widths = widths
        for axis, (lo, hi) in enumerate(widths):
            if lo or hi:
                g = _fold(g, axis, lo, hi)
        return g

    def backward(self, gg):
        return ReflectPad.apply(gg, widths=self.widths)


def _fold(g, axis: int, lo: int, hi: int):
    """Along one axis of g (padded by (lo, hi)): the middle n entries, plus the lo border mirrored onto
    x[1..lo] (y[lo - i] = x[i]) and the hi border mirrored onto x[n-1-hi..n-2] (y[lo+n-1+i] = x[n-1-i])."""
    def along(a: int, b: int) -> tuple:  # the index of g[..., a:b, ...] on `axis`
        return (slice(None),) * axis + (slice(a, b),)

    flip = backend.xp_of(g).flip
    n = g.shape[axis] - lo - hi
    out = g[along(lo, lo + n)].copy()
    out[along(1, lo + 1)] += flip(g[along(0, lo)], axis)
    out[along(n - 1 - hi, n - 1)] += flip(g[along(lo + n, lo + n + hi)], axis)
    return out


def reshape(x: Tensor, *shape) -> Tensor:
    shape = _shape_arg(shape)
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        if shape.count(-1) > 1 or known == 0 or x.numel() % known:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}")
        shape = tuple(x.numel() // known if s == -1 else s for s in shape)
    if int(np.prod(shape)) != x.numel():
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}")
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


def permute(x: Tensor, *dims) -> Tensor:
    dims = _shape_arg(dims)
    axes = tuple(wrap_dim(d, x.ndim) for d in dims)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} dims of shape {x.shape}")
    return Permute.apply(x, dims=axes)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    d0, d1 = wrap_dim(dim0, x.ndim), wrap_dim(dim1, x.ndim)
    if d0 == d1:
        return x
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = d1, d0
    return Permute.apply(x, dims=tuple(dims))


def expand(x: Tensor, *shape) -> Tensor:
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    if shape == x.shape:
        return x
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ValueError(f"expand: cannot expand shape {x.shape} to {shape}") from None
    return Expand.apply(x, shape=shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    s, e = wrap_dim(start_dim, x.ndim), wrap_dim(end_dim, x.ndim)
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    if x.ndim == 0:
        return x.reshape(1)
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:])


def squeeze(x: Tensor, dim=None) -> Tensor:
    """x without its size-1 dims: all of them, or those among ``dim`` (an int or a tuple), as torch."""
    axes = range(x.ndim) if dim is None else wrap_dims(dim, x.ndim)
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if n != 1 or i not in axes))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    d = wrap_dim(dim, x.ndim + 1)
    return x.reshape(x.shape[:d] + (1,) + x.shape[d:])


def getitem(x: Tensor, key) -> Tensor:
    key = tuple(k.data if isinstance(k, Tensor) else k for k in (key if isinstance(key, tuple) else (key,)))
    if any(map(_is_int, key)) and any(map(_is_array, key)):
        first, second = _torch_order(key)
        return x[first][second]
    basic = all(k is None or k is Ellipsis or isinstance(k, (int, slice, np.integer)) for k in key)
    return GetItem.apply(x, key=key, basic=basic)


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated")
    d = wrap_dim(dim, first.ndim)
    for t in tensors[1:]:
        if t.ndim != first.ndim or t.shape[:d] + t.shape[d + 1:] != first.shape[:d] + first.shape[d + 1:]:
            raise ValueError(f"cat: shapes {first.shape} and {t.shape} differ outside dim {dim}")
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: expected tensors of equal shape, got {tensors[0].shape} and {t.shape}")
    return cat([t.unsqueeze(dim) for t in tensors], dim)


def pad(x: Tensor, pad: tuple, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last len(pad)//2 dims (PyTorch's ``F.pad``): mode 'constant' or 'reflect'; a negative
    pad crops."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even-length pad for at most {x.ndim} dims, got {pad}")
    for i in range(len(pad) // 2):
        n = x.shape[x.ndim - 1 - i]
        if n + pad[2 * i] + pad[2 * i + 1] < 0:
            raise ValueError(f"pad: dim {x.ndim - 1 - i} of size {n} cropped by {pad[2 * i:2 * i + 2]} "
                             "would have a negative size")
    if mode == "constant":
        return ConstantPad.apply(x, pad=pad, value=value)
    if mode == "reflect":
        k = len(pad) // 2
        widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
        for (lo, hi), n in zip(widths, x.shape):
            if lo >= n or hi >= n:
                raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the dim size {n}")
        x = ReflectPad.apply(x, widths=tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths))
        if any(p < 0 for p in pad):  # a negative pad crops that side, after the other side is mirrored
            x = ConstantPad.apply(x, pad=tuple(min(p, 0) for p in pad), value=0.0)
        return x
    raise ValueError(f"pad: mode must be 'constant' or 'reflect', got {mode!r}")
