"""tinygan: GANs from scratch on NumPy, with a small autograd engine and our own CUDA kernels.

The API mirrors PyTorch: ``tinygan.tensor``, ``Tensor.backward``, ``tinygan.grad``,
``tinygan.nn``, ``tinygan.nn.functional``, ``tinygan.optim``.
"""
from . import ops as _ops  # noqa: F401  (attaches the ops to Tensor)
from .backend import cuda_is_available
from .factories import (arange, full, get_rng_state, manual_seed, ones, ones_like, rand, rand_like, randint,
                        randn, randn_like, set_rng_state, tensor, zeros, zeros_like)
from .ops.elementwise import abs_ as abs  # noqa: A004
from .ops.elementwise import clamp, exp, log, pow, sigmoid, sqrt, tanh, where  # noqa: A004
from .ops.matmul import matmul
from .ops.reduce import amax, logsumexp, max, mean, min, std, sum, var  # noqa: A004
from .ops.shape import cat, flatten, permute, reshape, squeeze, stack, transpose, unsqueeze
from .tensor import Function, Tensor, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from . import cuda, nn, optim  # noqa: E402  (after Tensor has its ops)

float32, float64, int64, int32, bool_ = "float32", "float64", "int64", "int32", "bool"

__all__ = [
    "Function", "Tensor", "cuda", "gradcheck", "gradgradcheck", "nn", "optim", "abs", "amax", "arange", "cat", "clamp", "cuda_is_available", "enable_grad", "exp",
    "flatten", "full", "get_rng_state", "grad", "is_grad_enabled", "log", "logsumexp", "manual_seed", "matmul",
    "max", "mean", "min", "no_grad", "ones", "ones_like", "permute", "pow", "rand", "rand_like", "randint",
    "randn", "randn_like", "reshape", "set_grad_enabled", "set_rng_state", "sigmoid", "sqrt", "squeeze",
    "stack", "std", "sum", "tanh", "tensor", "transpose", "unsqueeze", "var", "where", "zeros", "zeros_like",
]
