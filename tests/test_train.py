"""The shared training loop: outputs on disk, divergence handling, resume errors."""
import json
import re

import numpy as np
import pytest

import tinygan
from tinygan.checkpoint import load_checkpoint, read_checkpoint
from tinygan.data import MIXTURES, Dataset
from tinygan.gans import get_variant
from tinygan.gans.common import DataInfo, config_from
from tinygan.train import RunError, TrainConfig, TrainingDiverged, train


@pytest.fixture
def ring():
    x = MIXTURES["ring8"].sample(512, np.random.default_rng(0))
    return Dataset(name="ring8", x=x, y=None, kind="points", num_classes=None)


def _gan(data, variant="gan", **overrides):
    tinygan.manual_seed(0)
    cls = get_variant(variant)
    return cls(config_from(cls.Config, {"hidden": 16, **overrides}), DataInfo("points", (2,), None))


def _files(folder):
    """Every file under ``folder`` and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


SMALL = {"steps": 4, "batch_size": 32, "log_every": 1, "sample_every": 2, "checkpoint_every": 2,
         "progress": False}


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


@pytest.mark.parametrize("where", ["a weight", "Adam's state"])
def test_nonfinite_parameters_or_optimizer_state_are_never_checkpointed(ring, tmp_path, where):
    """The losses are computed before the updates, so weights made NaN by step 5's update pass the loss
    check; the check before the checkpoint stops the run at step 5 and keeps step 4's checkpoint."""
    gan = _gan(ring)
    real_step = gan.g_step

    def g_step(real, y, rng):
        logs = real_step(real, y, rng)
        g_step.calls += 1
        if g_step.calls == 5:
            p = next(gan.G.parameters())
            (p.data if where == "a weight" else gan.opt_g.state[p]["exp_avg"])[0, 0] = np.nan
        return logs
    g_step.calls = 0
    gan.g_step = g_step
    name = "G/body.0.weight" if where == "a weight" else "opt_g/state.0.exp_avg"
    with pytest.raises(TrainingDiverged, match=rf"{name} became NaN or inf at step 5; .*step 4\) is kept"):
        train(gan, ring, TrainConfig(**{**SMALL, "steps": 10, "checkpoint_every": 1, "sample_every": 5},
                                     out=str(tmp_path)))
    fresh = _gan(ring)
    meta = load_checkpoint(tmp_path / "checkpoint.npz", fresh.modules(), fresh.optimizers())  # finite
    assert meta["step"] == 4


def test_resume_without_checkpoint_is_a_clear_error(ring, tmp_path):
    with pytest.raises(RunError, match="no checkpoint"):
        train(_gan(ring), ring, TrainConfig(steps=2, out=str(tmp_path), progress=False), resume=True)


def test_batch_larger_than_dataset_is_rejected(ring, tmp_path):
    with pytest.raises(RunError, match="--batch-size 10000: larger than the dataset ring8"):
        train(_gan(ring), ring, TrainConfig(steps=2, batch_size=10_000, out=str(tmp_path), progress=False))


def test_a_new_run_changes_the_folder_only_once_it_can_start(ring, tmp_path):
    """A start that fails leaves an earlier run's files as they were; one that starts replaces them all
    (no frames or metrics of the earlier run are left to mix with its own)."""
    train(_gan(ring), ring, TrainConfig(**SMALL, out=str(tmp_path)))
    before = _files(tmp_path)
    with pytest.raises(RunError, match="--batch-size"):
        train(_gan(ring), ring, TrainConfig(**{**SMALL, "batch_size": 10_000}, out=str(tmp_path)))
    assert _files(tmp_path) == before
    rows = train(_gan(ring), ring, TrainConfig(**{**SMALL, "steps": 2}, out=str(tmp_path)))
    assert [r["step"] for r in rows] == [1, 2]
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["step_0000002.png"]


@pytest.mark.parametrize("change,named", [
    ({"variant": "lsgan"},
     "variant='gan' (now 'lsgan'), arch='mlp' (now 'auto'), loss='nonsaturating' (now 'lsgan')"),
    ({"hidden": 32}, "hidden=16 (now 32)"),
    ({"seed": 1}, "seed=0 (now 1)"),
    ({"batch_size": 64}, "batch_size=32 (now 64)"),
    ({"lr_decay": 0.5}, "lr_decay=0.0 (now 0.5)"),
    ({"dataset": "grid25"}, "dataset='ring8' (now 'grid25')"),
])
def test_resume_refuses_another_runs_checkpoint_naming_the_differences(ring, tmp_path, change, named):
    train(_gan(ring), ring, TrainConfig(**SMALL, out=str(tmp_path)))
    before = _files(tmp_path)
    data = Dataset(name="grid25", x=MIXTURES["grid25"].sample(512, np.random.default_rng(0)), y=None,
                   kind="points", num_classes=None) if "dataset" in change else ring
    gan = _gan(ring, change.get("variant", "gan"), hidden=change.get("hidden", 16))
    train_changes = {k: v for k, v in change.items() if k in ("seed", "batch_size", "lr_decay")}
    cfg = TrainConfig(**{**SMALL, "steps": 6, **train_changes}, out=str(tmp_path))
    with pytest.raises(RunError, match=re.escape(f"was trained with {named};")):
        train(gan, data, cfg, resume=True)
    assert _files(tmp_path) == before
    assert train(_gan(ring), ring, TrainConfig(**{**SMALL, "steps": 6}, out=str(tmp_path)), resume=True)


def test_resume_drops_a_torn_last_line_and_rewrites_metrics_atomically(ring, tmp_path, monkeypatch):
    train(_gan(ring), ring, TrainConfig(**SMALL, out=str(tmp_path)))
    log = tmp_path / "metrics.jsonl"
    with open(log, "a") as f:
        f.write('{"step": 5, "d_lo')  # a kill during the write of step 5's line
    torn = log.read_bytes()
    real_write_text = type(log).write_text

    def killed_mid_write(self, text, *args, **kwargs):
        real_write_text(self, text[:len(text) // 2], *args, **kwargs)
        raise KeyboardInterrupt
    monkeypatch.setattr(type(log), "write_text", killed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        train(_gan(ring), ring, TrainConfig(**{**SMALL, "steps": 6}, out=str(tmp_path)), resume=True)
    assert log.read_bytes() == torn  # the rewrite went to a temporary file, never over metrics.jsonl
    monkeypatch.undo()
    rows = train(_gan(ring), ring, TrainConfig(**{**SMALL, "steps": 6}, out=str(tmp_path)), resume=True)
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3, 4, 5, 6]


def test_orphaned_temporary_files_are_removed_when_a_run_starts(ring, tmp_path):
    """write_atomically's temporary files, left by a kill -9 mid-write, go; other files stay."""
    train(_gan(ring), ring, TrainConfig(**SMALL, out=str(tmp_path)))
    orphans = [tmp_path / ".checkpoint.k7x2q9.npz", tmp_path / ".metrics.a1b2c3.jsonl",
               tmp_path / "samples" / ".step_0000006.zz9.png", tmp_path / ".losses.q1.png"]
    for path in [*orphans, tmp_path / "notes.txt"]:
        path.write_bytes(b"partial")
    train(_gan(ring), ring, TrainConfig(**{**SMALL, "steps": 6}, out=str(tmp_path)), resume=True)
    assert not any(p.exists() for p in orphans)
    assert (tmp_path / "notes.txt").read_bytes() == b"partial"


def test_resume_from_a_corrupt_checkpoint_is_a_clear_error(ring, tmp_path):
    train(_gan(ring), ring, TrainConfig(**SMALL, out=str(tmp_path)))
    (tmp_path / "checkpoint.npz").write_bytes(b"PK\x03\x04 torn")
    with pytest.raises(RunError, match="--resume: checkpoint .* is corrupt"):
        train(_gan(ring), ring, TrainConfig(**{**SMALL, "steps": 6}, out=str(tmp_path)), resume=True)


def test_conditional_sample_grid_has_one_row_per_class():
    from tinygan.train import GRID_ROW, _fixed_inputs
    tinygan.manual_seed(0)
    cls = get_variant("cgan")
    gan = cls(cls.Config(), DataInfo("images", (1, 28, 28), 10))
    z, y = _fixed_inputs(gan, None, TrainConfig())
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


def test_lr_decay_is_linear_to_zero_over_the_last_fraction_and_resumes_exactly(ring, tmp_path):
    from tinygan.optim import lr_factor
    assert [lr_factor(s, 10, 0.5) for s in (0, 4, 5, 6, 9)] == [1.0, 1.0, 1.0, 0.8, 0.2]
    assert lr_factor(9, 10, 0.0) == 1.0
    cfg = {"steps": 6, "batch_size": 32, "log_every": 1, "sample_every": 100, "checkpoint_every": 5,
           "progress": False, "lr_decay": 0.5}  # checkpointed after step 5, at lr factor 2/3
    gan = _gan(ring)
    full = train(gan, ring, TrainConfig(out=str(tmp_path / "full"), **cfg))
    assert gan.opt_g.param_groups[0]["lr"] == pytest.approx(gan.cfg.lr_g * lr_factor(5, 6, 0.5))
    killed = _gan(ring)                                # the same run, killed during step 6
    real_step = killed.g_step

    def g_step(real, y, rng):
        g_step.calls += 1
        if g_step.calls == 6:
            raise KeyboardInterrupt
        return real_step(real, y, rng)
    g_step.calls = 0
    killed.g_step = g_step
    with pytest.raises(KeyboardInterrupt):
        train(killed, ring, TrainConfig(out=str(tmp_path / "part"), **cfg))
    part = train(_gan(ring), ring, TrainConfig(out=str(tmp_path / "part"), **cfg), resume=True)
    assert [r["g_loss"] for r in part] == pytest.approx([r["g_loss"] for r in full], rel=1e-6)
    no_decay = train(_gan(ring), ring, TrainConfig(out=str(tmp_path / "flat"), **{**cfg, "lr_decay": 0.0}))
    assert no_decay[-1]["g_loss"] != pytest.approx(full[-1]["g_loss"], rel=1e-6)


def test_fields_left_at_none_take_their_data_kinds_values():
    from tinygan.gans.common import BY_DATA
    tinygan.manual_seed(0)
    cls = get_variant("gan")
    points = cls(cls.Config(), DataInfo("points", (2,), None))
    images = cls(cls.Config(), DataInfo("images", (1, 28, 28), 10))
    for gan, kind in ((points, "points"), (images, "images")):
        assert {k: getattr(gan.cfg, k) for k in BY_DATA[kind]} == BY_DATA[kind]
        assert gan.opt_g.param_groups[0]["lr"] == BY_DATA[kind]["lr_g"]
    assert points.G.body[0].in_features == 2
    explicit = cls(config_from(cls.Config, {"z_dim": 5, "lr_d": 0.0}), DataInfo("points", (2,), None))
    assert (explicit.cfg.z_dim, explicit.cfg.lr_d, explicit.cfg.lr_g) == (5, 0.0, 5e-4)  # 0 is a value


def test_eval_every_logs_the_classifiers_scores_and_plots_them(tmp_path, monkeypatch):
    """--eval-every: the classifier's scores land in metrics.jsonl at every N steps and in losses.png."""
    import tinygan.classifier as C
    rng = np.random.default_rng(0)
    images = Dataset("mnist", rng.uniform(-1, 1, (64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64),
                     "images", 10)
    net = C.Classifier()
    reference = C.predict(net, rng.uniform(-1, 1, (50, 1, 28, 28)).astype(np.float32))[1]
    monkeypatch.setattr(C.Judge, "load", classmethod(lambda cls, *a, **k: cls(net, reference)))
    tinygan.manual_seed(0)
    gan = get_variant("dcgan")(get_variant("dcgan").Config(), DataInfo("images", (1, 28, 28), 10))
    out = tmp_path / "run"
    rows = train(gan, images, TrainConfig(**{**SMALL, "out": str(out), "batch_size": 16, "log_every": 3,
                                              "eval_every": 2, "eval_samples": 40}))
    scored = [r["step"] for r in rows if "classifier_fid" in r]
    assert scored == [2, 4] and all(r["classes_covered"] >= 1 for r in rows if "classifier_fid" in r)
    assert [r["step"] for r in rows] == [2, 3, 4]  # a row at each scored step, beside the logged ones
    plain = tmp_path / "plain"
    train(gan, images, TrainConfig(**{**SMALL, "out": str(plain), "batch_size": 16}))
    from PIL import Image
    with Image.open(out / "losses.png") as a, Image.open(plain / "losses.png") as b:
        assert a.width > b.width  # the scores' panel beside the losses


def test_eval_every_on_points_is_a_clear_error(ring, tmp_path):
    with pytest.raises(RunError, match="--eval-every.*ring8"):
        train(_gan(ring), ring, TrainConfig(**{**SMALL, "out": str(tmp_path / "run"), "eval_every": 2}))
    assert not (tmp_path / "run" / "metrics.jsonl").exists()
