"""Learning tests: the engine, losses and trainer together reproduce two textbook facts.

Marked slow (tens of seconds): CI runs them; a local loop can skip them with -m "not slow".
"""
import numpy as np
import pytest

import tinygan
from tinygan import nn, optim
from tinygan.data import get_dataset
from tinygan.gans import get_variant
from tinygan.gans.common import DataInfo, config_from
from tinygan.nn import functional as F
from tinygan.train import TrainConfig, generate_numpy, train

pytestmark = pytest.mark.slow


def test_gan_matches_a_1d_gaussian(tmp_path):
    """G learns N(4, 1.25^2) from samples: its mean and std land within 0.25 of the data's."""
    data = get_dataset("gaussian1d", n=20000)
    tinygan.manual_seed(0)
    cls = get_variant("gan")
    cfg = config_from(cls.Config, {"hidden": 32, "z_dim": 4, "lr_g": 1e-3, "lr_d": 1e-3})
    gan = cls(cfg, DataInfo("points", (1,), None))
    train(gan, data, TrainConfig(steps=1500, batch_size=256, out=str(tmp_path), progress=False,
                                 sample_every=1500, log_every=100))
    x = generate_numpy(gan, gan.sample_z(5000, np.random.default_rng(1)), None)
    assert abs(x.mean() - 4.0) < 0.25, x.mean()
    assert abs(x.std() - 1.25) < 0.25, x.std()


def test_discriminator_approaches_the_optimal_ratio():
    """For fixed p_data = N(0, 1) and p_g = N(1, 1), the BCE-optimal D is p_data / (p_data + p_g)
    (Goodfellow et al. 2014, Prop. 1) = sigmoid(1/2 - x) here. A small MLP D trained with
    minimax_d_loss gets within 0.05 of it on [-1, 2]."""
    from tinygan.losses import minimax_d_loss
    rng = np.random.default_rng(0)
    tinygan.manual_seed(0)
    D = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))
    opt = optim.Adam(D.parameters(), lr=3e-3)
    for _ in range(1500):
        real = tinygan.tensor(rng.normal(0, 1, (512, 1)).astype(np.float32))
        fake = tinygan.tensor(rng.normal(1, 1, (512, 1)).astype(np.float32))
        opt.zero_grad()
        minimax_d_loss(D(real), D(fake)).backward()
        opt.step()
    x = np.linspace(-1, 2, 31, dtype=np.float32).reshape(-1, 1)
    with tinygan.no_grad():
        d = F.sigmoid(D(tinygan.tensor(x))).numpy().ravel()
    optimal = 1 / (1 + np.exp(-(0.5 - x.ravel())))
    assert np.abs(d - optimal).max() < 0.05, np.abs(d - optimal).max()


def test_the_main_job_captures_every_ring8_mode(tmp_path):
    """The guard of the README's first command: ``python -m tinygan train`` with no arguments but an
    output folder (seed 0) ends with all 8 ring8 modes and >= 90% high-quality samples (VEEGAN / PacGAN
    protocol, 2500 samples). A real run of about a minute: a change of defaults that breaks learning
    fails here."""
    import json
    import subprocess
    import sys
    out = tmp_path / "main-job"
    proc = subprocess.run([sys.executable, "-m", "tinygan", "train", "--out", str(out), "--no-progress"],
                          capture_output=True, text=True, timeout=1200, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["modes_captured"] == 8, last
    assert last["high_quality"] >= 0.90, last
