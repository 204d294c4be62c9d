"""Checkpoints: atomic writes, no pickle, clear errors for missing or corrupt files."""
import numpy as np
import pytest

import tinygan
from tinygan import nn, optim
from tinygan.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint


def _model(seed):
    tinygan.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))


def test_round_trip_restores_modules_optimizers_and_meta(tmp_path):
    m = _model(0)
    opt = optim.Adam(m.parameters(), lr=1e-3)
    m(tinygan.randn(5, 3)).sum().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "c.npz", {"M": m}, {"opt": opt}, {"step": 7, "note": "hi"})
    m2 = _model(1)
    opt2 = optim.Adam(m2.parameters(), lr=0.5)
    meta = load_checkpoint(path, {"M": m2}, {"opt": opt2})
    assert meta["step"] == 7 and meta["note"] == "hi"
    for (k, a), (_, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert opt2.param_groups[0]["lr"] == 1e-3
    with np.load(path, allow_pickle=False) as f:  # readable without pickle
        assert "M/0.weight" in f.files and "meta" in f.files


def test_no_temporary_file_is_left_and_old_file_survives_a_failed_write(tmp_path, monkeypatch):
    m = _model(0)
    path = save_checkpoint(tmp_path / "c.npz", {"M": m}, {}, {"step": 1})
    good = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError):
        save_checkpoint(path, {"M": m}, {}, {"step": 2})
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]


def test_corrupt_and_missing_files_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_checkpoint(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="corrupt"):
        read_checkpoint(bad)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="no 'meta'"):
        read_checkpoint(tmp_path / "other.npz")


def test_loading_into_a_different_architecture_names_the_key(tmp_path):
    path = save_checkpoint(tmp_path / "c.npz", {"M": _model(0)}, {}, {"step": 1})
    other = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Linear(5, 1))
    with pytest.raises(ValueError, match="0.weight"):
        load_checkpoint(path, {"M": other}, {})
    with pytest.raises(ValueError, match="no module 'G'"):
        load_checkpoint(path, {"G": other}, {})


def test_nan_or_inf_is_never_written_nor_loaded(tmp_path):
    from tinygan.checkpoint import NonFiniteError
    m = _model(0)
    path = save_checkpoint(tmp_path / "c.npz", {"M": m}, {}, {"step": 1})
    good = path.read_bytes()
    next(m.parameters()).data[0, 0] = np.inf
    with pytest.raises(NonFiniteError, match=r"not writing checkpoint .*: NaN or inf in M/0.weight") as e:
        save_checkpoint(path, {"M": m}, {}, {"step": 2})
    assert e.value.keys == ["M/0.weight"] and path.read_bytes() == good
    with np.load(path, allow_pickle=False) as f:  # a checkpoint written before the check existed
        entries = {k: f[k] for k in f.files}
    entries["M/1.running_var"][0] = np.nan
    np.savez(path, **entries)
    with pytest.raises(NonFiniteError, match="not loading checkpoint .*: NaN or inf in M/1.running_var"):
        load_checkpoint(path, {"M": _model(1)}, {})


def test_remove_temporaries_deletes_only_what_write_atomically_left(tmp_path):
    from tinygan.fileio import remove_temporaries
    left = [tmp_path / ".c.x1y2z3.npz", tmp_path / "frames" / ".step_0000010.abc.png"]
    kept = [tmp_path / "c.npz", tmp_path / ".c.npz.bak", tmp_path / "frames" / "step_0000010.png"]
    (tmp_path / "frames").mkdir()
    for p in left + kept:
        p.write_bytes(b"x")
    assert remove_temporaries(tmp_path / "c.npz") == [left[0]]
    assert remove_temporaries(tmp_path / "frames" / "step_*.png") == [left[1]]
    assert remove_temporaries(tmp_path / "missing" / "x.npz") == []
    assert all(p.exists() for p in kept)
