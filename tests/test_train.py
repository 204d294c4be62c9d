"""The shared training loop: outputs on disk, divergence handling, resume errors."""
import json

import numpy as np
import pytest

import tinygan
from tinygan.checkpoint import read_checkpoint
from tinygan.data import MIXTURES, Dataset
from tinygan.gans import get_variant
from tinygan.gans.common import DataInfo, config_from
from tinygan.train import TrainConfig, TrainingDiverged, train


@pytest.fixture
def ring():
    x = MIXTURES["ring8"].sample(512, np.random.default_rng(0))
    return Dataset(name="ring8", x=x, y=None, kind="points", num_classes=None)


def _gan(data):
    tinygan.manual_seed(0)
    cls = get_variant("gan")
    return cls(config_from(cls.Config, {"hidden": 16}), DataInfo("points", (2,), None))


def test_run_writes_metrics_plots_gif_and_checkpoint(ring, tmp_path):
    rows = train(_gan(ring), ring, TrainConfig(steps=6, batch_size=32, out=str(tmp_path), log_every=2,
                                               sample_every=3, checkpoint_every=3, progress=False))
    assert [r["step"] for r in rows] == [2, 4, 6]
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines == rows
    assert "modes_captured" in rows[-1] and 0 <= rows[-1]["high_quality"] <= 1
    frames = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert frames == ["step_0000003.png", "step_0000006.png"]
    for name in ("losses.png", "samples.gif", "checkpoint.npz"):
        assert (tmp_path / name).stat().st_size > 0
    _, meta = read_checkpoint(tmp_path / "checkpoint.npz")
    assert meta["step"] == 6 and meta["variant"] == "gan"


def test_nan_loss_stops_with_step_and_name_and_keeps_last_good_checkpoint(ring, tmp_path):
    gan = _gan(ring)
    real_step = gan.d_step

    def d_step(real, y, rng):
        logs = real_step(real, y, rng)
        d_step.calls += 1
        return {"d_loss": float("nan")} if d_step.calls == 5 else logs
    d_step.calls = 0
    gan.d_step = d_step
    with pytest.raises(TrainingDiverged, match=r"d_loss became nan at step 5"):
        train(gan, ring, TrainConfig(steps=10, batch_size=32, out=str(tmp_path), checkpoint_every=2,
                                     sample_every=100, progress=False))
    _, meta = read_checkpoint(tmp_path / "checkpoint.npz")
    assert meta["step"] == 4


def test_resume_without_checkpoint_is_a_clear_error(ring, tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train(_gan(ring), ring, TrainConfig(steps=2, out=str(tmp_path), progress=False), resume=True)


def test_batch_larger_than_dataset_is_rejected(ring, tmp_path):
    with pytest.raises(ValueError, match="larger than the dataset"):
        train(_gan(ring), ring, TrainConfig(steps=2, batch_size=10_000, out=str(tmp_path), progress=False))


def test_conditional_sample_grid_has_one_row_per_class():
    from tinygan.train import GRID_ROW, _fixed_inputs
    tinygan.manual_seed(0)
    cls = get_variant("cgan")
    gan = cls(cls.Config(), DataInfo("images", (1, 28, 28), 10))
    z, y = _fixed_inputs(gan, TrainConfig())
    assert z.shape == (10 * GRID_ROW, gan.cfg.z_dim)
    np.testing.assert_array_equal(y.numpy().reshape(10, GRID_ROW), np.arange(10)[:, None].repeat(GRID_ROW, 1))


def test_critic_map_works_with_minibatch_discrimination_and_packing():
    """The 40,000-point heat map goes through D in chunks (minibatch discrimination is O(batch^2))."""
    tinygan.manual_seed(0)
    cls = get_variant("gan")
    for overrides in ({"minibatch_discrimination": 4}, {"pack": 4}):
        gan = cls(config_from(cls.Config, {"hidden": 8, **overrides}), DataInfo("points", (2,), None))
        values = gan.critic_map(np.random.default_rng(0).normal(size=(40_000, 2)).astype(np.float32))
        assert values.shape == (40_000,) and np.isfinite(values).all()
