"""Tensor and reverse-mode automatic differentiation.

A ``Tensor`` wraps an array (NumPy or CuPy, see ``backend.py``) and remembers the
``Function`` that produced it. ``backward()`` sorts the graph topologically and walks it
in reverse, asking each Function for the vector-Jacobian product of its inputs.

Every ``Function.backward`` is written with tinygan ops on Tensors, never on raw arrays.
So the gradient computation is itself an ordinary computation: run it with gradient
recording switched on (``create_graph=True``) and it builds a graph that can be
differentiated again -- which is what WGAN-GP, R1 and unrolled GANs need. Run it with
recording off (the default) and no graph is built.

Read this file first; then ``ops/elementwise.py`` for the simplest ops.
"""
from __future__ import annotations

import contextlib
import weakref

import numpy as np

from . import backend

_grad_enabled = True  # switched off by no_grad() and during first-order backward


def is_grad_enabled() -> bool:
    return _grad_enabled


@contextlib.contextmanager
def set_grad_enabled(mode: bool):
    """Context manager that switches gradient recording on or off."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, bool(mode)
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """``with tinygan.no_grad():`` -- ops inside record no graph (as ``torch.no_grad``)."""
    return set_grad_enabled(False)


def enable_grad():
    return set_grad_enabled(True)


class Function:
    """One differentiable op. Subclasses define

        forward(self, *arrays, **options) -> array     # arrays in, array out
        backward(self, grad: Tensor) -> Tensor | tuple  # one gradient (or None) per input

    ``forward`` may keep on ``self`` whatever ``backward`` needs; ``self.parents`` holds
    the input Tensors and ``self.output`` the output Tensor (when ``save_output`` is True).
    A forward that computes more than its output on the way (batch norm's batch statistics)
    returns ``(output, *extras)``: ``apply`` then returns the output and the extras as constant
    Tensors beside it (no gradient flows through them, as PyTorch's ``mark_non_differentiable``).
    """

    save_output = False   # set True in ops whose backward uses their own output (exp, tanh, ...)
    saves_tensors = True  # False in ops whose backward needs no value of the graph (add, sum, views)
    freed = False         # set by a backward without retain_graph, if saves_tensors: a second backward
                          # through it raises (PyTorch frees the saved values; ops without any pass)

    parents: tuple
    needs_input_grad: tuple

    @classmethod
    def apply(cls, *inputs: Tensor, **options) -> Tensor:
        fn = cls()
        data = [t.data for t in inputs]
        _check_same_device(cls.__name__, inputs)
        result, extras = fn.forward(*data, **options), ()
        if isinstance(result, tuple):
            result, *extras = result
        out = Tensor(result)
        if _grad_enabled:
            needs = tuple(t.requires_grad for t in inputs)
            if any(needs):
                fn.parents, fn.needs_input_grad = inputs, needs
                out.requires_grad, out._ctx = True, fn
                if cls.save_output:  # weakly: out holds fn (out._ctx), and a strong reference back would
                    fn._output_ref = weakref.ref(out)  # make a cycle that only the cycle collector frees
        return (out, *map(Tensor, extras)) if extras else out

    @property
    def output(self) -> Tensor:
        return self._output_ref()

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, grad: Tensor):
        raise NotImplementedError


def _check_same_device(op: str, inputs) -> None:
    kind = type(inputs[0].data)
    for t in inputs[1:]:
        if type(t.data) is not kind and (backend.is_cupy_array(t.data) or backend.is_cupy_array(inputs[0].data)):
            devices = [t.device for t in inputs]
            raise RuntimeError(f"{op}: expected all tensors on the same device, got {devices}")


class Tensor:
    """An n-dimensional array with an optional gradient history (PyTorch's ``torch.Tensor``)."""

    __slots__ = ("__weakref__", "_ctx", "data", "grad", "requires_grad")
    __array_priority__ = 1000  # numpy_array * tensor -> Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False, _ctx: Function | None = None):
        if not isinstance(data, np.ndarray) and not backend.is_cupy_array(data):
            data = np.asarray(data)
        self.data = data
        self.grad: Tensor | None = None
        self.requires_grad = requires_grad
        self._ctx = _ctx

    # ---- basic properties -------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    def dim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        extra = ", requires_grad=True" if self.requires_grad else ""
        dev = ", device='cuda'" if self.device == "cuda" else ""
        body = np.array2string(backend.to_numpy(self.data), separator=", ", precision=4)
        return f"tensor({body}{dev}{extra})"

    # ---- conversion -------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (like torch, refuses a tensor that requires grad)."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a tensor that requires grad: use tensor.detach().numpy()")
        return backend.to_numpy(self.data)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """``np.asarray(t)``: ``t.numpy()`` (so it refuses a tensor that requires grad, as torch)."""
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): expected a tensor with one element, got shape {self.shape}")
        return backend.to_numpy(self.data.reshape(())).item()

    def tolist(self):
        return backend.to_numpy(self.data).tolist()

    def detach(self) -> Tensor:
        """The same values, cut from the graph."""
        return Tensor(self.data)

    def detach_(self) -> Tensor:
        self._ctx, self.requires_grad = None, False
        return self

    def requires_grad_(self, mode: bool = True) -> Tensor:
        if not self.is_leaf:
            raise RuntimeError("requires_grad_(): only leaf tensors can change requires_grad")
        self.requires_grad = mode
        return self

    def to(self, target) -> Tensor:
        """``to('cuda')``, ``to('cpu')`` or ``to(dtype)``: a differentiable copy (self if nothing changes)."""
        from .ops.elementwise import Cast, ToDevice  # ops import this module
        if target is None or (isinstance(target, str) and target.split(":")[0] in backend.DEVICES):
            device = backend.check_device(target)
            return self if device == self.device else ToDevice.apply(self, device=device)
        try:
            dtype = np.dtype(target)
        except TypeError:
            raise ValueError(f"to: unknown device or dtype {target!r}; expected one of "
                             f"{backend.DEVICES} or a dtype such as 'float32'") from None
        return self if dtype == self.dtype else Cast.apply(self, dtype=dtype)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def __bool__(self) -> bool:
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    # ---- autograd ---------------------------------------------------------------------
    def backward(self, gradient: Tensor | None = None, retain_graph=None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (as ``torch.Tensor.backward``).

        ``gradient`` is required unless self holds a single element. Unless ``retain_graph`` (by
        default ``create_graph``), the graph is freed: a second backward through an op that saved
        values for its backward raises, as in PyTorch.
        """
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no grad_fn")
        gradient = _initial_grad("backward", self, gradient)
        retain_graph = create_graph if retain_graph is None else retain_graph
        _backprop([self], [gradient], create_graph, retain_graph, inputs=None)


def _initial_grad(where: str, out: Tensor, gradient) -> Tensor:
    if gradient is None:
        if out.data.size != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for scalar outputs, got shape {out.shape}; "
                "pass gradient= (grad_outputs=) of the same shape")
        return Tensor(backend.xp_of(out.data).ones_like(out.data))
    if not isinstance(gradient, Tensor):
        gradient = Tensor(backend.xp_of(out.data).asarray(gradient, dtype=out.dtype))
    if gradient.dtype != out.dtype:
        gradient = gradient.to(out.dtype)
    if gradient.shape != out.shape:
        raise ValueError(f"{where}: gradient has shape {gradient.shape}, expected {out.shape}")
    return gradient


def _topological_order(roots) -> list:
    """Tensors reachable from ``roots`` through requires_grad edges, inputs before outputs."""
    order, seen = [], set()
    stack = [(r, False) for r in roots]
    while stack:  # iterative DFS: deep graphs (unrolled GANs) would overflow recursion
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        if t._ctx is not None:
            stack.extend((p, False) for p in t._ctx.parents if p.requires_grad and id(p) not in seen)
    return order


_FREED = ("Trying to backward through the graph a second time: the first backward() or grad() freed it. "
          "Specify retain_graph=True in that first call to backward through the graph again")


def _backprop(roots, root_grads, create_graph: bool, retain_graph: bool, inputs):
    """The reverse walk shared by ``Tensor.backward`` and ``tinygan.grad``.

    Nodes are visited outputs first, so a node's gradient is complete (every consumer has added its
    part) when it is reached; it then goes to the node's op's backward, whose input gradients are added
    to the parents' pending sums. With ``inputs=None`` (backward) the leaves keep their gradient in
    ``.grad``; otherwise (grad) the gradients of ``inputs`` are returned by id and no ``.grad`` is
    touched. Without ``retain_graph`` each op walked through that saves tensors is marked freed (where
    PyTorch frees the values it saved), so that walking through it again raises, as in PyTorch.
    """
    order = _topological_order(roots)                 # every node, inputs before outputs
    on_path = None if inputs is None else _leading_to(inputs, order)
    pending = {}                                      # id(node) -> the sum of the gradients it has received
    for root, g in zip(roots, root_grads):
        _add(pending, root, g)
    found, owned = {}, set()                          # grad()'s results; .grad arrays given to one leaf only
    with set_grad_enabled(create_graph):              # create_graph: the backward ops record a graph too
        for t in reversed(order):
            g = pending.pop(id(t), None)
            if g is None:                             # no path from the roots' gradients to t
                continue
            if inputs is not None:
                if id(t) in on_path["inputs"]:
                    found[id(t)] = g
                if t._ctx is None or id(t) not in on_path["nodes"]:  # a leaf, or nothing wanted below t
                    continue
            elif t._ctx is None:
                _keep_leaf_grad(t, g, create_graph, owned)
                continue
            for parent, parent_grad in _input_grads(t._ctx, g, retain_graph):
                _add(pending, parent, parent_grad)
    return found


def _add(pending: dict, t: Tensor, g: Tensor) -> None:
    """Sum g into t's pending gradient (a tensor used twice receives two gradients)."""
    pending[id(t)] = pending[id(t)] + g if id(t) in pending else g


def _leading_to(inputs, order) -> dict:
    """For grad(): the ids of ``inputs``, and of every node with a path down to one of them: the only
    nodes whose backward is needed."""
    wanted = {id(t) for t in inputs}
    nodes = set(wanted)
    for t in order:  # inputs before outputs: a node's parents are decided before it
        if t._ctx is not None and any(id(p) in nodes for p in t._ctx.parents):
            nodes.add(id(t))
    return {"inputs": wanted, "nodes": nodes}


def _keep_leaf_grad(leaf: Tensor, g: Tensor, create_graph: bool, owned: set) -> None:
    """leaf.grad += g. A first gradient is stored without a copy when no one else can hold its array;
    it is copied when it may be shared: a view of another array (reshape's backward), or the very
    tensor already stored in another leaf (a + b hands one g to both). Otherwise an in-place change
    of one leaf's .grad (gradient clipping) would change another's. With create_graph the gradient is
    a graph to differentiate again, and is kept as it is."""
    if leaf.grad is not None:
        leaf.grad = leaf.grad + g
        return
    shared = g.data.base is not None or id(g) in owned
    leaf.grad = Tensor(g.data.copy()) if shared and not create_graph else g
    owned.add(id(leaf.grad))


def _input_grads(ctx: Function, g: Tensor, retain_graph: bool):
    """(parent, gradient) for each input of ctx that needs one: ctx.backward(g), checked against the
    input's shape and cast to its dtype (PyTorch's engine casts them too)."""
    if ctx.freed:
        raise RuntimeError(_FREED)
    in_grads = ctx.backward(g)
    ctx.freed = ctx.saves_tensors and not retain_graph
    if not isinstance(in_grads, tuple):
        in_grads = (in_grads,)
    for p, pg, need in zip(ctx.parents, in_grads, ctx.needs_input_grad):
        if pg is None or not need:
            continue
        if pg.shape != p.shape:
            raise RuntimeError(f"{type(ctx).__name__}.backward returned a gradient of shape "
                               f"{pg.shape} for an input of shape {p.shape}")
        yield p, pg if pg.dtype == p.dtype else pg.to(p.dtype)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused: bool = False):
    """Gradients of ``outputs`` with respect to ``inputs`` (as ``torch.autograd.grad``).

    Returns a tuple with one Tensor per input. With ``create_graph=True`` the returned
    gradients carry a graph, so they can be differentiated again (gradient penalties).
    The graph walked is freed unless ``retain_graph`` (by default ``create_graph``).
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    for i, o in enumerate(outputs):
        if not o.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and has no grad_fn")
    root_grads = [_initial_grad("grad", o, g) for o, g in zip(outputs, grad_outputs)]
    retain_graph = create_graph if retain_graph is None else retain_graph
    found = _backprop(outputs, root_grads, create_graph, retain_graph, inputs=inputs)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} was not used in the graph of the outputs "
                               "(pass allow_unused=True to get None)")
        result.append(g)
    return tuple(result)
