"""The command line: list, train, sample, and argparse-style errors instead of tracebacks."""
import errno
import os
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
    (["train", "gan", "--dataset", "cifar"], "unknown dataset 'cifar'; expected one of ring8"),
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
    --pack m the batch is m times larger, so D sees as many (packed) inputs as without packing, and
    on points the steps double."""
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
    assert seen["cfg"].steps == 2 * run.steps  # packing doubles the steps on points
    assert main(["train", "gan", "--pack", "2", "--steps", "7", "--out", str(tmp_path), "--no-progress"]) == 0
    assert seen["cfg"].steps == 7
    images = get_variant("dcgan").run_settings("images", pack=2)
    assert images.steps == get_variant("dcgan").run_defaults["images"].steps
    assert images.batch_size == 2 * get_variant("dcgan").run_defaults["images"].batch_size


# ---- runs that never lose data or end in a traceback -------------------------------------------------
def train_small(out, *args):
    """A 2-step run of gan on ring8 into ``out`` (in this process)."""
    return main(["train", "gan", "--steps", "2", "--batch-size", "32", "--set", "hidden=8", "--out", str(out),
                 "--no-progress", *args])


def exits_2(args, capsys) -> str:
    """Run the CLI, expecting one clear line on stderr and exit code 2; return that line."""
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_a_folder_holding_a_run_is_refused_unless_resume_or_overwrite(tmp_path, capsys):
    assert train_small(tmp_path) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(SystemExit) as e:
        train_small(tmp_path)
    assert e.value.code == 2
    assert f"--out {tmp_path} holds a run (checkpoint.npz)" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    assert train_small(tmp_path, "--overwrite") == 0
    assert "not allowed with" in exits_2(["train", "--out", str(tmp_path), "--resume", "--overwrite"], capsys)


def test_resume_with_another_variant_names_the_differences(tmp_path, capsys):
    assert train_small(tmp_path) == 0
    line = exits_2(["train", "lsgan", "--steps", "4", "--batch-size", "32", "--set", "hidden=8",
                    "--out", str(tmp_path), "--resume"], capsys)
    assert "was trained with variant='gan' (now 'lsgan')" in line
    assert "loss='nonsaturating' (now 'lsgan')" in line


def test_divergence_ends_with_the_step_named_not_a_traceback(tmp_path, capsys):
    """Adam's NaN flows (it once raised ZeroDivisionError) and the guard names the step: exit code 1."""
    assert train_small(tmp_path, "--lr", "1e10") == 1
    err = capsys.readouterr().err
    assert "became nan at step 1; stopping, no checkpoint was written" in err and "Traceback" not in err


def test_sample_refuses_a_checkpoint_holding_nan(tmp_path, capsys):
    assert train_small(tmp_path) == 0
    path = tmp_path / "checkpoint.npz"
    with np.load(path, allow_pickle=False) as f:
        entries = {k: f[k] for k in f.files}
    entries["G/body.0.weight"][0, 0] = np.nan  # as the trainer wrote them before it checked
    np.savez(path, **entries)
    line = exits_2(["sample", str(tmp_path), "--out", str(tmp_path / "s.npy")], capsys)
    assert "not loading checkpoint" in line and "NaN or inf in G/body.0.weight" in line
    assert not (tmp_path / "s.npy").exists()


@pytest.mark.parametrize("case", ["batch larger than the dataset", "--out is a file", "--out read-only",
                                  "--resume a corrupt checkpoint"])
def test_a_run_that_cannot_start_names_the_argument(tmp_path, capsys, monkeypatch, case):
    out = tmp_path / "run"
    if case == "batch larger than the dataset":
        line = exits_2(["train", "gan", "--batch-size", "100000000", "--out", str(out)], capsys)
        assert "--batch-size 100000000: larger than the dataset ring8" in line
    elif case == "--out is a file":
        out.write_text("a file")
        line = exits_2(["train", "gan", "--out", str(out)], capsys)
        assert f"--out {out}: is a file, expected a folder" in line
    elif case == "--out read-only":  # root writes anywhere, so the read-only filesystem is simulated
        def read_only(*args, **kwargs):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        monkeypatch.setattr("tempfile.TemporaryFile", read_only)
        line = exits_2(["train", "gan", "--out", str(out)], capsys)
        assert f"--out {out}: cannot write there (Read-only file system)" in line
    else:
        assert train_small(out) == 0
        (out / "checkpoint.npz").write_bytes(b"not a checkpoint")
        line = exits_2(["train", "gan", "--out", str(out), "--resume"], capsys)
        assert "--resume: checkpoint" in line and "is corrupt" in line


def test_sample_refuses_a_picture_of_1d_points_and_more_samples_than_memory(tmp_path, capsys):
    assert main(["train", "gan", "--dataset", "gaussian1d", "--steps", "2", "--batch-size", "32", "--set",
                 "hidden=8", "--out", str(tmp_path), "--no-progress"]) == 0
    line = exits_2(["sample", str(tmp_path), "--out", str(tmp_path / "s.png")], capsys)
    assert f"--out {tmp_path / 's.png'}: a picture shows images or 2-D points" in line and "(1,)" in line
    assert main(["sample", str(tmp_path), "-n", "3000", "--out", str(tmp_path / "s.npy")]) == 0  # 3 chunks
    assert np.load(tmp_path / "s.npy").shape == (3000, 1)
    line = exits_2(["sample", str(tmp_path), "-n", str(10**13), "--out", str(tmp_path / "s.npy")], capsys)
    assert f"-n {10**13}: the samples and their noise need" in line and "GiB of memory" in line
