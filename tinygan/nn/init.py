"""Weight initialisation (PyTorch's ``torch.nn.init``).

Every function fills ``t.data`` in place and returns ``t``. Samples are drawn on the CPU in
float64 from ``generator`` (default: tinygan's seeded generator, see ``factories.py``) and
then cast to ``t``'s dtype and moved to its device, so a seed gives the same weights on
every device. No graph is recorded: initialisation is not part of the model's computation.

The scaled initialisations keep the variance of activations (Glorot & Bengio 2010, "xavier")
or of gradients through ReLU-like layers (He et al. 2015, "kaiming") the same from layer to
layer; ``fan_in`` and ``fan_out`` are computed as PyTorch does, so ``Conv2d``'s default
init is PyTorch's exactly.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, factories
from ..tensor import Tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (``torch.nn.init.calculate_gain``)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(t: Tensor) -> tuple[int, int]:
    """fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive field.

    Linear weights are (out, in); Conv2d weights (out, in/groups, kh, kw); ConvTranspose2d
    weights (in, out/groups, kh, kw), whose "fan_in" is therefore out/groups * kh * kw, as in PyTorch.
    """
    if t.ndim < 2:
        raise ValueError(f"fan in and fan out cannot be computed for a tensor with fewer than 2 dims "
                         f"(shape {t.shape})")
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


def _calculate_correct_fan(t: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    return fan_in if mode == "fan_in" else fan_out


def _fill(t: Tensor, values) -> Tensor:
    """Write ``values`` (drawn on the CPU) into ``t``'s array in place, in its dtype, on its device."""
    t.data[...] = backend.to_device(np.asarray(values, dtype=t.dtype), t.device)
    return t


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0,
             generator: np.random.Generator | None = None) -> Tensor:
    """Fill with samples of U(a, b)."""
    rng = generator or factories.default_generator()
    return _fill(t, rng.uniform(a, b, t.shape))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: np.random.Generator | None = None) -> Tensor:
    """Fill with samples of N(mean, std^2)."""
    rng = generator or factories.default_generator()
    return _fill(t, mean + std * rng.standard_normal(t.shape))


def constant_(t: Tensor, val: float) -> Tensor:
    t.data[...] = val
    return t


def zeros_(t: Tensor) -> Tensor:
    return constant_(t, 0)


def ones_(t: Tensor) -> Tensor:
    return constant_(t, 1)


def xavier_uniform_(t: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std  # U(-a, a) has standard deviation a / sqrt(3)
    return uniform_(t, -bound, bound, generator)


def xavier_normal_(t: Tensor, gain: float = 1.0, generator: np.random.Generator | None = None) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))  (Glorot & Bengio 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(t: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: np.random.Generator | None = None) -> Tensor:
    """U(-bound, bound) with bound = gain * sqrt(3 / fan)  (He et al. 2015).

    ``a`` is the negative slope of the leaky ReLU that follows; Linear and Conv layers use
    a = sqrt(5), which gives bound = 1 / sqrt(fan_in).
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(t, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(t, -bound, bound, generator)


def kaiming_normal_(t: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: np.random.Generator | None = None) -> Tensor:
    """N(0, std^2) with std = gain / sqrt(fan)  (He et al. 2015)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(t, mode))
    return normal_(t, 0.0, std, generator)
