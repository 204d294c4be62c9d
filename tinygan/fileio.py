"""Writing files atomically: a run killed at any moment leaves the old file or the new one, never half.

    write_atomically("runs/x/checkpoint.npz", lambda tmp: np.savez(tmp, **arrays))

The content goes to a temporary file in the target's folder (same filesystem), is flushed to
disk, gets the permissions a plain ``open(path, "w")`` would give, and is renamed over the target.
A process killed outright (``kill -9``) leaves its temporary file ``.checkpoint.*.npz`` behind;
``remove_temporaries`` deletes such files.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomically(path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp_path)``, then move the finished file onto ``path``; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; outputs are meant to be shared
        os.replace(tmp, path)          # atomic on POSIX and Windows on the same filesystem
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def remove_temporaries(path) -> list[Path]:
    """Delete the temporary files that ``write_atomically(path, ...)`` calls killed mid-write left
    beside ``path`` (``.{stem}.*{suffix}``); ``path`` may be a pattern, ``samples/step_*.png``.
    Only for a folder no other process is writing into. Returns the deleted files."""
    path = Path(path)
    removed = sorted(path.parent.glob(f".{path.stem}.*{path.suffix}"))
    for tmp in removed:
        tmp.unlink()
    return removed
