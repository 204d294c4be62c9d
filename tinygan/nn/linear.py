"""Linear and Identity (``torch.nn.Linear``, ``torch.nn.Identity``), and the helpers all layer files share.

Layers own their Parameters and buffers, initialise them exactly as PyTorch does, and call
the matching function of ``nn.functional`` in ``forward``; the math lives there. Every
constructor that makes tensors takes ``device=`` and ``dtype=`` (default: $TINYGAN_DEVICE, float32).
"""
from __future__ import annotations

import math

from .. import factories
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter


def _new_parameter(shape, device, dtype) -> Parameter:
    """A zero-filled Parameter; the layer then initialises it in place."""
    return Parameter(factories.zeros(tuple(shape), dtype=dtype, device=device))


def _reset_weight_and_bias(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for Linear and Conv: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))  # gain sqrt(1/3): bound = 1 / sqrt(fan_in)
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _new_parameter((out_features, in_features), device, dtype)
        self.register_parameter("bias", _new_parameter((out_features,), device, dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_weight_and_bias(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Maxout(Module):
    """A maxout layer (Goodfellow et al. 2013, "Maxout Networks", Eq. 1):

        z_ij = x^T W_ij + b_ij,    h_i(x) = max_{j in [1, k]} z_ij

    ``out_features`` units of ``pieces`` (k) linear pieces each: one Linear to
    ``pieces * out_features`` outputs, where output ``j * out_features + i`` is piece j of unit i,
    then the max over j. (Any assignment of outputs to pieces is the same model up to a permutation
    of the Linear's rows; with the pieces in the middle axis the max is k - 1 elementwise maxima of
    contiguous rows.) Not in ``torch.nn``; the PacGAN and VEEGAN toy discriminators use it.
    """

    def __init__(self, in_features: int, out_features: int, pieces: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        if pieces < 1:
            raise ValueError(f"Maxout: expected pieces >= 1, got {pieces}")
        self.out_features, self.pieces = out_features, pieces
        self.linear = Linear(in_features, pieces * out_features, bias, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        z = self.linear(x)                                                       # (N, k * out)
        return z.reshape(z.shape[:-1] + (self.pieces, self.out_features)).amax(-2)  # (N, out)

    def extra_repr(self) -> str:
        return f"out_features={self.out_features}, pieces={self.pieces}"


class Identity(Module):
    """Return the input unchanged (any constructor arguments are ignored, as in PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x
