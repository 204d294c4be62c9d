"""Elementwise ops: arithmetic with NumPy broadcasting, and the pointwise nonlinearities.

Each op is a small ``Function``: ``forward`` works on arrays (NumPy or CuPy, through
``xp``), ``backward`` -- right below it -- returns the vector-Jacobian product built from
tinygan ops on Tensors, so it can be differentiated again. Above each op, two comments:
the forward formula and its vector-Jacobian product (g is the gradient of the output).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Function, Tensor
from . import dispatch


def as_tensor(value, like: Tensor) -> Tensor:
    """A constant Tensor holding ``value`` with ``like``'s dtype and device.

    A number becomes a 0-d array filled on the device (a fill kernel on the GPU, no copy from the
    host, so ``x * 2`` can be captured in a CUDA graph); an array is copied there. As in PyTorch
    a number keeps ``like``'s dtype unless it is of a higher kind: a float with an integer tensor
    is float32, an int with a bool tensor int64."""
    if isinstance(value, Tensor):
        return value
    xp = backend.xp_of(like.data)
    dtype = like.dtype
    if isinstance(value, (float, np.floating)) and like.dtype.kind != "f":
        dtype = np.float32
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool) and like.dtype.kind == "b":
        dtype = np.int64
    if isinstance(value, (int, float, bool, np.number, np.bool_)):
        return Tensor(xp.full((), value, dtype=dtype))
    if not backend.is_cupy_array(value):
        value = np.asarray(value, dtype=dtype)
    return Tensor(backend.to_device(value, like.device).astype(dtype, copy=False))


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    """Sum ``g`` over the axes that broadcasting added, so it gets back ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(dim=axes, keepdim=True)
    return g.reshape(shape)


def broadcastable(s: tuple, t: tuple) -> bool:
    """NumPy's rule: aligned from the right, each pair of sizes is equal or has a 1."""
    return all(m == n or m == 1 or n == 1 for m, n in zip(reversed(s), reversed(t)))


def _check_broadcast(name: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape and not broadcastable(a.shape, b.shape):
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} are not broadcastable")


_KIND = {"b": 0, "u": 1, "i": 1, "f": 2}  # PyTorch's categories: bool < integer < floating point


def result_type(a: Tensor, b: Tensor) -> np.dtype:
    """The dtype of a binary op on a and b, by PyTorch's rules (not NumPy's): the higher kind wins
    (int64 with float32 is float32); within one kind a 0-d tensor does not widen a tensor with dims."""
    if a.dtype == b.dtype:
        return a.dtype
    ka, kb = _KIND[a.dtype.kind], _KIND[b.dtype.kind]
    if ka != kb:
        return a.dtype if ka > kb else b.dtype
    if (a.ndim == 0) != (b.ndim == 0):
        return b.dtype if a.ndim == 0 else a.dtype
    return np.promote_types(a.dtype, b.dtype)


def _operands(name: str, a, b) -> tuple[Tensor, Tensor]:
    """a and b as Tensors of one dtype (a number takes the other's), checked to broadcast."""
    if not isinstance(a, Tensor):
        a = as_tensor(a, b)
    elif not isinstance(b, Tensor):
        b = as_tensor(b, a)
    _check_broadcast(name, a, b)
    return _promote(a, b)


def _promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    if a.dtype == b.dtype:
        return a, b
    dtype = result_type(a, b)
    return a.to(dtype), b.to(dtype)


# y = a + b
# vjp: (g, g), each summed back to its input's shape
class Add(Function):
    saves_tensors = False

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        a, b = self.parents
        return unbroadcast(g, a.shape), unbroadcast(g, b.shape)


# y = a - b
# vjp: (g, -g)
class Sub(Function):
    saves_tensors = False

    def forward(self, a, b):
        return a - b

    def backward(self, g):
        a, b = self.parents
        return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)


# y = a * b
# vjp: (g * b, g * a)
class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.parents
        ga = unbroadcast(g * b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


# y = a / b
# vjp: (g / b, -g * a / b^2)
class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.parents
        ga = unbroadcast(g / b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-g * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


# y = -x
# vjp: -g
class Neg(Function):
    saves_tensors = False

    def forward(self, x):
        return -x

    def backward(self, g):
        return -g


# y = x^p  (p a Python number)
# vjp: g * p * x^(p-1); 0 for p = 0, also at x = 0 (where 0 * x^-1 is NaN), as PyTorch
class Pow(Function):
    def forward(self, x, exponent):
        self.p = exponent
        return x ** exponent

    def backward(self, g):
        (x,) = self.parents
        if self.p == 0:
            return Tensor(backend.xp_of(g.data).zeros_like(g.data))
        if self.p == 2:
            return g * (2.0 * x)
        return g * (self.p * x ** (self.p - 1))


# y = a^b  (b a Tensor: negative a with integer b, and 0^0 = 1, as NumPy's power)
# vjp: (g * b * a^(b-1), g * y * log a), each taken as 0 at a = 0 where it would be 0 * inf (b = 0 for
#      the first, b >= 0 for the second): PyTorch's values (the first masked only at a = 0, so that its
#      derivative in b stays right at b = 0 elsewhere)
class PowTensor(Function):
    save_output = True

    def forward(self, a, b):
        return a ** b

    def backward(self, g):
        a, b = self.parents
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(where((a.data == 0) & (b.data == 0), 0.0, g * b * a ** (b - 1.0)), a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(where((a.data == 0) & (b.data >= 0), 0.0, g * self.output * a.log()), b.shape)
        return ga, gb


# y = exp(x)
# vjp: g * y
class Exp(Function):
    save_output = True

    def forward(self, x):
        return backend.xp_of(x).exp(x)

    def backward(self, g):
        return g * self.output


# y = log(x)
# vjp: g / x
class Log(Function):
    def forward(self, x):
        return backend.xp_of(x).log(x)

    def backward(self, g):
        return g / self.parents[0]


# y = sqrt(x)
# vjp: g / (2 y)
class Sqrt(Function):
    save_output = True

    def forward(self, x):
        return backend.xp_of(x).sqrt(x)

    def backward(self, g):
        return g / (2.0 * self.output)


# y = |x|
# vjp: g * sign(x)   (sign is piecewise constant: no second-order term)
class Abs(Function):
    def forward(self, x):
        self.sign = backend.xp_of(x).sign(x)
        return abs(x)

    def backward(self, g):
        return g * Tensor(self.sign)


# y = tanh(x)
# vjp: g * (1 - y^2)
class Tanh(Function):
    save_output = True

    def forward(self, x):
        return backend.xp_of(x).tanh(x)

    def backward(self, g):
        y = self.output
        return g * (1.0 - y * y)


# y = 1 / (1 + exp(-x)), computed without overflow for large |x|
# vjp: g * y * (1 - y)
class Sigmoid(Function):
    save_output = True

    def forward(self, x):
        xp = backend.xp_of(x)
        e = xp.exp(-abs(x))  # in (0, 1]: never overflows
        return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)

    def backward(self, g):
        y = self.output
        return g * (y * (1.0 - y))


# y = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))   (stable for x = +-1000)
# vjp: g * sigmoid(x)
class Softplus(Function):
    def forward(self, x):
        xp = backend.xp_of(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-abs(x)))

    def backward(self, g):
        return g * self.parents[0].sigmoid()


# l = (1 - y) x + softplus(-x)   (BCE of sigmoid(x) against a constant target y, in the logits x)
# vjp: g (sigmoid(x) - y)
class BCEWithLogits(Function):
    """One op for the loss of nearly every GAN step, where the composite form takes six."""

    def forward(self, x, target):
        self.target = target
        xp = backend.xp_of(x)
        return (1 - target) * x + xp.maximum(-x, 0) + xp.log1p(xp.exp(-abs(x)))

    def backward(self, g):
        return g * (self.parents[0].sigmoid() - Tensor(self.target))


# l = -[y max(log x, -100) + (1 - y) max(log(1 - x), -100)]   (binary cross entropy, logs clamped as PyTorch)
# vjp: (g (x - y) / max(x (1 - x), 1e-12), g (log(1 - x) - log x)), PyTorch's formulas: finite at x = 0 and 1
class BinaryCrossEntropy(Function):
    def forward(self, x, y):
        return -(y * _log_clamped(x) + (1 - y) * _log_clamped(1 - x))

    def backward(self, g):
        x, y = self.parents
        gx = g * (x - y) / (x * (1.0 - x)).clamp(min=1e-12) if self.needs_input_grad[0] else None
        gy = g * ((1.0 - x).log() - x.log()) if self.needs_input_grad[1] else None
        return gx, gy


def _log_clamped(x):
    """max(log x, -100); x is floored at the smallest subnormal first, so log(0) raises no warning."""
    xp = backend.xp_of(x)
    return xp.maximum(xp.log(xp.maximum(x, np.finfo(x.dtype).smallest_subnormal)), -100)


# y = x if x > 0 else slope * x        (ReLU: slope = 0)
# vjp: MaskedScale(g): g where x > 0, slope * g elsewhere
class LeakyReLU(Function):
    def forward(self, x, slope):
        self.slope = slope
        y, self.positive = dispatch.leaky_relu(x, slope)  # the mask x > 0 is all that backward needs
        return y

    def backward(self, g):
        return MaskedScale.apply(g, mask=self.positive, slope=self.slope)


# y = g where mask, slope * g elsewhere   (a linear map with a constant mask)
# vjp: the same map applied to the incoming gradient
class MaskedScale(Function):
    def forward(self, g, mask, slope):
        self.mask, self.slope = mask, slope
        return dispatch.masked_scale(g, mask, slope)

    def backward(self, gg):
        return MaskedScale.apply(gg, mask=self.mask, slope=self.slope)


# y = min(max(x, lo), hi)
# vjp: g * [lo <= x <= hi]
class Clamp(Function):
    def forward(self, x, lo, hi):
        xp = backend.xp_of(x)
        self.mask = xp.ones(x.shape, dtype=bool)
        if lo is not None:
            self.mask &= x >= lo
        if hi is not None:
            self.mask &= x <= hi
        return xp.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(self, g):
        return g * Tensor(self.mask.astype(g.dtype))


# y = where(c, a, b)   (c a constant boolean array)
# vjp: (where(c, g, 0), where(c, 0, g))
class Where(Function):
    def forward(self, a, b, cond):
        self.cond = cond
        return backend.xp_of(a, b).where(cond, a, b)

    def backward(self, g):
        a, b = self.parents
        zero = as_tensor(0.0, g)
        c = Tensor(self.cond)
        ga = unbroadcast(where(c, g, zero), a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(where(c, zero, g), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


# y = x with another dtype
# vjp: g cast back to x's dtype
class Cast(Function):
    saves_tensors = False

    def forward(self, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return g.to(self.dtype)


# y = x copied to another device
# vjp: g copied back
class ToDevice(Function):
    saves_tensors = False

    def forward(self, x, device):
        self.device = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, g):
        return g.to(self.device)


# ---- the functional forms (also attached to Tensor in ops/__init__.py) ------------------
def add(a, b) -> Tensor:
    return Add.apply(*_operands("add", a, b))


def sub(a, b) -> Tensor:
    return Sub.apply(*_operands("sub", a, b))


def mul(a, b) -> Tensor:
    return Mul.apply(*_operands("mul", a, b))


def div(a, b) -> Tensor:
    """True division: integers give float32, as in PyTorch."""
    a, b = _operands("div", a, b)
    if a.dtype.kind != "f":
        a, b = a.float(), b.float()
    return Div.apply(a, b)


def neg(x: Tensor) -> Tensor:
    return Neg.apply(x)


def pow(x, exponent) -> Tensor:
    """``x ** exponent``, the exponent a number or a Tensor (then both broadcast)."""
    if isinstance(exponent, Tensor):
        return PowTensor.apply(*_operands("pow", x, exponent))
    if isinstance(exponent, float) and x.dtype.kind != "f":
        x = x.float()  # an integer tensor to a float power is float32, as in PyTorch
    return Pow.apply(x, exponent=exponent)


def exp(x: Tensor) -> Tensor:
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    return Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(x)


def abs_(x: Tensor) -> Tensor:
    return Abs.apply(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta. (``threshold`` is accepted as in PyTorch; the stable
    formula needs no switch to the linear function.)"""
    if beta != 1.0:
        return Softplus.apply(x * beta) / beta
    return Softplus.apply(x)


def relu(x: Tensor) -> Tensor:
    return LeakyReLU.apply(x, slope=0.0)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyReLU.apply(x, slope=negative_slope)


def clamp(x: Tensor, min=None, max=None) -> Tensor:
    """min(max(x, min), max); the bounds are numbers or Tensors (which broadcast and get gradients)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        # each output's gradient goes to x or to the bound that it equals (to x at a tie), as PyTorch
        y = x if min is None else where(x < min, min, x)
        return y if max is None else where(y > max, max, y)
    return Clamp.apply(x, lo=min, hi=max)


def where(condition, a, b) -> Tensor:
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (condition is not differentiated)."""
    like = a if isinstance(a, Tensor) else b
    a, b = as_tensor(a, like), as_tensor(b, like)
    cond = condition.data if isinstance(condition, Tensor) else condition
    if not hasattr(cond, "shape"):  # a list or a bool
        cond = np.asarray(cond, dtype=bool)
    if backend.device_of(cond) != a.device and isinstance(condition, Tensor):
        raise RuntimeError(f"where: expected all tensors on the same device, got condition on "
                           f"{condition.device} and values on {a.device}")
    if backend.device_of(cond) != a.device:  # a NumPy/CuPy array condition follows the values
        cond = backend.to_device(cond if backend.is_cupy_array(cond) else np.asarray(cond), a.device)
    try:
        np.broadcast_shapes(cond.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape}, {a.shape} and {b.shape} are not broadcastable") from None
    return Where.apply(*_promote(a, b), cond=cond)
