"""Matrix multiplication, the op that carries most of a GAN's FLOPs."""
from __future__ import annotations

from ..tensor import Function, Tensor
from . import dispatch
from .elementwise import broadcastable, unbroadcast


# y = a @ b   (a: (..., M, K), b: (..., K, N), batch dims broadcast)
# vjp: (g @ b^T, a^T @ g), each summed back over broadcast batch dims
class MatMul(Function):
    def forward(self, a, b):
        return dispatch.matmul(a, b)

    def backward(self, g):
        a, b = self.parents
        ga = unbroadcast(g @ b.transpose(-1, -2), a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(a.transpose(-1, -2) @ g, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with PyTorch's rules: 1-D operands are promoted to matrices and squeezed after."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
    if a.dtype != b.dtype:  # no type promotion here, as in PyTorch
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                         f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
    if not broadcastable(a.shape[:-2], b.shape[:-2]):
        raise ValueError(f"matmul: batch dims of shapes {a.shape} and {b.shape} are not broadcastable")
    if b.ndim == 1:  # first, so that a 1-D a meets a matrix below
        return matmul(a, b.unsqueeze(1)).squeeze(-1)
    if a.ndim == 1:
        return matmul(a.unsqueeze(0), b).squeeze(-2)
    return MatMul.apply(a, b)


# y = x W^T + b   (x: (B, in), W: (out, in), b: (out,))
# vjp: (g W, g^T x, sum of g over the batch)
class Linear(Function):
    def forward(self, x, w, b=None):
        y = dispatch.matmul(x, w.T)
        if b is not None:
            y += b  # y is a fresh array: add the bias in place, no second pass
        return y

    def backward(self, g):
        x, w = self.parents[:2]  # 2-D, so MatMul itself (matmul() would check the shapes again)
        gx = MatMul.apply(g, w) if self.needs_input_grad[0] else None
        gw = MatMul.apply(g.transpose(0, 1), x) if self.needs_input_grad[1] else None
        gb = g.sum(0) if len(self.parents) > 2 and self.needs_input_grad[2] else None
        return gx, gw, gb


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b  (``F.linear``): x (..., in), W (out, in), b (out,)."""
    if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape {weight.shape} "
                         f"(expected input (..., {weight.shape[1] if weight.ndim == 2 else '?'}))")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} does not match weight of shape {weight.shape}")
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise RuntimeError(f"linear: input, weight and bias must have one dtype (no promotion, as in PyTorch), "
                           f"got {x.dtype}, {weight.dtype} and {None if bias is None else bias.dtype}")
    lead = x.shape[:-1]
    x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])  # (B, in) with B = prod(lead)
    y = Linear.apply(x2, weight) if bias is None else Linear.apply(x2, weight, bias)
    return y if x.ndim == 2 else y.reshape(lead + (weight.shape[0],))
