"""The fgan variant (Nowozin et al. 2016): every divergence trains a few steps, its "gan" divergence is the
original GAN step for step, and the command line's --divergence reaches the Config or says what is valid."""
import numpy as np
import pytest

import tinygan
from tinygan import losses
from tinygan.cli import main
from tinygan.gans.fgan import FGAN
from tinygan.train import TrainConfig, train

DIVERGENCES = list(losses.F_DIVERGENCES)


@pytest.mark.parametrize("g_update", ["alternative", "saddle"])
@pytest.mark.parametrize("divergence", DIVERGENCES)
def test_each_divergence_trains_a_few_steps(divergence, g_update, tiny_points, tmp_path, build):
    gan = build("fgan", tiny_points, divergence=divergence, g_update=g_update, hidden=32)
    before = {k: p.data.copy() for k, p in [*gan.G.named_parameters(), *gan.D.named_parameters()]}
    rows = train(gan, tiny_points, TrainConfig(steps=4, batch_size=16, seed=1, log_every=1, sample_every=1000,
                                               checkpoint_every=1000, progress=False, out=str(tmp_path)))
    assert len(rows) == 4
    assert all(np.isfinite(r[k]) for r in rows for k in ("d_loss", "g_loss")), rows
    after = dict([*gan.G.named_parameters(), *gan.D.named_parameters()])
    for net in ("G", "D"):
        prefix = "body" if net == "G" else "trunk"
        assert any(not np.allclose(before[k], after[k].data) for k in before if k.startswith(prefix)), net


def test_the_gan_divergence_is_the_original_gan_step_for_step(tiny_points, build):
    rng = np.random.default_rng(0)
    real = tinygan.tensor(tiny_points.x[:16])
    for g_update, loss in (("alternative", "nonsaturating"), ("saddle", "minimax")):
        fgan = build("fgan", tiny_points, divergence="gan", g_update=g_update, hidden=16)
        gan = build("gan", tiny_points, loss=loss, hidden=16, betas=(0.5, 0.9))
        for _ in range(3):  # the same steps from the same weights on the same batches give the same losses
            step_seed = int(rng.integers(1 << 30))
            a = {**fgan.d_step(real, None, np.random.default_rng(step_seed)),
                 **fgan.g_step(real, None, np.random.default_rng(step_seed + 1))}
            b = {**gan.d_step(real, None, np.random.default_rng(step_seed)),
                 **gan.g_step(real, None, np.random.default_rng(step_seed + 1))}
            assert a == pytest.approx(b, rel=1e-5), (g_update, a, b)


def test_config_errors_name_the_choices(tiny_points, build):
    with pytest.raises(ValueError, match="fgan: unknown divergence 'tv'; choose from kl, reverse_kl, pearson"):
        build("fgan", tiny_points, divergence="tv")
    with pytest.raises(ValueError, match="fgan: unknown g_update 'both'; choose from auto, alternative, saddle"):
        build("fgan", tiny_points, g_update="both")
    with pytest.raises(ValueError, match="fgan: loss='lsgan' does not apply"):
        build("fgan", tiny_points, loss="lsgan")
    assert FGAN.Config().divergence == "pearson"
    for divergence, resolved in (("pearson", "alternative"), ("kl", "alternative"), ("reverse_kl", "saddle"),
                                 ("squared_hellinger", "saddle"), ("gan", "alternative")):
        assert build("fgan", tiny_points, divergence=divergence).cfg.g_update == resolved


@pytest.mark.parametrize("args,message", [
    (["train", "fgan", "--divergence", "tv"], "argument --divergence: invalid choice: 'tv' (choose from "),
    (["train", "gan", "--divergence", "kl"], "--divergence: the gan variant has no divergence to choose"),
    (["train", "fgan", "--loss", "hinge"], "fgan: loss='hinge' does not apply"),
])
def test_cli_divergence_errors(args, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as e:  # (were the check gone, the run would be 1 step into tmp_path)
        main(args + ["--steps", "1", "--out", str(tmp_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err, err
    if "invalid choice" in message:  # the valid names are listed
        assert all(name in err for name in DIVERGENCES), err


def test_cli_divergence_reaches_the_config(tmp_path, monkeypatch):
    import tinygan.train
    seen = {}
    monkeypatch.setattr(tinygan.train, "train", lambda gan, data, cfg, resume=False: seen.update(gan=gan) or [])
    assert main(["train", "fgan", "--divergence", "reverse_kl", "--out", str(tmp_path), "--no-progress"]) == 0
    assert (seen["gan"].cfg.divergence, seen["gan"].cfg.g_update) == ("reverse_kl", "saddle")
    assert main(["train", "fgan", "--set", "g_update=saddle", "--out", str(tmp_path), "--no-progress"]) == 0
    assert (seen["gan"].cfg.divergence, seen["gan"].cfg.g_update) == ("pearson", "saddle")
