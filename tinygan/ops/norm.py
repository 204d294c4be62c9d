"""Normalization: batch, instance and layer norm, and adaptive instance norm (AdaIN).

* batch norm     Ioffe & Szegedy 2015, "Batch Normalization: Accelerating Deep Network Training
                 by Reducing Internal Covariate Shift", Algorithm 1 (Sec. 3.1 for inference);
* instance norm  Ulyanov, Vedaldi & Lempitsky 2016, "Instance Normalization: The Missing
                 Ingredient for Fast Stylization", Eq. 2;
* layer norm     Ba, Kiros & Hinton 2016, "Layer Normalization", Eq. 4;
* AdaIN          Huang & Belongie 2017, "Arbitrary Style Transfer in Real-time with Adaptive
                 Instance Normalization", Eq. 8.

All four are the same three lines -- a mean, a biased variance, and x_hat = (x - mean) / sqrt(var
+ eps) -- over different axes: batch norm over (N, *spatial) for each channel, instance norm over
(*spatial) for each sample and channel, layer norm over the trailing ``normalized_shape`` dims.
One op, ``Normalize``, computes them (with batch and instance norm's per-channel affine map):
``normalize`` below is its definition and ``normalize_vjp`` the closed-form backward of Ioffe &
Szegedy (Sec. 3), derived beside it. For batch and instance norm ``ops/dispatch.py`` runs a parallel
kernel instead (the same formulas, a pass or two over x); everything else runs the definition. The
double backward that gradient penalties take through a normalized discriminator differentiates the
same three lines written as differentiable ops (``moments``). The signatures are those of
``torch.nn.functional``.
"""
from __future__ import annotations

import math

from .. import backend
from ..tensor import Function, Tensor, grad, is_grad_enabled
from . import dispatch


def moments(x: Tensor, axes: tuple) -> tuple[Tensor, Tensor]:
    """Mean and biased variance of ``x`` over ``axes``, kept as size-1 dims (they broadcast back)."""
    mu = x.mean(axes, keepdim=True)
    centered = x - mu
    return mu, (centered * centered).mean(axes, keepdim=True)


def normalize(x, gamma, beta, axes: tuple, eps: float):
    """(y, mean, var, rstd) of y = x_hat [* gamma + beta], x_hat = (x - mean) * rstd, with the mean
    and biased var over ``axes`` (kept as size-1 dims) and rstd = 1 / sqrt(var + eps); gamma and
    beta per channel (dim 1). Arrays in and out, on either device."""
    xp = backend.xp_of(x)
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    rstd = 1 / xp.sqrt(var + eps)
    y = centered * rstd
    if gamma is not None:
        shape = _channel_shape(x)
        y = y * gamma.reshape(shape) + beta.reshape(shape)
    return y, mean, var, rstd


# The vjp, over the m values that share one mean (one channel of batch norm), with h = g * gamma:
#   d mean / d x_i = 1/m,   d var / d x_i = 2 (x_i - mean) / m,   d rstd / d var = -rstd^3 / 2, so
#   d x_hat_j / d x_i = rstd (delta_ij - 1/m) - (x_j - mean) rstd^3 (x_i - mean) / m
#                     = rstd (delta_ij - 1/m - x_hat_i x_hat_j / m)
#   dx_i = sum_j h_j d x_hat_j / d x_i = rstd (h_i - mean(h) - x_hat_i mean(h x_hat))
#   dgamma = sum(g x_hat),  dbeta = sum(g),  both over every dim but the channel
def normalize_vjp(g, x, mean, rstd, gamma, axes: tuple):
    """(dx, dgamma, dbeta) of ``normalize`` for the output gradient g (dgamma, dbeta None without gamma)."""
    x_hat = (x - mean) * rstd
    h = g if gamma is None else g * gamma.reshape(_channel_shape(x))
    dx = rstd * (h - h.mean(axis=axes, keepdims=True) - x_hat * (h * x_hat).mean(axis=axes, keepdims=True))
    if gamma is None:
        return dx, None, None
    others = tuple(i for i in range(g.ndim) if i != 1)
    return dx, (g * x_hat).sum(axis=others), g.sum(axis=others)


class Normalize(Function):
    """The normalization shared by batch, instance and layer norm, with batch and instance norm's
    per-channel affine map fused in: a few passes over x instead of a dozen small ops, nothing kept
    for backward but the statistics (x is the op's input). Returns y and, as constants beside it,
    the batch mean and biased variance (for the running statistics)."""

    def forward(self, x, *affine, axes, eps):
        gamma, beta = affine or (None, None)
        y, mean, var, rstd = dispatch.normalize(x, gamma, beta, axes, eps) or normalize(x, gamma, beta, axes, eps)
        self.axes, self.eps, self.gamma, self.mean, self.rstd = axes, eps, gamma, mean, rstd
        return y, mean, var

    def backward(self, g):
        # The closed form treats the statistics' dependence on x analytically but returns plain arrays:
        # right for a first derivative. When this backward is itself being recorded (create_graph=True:
        # a gradient penalty through a normalized critic), differentiate the composite formula instead,
        # so that the second derivative is exact.
        if is_grad_enabled():
            return self._composite_backward(g)
        x = self.parents[0].data
        args = (g.data, x, self.mean, self.rstd, self.gamma, self.axes)
        dx, dgamma, dbeta = dispatch.normalize_backward(*args) or normalize_vjp(*args)
        return Tensor(dx) if self.gamma is None else (Tensor(dx), Tensor(dgamma), Tensor(dbeta))

    def _composite_backward(self, g):
        """The vjp by differentiating the composite formula, recorded (for double backprop)."""
        x, *affine = self.parents
        mu, var = moments(x, self.axes)
        y = (x - mu) / (var + self.eps).sqrt()
        if affine:
            shape = _channel_shape(x)
            y = y * affine[0].reshape(shape) + affine[1].reshape(shape)
        wanted = [t for t, need in zip(self.parents, self.needs_input_grad) if need]
        grads = iter(grad(y, wanted, g, create_graph=True))
        out = tuple(next(grads) if need else None for need in self.needs_input_grad)
        return out if affine else out[0]


def _channel_shape(x) -> tuple:
    """(1, C, 1, ...): a per-channel vector broadcast over x (N, C, *spatial)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _normalize(x: Tensor, axes: tuple, eps: float, weight: Tensor | None = None,
               bias: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """y = (x - mu) / sqrt(var + eps) [* weight + bias] with mu, var the moments over ``axes`` and
    weight, bias per channel; returns (y, mu, var) (mu and var as constants: they feed the running
    statistics). With only one of weight and bias, the affine map is applied by the caller."""
    affine = (weight, bias) if weight is not None and bias is not None else ()
    return Normalize.apply(x, *affine, axes=axes, eps=eps)


def _affine(x_hat: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> Tensor:
    """y = gamma * x_hat + beta, with gamma and beta reshaped to ``shape`` to broadcast over x_hat."""
    y = x_hat if weight is None else x_hat * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def _update_running(running: Tensor | None, batch_stat, momentum: float) -> None:
    """running <- (1 - momentum) * running + momentum * batch_stat, in place on its array (as PyTorch)."""
    if running is not None:
        running.data[...] = (1.0 - momentum) * running.data + momentum * batch_stat


def _check_channels(name: str, x: Tensor, min_ndim: int, **params) -> int:
    if x.ndim < min_ndim:
        raise ValueError(f"{name}: expected an input with at least {min_ndim} dims (N, C, ...), "
                         f"got shape {x.shape}")
    C = x.shape[1]
    for param, t in params.items():
        if t is not None and t.shape != (C,):
            raise ValueError(f"{name}: {param} must have shape {(C,)} for an input of shape {x.shape}, "
                             f"got {t.shape}")
    return C


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization (Ioffe & Szegedy 2015, Alg. 1) of an (N, C) or (N, C, *spatial) input.

    Training: normalize with the batch's per-channel mean and biased variance, and update
    ``running_mean``/``running_var`` in place with ``momentum`` and the *unbiased* variance, as
    PyTorch does. Evaluation: normalize with the running statistics (Sec. 3.1).
    """
    C = _check_channels("batch_norm", input, 2, running_mean=running_mean, running_var=running_var,
                        weight=weight, bias=bias)
    axes = (0,) + tuple(range(2, input.ndim))  # every dim but the channel dim
    shape = (1, C) + (1,) * (input.ndim - 2)   # a per-channel vector, broadcast over the input
    if training:
        m = input.numel() // C  # the mini-batch size of Alg. 1: values per channel
        if m <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input of shape {input.shape}")
        y, mu, var = _normalize(input, axes, eps, weight, bias)  # Alg. 1: lines 1-3 (and 4, fused)
        _update_running(running_mean, mu.data.reshape(C), momentum)
        _update_running(running_var, var.data.reshape(C) * (m / (m - 1)), momentum)
        return y if weight is not None and bias is not None else _affine(y, weight, bias, shape)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are required when training=False")
    x_hat = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    return _affine(x_hat, weight, bias, shape)  # Alg. 1, line 4: y = gamma * x_hat + beta


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Instance normalization (Ulyanov et al. 2016, Eq. 2) of an (N, C, *spatial) input.

    With ``use_input_stats`` each sample and channel is normalized by its own mean and biased
    variance over the spatial dims; running statistics, if given, move towards the batch
    average of those (unbiased variance), as in PyTorch. Otherwise the running ones are used.
    """
    C = _check_channels("instance_norm", input, 3, running_mean=running_mean, running_var=running_var,
                        weight=weight, bias=bias)
    N, L = input.shape[0], math.prod(input.shape[2:])
    shape = (1, C) + (1,) * (input.ndim - 2)
    if use_input_stats:
        if L <= 1:
            raise ValueError(f"instance_norm: expected more than 1 spatial element when training, "
                             f"got input of shape {input.shape}")
        y, mu, var = _normalize(input, tuple(range(2, input.ndim)), eps, weight, bias)  # mu, var: (N, C, 1, ...)
        _update_running(running_mean, mu.data.reshape(N, C).mean(0), momentum)
        _update_running(running_var, var.data.reshape(N, C).mean(0) * (L / (L - 1)), momentum)
        return y if weight is not None and bias is not None else _affine(y, weight, bias, shape)
    if running_mean is None or running_var is None:
        raise ValueError("instance_norm: running_mean and running_var are required when "
                         "use_input_stats=False")
    x_hat = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    return _affine(x_hat, weight, bias, shape)


def layer_norm(input: Tensor, normalized_shape: int | tuple, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Layer normalization (Ba et al. 2016, Eq. 4) over the trailing ``normalized_shape`` dims.

    ``weight`` and ``bias``, if given, have shape ``normalized_shape`` (elementwise affine).
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or input.shape[input.ndim - k:] != shape:
        raise ValueError(f"layer_norm: input of shape {input.shape} does not end with normalized_shape {shape}")
    for param, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ValueError(f"layer_norm: {param} must have shape {shape}, got {t.shape}")
    x_hat, _, _ = _normalize(input, tuple(range(input.ndim - k, input.ndim)), eps)
    return _affine(x_hat, weight, bias, shape)


def adaptive_instance_norm(content: Tensor, style: Tensor, eps: float = 1e-5) -> Tensor:
    """AdaIN (Huang & Belongie 2017, Eq. 8): content's per-sample, per-channel statistics replaced by style's.

        AdaIN(x, y) = sigma(y) * (x - mu(x)) / sigma(x) + mu(y),   sigma = sqrt(var + eps),

    with mu and the biased var over the spatial dims. content (N, C, H, W), style (N, C, H', W').
    """
    if content.ndim != 4 or style.ndim != 4 or content.shape[:2] != style.shape[:2]:
        raise ValueError(f"adaptive_instance_norm: expected content (N, C, H, W) and style (N, C, H', W') "
                         f"with the same N and C, got shapes {content.shape} and {style.shape}")
    spatial = (2, 3)
    x_hat, _, _ = _normalize(content, spatial, eps)  # (x - mu(x)) / sigma(x)
    mu_y, var_y = moments(style, spatial)
    return (var_y + eps).sqrt() * x_hat + mu_y
