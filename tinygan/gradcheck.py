"""Checking gradients against finite differences (PyTorch's ``gradcheck`` / ``gradgradcheck``).

For a function y = f(x1, ..., xk) and a random direction v of y's shape, backward computes
the vector-Jacobian product  J_i^T v = d(v . f)/dx_i.  We compare every entry of it with
the central difference

    d(v . f)/dx_i[j]  ~=  (v . f(x + eps e_j) - v . f(x - eps e_j)) / (2 eps)

in float64. A random v makes a wrong Jacobian entry show up with probability one, and it
costs two forward passes per input element instead of one backward per output element.
``gradgradcheck`` is gradcheck applied to the function (x, v) -> J^T v computed with
``create_graph=True``: it checks the second derivatives that gradient penalties use.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .tensor import Tensor, grad


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with its finite-difference estimate."""


def _outputs(fn, inputs) -> list:
    out = fn(*inputs)
    return [out] if isinstance(out, Tensor) else [o if isinstance(o, Tensor) else None for o in out]


def _differentiable(inputs) -> list:
    idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for i in idx:
        if inputs[i].dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; finite differences "
                             "need float64 inputs (use .double())")
    if not idx:
        raise ValueError("gradcheck: no input requires grad")
    return idx


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, seed: int = 0) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` by central differences; True if they agree.

    On a mismatch, raise ``GradcheckError`` naming the input, the worst index, and the
    analytic and numeric values (or return False with ``raise_exception=False``).
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wrt = _differentiable(inputs)
    outs = _outputs(fn, inputs)
    rng = np.random.default_rng(seed)
    vs = [None if o is None else Tensor(backend.xp_of(o.data).asarray(rng.standard_normal(o.shape)))
          for o in outs]
    live = [(o, v) for o, v in zip(outs, vs) if o is not None and o.requires_grad]
    if live:
        analytic = grad([o for o, _ in live], [inputs[i] for i in wrt], [v for _, v in live],
                        allow_unused=True)
    else:
        analytic = [None] * len(wrt)

    def projected() -> float:  # v . f(inputs)   (fn may itself need gradients: gradgradcheck)
        return sum(float((o.data * v.data).sum()) for o, v in zip(_outputs(fn, inputs), vs) if o is not None)

    for i, a in zip(wrt, analytic):
        x = inputs[i].data
        a = np.zeros(x.shape) if a is None else backend.to_numpy(a.data)
        numeric = np.zeros(x.shape)
        for j in np.ndindex(x.shape):  # perturb the input in place (any memory layout) and restore it
            orig = x[j].item()
            x[j] = orig + eps
            plus = projected()
            x[j] = orig - eps
            minus = projected()
            x[j] = orig
            numeric[j] = (plus - minus) / (2 * eps)
        bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
        if bad.any():
            if not raise_exception:
                return False
            worst = np.unravel_index(np.argmax(np.abs(a - numeric) * bad), x.shape)
            raise GradcheckError(
                f"gradcheck: gradient of input {i} (shape {x.shape}) is wrong at index {tuple(int(k) for k in worst)}: "
                f"analytic {a[worst]:.8g}, numeric {numeric[worst]:.8g} "
                f"({int(bad.sum())} of {bad.size} entries differ beyond atol={atol}, rtol={rtol})")
    return True


def gradgradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) -> d(v . fn(inputs))/d(inputs)."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    wrt = _differentiable(inputs)
    outs = _outputs(fn, inputs)
    rng = np.random.default_rng(seed + 1)
    vs = tuple(Tensor(backend.xp_of(o.data).asarray(rng.standard_normal(o.shape)), requires_grad=True)
               for o in outs if o is not None)
    n = len(inputs)

    def first_derivative(*args):
        xs, v = args[:n], args[n:]
        outs = [o for o in _outputs(fn, xs) if o is not None]
        return grad(outs, [xs[i] for i in wrt], list(v), create_graph=True, allow_unused=True)

    return gradcheck(first_derivative, inputs + vs, eps, atol, rtol, raise_exception, seed)
