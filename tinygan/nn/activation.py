"""Activation layers (``torch.nn.ReLU`` ...): thin wrappers over ``nn.functional``.

``inplace=`` is accepted for compatibility with PyTorch code and ignored: tinygan never
overwrites an array that the graph may still need.
"""
from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class ReLU(Module):
    def __init__(self, inplace: bool = False):  # inplace is accepted for compatibility and ignored
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Softplus(Module):
    """log(1 + exp(x)), a smooth ReLU (the hidden units of the improved-GAN MNIST generator)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x)
