"""Module, Parameter and the two containers (PyTorch's ``torch.nn.Module`` and friends).

A ``Module`` owns three ordered dictionaries, filled by plain attribute assignment:

    self.weight = Parameter(...)         -> _parameters["weight"]
    self.net = Sequential(...)           -> _modules["net"]
    self.register_buffer("running_mean", t)  -> _buffers["running_mean"]  (state, not trained)

Everything else -- ``parameters()``, ``state_dict()``, ``train()``, ``to()`` -- is a walk
over those dictionaries, children in the order they were assigned, so names and order
match PyTorch (``net.0.weight``, ``bn.running_var``) and checkpoints load in both.

Moving a module (``to``, ``double``, ``cuda``) replaces each Parameter's ``.data`` array
and keeps the Parameter objects, so an optimizer built before the move keeps working.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator

import numpy as np

from .. import backend
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that a Module registers as trainable (``torch.nn.Parameter``).

    ``Parameter(t)`` shares ``t``'s array, as PyTorch shares its storage.
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        super().__init__(data.data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    return lines[0] if len(lines) == 1 else "\n".join([lines[0]] + [" " * spaces + s for s in lines[1:]])


def _parse_to(args, device, dtype):
    """The (device, dtype) of ``to(*args, device=, dtype=)``; None means 'leave as is'."""
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, str) and a.split(":")[0] in backend.DEVICES:
            device = a
        elif a is not None:
            dtype = a
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: only floating point dtypes are accepted, got {dtype}")
    return (None if device is None else backend.check_device(device)), dtype


class Module:
    """Base class of every layer and model: subclasses assign attributes in ``__init__``, define forward."""

    training: bool
    _optional_state: tuple = ()  # buffers a loaded state dict may lack (see load_state_dict)

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---- registration -------------------------------------------------------------------
    def _store(self, name: str) -> dict:
        store = self.__dict__.get(name)
        if store is None:
            raise AttributeError(f"cannot assign to {type(self).__name__} before Module.__init__() is called")
        return store

    def _discard(self, name: str, keep: dict) -> None:
        """Forget ``name`` everywhere except in ``keep``, where it is about to be (re)assigned in place."""
        for store in (self.__dict__, self._parameters, self._buffers, self._modules):
            if store is not keep:
                store.pop(name, None)
        self._non_persistent.discard(name)

    @staticmethod
    def _check_name(kind: str, name) -> None:
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, Parameter):
            self._discard(name, self._store("_parameters"))
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._discard(name, self._store("_modules"))
            self._modules[name] = value
        elif name in self.__dict__.get("_parameters", ()):
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                "(Parameter or None expected)")
            self._parameters[name] = None
        elif name in self.__dict__.get("_modules", ()):
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module '{name}' "
                                "(Module or None expected)")
            self._modules[name] = None
        elif name in self.__dict__.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' "
                                "(Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):  # called only when normal lookup fails
        for store in ("_parameters", "_buffers", "_modules"):
            d = self.__dict__.get(store)
            if d is not None and name in d:
                return d[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._check_name("parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, "
                            f"got {type(param).__name__}")
        self._discard(name, self._store("_parameters"))
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is saved and moved with the module but not trained (running statistics)."""
        self._check_name("buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: '{name}' must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        self._discard(name, self._store("_buffers"))
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        self._check_name("module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module or None, got {type(module).__name__}")
        self._discard(name, self._store("_modules"))
        self._modules[name] = module

    register_module = add_module

    # ---- walking the tree ---------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it, depth first, each once (``"", "net", "net.0", ...``)."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, store: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        seen = set()  # a tensor shared by two modules is listed once, under its first name
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, t in getattr(module, store).items():
                if t is not None and id(t) not in seen:
                    seen.add(id(t))
                    yield (f"{module_prefix}.{name}" if module_prefix else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and on self, e.g. for a custom init."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set the training flag here and in every submodule (Dropout and BatchNorm read it)."""
        self.training = bool(mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is not None:
                p.grad = None if set_to_none else Tensor(backend.xp_of(p.grad.data).zeros_like(p.grad.data))

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # ---- devices and dtypes -------------------------------------------------------------
    def to(self, *args, device=None, dtype=None) -> Module:
        """Move/cast parameters, buffers and gradients in place: ``to('cuda')``, ``to(np.float64)``.

        Each Tensor keeps its identity and gets a new ``.data`` array; a dtype applies to
        floating point tensors only (``num_batches_tracked`` stays int64).
        """
        device, dtype = _parse_to(args, device, dtype)

        def convert(a):
            if dtype is not None and a.dtype.kind == "f":
                a = a.astype(dtype, copy=False)
            return a if device is None else backend.to_device(a, device)

        seen = set()
        for module in self.modules():
            for t in list(module._parameters.values()) + list(module._buffers.values()):
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                t.data = convert(t.data)
                if t.grad is not None:
                    t.grad = Tensor(convert(t.grad.data))
        return self

    def float(self) -> Module:
        return self.to(dtype=np.float32)

    def double(self) -> Module:
        return self.to(dtype=np.float64)

    def cuda(self) -> Module:
        return self.to(device="cuda")

    def cpu(self) -> Module:
        return self.to(device="cpu")

    @property
    def device(self) -> str:
        """The device of the first parameter ('cpu' for a module without parameters)."""
        return next((p.device for p in self.parameters()), "cpu")

    # ---- checkpoints --------------------------------------------------------------------
    def _named_state(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """(key, tensor) in PyTorch's state_dict order: own parameters, own buffers, then children."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                yield prefix + name, b
        for name, child in self._modules.items():
            if child is not None:
                yield from child._named_state(f"{prefix}{name}.")

    def state_dict(self) -> OrderedDict:
        """An OrderedDict of NumPy copies of all parameters and persistent buffers, PyTorch's key names."""
        return OrderedDict((key, np.array(backend.to_numpy(t.data), copy=True))
                           for key, t in self._named_state())

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values (NumPy arrays or Tensors) into the existing arrays, keeping their dtype and device.

        Nothing is copied unless every key fits: with ``strict`` a missing or unexpected key
        raises KeyError; a shape mismatch always raises ValueError. A buffer named in a module's
        ``_optional_state`` may be absent (older PyTorch checkpoints lack batch norm's
        ``num_batches_tracked``): it keeps its current value, as in PyTorch.
        """
        own = OrderedDict(self._named_state())
        optional = {f"{prefix}.{name}" if prefix else name
                    for prefix, m in self.named_modules() for name in m._optional_state}
        missing = [k for k in own if k not in state_dict and k not in optional]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        sources = {}
        for key, t in own.items():
            if key in state_dict:
                value = state_dict[key]
                value = value.data if isinstance(value, Tensor) else value
                value = value if backend.is_cupy_array(value) else np.asarray(value)
                if tuple(value.shape) != t.shape:
                    raise ValueError(f"load_state_dict: size mismatch for {key}: the state_dict has shape "
                                     f"{tuple(value.shape)}, the module has shape {t.shape}")
                sources[key] = value
        for key, value in sources.items():
            t = own[key]
            t.data[...] = backend.to_device(value, t.device)  # assignment casts to t's dtype
        return IncompatibleKeys(missing, unexpected)

    # ---- printing -----------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside ``Name(...)``; layers override it with their settings."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        children = [f"({name}): {_addindent(repr(m), 2)}" for name, m in self._modules.items()]
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = (extra.split("\n") if extra else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied in order; ``Sequential(a, b)`` names them "0", "1" (or pass an OrderedDict)."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def forward(self, x):
        for module in self:
            x = module(x)
        return x


class ModuleList(Module):
    """A list of modules whose parameters are registered (names "0", "1", ...); it has no forward."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return list(self._modules.values())[index]

    def __setitem__(self, index: int, module: Module) -> None:
        name = list(self._modules)[index]  # IndexError when out of range, as a list
        self.add_module(name, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for m in modules:
            self.append(m)
        return self
