"""The one place where hot paths branch by device.

Every other op is written once against ``xp``. These few kernels carry most of the FLOPs,
so on the GPU they call tinygan's own CUDA kernels (``kernels/``) and on the CPU the
fastest NumPy formulation (one BLAS call).
"""
from __future__ import annotations

from .. import backend


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution along one axis (the formula in ``torch.nn.Conv2d``'s docs)."""
    return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def conv_output_hw(x_shape: tuple, kernel_size: tuple, stride: tuple, padding: tuple, dilation: tuple) -> tuple:
    """(Ho, Wo) of a convolution of x (N, C, H, W) with this geometry."""
    return tuple(conv_output_size(*a) for a in zip(x_shape[2:], kernel_size, stride, padding, dilation))


def matmul(a, b):
    """a @ b for arrays with NumPy's matmul semantics (batched when ndim > 2)."""
    if (backend.is_cupy_array(a) and not backend.cublas_enabled() and a.ndim == b.ndim == 2
            and a.dtype == b.dtype == "float32"):
        from ..kernels.gemm import sgemm
        # a transposed view of a contiguous array is passed as the transpose flag, not copied
        ta, tb = _is_transposed(a), _is_transposed(b)
        return sgemm(a.T if ta else a, b.T if tb else b, trans_a=ta, trans_b=tb)
    return a @ b


def _is_transposed(a) -> bool:
    return not a.flags.c_contiguous and a.T.flags.c_contiguous


def im2col(x, kernel_size: tuple, stride: tuple, padding: tuple, dilation: tuple):
    """cols (C*kh*kw, N*Ho*Wo) of x (N, C, H, W), the layout spelled out in kernels/conv.cu:
    cols[(c*kh + i)*kw + j, (n*Ho + oh)*Wo + ow] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]."""
    if backend.is_cupy_array(x) and x.dtype == "float32":
        from ..kernels.conv import im2col as kernel
        return kernel(x, kernel_size, stride, padding, dilation)
    if not backend.is_cupy_array(x):  # one parallel pass in Numba, faster than the strided copy below
        from ..kernels.cpu_numba import im2col as cpu_kernel
        return cpu_kernel(x, kernel_size, stride, padding, dilation)
    return _im2col_strided(x, kernel_size, stride, padding, dilation)


def col2im(cols, x_shape: tuple, kernel_size: tuple, stride: tuple, padding: tuple, dilation: tuple):
    """The adjoint of im2col: x (N, C, H, W) with every cols entry added onto the pixel it came from."""
    if backend.is_cupy_array(cols) and cols.dtype == "float32":
        from ..kernels.conv import col2im as kernel
        return kernel(cols, x_shape, kernel_size, stride, padding, dilation)
    if not backend.is_cupy_array(cols):
        from ..kernels.cpu_numba import col2im as cpu_kernel
        return cpu_kernel(cols, x_shape, kernel_size, stride, padding, dilation)
    return _col2im_strided(cols, x_shape, kernel_size, stride, padding, dilation)


def _im2col_strided(x, kernel_size, stride, padding, dilation):
    # For CuPy float64 arrays (and as the reference the Numba loop is tested against):
    # the (C, kh, kw, N, Ho, Wo) windows are a strided view of the zero-padded input (no copy);
    # one copy lays them out as cols. Works for numpy and cupy alike.
    xp = backend.xp_of(x)
    (n, c, h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = x.shape, kernel_size, stride, padding, dilation
    ho, wo = conv_output_hw(x.shape, kernel_size, stride, padding, dilation)
    if ph or pw:  # zeros + one assignment: faster than np.pad
        padded = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
        padded[:, :, ph:ph + h, pw:pw + w] = x
        x = padded
    s_n, s_c, s_h, s_w = x.strides
    windows = xp.lib.stride_tricks.as_strided(
        x, shape=(c, kh, kw, n, ho, wo), strides=(s_c, dh * s_h, dw * s_w, s_n, sh * s_h, sw * s_w))
    return windows.copy().reshape(c * kh * kw, n * ho * wo)  # copy() is C-ordered, never aliases x


def _col2im_strided(cols, x_shape, kernel_size, stride, padding, dilation):
    # One strided add per kernel offset (i, j), never a loop over pixels: offset (i, j) of output
    # pixel (oh, ow) reads padded pixel (oh*sh + i*dh, ow*sw + j*dw). The buffer is (C, N, Hp, Wp),
    # the order of cols' row and column blocks, so every add reads cols contiguously; a final copy
    # crops the padding and transposes to NCHW (faster than adding into an NCHW buffer).
    xp = backend.xp_of(cols)
    (n, c, h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = x_shape, kernel_size, stride, padding, dilation
    ho, wo = conv_output_hw(x_shape, kernel_size, stride, padding, dilation)
    blocks = cols.reshape(c, kh, kw, n, ho, wo)
    buf = xp.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            buf[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw] += blocks[:, i, j]
    return buf[:, :, ph:ph + h, pw:pw + w].transpose(1, 0, 2, 3).copy()


def leaky_relu(x, slope: float):
    """(y, mask): y = x where x > 0, else slope * x; mask = x > 0 (kept for the backward)."""
    if _numba_elementwise(x):  # one parallel pass writing y and the mask (NumPy: three)
        from ..kernels.cpu_numba import leaky_relu as kernel
        return kernel(x, slope)
    positive = x > 0
    return backend.xp_of(x).where(positive, x, x * x.dtype.type(slope)), positive


def masked_scale(g, mask, slope: float):
    """g where mask, else slope * g (LeakyReLU's vjp)."""
    if _numba_elementwise(g) and g.shape == mask.shape:
        from ..kernels.cpu_numba import masked_scale as kernel
        return kernel(g, mask, slope)
    return backend.xp_of(g).where(mask, g, g * g.dtype.type(slope))


def _numba_elementwise(x) -> bool:
    """The CPU's one-pass loops serve float32/float64 NumPy arrays."""
    return not backend.is_cupy_array(x) and x.dtype in ("float32", "float64")


def norm_mode(x, axes: tuple) -> str | None:
    """'batch' (statistics per channel over (N, *spatial)) or 'instance' (per sample and channel over
    *spatial) when the normalization kernels serve these axes of x (N, C, *spatial), else None."""
    if x.ndim < 2 or x.dtype not in ("float32", "float64") or (backend.is_cupy_array(x) and x.dtype != "float32"):
        return None
    spatial = tuple(range(2, x.ndim))
    if axes == (0,) + spatial:
        return "batch"
    if axes == spatial and spatial:
        return "instance"
    return None


def _norm_kernels(x):
    """The normalization kernels for x's device: kernels/norm.py on the GPU, kernels/cpu_numba.py on the CPU."""
    if backend.is_cupy_array(x):
        from ..kernels import norm
        return norm
    from ..kernels import cpu_numba
    return cpu_numba


def normalize(x, gamma, beta, axes: tuple, eps: float):
    """(y, mean, var, rstd) of ops/norm.py's Normalize from one parallel kernel for batch and instance
    norm (a pass for the statistics, one for y; Numba on the CPU, CUDA on the GPU), or None where no
    kernel serves these axes and dtype (layer norm, float16): then norm.py's definition runs."""
    mode = norm_mode(x, axes)
    if mode is None:
        return None
    kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    y, mean, rstd = _norm_kernels(x).norm_forward(x, gamma, beta, eps=eps, mode=mode)
    mean, rstd = mean.reshape(kept), rstd.reshape(kept)
    return y, mean, 1 / (rstd * rstd) - eps, rstd


def normalize_backward(g, x, mean, rstd, gamma, axes: tuple):
    """(dx, dgamma, dbeta) of ``normalize`` from the kernels' parallel backward, or None where
    ``normalize`` had no kernel (then norm.py's closed form runs)."""
    mode = norm_mode(x, axes)
    return None if mode is None else _norm_kernels(x).norm_backward(g, x, mean, rstd, gamma, mode=mode)


def adam_update(p, g, m, v, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                step: int, amsgrad: bool = False, maximize: bool = False) -> bool:
    """Adam's update of p, m, v in place in one fused pass (torch.optim.Adam's arithmetic: a CUDA
    kernel for float32 on the GPU, a Numba loop on the CPU); True if done, False where no fused pass
    applies (amsgrad, maximize, or a gradient of another dtype): then optim.Adam's equations run."""
    on_gpu = backend.is_cupy_array(p)
    if amsgrad or maximize or p.dtype != g.dtype or (on_gpu and p.dtype != "float32"):
        return False
    if on_gpu:
        from ..kernels.elementwise import adam_update as kernel
    else:
        from ..kernels.cpu_numba import adam_update as kernel
    kernel(p, g, m, v, lr, beta1, beta2, eps, weight_decay, step)
    return True


def adam_update_capturable(p, g, state: dict, lr: float, beta1: float, beta2: float, eps: float,
                           weight_decay: float) -> None:
    """Adam with capturable=True (as torch): the step count t is a (1,) float32 array on the GPU, moved
    on by a kernel, and the bias corrections are computed on the GPU from it. No host number changes
    from step to step, so the update can be captured in a CUDA graph (tinygan.cuda)."""
    if not (backend.is_cupy_array(p) and p.dtype == "float32" and g.dtype == "float32"):
        raise ValueError(f"Adam: capturable=True needs float32 parameters on 'cuda', got a {p.dtype} "
                         f"parameter on '{backend.device_of(p)}'")
    from ..kernels.elementwise import adam_update_capturable as kernel
    from ..kernels.elementwise import step_increment
    cp = backend.cupy()
    if not state:
        state.update(step=cp.zeros(1, dtype=cp.float32), exp_avg=cp.zeros_like(p), exp_avg_sq=cp.zeros_like(p))
    elif not backend.is_cupy_array(state["step"]):  # a count restored from a checkpoint
        state["step"] = cp.full(1, float(state["step"]), dtype=cp.float32)
    step_increment(state["step"])
    kernel(p, g, state["exp_avg"], state["exp_avg_sq"], lr, beta1, beta2, eps, weight_decay, state["step"])
