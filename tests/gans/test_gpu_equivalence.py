"""On a GPU, a few training steps of every variant equal the same steps on the CPU (float32 tolerance).

Randomness is drawn on the CPU and keyed by (seed, step) (see train.py), so both devices see the
same batches, noise and dropout masks; only the arithmetic differs.
"""
import numpy as np
import pytest

import tinygan
from tinygan import backend
from tinygan.gans import VARIANTS, get_variant
from tinygan.gans.common import DataInfo, config_from
from tinygan.train import StepSampler, step_rng

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("name", list(VARIANTS))
def test_steps_on_gpu_match_cpu(name, tiny_case):
    data, small = tiny_case(name)
    cls = get_variant(name)
    cfg = config_from(cls.Config, small)
    info = DataInfo(data.kind, tuple(data.x.shape[1:]), data.num_classes)
    gans = {}
    for device in ("cpu", "cuda"):
        tinygan.manual_seed(0)
        gans[device] = cls(cfg, info, device)
    for module_name, module in gans["cpu"].modules().items():  # identical starting weights
        gans["cuda"].modules()[module_name].load_state_dict(module.state_dict())
    logs = {}
    for device, gan in gans.items():
        sampler, rows = StepSampler(data, 16, 0, device), []
        for step in range(3):
            rng = step_rng(0, step)
            tinygan.manual_seed(step)
            row = {}
            for k in range(gan.n_critic):
                real, y = sampler.batch(step * gan.n_critic + k)
                row.update(gan.d_step(real, y, rng))
            row.update(gan.g_step(real, y, rng))
            rows.append(row)
        logs[device] = rows
    for cpu_row, gpu_row in zip(logs["cpu"], logs["cuda"]):
        for key in cpu_row:
            assert gpu_row[key] == pytest.approx(cpu_row[key], rel=1e-3, abs=1e-4), (name, key)
    for (key, p_cpu), (_, p_gpu) in zip(gans["cpu"].G.named_parameters(), gans["cuda"].G.named_parameters()):
        np.testing.assert_allclose(backend.to_numpy(p_gpu.data), p_cpu.data, rtol=1e-3, atol=1e-4, err_msg=key)
