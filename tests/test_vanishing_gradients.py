"""examples/theory/vanishing_gradients.py: G's gradient against the distance between two Gaussians, with D*.

The numbers are the theory's (the docstring of the example); the smoke run is the reader's ``--steps 3``,
which must leave docs/ as it found it."""
import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "theory" / "vanishing_gradients.py"


@pytest.fixture(scope="module")
def vg():
    spec = importlib.util.spec_from_file_location("vanishing_gradients", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gradients_with_the_optimal_d(vg):
    grad = vg.gradients({mu: vg.optimal_critic(mu) for mu in vg.MUS})
    vg.check_theory(grad)  # the example's own assertions
    at = {mu: i for i, mu in enumerate(vg.MUS)}
    # minimax: mu E_g[D*], from 0.45 near mu = 2 down to ~4.5e-6 at mu = 10
    assert grad["minimax"][at[2.0]] == pytest.approx(0.4496, abs=1e-4)
    assert grad["minimax"][at[10.0]] == pytest.approx(4.464e-6, rel=1e-3)
    assert grad["non-saturating"][at[10.0]] == pytest.approx(10.0, rel=1e-5)
    np.testing.assert_allclose(grad["maximum likelihood"], vg.MUS / 2, rtol=1e-6)  # 1/2 dKL/dmu
    np.testing.assert_allclose(grad["Wasserstein"], 1.0, rtol=1e-9)


def test_check_theory_catches_a_gradient_that_does_not_vanish(vg):
    grad = vg.gradients({mu: vg.optimal_critic(mu) for mu in vg.MUS})
    grad["minimax"] = grad["non-saturating"]
    with pytest.raises(AssertionError):
        vg.check_theory(grad)


def _docs_state(vg):
    """The example's picture in docs/: its hash, or None (other jobs may write other files there meanwhile)."""
    return hashlib.sha256(vg.DOCS.read_bytes()).hexdigest() if vg.DOCS.exists() else None


def test_smoke_run_writes_its_picture_and_leaves_docs_alone(vg, tmp_path):
    assert vg.DOCS.parent == ROOT / "docs"
    before = _docs_state(vg)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--steps", "3", "--batch-size", "8", "--out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (out / "vanishing_gradients.png").stat().st_size > 0
    assert str(out) in proc.stdout
    assert _docs_state(vg) == before
