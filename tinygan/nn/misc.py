"""Shape and regularisation layers: Dropout, GaussianNoise, Embedding, Flatten, Unflatten, Upsample,
ReflectionPad2d."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..factories import default_generator
from ..ops.shape import wrap_dim
from ..tensor import Tensor
from . import functional as F
from . import init
from .linear import _new_parameter
from .module import Module


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p); in eval, identity."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class GaussianNoise(Module):
    """In training, x + N(0, std^2) per element (drawn from tinygan's generator, as dropout's masks);
    in eval, identity. Not in ``torch.nn``: the regulariser of the improved-GAN discriminators
    (Salimans et al. 2016), a Gaussian variant of dropout."""

    def __init__(self, std: float):
        super().__init__()
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std = std

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.std == 0:
            return x
        noise = default_generator().standard_normal(x.shape).astype(x.dtype) * np.asarray(self.std, x.dtype)
        return x + Tensor(backend.to_device(noise, x.device))

    def extra_repr(self) -> str:
        return f"std={self.std}"


class Embedding(Module):
    """A lookup table: row i of ``weight`` (num_embeddings, embedding_dim) for index i; weight ~ N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = _new_parameter((num_embeddings, embedding_dim), device, dtype)
        init.normal_(self.weight)

    def forward(self, indices: Tensor) -> Tensor:
        return F.embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Flatten(Module):
    """Merge dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: (N, C*H*W) -> (N, C, H, W)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        d = wrap_dim(self.dim, x.ndim)
        return x.reshape(x.shape[:d] + self.unflattened_size + x.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Upsample(Module):
    """Resize the spatial dims to ``size`` or by ``scale_factor`` (``F.interpolate``)."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None):
        super().__init__()
        if isinstance(scale_factor, (tuple, list)):
            scale_factor = tuple(float(s) for s in scale_factor)
        elif scale_factor is not None:
            scale_factor = float(scale_factor)  # stored as floats, as PyTorch does
        self.size, self.scale_factor, self.mode, self.align_corners = size, scale_factor, mode, align_corners

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, size=self.size, scale_factor=self.scale_factor, mode=self.mode,
                             align_corners=self.align_corners)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            return f"scale_factor={self.scale_factor!r}, mode={self.mode!r}"
        return f"size={self.size!r}, mode={self.mode!r}"


class ReflectionPad2d(Module):
    """Pad H and W by reflecting the border (no edge repeated): padding int or (left, right, top, bottom)."""

    def __init__(self, padding):
        super().__init__()
        self.padding = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 4:
            raise ValueError(f"ReflectionPad2d: padding must be an int or 4 ints, got {padding!r}")

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x, self.padding, mode="reflect")

    def extra_repr(self) -> str:
        return str(self.padding)
