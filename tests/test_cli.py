"""The command line: list, train, sample, and argparse-style errors instead of tracebacks."""
import subprocess
import sys

import numpy as np
import pytest

from tinygan.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "tinygan", *args], capture_output=True, text=True, timeout=300, check=False)


def test_list_names_every_variant(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("gan", "dcgan", "wgan_gp", "unrolled", "ring8", "mnist"):
        assert name in out


@pytest.mark.parametrize("args,message", [
    (["train", "nosuchgan"], "invalid choice"),
    (["train", "gan", "--steps", "0"], "positive integer"),
    (["train", "gan", "--dataset", "cifar"], "invalid choice"),
    (["train", "gan", "--set", "nosuchfield=1"], "FIELD one of"),
    (["train", "gan", "--set", "hidden=abc"], "invalid literal"),
    (["train", "gan", "--set", "hidden=0"], "hidden=0, expected an integer >= 1"),
    (["train", "gan", "--set", "z_dim=0"], "z_dim=0, expected an integer >= 1"),  # 0 is not "by data"
    (["train", "gan", "--set", "n_critic=0"], "n_critic=0, expected an integer >= 1"),
    (["train", "gan", "--set", "pack=0"], "pack=0, expected an integer >= 1"),
    (["train", "gan", "--set", "arch=foo"], "unknown arch 'foo'"),
    (["train", "gan", "--batch-size", "10", "--pack", "4"], "multiple of --pack"),
    (["train", "dcgan", "--dataset", "ring8", "--steps", "1"], "28x28 images"),
    (["train", "cgan", "--dataset", "ring8", "--steps", "1"], "labelled dataset"),
    (["train", "gan", "--device", "cuda"], "pip install"),
    (["train", "gan", "--lr-decay", "1.5"], "fraction of the run"),
])
def test_bad_arguments_exit_2_with_a_message(args, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_train_then_sample_points_and_resume(tmp_path):
    out = tmp_path / "run"
    r = run_cli("train", "gan", "--steps", "4", "--batch-size", "32", "--out", str(out), "--no-progress",
                "--set", "hidden=16", "--checkpoint-every", "2")
    assert r.returncode == 0, r.stderr
    assert (out / "checkpoint.npz").exists() and (out / "losses.png").exists()
    r = run_cli("train", "gan", "--steps", "6", "--batch-size", "32", "--out", str(out), "--no-progress",
                "--set", "hidden=16", "--resume")
    assert r.returncode == 0, r.stderr
    assert main(["sample", str(out), "-n", "10", "--out", str(tmp_path / "s.npy")]) == 0
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (10, 2) and np.isfinite(samples).all()
    assert main(["sample", str(out), "-n", "10", "--out", str(tmp_path / "s.png")]) == 0
    with pytest.raises(SystemExit):
        main(["sample", str(out), "--label", "3", "--out", str(tmp_path / "x.npy")])
    with pytest.raises(SystemExit):
        main(["sample", str(tmp_path / "missing"), "--out", str(tmp_path / "x.npy")])


def test_run_defaults_come_from_the_variant_and_packing_scales_the_batch(tmp_path, monkeypatch):
    """Without flags a run takes its variant's steps, batch and lr decay for the data kind; with
    --pack m the batch is m times larger, so D sees as many (packed) inputs as without packing."""
    import tinygan.train
    from tinygan.gans import get_variant
    seen = {}

    def fake_train(gan, data, cfg, resume=False):
        seen.update(cfg=cfg, gan=gan)
        return []
    monkeypatch.setattr(tinygan.train, "train", fake_train)
    assert main(["train", "gan", "--out", str(tmp_path), "--no-progress"]) == 0
    run = get_variant("gan").run_defaults["points"]
    cfg = seen["cfg"]
    assert (cfg.steps, cfg.batch_size, cfg.lr_decay, cfg.sample_every) == (
        run.steps, run.batch_size, run.lr_decay, run.sample_every)
    assert (seen["gan"].cfg.z_dim, seen["gan"].cfg.lr_g, seen["gan"].cfg.lr_d) == (2, 5e-4, 1e-3)  # BY_DATA
    assert main(["train", "gan", "--pack", "3", "--lr-decay", "0", "--out", str(tmp_path), "--no-progress"]) == 0
    assert seen["cfg"].batch_size == 3 * run.batch_size and seen["cfg"].lr_decay == 0.0
