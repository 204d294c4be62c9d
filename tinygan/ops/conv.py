"""2-D convolution and its transpose, as im2col + one GEMM (PyTorch's ``conv2d``/``conv_transpose2d``).

A convolution reads, for every output pixel, a C*kh*kw window of the input. ``im2col`` copies
all windows into the columns of one matrix ``cols`` (C*kh*kw, N*Ho*Wo) (layout in
``kernels/conv.cu``), so the convolution is the single matrix product W (C_out, C*kh*kw) @ cols.
Its adjoint ``col2im`` adds columns back onto the pixels they came from.

The three ops form adjoint pairs, each written once (Chainer's ``Convolution2DFunction``,
``Deconvolution2DFunction`` and ``Convolution2DGradW``; Dumoulin & Visin, "A guide to convolution
arithmetic for deep learning", 2016):

    conv2d(x, W)            input gradient conv_transpose2d(g, W)    weight gradient Conv2dWeight(x, g)
    conv_transpose2d(x, W)  input gradient conv2d(g, W)              weight gradient Conv2dWeight(g, x)

Every backward is built from these ops again, so convolutions differentiate twice (WGAN-GP, R1).
"""
from __future__ import annotations

from .. import backend
from ..tensor import Function, Tensor
from . import dispatch
from .dispatch import conv_output_hw, conv_output_size  # noqa: F401  (conv_output_size: public here too)
from .shape import pad


def conv_transpose_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """Output length of a transposed convolution along one axis (``torch.nn.ConvTranspose2d``'s docs)."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


# The ops run over the batch in chunks of images, so that only one chunk's columns exist at a time
# (the whole batch's im2col of one DCGAN-64 layer is 134 MB; CycleGAN's last 7x7 conv at batch 4, 205 MB).
# A chunk's columns take at most this many bytes (one image's, if that is more), and the chunks are of
# equal size, so that every GEMM stays long (N = chunk * Ho * Wo).
COLS_BUDGET = 32 * 2**20


def batch_chunks(n: int, bytes_per_image: int) -> list[tuple[int, int]]:
    """[(start, stop), ...]: range(n) in the fewest chunks of (nearly) equal size within COLS_BUDGET."""
    count = min(n, -(-n * bytes_per_image // COLS_BUDGET))  # ceil(all columns / budget), one image each at most
    step = -(-n // max(count, 1))  # ceil(n / count)
    return [(a, min(a + step, n)) for a in range(0, n, max(step, 1))]


# y = W_mat @ im2col(x) [+ b], as (N, C_out, Ho, Wo)   (W_mat: W as (C_out, C_in*kh*kw), b per channel)
# vjp: (conv_transpose2d(g, W) sized like x, Conv2dWeight(x, g), sum of g over (N, Ho, Wo))
class Conv2d(Function):
    def forward(self, x, w, b=None, *, stride, padding, dilation):
        self.geometry = {"stride": stride, "padding": padding, "dilation": dilation}
        n, (c_out, _, kh, kw) = x.shape[0], w.shape
        ho, wo = conv_output_hw(x.shape, (kh, kw), stride, padding, dilation)
        w_mat = w.reshape(c_out, -1)
        y = backend.xp_of(x).empty((n, c_out, ho, wo), dtype=x.dtype)
        # The columns are not kept for the weight gradient (4x the input's size for DCGAN's 4x4
        # stride-2 convs): backward cuts them again from x, as cuDNN-based frameworks keep only x.
        for lo, hi in batch_chunks(n, w_mat.shape[1] * ho * wo * x.itemsize):
            cols = dispatch.im2col(x[lo:hi], (kh, kw), stride, padding, dilation)  # (C_in*kh*kw, (hi-lo)*Ho*Wo)
            y[lo:hi] = dispatch.matmul(w_mat, cols).reshape(c_out, hi - lo, ho, wo).transpose(1, 0, 2, 3)
        return y if b is None else _add_bias(y, b)

    def backward(self, g):
        x, w = self.parents[:2]
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = ConvTranspose2d.apply(g, w, size=x.shape[2:], **self.geometry)
        if self.needs_input_grad[1]:
            gw = Conv2dWeight.apply(x, g, kernel_size=w.shape[2:], **self.geometry)
        return gx, gw, _bias_grad(self, g)


def _add_bias(y, b):
    """y + b per channel, in place: y is the op's fresh output, so no second activation is made."""
    y += b.reshape(1, -1, 1, 1)
    return y


def _bias_grad(fn: Function, g: Tensor) -> Tensor | None:
    """The bias's gradient, g summed over (N, H, W), when the op has a bias that needs one."""
    return g.sum((0, 2, 3)) if len(fn.parents) > 2 and fn.needs_input_grad[2] else None


# dW = gy_mat @ im2col(x)^T, as (C_out, C_in, kh, kw)   (gy_mat: gy as (C_out, N*Ho*Wo))
# vjp of g_W: (conv_transpose2d(gy, g_W) sized like x, conv2d(x, g_W))
class Conv2dWeight(Function):
    def forward(self, x, gy, kernel_size, stride, padding, dilation):
        self.geometry = {"stride": stride, "padding": padding, "dilation": dilation}
        n, c_out = gy.shape[:2]
        dw = backend.xp_of(x).zeros((c_out, x.shape[1] * kernel_size[0] * kernel_size[1]), dtype=x.dtype)
        for lo, hi in batch_chunks(n, dw.shape[1] * gy[0, 0].size * x.itemsize):
            cols = dispatch.im2col(x[lo:hi], kernel_size, stride, padding, dilation)  # (C_in*kh*kw, (hi-lo)*Ho*Wo)
            gy_mat = gy[lo:hi].transpose(1, 0, 2, 3).reshape(c_out, -1)  # (C_out, (hi-lo)*Ho*Wo), a copy
            dw += dispatch.matmul(gy_mat, cols.T)  # summed over the chunks; cols.T is a flag to BLAS, not a copy
        return dw.reshape(c_out, x.shape[1], *kernel_size)

    def backward(self, g_w):
        x, gy = self.parents
        gx = ggy = None
        if self.needs_input_grad[0]:
            gx = ConvTranspose2d.apply(gy, g_w, size=x.shape[2:], **self.geometry)
        if self.needs_input_grad[1]:
            ggy = Conv2d.apply(x, g_w, **self.geometry)
        return gx, ggy


# y = col2im(W_mat^T @ x_mat) [+ b] of spatial size `size`   (W_mat: (C_in, C_out*kh*kw), x_mat: (C_in, N*H*W))
# vjp: (conv2d(g, W), Conv2dWeight(g, x), sum of g over (N, H, W))  -- the weight gradient with input
#      and output swapped
class ConvTranspose2d(Function):
    # `size` must be an image that a conv2d with this geometry maps back to exactly (H, W);
    # conv_transpose2d() pads x to make it so when output_padding >= stride.
    def forward(self, x, w, b=None, *, size, stride, padding, dilation):
        self.geometry = {"stride": stride, "padding": padding, "dilation": dilation}
        (n, c_in, height, width), (_, c_out, kh, kw) = x.shape, w.shape
        w_mat_t = w.reshape(c_in, -1).T  # (C_out*kh*kw, C_in)
        y = backend.xp_of(x).empty((n, c_out, *size), dtype=x.dtype)
        for lo, hi in batch_chunks(n, w_mat_t.shape[0] * height * width * x.itemsize):
            x_mat = x[lo:hi].transpose(1, 0, 2, 3).reshape(c_in, -1)  # (C_in, (hi-lo)*H*W), a copy
            cols = dispatch.matmul(w_mat_t, x_mat)  # (C_out*kh*kw, (hi-lo)*H*W)
            y[lo:hi] = dispatch.col2im(cols, (hi - lo, c_out, *size), (kh, kw), stride, padding, dilation)
        return y if b is None else _add_bias(y, b)

    def backward(self, g):
        x, w = self.parents[:2]
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = Conv2d.apply(g, w, **self.geometry)
        if self.needs_input_grad[1]:
            gw = Conv2dWeight.apply(g, x, kernel_size=w.shape[2:], **self.geometry)
        return gx, gw, _bias_grad(self, g)


# ---- the functional forms (``tinygan.nn.functional`` re-exports them) ----------------------
def _pair(op: str, name: str, value, low: int) -> tuple:
    """An int or a pair of ints, as a pair; each at least `low`."""
    if isinstance(value, str):
        raise TypeError(f"{op}: string {name} {value!r} is not supported; give an int or a pair of ints")
    pair = (value, value) if not isinstance(value, (tuple, list)) else tuple(value)
    if len(pair) != 2 or any(int(v) != v or v < low for v in pair):
        raise ValueError(f"{op}: {name} must be an int >= {low} or a pair of them, got {value!r}")
    return tuple(int(v) for v in pair)


def _padding_string(x: Tensor, weight: Tensor, padding: str, stride: tuple, dilation: tuple):
    """conv2d's padding='valid' (none) or 'same': d (k - 1) zeros along each axis, so that a stride-1
    convolution keeps the input's size; half on each side, the odd one at the bottom/right (as PyTorch).
    Returns the input (padded with the odd row/column, if any) and the symmetric padding."""
    if padding == "valid":
        return x, (0, 0)
    if padding != "same":
        raise ValueError(f"conv2d: padding must be 'valid', 'same', an int or a pair of ints, got {padding!r}")
    if stride != (1, 1):
        raise ValueError(f"conv2d: padding='same' is not supported for strided convolutions (stride {stride})")
    total_h, total_w = (d * (k - 1) for d, k in zip(dilation, weight.shape[2:]))
    if total_h % 2 or total_w % 2:
        x = pad(x, (0, total_w % 2, 0, total_h % 2))
    return x, (total_h // 2, total_w // 2)


def _check(op: str, x: Tensor, weight: Tensor, bias: Tensor | None, groups: int, in_axis: int) -> None:
    """Shapes and dtypes shared by both ops; `in_axis` is the weight axis that holds C_in."""
    shapes = f"input of shape {x.shape} and weight of shape {weight.shape}"
    if groups != 1:
        raise ValueError(f"{op}: only groups=1 is supported, got groups={groups}")
    if x.ndim != 4 or weight.ndim != 4 or 0 in weight.shape:
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input and a non-empty "
                         f"4-D weight, got {shapes}")
    if x.shape[1] != weight.shape[in_axis]:
        raise ValueError(f"{op}: {shapes} disagree on the input channels "
                         f"({x.shape[1]} != weight.shape[{in_axis}] = {weight.shape[in_axis]})")
    c_out = weight.shape[1 - in_axis]
    if bias is not None and bias.shape != (c_out,):
        raise ValueError(f"{op}: bias of shape {bias.shape} does not match {shapes} (expected ({c_out},))")
    dtypes = {t.dtype for t in (x, weight, bias) if t is not None}
    if len(dtypes) > 1:  # no promotion, as in PyTorch
        raise RuntimeError(f"{op}: input, weight and bias must have one dtype, got {sorted(map(str, dtypes))}")


def _output(op: str, x: Tensor, weight: Tensor, size: tuple) -> None:
    if min(size) < 1:
        raise ValueError(f"{op}: output size {size} is too small for input of shape {x.shape} "
                         f"and weight of shape {weight.shape} with this stride, padding and dilation")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of input (N, C_in, H, W) with weight (C_out, C_in, kh, kw) plus bias
    (C_out,), as ``torch.nn.functional.conv2d``; output (N, C_out, Ho, Wo). A 3-D input is one image.
    ``padding`` is an int, a pair, 'valid' (no padding) or 'same' (output size = input size; stride 1)."""
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    _check("conv2d", input, weight, bias, groups, in_axis=1)
    stride, dilation = _pair("conv2d", "stride", stride, 1), _pair("conv2d", "dilation", dilation, 1)
    if isinstance(padding, str):
        input, padding = _padding_string(input, weight, padding, stride, dilation)
    padding = _pair("conv2d", "padding", padding, 0)
    size = conv_output_hw(input.shape, weight.shape[2:], stride, padding, dilation)
    _output("conv2d", input, weight, size)
    return Conv2d.apply(input, weight, *([] if bias is None else [bias]), stride=stride, padding=padding,
                        dilation=dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transpose (adjoint) of conv2d: input (N, C_in, H, W), weight (C_in, C_out, kh, kw), bias
    (C_out,), as ``torch.nn.functional.conv_transpose2d`` (note: groups comes before dilation).
    ``output_padding`` adds rows/columns at the bottom/right of the output (to undo the rounding of
    a strided conv2d); it must be smaller than stride or dilation."""
    op = "conv_transpose2d"
    if input.ndim == 3:
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                                dilation).squeeze(0)
    _check(op, input, weight, bias, groups, in_axis=0)
    stride, dilation = _pair(op, "stride", stride, 1), _pair(op, "dilation", dilation, 1)
    padding, output_padding = _pair(op, "padding", padding, 0), _pair(op, "output_padding", output_padding, 0)
    for o, s, d in zip(output_padding, stride, dilation):
        if o >= s and o >= d:
            raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either "
                             f"stride {stride} or dilation {dilation}")
    size = tuple(conv_transpose_output_size(s, k, *g) for s, k, *g in
                 zip(input.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation))
    _output(op, input, weight, size)
    # A conv2d of the output reads H + output_padding // stride rows: with output_padding >= stride
    # (possible when dilation > stride) x gets that many zero rows (columns) at the bottom (right).
    extra_h, extra_w = (o // s for o, s in zip(output_padding, stride))
    if extra_h or extra_w:
        input = pad(input, (0, extra_w, 0, extra_h))
    return ConvTranspose2d.apply(input, weight, *([] if bias is None else [bias]), size=size, stride=stride,
                                 padding=padding, dilation=dilation)
