"""Every script in examples/ runs end to end in seconds and writes at least one picture.

Each runs as its own process, as a reader would run it, with ``--steps 3 --batch-size 8``.
A new example is picked up by the glob. Examples that read MNIST (or the facades) skip when ``$TINYGAN_DATA``
is unset or lacks the files (tests/conftest.py points it at the shared data folder).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tinygan.data import load_mnist
from tinygan.image_data import find_facades

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def test_the_examples_are_found():
    assert len(SCRIPTS) >= 13, [p.name for p in SCRIPTS]
    assert "quickstart.py" in {p.name for p in SCRIPTS}


def _mnist_missing() -> str | None:
    """Why MNIST examples cannot run here, or None if they can."""
    if not os.environ.get("TINYGAN_DATA"):
        return "TINYGAN_DATA is not set (point it at a folder holding mnist/*.gz)"
    try:
        load_mnist("mnist", "train", download=False)
    except (FileNotFoundError, ValueError) as e:
        return f"no usable MNIST files: {str(e).splitlines()[0]}"
    return None


def _facades_missing() -> str | None:
    try:
        find_facades()
    except FileNotFoundError as e:
        return str(e).splitlines()[0]
    return None


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_runs_and_writes_a_png(script, tmp_path):
    for needs, missing in (('"mnist', _mnist_missing), ('"facades', _facades_missing)):
        reason = missing() if needs in script.read_text() else None
        if reason:
            pytest.skip(f"{script.name} needs {needs.strip(chr(34))}: {reason}")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(script), "--steps", "3", "--batch-size", "8", "--out", str(out)],
                          check=False, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    pngs = sorted(out.rglob("*.png"))
    assert pngs, f"{script.name} wrote no PNG under {out}"
    assert str(out) in proc.stdout, f"{script.name} did not print where its pictures are:\n{proc.stdout}"
