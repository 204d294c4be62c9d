"""Optimizers with PyTorch's exact update rules: ``SGD``, ``Adam`` and ``RMSprop`` (as ``torch.optim``).

An optimizer holds ``param_groups`` (dicts of parameters and their hyperparameters) and a
``state`` dict per parameter (moment estimates, step counts). ``step()`` updates each
parameter that has a gradient, in place on its array::

    opt = tinygan.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt.zero_grad()
    loss.backward()
    opt.step()

Updates work on raw arrays through ``xp`` (one body for NumPy and CuPy): an optimizer step is
not part of any graph. Two rules keep references valid:

* ``p.data`` is updated in place (``p.data -= ...``), so views and other references to it see
  the new values;
* ``p.grad.data`` is never written: backward may hand the same gradient array to several tensors.

Each optimizer computes the update of one parameter in one small method, ``_update``; on the GPU
Adam dispatches there to a fused CUDA kernel (``kernels/elementwise.cu``, one launch per parameter).

Checkpoints: ``state_dict()`` holds only NumPy arrays and JSON-able scalars, and
``flatten_state_dict`` / ``unflatten_state_dict`` turn it into a flat ``{str: np.ndarray}`` dict
that ``np.savez`` stores without pickle.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np

from . import backend
from .ops import dispatch
from .tensor import Tensor, enable_grad, no_grad


class Optimizer:
    """Base class (as ``torch.optim.Optimizer``).

    ``params`` is an iterable of Tensors, or of dicts ``{"params": [...], "lr": ..., ...}`` (param
    groups) whose missing hyperparameters are taken from ``defaults``. Subclasses define
    ``_update(p, g, state, group)``, which updates one parameter array ``p`` in place from its
    gradient array ``g``, and ``_check(group)``, which validates hyperparameters.
    """

    _scalar_state: tuple = ()  # state entries that are numbers (step counts), not arrays

    def __init__(self, params: Iterable, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                            "got a single Tensor (wrap it in a list)")
        self.defaults = dict(defaults)
        self._check(self.defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            hyper = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} params, {hyper}")
        return "\n".join(lines + [")"])

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (defaults fill the rest)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a param group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)) or params is None:
            raise TypeError(f"{name}: a param group's 'params' must be an ordered iterable of Tensors")
        params = list(params)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor")
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter appears more than once in the parameter groups")
            seen.add(id(p))
        group = {**self.defaults, **param_group, "params": params}
        self._check(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients. ``set_to_none=False`` gives each parameter a new zero gradient
        (a new array, never a write into the old one, which backward may share)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    g = p.grad.data
                    p.grad = None if set_to_none else Tensor(backend.xp_of(g).zeros_like(g))

    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient; returns ``closure()`` if given (as torch)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.shape != p.shape:
                        raise RuntimeError(f"{type(self).__name__}.step: gradient of shape {p.grad.shape} "
                                           f"for a parameter of shape {p.shape}")
                    self._update(p.data, p.grad.data, self.state[p], group)
        return loss

    def _update(self, p, g, state: dict, group: dict) -> None:
        raise NotImplementedError

    def _check(self, group: dict) -> None:
        pass

    def _nonnegative(self, group: dict, *keys: str) -> None:
        for key in keys:
            if not group[key] >= 0.0:
                raise ValueError(f"{type(self).__name__}: invalid {key}: {group[key]} (must be >= 0)")

    # ---- checkpoints ------------------------------------------------------------------
    def state_dict(self) -> dict:
        """A snapshot ``{"state": {index: {name: array or number}}, "param_groups": [...]}``.

        Parameters are numbered 0, 1, ... in group order (as in PyTorch); each group lists its
        indices under "params". Arrays are NumPy copies, so later steps do not change it.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, entries in self.state.items():
            if entries and id(p) in index:
                state[index[id(p)]] = {k: _number(v) if k in self._scalar_state else np.array(backend.to_numpy(v))
                                       for k, v in entries.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a ``state_dict()``: hyperparameters per group, and the state of each parameter,
        copied to that parameter's device and dtype. Raises ValueError (and changes nothing) when
        the groups or the arrays' shapes do not match this optimizer's parameters."""
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter "
                             f"groups, this optimizer has {len(self.param_groups)}")
        params = {}  # saved index -> parameter
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has {len(saved['params'])} "
                                 f"parameters in the state dict, {len(group['params'])} in this optimizer")
            params.update(zip((int(j) for j in saved["params"]), group["params"]))
        state = defaultdict(dict)
        for j, entries in state_dict["state"].items():
            j = int(j)
            if j not in params:
                raise ValueError(f"{name}.load_state_dict: state for parameter {j}, which is in no group")
            p = params[j]
            for key, value in entries.items():
                if key in self._scalar_state:
                    state[p][key] = np.asarray(backend.to_numpy(value)).item()
                    continue
                value = backend.to_numpy(value)
                if value.shape != p.shape:
                    raise ValueError(f"{name}.load_state_dict: state '{key}' of parameter {j} has shape "
                                     f"{value.shape}, but the parameter has shape {p.shape}")
                state[p][key] = backend.to_device(value, p.device).astype(p.dtype, copy=True)
        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            if "betas" in new:
                new["betas"] = tuple(new["betas"])
            self._check(new)
            groups.append(new)
        self.param_groups, self.state = groups, state


def _number(value) -> int | float:
    """A step count as a Python number (a capturable optimizer keeps it as a (1,) GPU array)."""
    if isinstance(value, (int, float)):
        return value
    number = np.asarray(backend.to_numpy(value)).reshape(-1)[0].item()
    return int(number) if float(number).is_integer() else number


def flatten_state_dict(state_dict: dict, prefix: str = "") -> dict[str, np.ndarray]:
    """A flat ``{key: np.ndarray}`` dict for ``np.savez``: keys ``state.3.exp_avg``,
    ``param_groups.0.lr``, ``param_groups.0.params``; numbers become 0-d arrays, tuples 1-d arrays.
    ``prefix`` (e.g. ``"opt_D."``) lets one file hold several optimizers and the model."""
    flat = {}
    for j, entries in state_dict["state"].items():
        for key, value in entries.items():
            flat[f"{prefix}state.{int(j)}.{key}"] = np.asarray(backend.to_numpy(value))
    for i, group in enumerate(state_dict["param_groups"]):
        for key, value in group.items():
            array = np.asarray(value, dtype=np.int64) if key == "params" else np.asarray(value)
            if array.dtype == object:
                raise TypeError(f"flatten_state_dict: param group {i} entry {key!r} = {value!r} "
                                "is not numeric (it could not be saved without pickle)")
            flat[f"{prefix}param_groups.{i}.{key}"] = array
    return flat


def unflatten_state_dict(flat, prefix: str = "") -> dict:
    """Invert ``flatten_state_dict`` (``flat`` may be the ``np.load`` of an .npz file).

    Keys not starting with ``prefix + "state."`` or ``prefix + "param_groups."`` are ignored.
    Hyperparameters come back as Python numbers (and tuples), "params" as a list of ints, state
    arrays as arrays and integer state entries (step counts) as ints.
    """
    state: dict = {}
    groups: dict = {}
    for key in flat:
        if not key.startswith(prefix):
            continue
        section, _, rest = key[len(prefix):].partition(".")
        if section not in ("state", "param_groups"):
            continue
        index, _, name = rest.partition(".")
        value = np.asarray(flat[key])
        if section == "state":
            is_count = value.ndim == 0 and value.dtype.kind in "iub"
            state.setdefault(int(index), {})[name] = value.item() if is_count else value
        elif name == "params":
            groups.setdefault(int(index), {})[name] = [int(j) for j in value.tolist()]
        else:
            value = value.item() if value.ndim == 0 else tuple(value.tolist())  # betas: a tuple
            groups.setdefault(int(index), {})[name] = value
    if sorted(groups) != list(range(len(groups))):
        raise ValueError(f"unflatten_state_dict: param group indices {sorted(groups)} are not 0..n-1")
    return {"state": dict(sorted(state.items())), "param_groups": [groups[i] for i in range(len(groups))]}


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum (as ``torch.optim.SGD``).

    With g_t the gradient (negated when ``maximize``), lambda the weight decay, mu the momentum,
    tau the dampening and gamma the learning rate::

        g_t <- g_t + lambda * p_{t-1}
        b_1 = g_1,  b_t = mu * b_{t-1} + (1 - tau) * g_t        (heavy ball, Polyak 1964)
        d_t = g_t + mu * b_t   if nesterov   else   b_t
        p_t = p_{t-1} - gamma * d_t

    ``nesterov`` is PyTorch's reformulation of Nesterov momentum as in Sutskever, Martens, Dahl &
    Hinton, "On the importance of initialization and momentum in deep learning" (ICML 2013), eq. 3-4;
    it needs mu > 0 and tau = 0.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, maximize: bool = False):
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize})

    def _check(self, group: dict) -> None:
        self._nonnegative(group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov momentum requires a momentum > 0 and zero dampening, got "
                             f"momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, p, g, state: dict, group: dict) -> None:
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        if group["maximize"]:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = backend.xp_of(p).array(g, dtype=p.dtype)  # a copy
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        p -= group["lr"] * g


class Adam(Optimizer):
    r"""Adam (as ``torch.optim.Adam``): Kingma & Ba, "Adam: A Method for Stochastic Optimization"
    (ICLR 2015), Algorithm 1, with the bias corrections folded into the step size.

    With g_t the gradient (negated when ``maximize``) at step t = 1, 2, ...::

        g_t <- g_t + weight_decay * p_{t-1}                     (L2 penalty, not AdamW)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        p_t = p_{t-1} - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

    ``amsgrad`` (Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond", ICLR 2018) uses
    vmax_t = max(vmax_{t-1}, v_t) in place of v_t in the denominator.

    ``capturable=True`` (float32 parameters on 'cuda' only) keeps t on the GPU, so that a training
    step can be captured into a CUDA graph and replayed (see ``tinygan.cuda``).
    """

    _scalar_state = ("step",)

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, maximize: bool = False,
                 capturable: bool = False):
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                                  "amsgrad": amsgrad, "maximize": maximize, "capturable": capturable})

    def _check(self, group: dict) -> None:
        self._nonnegative(group, "lr", "eps", "weight_decay")
        if len(group["betas"]) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {group['betas']}")
        for i, beta in enumerate(group["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Adam: invalid beta parameter at index {i}: {beta} (must be in [0, 1))")
        if group.get("capturable") and (group["amsgrad"] or group["maximize"]):
            raise ValueError("Adam: capturable=True supports neither amsgrad nor maximize")

    def _update(self, p, g, state: dict, group: dict) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        weight_decay = group["weight_decay"]
        if group.get("capturable"):  # t on the GPU, for CUDA graphs: the same arithmetic in a kernel
            return dispatch.adam_update_capturable(p, g, state, lr, beta1, beta2, eps, weight_decay)
        xp = backend.xp_of(p)
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(p), exp_avg_sq=xp.zeros_like(p))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        # the equations below in one fused pass over p, g, m, v, where dispatch has one
        if dispatch.adam_update(p, g, m, v, lr, beta1, beta2, eps, weight_decay, t, group["amsgrad"],
                                group["maximize"]):
            return
        if group["maximize"]:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        bias_correction1, bias_correction2 = 1 - beta1 ** t, 1 - beta2 ** t
        denom = xp.sqrt(v) / math.sqrt(bias_correction2) + eps
        p -= (lr / bias_correction1) * (m / denom)


class RMSprop(Optimizer):
    r"""RMSprop (as ``torch.optim.RMSprop``): Tieleman & Hinton, "Lecture 6.5 - rmsprop: Divide the
    gradient by a running average of its recent magnitude" (COURSERA: Neural Networks for Machine
    Learning, 2012); ``centered`` is the variant of Graves, "Generating Sequences With Recurrent
    Neural Networks" (2013), eq. 38-41, which divides by an estimate of the standard deviation.

    With g_t the gradient (negated when ``maximize``)::

        g_t <- g_t + weight_decay * p_{t-1}
        s_t = alpha * s_{t-1} + (1 - alpha) * g_t^2                  (square_avg)
        a_t = alpha * a_{t-1} + (1 - alpha) * g_t                    (grad_avg, centered only)
        d_t = sqrt(s_t) + eps   or, centered,   sqrt(s_t - a_t^2) + eps
        b_t = momentum * b_{t-1} + g_t / d_t,  p_t = p_{t-1} - lr * b_t   if momentum > 0
        p_t = p_{t-1} - lr * g_t / d_t                                    otherwise
    """

    _scalar_state = ("step",)

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 maximize: bool = False):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                                  "momentum": momentum, "centered": centered, "maximize": maximize})

    def _check(self, group: dict) -> None:
        self._nonnegative(group, "lr", "alpha", "eps", "momentum", "weight_decay")

    def _update(self, p, g, state: dict, group: dict) -> None:
        alpha, momentum, weight_decay = group["alpha"], group["momentum"], group["weight_decay"]
        xp = backend.xp_of(p)
        if not state:
            state.update(step=0, square_avg=xp.zeros_like(p))
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p)
        state["step"] += 1
        if group["maximize"]:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * (g * g)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * g
            denom = xp.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            denom = xp.sqrt(square_avg) + group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += g / denom
            p -= group["lr"] * buf
        else:
            p -= group["lr"] * (g / denom)


# ---------------------------------------------------------------- learning-rate schedule
def lr_factor(step: int, steps: int, decay: float) -> float:
    """The learning rates' multiplier at ``step``: 1, then linearly down to 0 over the last
    ``decay`` fraction of the run (the "linear" policy of pix2pix and CycleGAN, Isola et al. 2017)."""
    start = steps * (1 - decay)
    return 1.0 if step < start else (steps - step) / (steps - start)


def set_lr_factor(optimizers, factor: float) -> None:
    """lr = initial_lr * factor in every parameter group (``initial_lr`` as PyTorch's schedulers
    keep it; it is saved with the optimizer, so a resumed run continues the same schedule)."""
    for opt in optimizers:
        for group in opt.param_groups:
            group["lr"] = group.setdefault("initial_lr", group["lr"]) * factor


__all__ = [
    "SGD",
    "Adam",
    "Optimizer",
    "RMSprop",
    "flatten_state_dict",
    "lr_factor",
    "set_lr_factor",
    "unflatten_state_dict",
]
