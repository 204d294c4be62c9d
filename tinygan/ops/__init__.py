"""Differentiable ops by family, and the one visible list that attaches them to Tensor."""
from ..tensor import Tensor
from . import elementwise as E
from . import matmul as M
from . import reduce as R
from . import shape as S


def _r(fn):
    """The reflected form of a binary op: ``2 - x`` calls ``x.__rsub__(2)`` -> ``sub(2, x)``."""
    return lambda self, other: fn(other, self)


# ---- operators ----
Tensor.__add__ = E.add
Tensor.__radd__ = _r(E.add)
Tensor.__sub__ = E.sub
Tensor.__rsub__ = _r(E.sub)
Tensor.__mul__ = E.mul
Tensor.__rmul__ = _r(E.mul)
Tensor.__truediv__ = E.div
Tensor.__rtruediv__ = _r(E.div)
Tensor.__neg__ = E.neg
Tensor.__pow__ = E.pow
Tensor.__rpow__ = _r(E.pow)
Tensor.__matmul__ = M.matmul
Tensor.__rmatmul__ = _r(M.matmul)
Tensor.__getitem__ = S.getitem
Tensor.__abs__ = E.abs_
# comparisons give constant boolean tensors (no gradient), as in PyTorch
Tensor.__lt__ = lambda a, b: Tensor(a.data < (b.data if isinstance(b, Tensor) else b))
Tensor.__le__ = lambda a, b: Tensor(a.data <= (b.data if isinstance(b, Tensor) else b))
Tensor.__gt__ = lambda a, b: Tensor(a.data > (b.data if isinstance(b, Tensor) else b))
Tensor.__ge__ = lambda a, b: Tensor(a.data >= (b.data if isinstance(b, Tensor) else b))
Tensor.__eq__ = lambda a, b: Tensor(a.data == (b.data if isinstance(b, Tensor) else b))
Tensor.__ne__ = lambda a, b: Tensor(a.data != (b.data if isinstance(b, Tensor) else b))
Tensor.__hash__ = object.__hash__  # defining __eq__ would otherwise make tensors unhashable

# ---- methods ----
Tensor.add, Tensor.sub, Tensor.mul, Tensor.div = E.add, E.sub, E.mul, E.div
Tensor.pow, Tensor.exp, Tensor.log, Tensor.sqrt, Tensor.abs = E.pow, E.exp, E.log, E.sqrt, E.abs_
Tensor.tanh, Tensor.sigmoid, Tensor.relu, Tensor.clamp = E.tanh, E.sigmoid, E.relu, E.clamp
Tensor.matmul = M.matmul
Tensor.sum, Tensor.mean, Tensor.var, Tensor.std = R.sum, R.mean, R.var, R.std
Tensor.max, Tensor.min, Tensor.amax, Tensor.logsumexp, Tensor.norm = R.max, R.min, R.amax, R.logsumexp, R.norm
Tensor.reshape, Tensor.view, Tensor.flatten = S.reshape, S.reshape, S.flatten
Tensor.permute, Tensor.transpose, Tensor.expand = S.permute, S.transpose, S.expand
Tensor.squeeze, Tensor.unsqueeze = S.squeeze, S.unsqueeze
Tensor.T = property(lambda self: S.permute(self, tuple(reversed(range(self.ndim)))))
