"""Normalisation layers: BatchNorm1d/2d, InstanceNorm2d, LayerNorm and AdaIN (as ``torch.nn``'s), and
SPADE (Park et al. 2019), whose scale and shift come from a segmentation map.

The statistics and their gradients are in ``ops/norm.py``; these classes hold the affine
parameters and the running statistics, and pick training or evaluation behaviour.
"""
from __future__ import annotations

import numpy as np

from .. import factories
from ..tensor import Tensor
from . import functional as F
from . import init
from .activation import ReLU
from .conv import Conv2d
from .linear import _new_parameter
from .module import Module, Sequential


class _NormBase(Module):
    """Per-channel affine parameters (weight 1, bias 0) and running statistics, as PyTorch's ``_NormBase``."""

    _optional_state = ("num_batches_tracked",)  # older checkpoints lack it; loading keeps the counter

    def __init__(self, num_features: int, eps: float, momentum: float | None, affine: bool,
                 track_running_stats: bool, device, dtype):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", _new_parameter((num_features,), device, dtype) if affine else None)
        self.register_parameter("bias", _new_parameter((num_features,), device, dtype) if affine else None)
        if track_running_stats:
            self.register_buffer("running_mean", factories.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", factories.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", factories.tensor(0, dtype=np.int64, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check_input(self, x: Tensor, ndims: tuple, channel_dim: int = 1) -> None:
        if x.ndim not in ndims:
            expected = " or ".join(f"{n}D" for n in ndims)
            raise ValueError(f"{type(self).__name__}: expected {expected} input, got shape {x.shape}")
        if x.shape[channel_dim] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected {self.num_features} channels in dim "
                             f"{channel_dim}, got shape {x.shape}")

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Batch normalisation (Ioffe & Szegedy 2015): batch statistics in training, running ones in eval.

    running = (1 - momentum) * running + momentum * batch statistic (variance unbiased);
    momentum=None gives the cumulative average over all batches seen.
    """

    _ndims: tuple

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x, self._ndims)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or self.running_mean is None
        keep_stats = not self.training or self.track_running_stats
        running_mean, running_var = (self.running_mean, self.running_var) if keep_stats else (None, None)
        return F.batch_norm(x, running_mean, running_var, self.weight, self.bias, training=use_batch_stats,
                            momentum=factor, eps=self.eps)


class BatchNorm1d(_BatchNorm):
    """BatchNorm over (N, C) or (N, C, L) inputs, statistics per channel C."""

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """BatchNorm over (N, C, H, W) inputs, statistics per channel C."""

    _ndims = (4,)


class InstanceNorm2d(_NormBase):
    """Normalise each (sample, channel) plane over H, W (Ulyanov et al. 2016); no affine by default."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 3:  # one unbatched (C, H, W) image
            return self.forward(x.unsqueeze(0)).squeeze(0)
        if self.affine or self.track_running_stats:
            self._check_input(x, (4,))
        elif x.ndim != 4:
            raise ValueError(f"InstanceNorm2d: expected 3D or 4D input, got shape {x.shape}")
        return F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                               use_input_stats=self.training or not self.track_running_stats,
                               momentum=0.0 if self.momentum is None else self.momentum, eps=self.eps)


class AdaIN(Module):
    """Adaptive instance norm (Huang & Belongie 2017): the content's per-channel mean and std replaced
    by the style's."""

    def __init__(self, eps: float = 1e-5):
        super().__init__()
        self.eps = eps

    def forward(self, content: Tensor, style: Tensor) -> Tensor:
        return F.adaptive_instance_norm(content, style, eps=self.eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


class SPADE(Module):
    """Spatially-adaptive denormalization (Park et al. 2019, Sec. 3, Eq. 1):

        out[n, c, y, x] = gamma_{c,y,x}(m) (h[n, c, y, x] - mu_c) / sigma_c + beta_{c,y,x}(m)

    mu_c and sigma_c are batch norm's statistics with no learned affine of its own; gamma and beta
    are maps computed from the segmentation map m (resized, nearest, to h's size) by a shared 3x3
    convolution and ReLU, then one 3x3 convolution each (``hidden`` channels between, 128 in the
    paper). As in the authors' code the scale is applied as (1 + gamma), so a zero gamma keeps h."""

    def __init__(self, num_features: int, label_nc: int, hidden: int = 128):
        super().__init__()
        self.norm = BatchNorm2d(num_features, affine=False)
        self.shared = Sequential(Conv2d(label_nc, hidden, 3, padding=1), ReLU())
        self.gamma = Conv2d(hidden, num_features, 3, padding=1)
        self.beta = Conv2d(hidden, num_features, 3, padding=1)

    def forward(self, x: Tensor, segmap: Tensor) -> Tensor:
        actv = self.shared(F.interpolate(segmap, size=tuple(x.shape[2:])))
        return self.norm(x) * (1 + self.gamma(actv)) + self.beta(actv)


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims of each sample (Ba et al. 2016)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        affine, affine_bias = elementwise_affine, elementwise_affine and bias
        self.register_parameter("weight", _new_parameter(shape, device, dtype) if affine else None)
        self.register_parameter("bias", _new_parameter(shape, device, dtype) if affine_bias else None)
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
