"""Every variant trains a few steps on tiny data: finite losses, parameters move, and a
checkpointed run resumed halfway gives the same losses as an uninterrupted run."""
import json

import numpy as np
import pytest

from tinygan.gans import VARIANTS
from tinygan.train import TrainConfig, train

POINT_VARIANTS = [name for name in VARIANTS
                  if name not in ("dcgan", "cgan", "infogan", "sgan", "pix2pix", "cyclegan", "stylegan", "spade")]


def _losses(out):
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: {k: v for k, v in r.items() if k.endswith("loss")} for r in rows}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_trains_and_resumes_exactly(name, tiny_case, tmp_path, build):
    data, _ = tiny_case(name)
    batch = 16
    cfg = {"steps": 4, "batch_size": batch, "seed": 3, "log_every": 1, "sample_every": 1000, "checkpoint_every": 2,
               "progress": False}
    # uninterrupted run
    gan = build(name, data)
    before = {k: v.data.copy() for k, v in gan.G.named_parameters()}
    rows = train(gan, data, TrainConfig(out=str(tmp_path / "full"), **cfg))
    assert len(rows) == 4
    for row in rows:
        for k, v in row.items():
            if k.endswith("loss"):
                assert np.isfinite(v), (name, k, v)
    moved = [not np.allclose(before[k], p.data) for k, p in gan.G.named_parameters()]
    assert any(moved), f"{name}: no generator parameter changed"
    # the same run stopped after 2 steps, then resumed from its checkpoint by a fresh process-like object
    train(build(name, data), data, TrainConfig(out=str(tmp_path / "part"), **{**cfg, "steps": 2}))
    resumed = build(name, data)
    train(resumed, data, TrainConfig(out=str(tmp_path / "part"), **cfg), resume=True)
    full, part = _losses(tmp_path / "full"), _losses(tmp_path / "part")
    assert sorted(part) == [1, 2, 3, 4]
    for step in (3, 4):
        for k in full[step]:
            assert part[step][k] == pytest.approx(full[step][k], rel=1e-5, abs=1e-6), (name, step, k)
    for k, p in resumed.G.named_parameters():
        np.testing.assert_allclose(p.data, dict(gan.G.named_parameters())[k].data, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", POINT_VARIANTS)
def test_every_by_data_field_is_resolved_for_both_data_kinds(name):
    """A Config field left at None takes its data kind's value: none is left None once the GAN is built,
    and the variant's own table wins (WGAN's clip, WGAN-GP's lambda). (Consensus optimization is built
    for points only: images are refused, below.)"""
    import dataclasses

    import tinygan
    from tinygan.gans import get_variant
    from tinygan.gans.common import DataInfo
    cls = get_variant(name)
    for info in (DataInfo("points", (2,), None), DataInfo("images", (1, 28, 28), 10)):
        tinygan.manual_seed(0)
        if info.kind not in cls.config_by_data:
            with pytest.raises(ValueError, match=f"{name} trains on points data, not images"):
                cls(cls.Config(), info)
            continue
        cfg = cls(cls.Config(), info).cfg
        assert all(getattr(cfg, f.name) is not None for f in dataclasses.fields(cfg)), (name, info.kind, cfg)
        for k, v in cls.config_by_data[info.kind].items():  # explicit Config defaults (BEGAN's lr) stay
            assert getattr(cfg, k) == (v if getattr(cls.Config(), k) is None else getattr(cls.Config(), k)), k
