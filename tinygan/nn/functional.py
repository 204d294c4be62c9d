"""The functional API, ``tinygan.nn.functional`` (imported as ``F``), as ``torch.nn.functional``.

Same names, argument names, defaults and results as PyTorch. The layers re-exported here are
ops with their own backward (``ops/``); everything defined here is a short composition of
those ops, so it is differentiable -- twice -- without a backward of its own.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..factories import cuda_generator, default_generator
from ..ops.conv import conv2d, conv_transpose2d
from ..ops.elementwise import BCEWithLogits, BinaryCrossEntropy, leaky_relu, relu, sigmoid, softplus, tanh
from ..ops.matmul import linear
from ..ops.norm import adaptive_instance_norm, batch_norm, instance_norm, layer_norm
from ..ops.shape import pad
from ..tensor import Tensor

__all__ = [
    "adaptive_instance_norm", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv2d", "conv_transpose2d", "cross_entropy", "dropout", "embedding",
    "instance_norm", "interpolate", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "mse_loss",
    "nll_loss", "pad", "relu", "sigmoid", "softmax", "softplus", "tanh",
]


def _tuple(value, n: int, name: str, what: str) -> tuple:
    """``value`` as an n-tuple: an int (or float) is repeated, a sequence must have length n."""
    t = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(t) != n:
        raise ValueError(f"{name}: expected {n} values for {what}, got {value}")
    return t


# ---- activations and regularisation -------------------------------------------------------
def log_softmax(input: Tensor, dim: int) -> Tensor:
    """log softmax(x)_i = x_i - log sum_j exp(x_j), through the stable logsumexp."""
    return input - input.logsumexp(dim, keepdim=True)


def softmax(input: Tensor, dim: int) -> Tensor:
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) = exp(log_softmax(x)_i), stable for large |x|."""
    return log_softmax(input, dim).exp()


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout (Srivastava et al. 2014): zero each element with probability p, scale the rest by 1/(1-p).

    On the CPU the mask is drawn from tinygan's default generator; on the GPU it is made on the
    device by the CUDA generator (Philox, kernels/random.cu), which a CUDA graph can capture.
    ``tinygan.manual_seed`` seeds both (their streams differ, as in PyTorch).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0  # everything dropped (and 1/(1-p) undefined)
    if input.device == "cuda":
        mask = cuda_generator().dropout_mask(input.shape, p).astype(input.dtype, copy=False)
    else:
        keep = default_generator().random(input.shape) >= p  # each element survives with probability 1 - p
        mask = backend.to_device((keep / (1.0 - p)).astype(input.dtype), input.device)
    return input * Tensor(mask)


def embedding(input: Tensor, weight: Tensor) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer tensor ``input``.

    y = weight[input]: its gradient scatters back into the picked rows, repeated indices adding up.
    """
    if input.dtype.kind not in "iu":
        raise ValueError(f"embedding: input must hold integer indices, got dtype {input.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must have shape (num_embeddings, embedding_dim), got {weight.shape}")
    return weight[input]


# ---- resampling ---------------------------------------------------------------------------
def _bilinear_matrix(n_in: int, n_out: int, dtype, scale: float | None = None) -> np.ndarray:
    """The (n_out, n_in) matrix of linear interpolation along one axis with align_corners=False:
    output pixel i samples the input at x = (i + 0.5) r - 0.5 (clamped at 0), r = n_in / n_out (or
    1 / scale_factor when one was given, as PyTorch), mixing pixels floor(x) and floor(x) + 1
    (clamped at n_in - 1) with weights 1 - frac(x) and frac(x)."""
    ratio = n_in / n_out if scale is None else 1.0 / scale
    x = np.maximum((np.arange(n_out) + 0.5) * ratio - 0.5, 0.0)
    lo = np.minimum(np.floor(x).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = x - lo
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), lo), 1.0 - frac)
    np.add.at(m, (np.arange(n_out), hi), frac)
    return m.astype(dtype)


def _bilinear(input: Tensor, size: tuple, scales: tuple = (None, None)) -> Tensor:
    """Bilinear resizing is linear in the image, separately along H and W: A_H x A_W^T with one
    interpolation matrix per axis, so its gradient (and the gradient's) is two matmuls too."""
    (h, w), (oh, ow) = input.shape[2:], size
    a_h = Tensor(backend.to_device(_bilinear_matrix(h, oh, input.dtype, scales[0]), input.device))    # (OH, H)
    a_w = Tensor(backend.to_device(_bilinear_matrix(w, ow, input.dtype, scales[1]).T, input.device))  # (W, OW)
    return a_h @ (input @ a_w)                                                             # (N, C, OH, OW)


def interpolate(input: Tensor, size: int | tuple | None = None, scale_factor: float | tuple | None = None,
                mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """Resizing of (N, C, *spatial) (``F.interpolate``): nearest by integer factors, or bilinear.

    Nearest upsampling repeats each value s times along each spatial dim: (N, C, H, W) is viewed as
    (N, C, H, 1, W, 1), expanded to (N, C, H, s, W, s) and reshaped to (N, C, H*s, W*s).
    Downsampling to a ``size`` that divides the input keeps every k-th value, x[..., ::k, ::k]:
    output pixel i reads input pixel floor(i * in / out) = i * k, PyTorch's nearest rule.
    ``mode="bilinear"`` (4-D input, ``align_corners=False`` only, no antialiasing) resizes to any size
    (``_bilinear``), as PyTorch does.
    """
    if mode == "bilinear":
        if align_corners:
            raise ValueError("interpolate: only align_corners=False is supported for mode='bilinear'")
        if input.ndim != 4:
            raise ValueError(f"interpolate: mode='bilinear' expects an input (N, C, H, W), got shape {input.shape}")
        if (size is None) == (scale_factor is None):
            raise ValueError("interpolate: exactly one of size and scale_factor must be given")
        if size is not None:
            return _bilinear(input, tuple(int(s) for s in _tuple(size, 2, "interpolate", "size")))
        factors = tuple(float(f) for f in _tuple(scale_factor, 2, "interpolate", "scale_factor"))
        return _bilinear(input, tuple(math.floor(n * f) for n, f in zip(input.shape[2:], factors)), factors)
    if mode != "nearest":
        raise ValueError(f"interpolate: mode must be 'nearest' or 'bilinear', got {mode!r}")
    if align_corners is not None:
        raise ValueError("interpolate: align_corners is for mode='bilinear' only")
    if input.ndim < 3:
        raise ValueError(f"interpolate: expected an input (N, C, *spatial), got shape {input.shape}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size and scale_factor must be given")
    spatial = input.shape[2:]
    if size is not None:
        sizes = _tuple(size, len(spatial), "interpolate", "size")
        if len(spatial) == 2 and all(0 < int(s) <= n and n % int(s) == 0 for s, n in zip(sizes, spatial)):
            return input[:, :, ::spatial[0] // int(sizes[0]), ::spatial[1] // int(sizes[1])]
        if any(int(s) < n or int(s) % n for s, n in zip(sizes, spatial)):
            raise ValueError(f"interpolate: size {size} must be an integer multiple or divisor of the spatial "
                             f"size {spatial}")
        factors = tuple(int(s) // n for s, n in zip(sizes, spatial))
    else:
        factors = _tuple(scale_factor, len(spatial), "interpolate", "scale_factor")
        if any(float(s) != int(s) or int(s) < 1 for s in factors):
            raise ValueError(f"interpolate: scale_factor must be a positive integer, got {scale_factor}")
        factors = tuple(int(s) for s in factors)
    lead = input.shape[:2]
    split = lead + sum(((n, 1) for n in spatial), ())                        # (N, C, H, 1, W, 1)
    repeated = lead + sum(((n, s) for n, s in zip(spatial, factors)), ())    # (N, C, H, s, W, s)
    out = lead + tuple(n * s for n, s in zip(spatial, factors))               # (N, C, H*s, W*s)
    return input.reshape(split).expand(repeated).reshape(out)


def _pool_output_size(n: int, k: int, s: int, p: int, ceil_mode: bool) -> int:
    """Windows along one axis (``torch.nn.AvgPool2d``'s formula): with ceil_mode a last, partial
    window counts too, if it starts inside the input or its left padding."""
    out = (n + 2 * p - k + (s - 1 if ceil_mode else 0)) // s + 1
    return out - 1 if ceil_mode and (out - 1) * s >= n + p else out


def _window_counts(n: int, k: int, s: int, p: int, out: int, include_pad: bool) -> np.ndarray:
    """How many of each window's k entries lie in the input (and, with include_pad, in the padding)."""
    starts = np.arange(out) * s - p  # window i covers [starts[i], starts[i] + k) of the input
    lo, hi = (-p, n + p) if include_pad else (0, n)
    return np.minimum(starts + k, hi) - np.maximum(starts, lo)


def avg_pool2d(input: Tensor, kernel_size: int | tuple, stride: int | tuple | None = None,
               padding: int | tuple = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Average over kh x kw windows of (N, C, H, W) or (C, H, W), as ``F.avg_pool2d``.

    Each window's sum is divided by divisor_override, if given, else by the number of its entries
    in the input, the zero padding counted with count_include_pad (but never the part of a
    ceil_mode window that hangs over the padding).
    """
    if input.ndim == 3:
        return avg_pool2d(input.unsqueeze(0), kernel_size, stride, padding, ceil_mode, count_include_pad,
                          divisor_override).squeeze(0)
    if input.ndim != 4:
        raise ValueError(f"avg_pool2d: expected an input (N, C, H, W) or (C, H, W), got shape {input.shape}")
    kh, kw = _tuple(kernel_size, 2, "avg_pool2d", "kernel_size")
    sh, sw = _tuple(kernel_size if stride is None else stride, 2, "avg_pool2d", "stride")
    ph, pw = _tuple(padding, 2, "avg_pool2d", "padding")
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"avg_pool2d: padding {padding} must be at most half the kernel size {kernel_size}")
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
    N, C, H, W = input.shape
    Ho, Wo = _pool_output_size(H, kh, sh, ph, ceil_mode), _pool_output_size(W, kw, sw, pw, ceil_mode)
    if Ho < 1 or Wo < 1:
        raise ValueError(f"avg_pool2d: kernel_size {kernel_size} is larger than the padded input of shape "
                         f"{input.shape}")
    over_h, over_w = (Ho - 1) * sh + kh - (H + 2 * ph), (Wo - 1) * sw + kw - (W + 2 * pw)  # ceil_mode overhang
    if (sh, sw) == (kh, kw) and ph == pw == 0 and over_h <= 0 and over_w <= 0 and divisor_override is None:
        # disjoint windows: crop what the last window leaves over, split each axis into (out, k), average
        x = input if (Ho * kh, Wo * kw) == (H, W) else input[:, :, :Ho * kh, :Wo * kw]
        return x.reshape(N, C, Ho, kh, Wo, kw).mean((3, 5))
    # window sums: a convolution of each channel alone with a kernel of ones, over the input
    # zero-padded by `padding` and, at the bottom/right, by what ceil_mode's last window overhangs
    x = input.reshape(N * C, 1, H, W)
    if over_h > 0 or over_w > 0:
        x = pad(x, (0, max(over_w, 0), 0, max(over_h, 0)))
    xp = backend.xp_of(input.data)
    sums = conv2d(x, Tensor(xp.ones((1, 1, kh, kw), dtype=input.dtype)), stride=(sh, sw), padding=(ph, pw))
    if divisor_override is not None:
        count = np.full((Ho, Wo), divisor_override)
    else:
        count = np.outer(_window_counts(H, kh, sh, ph, Ho, count_include_pad),
                         _window_counts(W, kw, sw, pw, Wo, count_include_pad))  # (Ho, Wo)
    scale = Tensor(backend.to_device((1.0 / count).astype(input.dtype), input.device))
    return (sums * scale).reshape(N, C, Ho, Wo)


# ---- losses -------------------------------------------------------------------------------
def _reduce(name: str, loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_same_shape(name: str, input: Tensor, target: Tensor) -> None:
    if input.shape != target.shape:
        raise ValueError(f"{name}: target shape {target.shape} must equal input shape {input.shape}")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         reduction: str = "mean") -> Tensor:
    """-w [y log x + (1 - y) log(1 - x)] for probabilities x, each log clamped at -100 as in PyTorch
    (whose gradient formula, used here too, stays finite at x = 0 and 1)."""
    _check_same_shape("binary_cross_entropy", input, target)
    if bool((input.data < 0).any()) or bool((input.data > 1).any()):
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce("binary_cross_entropy", loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """BCE of sigmoid(x) written in the logits x: -[p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))].

    With log sigmoid(x) = -softplus(-x) and log(1 - sigmoid(x)) = -x - softplus(-x) this is
    (1 - y) x + (1 + (p - 1) y) softplus(-x), finite for logits of any size (p = pos_weight).
    """
    _check_same_shape("binary_cross_entropy_with_logits", input, target)
    if weight is None and pos_weight is None and not target.requires_grad and target.dtype == input.dtype:
        return _reduce("binary_cross_entropy_with_logits", BCEWithLogits.apply(input, target=target.data), reduction)
    log_weight = 1.0 if pos_weight is None else 1.0 + (pos_weight - 1.0) * target
    loss = (1.0 - target) * input + log_weight * softplus(-input)
    if weight is not None:
        loss = loss * weight
    return _reduce("binary_cross_entropy_with_logits", loss, reduction)


def _picked(name: str, input: Tensor, target: Tensor) -> Tensor:
    """input[n, target[n, d...], d...]: each target's entry of input (N, C, d1, ...) with class indices
    target (N, d1, ...), or input[target] for an unbatched input (C,) and target (); target's shape."""
    batched = input.ndim >= 2
    if input.ndim == 0 or target.shape != (input.shape[:1] + input.shape[2:] if batched else ()):
        raise ValueError(f"{name}: expected input (N, C, d1, ...) and target (N, d1, ...), or input (C,) and "
                         f"target (), got shapes {input.shape} and {target.shape}")
    if target.dtype.kind not in "iu":
        raise ValueError(f"{name}: target must hold integer class indices, got dtype {target.dtype}")
    C = input.shape[1 if batched else 0]
    if target.numel() and (int(target.data.min()) < 0 or int(target.data.max()) >= C):
        raise ValueError(f"{name}: target class indices must lie in [0, {C}), got values in "
                         f"[{int(target.data.min())}, {int(target.data.max())}]")
    if not batched:
        return input[target.data]
    xp, t = backend.xp_of(input.data), target.data
    grid = [xp.arange(n).reshape((n,) + (1,) * (t.ndim - 1 - i)) for i, n in enumerate(t.shape)]  # n, d1, ...
    return input[(grid[0], t, *grid[1:])]


def _nll(name: str, log_p: Tensor, target: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    loss = -_picked(name, log_p, target)  # target's shape
    if weight is None:
        return _reduce(name, loss, reduction)
    C = log_p.shape[1 if log_p.ndim >= 2 else 0]
    if weight.shape != (C,):
        raise ValueError(f"{name}: weight must have shape {(C,)} (one per class), got {weight.shape}")
    w = weight[target.data]  # w[y], target's shape
    loss = loss * w
    return loss.sum() / w.sum() if reduction == "mean" else _reduce(name, loss, reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """Negative log likelihood -w[y] input[n, y, d...] of log-probabilities input (N, C, d1, ...) with classes
    y = target[n, d...] (N, d1, ...); or unbatched, input (C,) and target ().

    With ``weight``, 'mean' divides by the sum of w[y] over the targets (a weighted mean), as PyTorch.
    """
    return _nll("nll_loss", input, target, weight, reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits input (N, C, d1, ...) (or (C,)) with class indices target (N, d1, ...)
    (or ()): nll_loss(log_softmax(input, class dim)).

    With label_smoothing e the target is (1 - e) one_hot(y) + e / C (Szegedy et al. 2016, Sec. 7),
    so the loss is (1 - e) nll + (e / C) sum_c -w_c log p_c, reduced as PyTorch does.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    class_dim = 1 if input.ndim >= 2 else 0
    log_p = log_softmax(input, class_dim)
    nll = _nll("cross_entropy", log_p, target, weight, reduction)
    if label_smoothing == 0.0:
        return nll
    C = input.shape[class_dim]
    if weight is not None:
        log_p = log_p * weight.reshape((C,) + (1,) * (input.ndim - class_dim - 1))  # w_c along the class dim
    smooth = -log_p.sum(class_dim)  # target's shape: sum_c -w_c log p_c
    if reduction == "mean" and weight is not None:
        smooth = smooth.sum() / weight[target.data].sum()
    else:
        smooth = _reduce("cross_entropy", smooth, reduction)
    return (1.0 - label_smoothing) * nll + (label_smoothing / C) * smooth


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """(x - y)^2, reduced."""
    _check_same_shape("mse_loss", input, target)
    diff = input - target
    return _reduce("mse_loss", diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """|x - y|, reduced."""
    _check_same_shape("l1_loss", input, target)
    return _reduce("l1_loss", (input - target).abs(), reduction)

