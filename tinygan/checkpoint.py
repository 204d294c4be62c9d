"""Checkpoints: one ``.npz`` file of plain arrays, written atomically, read without pickle.

Layout of the file (every entry a NumPy array, so ``np.load(..., allow_pickle=False)`` works):

    G/0.weight, G/0.bias, ...          module state_dicts, under PyTorch's key names
    opt_g/state.0.exp_avg, ...         optimizer state, flattened (optim.flatten_state_dict)
    meta                               a JSON string: step, variant, config, RNG states, ...

The file is first written to a temporary file in the same folder and then renamed over the
old one, so a run killed at any moment leaves either the previous or the new checkpoint,
never a torn one. A checkpoint never holds NaN or inf: ``save_checkpoint`` refuses to write such
values and ``load_checkpoint`` to load them (``NonFiniteError``), so "the last checkpoint" of a
diverged run is one from before it diverged.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from .fileio import write_atomically
from .optim import flatten_state_dict, unflatten_state_dict

FORMAT_VERSION = 1


class NonFiniteError(ValueError):
    """A checkpoint's arrays hold NaN or inf; ``keys`` names them ('G/0.weight', 'opt_g/state.0.exp_avg')."""

    def __init__(self, message: str, keys: list[str]):
        super().__init__(message)
        self.keys = keys


def _check_finite(arrays: dict, what: str) -> None:
    bad = [key for key, a in arrays.items() if a.dtype.kind in "fc" and not np.isfinite(a).all()]
    if bad:
        shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise NonFiniteError(f"{what}: NaN or inf in {shown}", bad)


def save_checkpoint(path, modules: dict, optimizers: dict, meta: dict) -> Path:
    """Write modules' and optimizers' states and a JSON-able ``meta`` dict to ``path`` atomically."""
    arrays = {}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            arrays[f"{name}/{key}"] = value
    for name, opt in optimizers.items():
        for key, value in flatten_state_dict(opt.state_dict()).items():
            arrays[f"{name}/{key}"] = value
    _check_finite(arrays, f"not writing checkpoint {path}")
    arrays["meta"] = np.array(json.dumps({"format": FORMAT_VERSION, **meta}))
    return write_atomically(path, lambda tmp: np.savez(tmp, **arrays))


def read_checkpoint(path) -> tuple[dict, dict]:
    """Read a checkpoint into ``(groups, meta)``: groups maps 'G', 'opt_g', ... to flat array dicts."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as f:
            entries = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise ValueError(f"checkpoint {path} is corrupt or not a tinygan checkpoint ({e})") from None
    if "meta" not in entries:
        raise ValueError(f"checkpoint {path} has no 'meta' entry: not a tinygan checkpoint")
    meta = json.loads(str(entries.pop("meta")))
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"checkpoint {path} has format {meta.get('format')}, expected {FORMAT_VERSION}")
    groups: dict[str, dict] = {}
    for key, value in entries.items():
        group, _, rest = key.partition("/")
        groups.setdefault(group, {})[rest] = value
    return groups, meta


def load_checkpoint(path, modules: dict, optimizers: dict) -> dict:
    """Load states into the given modules and optimizers (strictly) and return ``meta``."""
    groups, meta = read_checkpoint(path)
    _check_finite({f"{name}/{key}": a for name, group in groups.items() for key, a in group.items()},
                  f"not loading checkpoint {path}")
    for name, module in modules.items():
        if name not in groups:
            raise ValueError(f"checkpoint {path} holds no module '{name}' (it has {sorted(groups)})")
        module.load_state_dict(groups[name])
    for name, opt in optimizers.items():
        if name not in groups:
            raise ValueError(f"checkpoint {path} holds no optimizer '{name}' (it has {sorted(groups)})")
        opt.load_state_dict(unflatten_state_dict(groups[name]))
    return meta
