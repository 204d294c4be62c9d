"""nn.init: gains, fans, bounds and spreads as PyTorch's, in place, reproducible from the seed."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
from tinygan.nn import init


@pytest.mark.parametrize("name, param, gain", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("conv_transpose2d", None, 1.0), ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
    ("selu", None, 0.75),
])
def test_calculate_gain(name, param, gain):
    assert init.calculate_gain(name, param) == pytest.approx(gain, rel=1e-12)


def test_calculate_gain_rejects_unknown_names():
    with pytest.raises(ValueError, match="gelu"):
        init.calculate_gain("gelu")


@pytest.mark.parametrize("shape, fans", [
    ((5, 3), (3, 5)),                 # Linear (out, in)
    ((8, 4, 3, 3), (36, 72)),         # Conv2d (out, in, kh, kw)
    ((4, 8, 5, 5), (200, 100)),       # ConvTranspose2d (in, out, kh, kw): fan_in uses out
    ((2, 3, 4), (12, 8)),
])
def test_fans(shape, fans):
    assert init._calculate_fan_in_and_fan_out(tinygan.zeros(*shape)) == fans


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dims"):
        init.xavier_uniform_(tinygan.zeros(5))
    with pytest.raises(ValueError, match="fan_avg"):
        init.kaiming_uniform_(tinygan.zeros(3, 3), mode="fan_avg")


def test_fills_in_place_and_returns_the_tensor():
    t = tinygan.zeros(4, 6)
    array = t.data
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
               init.kaiming_normal_, init.ones_, init.zeros_):
        assert fn(t) is t and t.data is array and t.dtype == np.float32
    assert init.constant_(t, 2.5) is t and np.all(t.data == 2.5)
    assert np.all(init.ones_(t).data == 1) and not np.any(init.zeros_(t).data)


def test_seeded_and_generator_reproducible():
    tinygan.manual_seed(3)
    a = init.kaiming_normal_(tinygan.zeros(3, 4)).data.copy()
    tinygan.manual_seed(3)
    b = init.kaiming_normal_(tinygan.zeros(3, 4)).data.copy()
    np.testing.assert_array_equal(a, b)
    c = init.normal_(tinygan.zeros(3, 4), generator=np.random.default_rng(1)).data
    d = init.normal_(tinygan.zeros(3, 4), generator=np.random.default_rng(1)).data
    np.testing.assert_array_equal(c, d)
    assert not np.array_equal(a, init.kaiming_normal_(tinygan.zeros(3, 4)).data)


def test_no_graph_is_recorded():
    p = tinygan.zeros(3, 3, requires_grad=True)
    init.xavier_normal_(p)
    assert p.is_leaf and p.requires_grad and p.grad is None


def test_uniform_and_normal_parameters():
    t = tinygan.zeros(200, 200, dtype=np.float64)
    init.uniform_(t, -2.0, 3.0)
    assert t.data.min() >= -2.0 and t.data.max() < 3.0
    assert t.data.min() < -1.99 and t.data.max() > 2.99
    assert t.data.mean() == pytest.approx(0.5, abs=0.03)
    init.normal_(t, mean=1.5, std=0.5)
    assert t.data.mean() == pytest.approx(1.5, abs=0.01) and t.data.std() == pytest.approx(0.5, rel=0.01)


@settings(deadline=None, max_examples=15)
@given(st.sampled_from([(128, 64), (40, 16, 3, 3), (16, 64, 4, 4)]), st.floats(0.0, 0.5),
       st.sampled_from(["fan_in", "fan_out"]), st.integers(0, 2**32 - 1))
def test_kaiming_and_xavier_spreads(shape, a, mode, seed):
    """Bounds hold exactly; standard deviations match the formulas (>= 5760 samples: a 5% tolerance
    is over 5 standard errors of the sample std, and 0.1 std over 7 of the sample mean)."""
    tinygan.manual_seed(seed)
    t = tinygan.zeros(*shape, dtype=np.float64)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(t)
    fan = fan_in if mode == "fan_in" else fan_out
    gain = math.sqrt(2 / (1 + a * a))

    bound = gain * math.sqrt(3 / fan)
    init.kaiming_uniform_(t, a=a, mode=mode)
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.99 * bound
    init.kaiming_normal_(t, a=a, mode=mode)
    assert t.data.std() == pytest.approx(gain / math.sqrt(fan), rel=0.05)
    assert abs(t.data.mean()) < 0.1 * gain / math.sqrt(fan)

    bound = 0.7 * math.sqrt(6 / (fan_in + fan_out))
    init.xavier_uniform_(t, gain=0.7)
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.99 * bound
    init.xavier_normal_(t, gain=0.7)
    assert t.data.std() == pytest.approx(0.7 * math.sqrt(2 / (fan_in + fan_out)), rel=0.05)


def test_matches_torch_gains_and_fans():
    torch = pytest.importorskip("torch")
    for name, param in [("tanh", None), ("relu", None), ("leaky_relu", 0.3), ("selu", None),
                        ("conv2d", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))
    for shape in [(5, 3), (8, 4, 3, 3), (4, 8, 5, 5), (2, 3, 4)]:
        expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
        assert init._calculate_fan_in_and_fan_out(tinygan.zeros(*shape)) == expected
