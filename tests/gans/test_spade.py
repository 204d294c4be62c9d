"""SPADE: the layer (gradients, what it computes, where the map acts), nearest downsampling of the
map, the generator's widths, the two-scale D, the objective's weights, the class colour score, and
the one-hot facades with their jitter."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import tinygan
from tinygan import metrics, nn
from tinygan.data import get_dataset
from tinygan.gans import spade
from tinygan.gans.common import DataInfo, config_from
from tinygan.gans.image_nets import MultiscalePatchGAN, SPADEGenerator
from tinygan.gradcheck import gradcheck
from tinygan.nn import functional as F


def _seg(n=2, k=3, size=8, seed=0):
    classes = np.random.default_rng(seed).integers(0, k, (n, size, size))
    return (classes[:, None] == np.arange(k)[None, :, None, None]).astype(np.float64)


@settings(deadline=None, max_examples=3)
@given(st.integers(0, 1000))
def test_spade_layer_gradients_match_finite_differences(seed):
    tinygan.manual_seed(seed)
    layer = nn.SPADE(2, 3, hidden=4).double()
    x = tinygan.randn(2, 2, 4, 4, dtype=np.float64, requires_grad=True)
    seg = tinygan.tensor(_seg(size=8, seed=seed))                    # a map twice as large: downsampled inside
    assert gradcheck(lambda x, *ps: layer(x, seg), (x, *layer.parameters()))


def test_spade_is_parameter_free_batch_norm_then_the_maps_scale_and_shift():
    tinygan.manual_seed(0)
    layer = nn.SPADE(3, 2, hidden=4).double()
    x = tinygan.randn(2, 3, 4, 4, dtype=np.float64)
    seg = tinygan.tensor(_seg(k=2, size=4))
    with tinygan.no_grad():
        actv = layer.shared(seg)
        gamma, beta = layer.gamma(actv).numpy(), layer.beta(actv).numpy()
        out = layer(x, seg).numpy()
    xn = x.numpy()
    normed = (xn - xn.mean((0, 2, 3), keepdims=True)) / np.sqrt(xn.var((0, 2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, normed * (1 + gamma) + beta, rtol=1e-6, atol=1e-8)
    assert not list(layer.norm.parameters())                          # no affine of its own


def test_spade_reads_the_map_where_it_normalizes():
    """Changing the map in one corner changes the output only within the two 3x3 convs' reach (2 pixels)."""
    tinygan.manual_seed(0)
    layer = nn.SPADE(2, 2, hidden=4).double()
    x = tinygan.randn(1, 2, 12, 12, dtype=np.float64)
    a = _seg(n=1, k=2, size=12)
    b = a.copy()
    b[:, :, :2, :2] = b[:, ::-1, :2, :2]                              # swap the classes in the 2x2 corner
    with tinygan.no_grad():
        diff = np.abs(layer(x, tinygan.tensor(a)).numpy() - layer(x, tinygan.tensor(b)).numpy()).sum((0, 1))
    rows, cols = np.nonzero(diff > 1e-12)
    assert len(rows) and rows.max() <= 3 and cols.max() <= 3


def test_nearest_downsampling_keeps_every_kth_pixel():
    x = tinygan.tensor(np.arange(2 * 3 * 8 * 8, dtype=np.float32).reshape(2, 3, 8, 8))
    np.testing.assert_array_equal(F.interpolate(x, size=(2, 4)).numpy(), x.numpy()[:, :, ::4, ::2])
    with pytest.raises(ValueError, match="multiple or divisor"):
        F.interpolate(x, size=(3, 3))


@pytest.mark.parametrize("size,outs", [(64, [16, 8, 4, 2, 1]), (256, [16, 16, 16, 8, 4, 2, 1])])
def test_spade_generator_widths_end_at_nf(size, outs):
    g = SPADEGenerator(size, 12, base=2, hidden=2)
    assert [b.conv_1.weight.shape[0] // 2 for b in g.blocks] == outs
    assert g.fc.weight.shape[:2] == (32, 12)
    if size == 64:
        with tinygan.no_grad():
            assert g(tinygan.tensor(np.zeros((1, 12, 64, 64), np.float32))).shape == (1, 3, 64, 64)


def test_multiscale_d_judges_the_input_and_its_half():
    d = MultiscalePatchGAN(5, base=4, scales=2)
    with tinygan.no_grad():
        out = d(tinygan.tensor(np.zeros((1, 5, 64, 64), np.float32)))
    assert len(out) == 2 and [len(o) for o in out] == [5, 5]          # 4 LeakyReLU features + logits each
    assert out[0][-1].shape == (1, 1, 6, 6) and out[1][-1].shape == (1, 1, 2, 2)
    assert out[0][0].shape[-1] == 32 and out[1][0].shape[-1] == 16


def _gan():
    tinygan.manual_seed(0)
    cfg = config_from(spade.Config, {"base": 2, "spade_hidden": 4})
    return spade.SPADE(cfg, DataInfo("pairs", (3, 64, 64), 3))


def test_g_minimises_hinge_plus_10_feature_matching(monkeypatch):
    gan = _gan()
    seg = tinygan.tensor(_seg(n=2, k=3, size=64).astype(np.float32))
    photo = tinygan.tensor(np.random.default_rng(0).uniform(-1, 1, (2, 3, 64, 64)).astype(np.float32))
    seen = []
    real_descend = spade.descend
    monkeypatch.setattr(spade, "descend", lambda loss, *opts: (seen.append(loss.item()), real_descend(loss, *opts)))
    row = gan.g_step(photo, seg, np.random.default_rng(0))
    assert seen[0] == pytest.approx(row["g_loss"] + 10.0 * row["fm_loss"], rel=1e-5)
    assert row["fm_loss"] > 0
    d_row = gan.d_step(photo, seg, np.random.default_rng(0))
    assert seen[1] == d_row["d_loss"] and 0 < d_row["d_loss"] < 2 * 2 + 1   # two scales of hinge, near 2 each


def test_spade_needs_class_maps():
    with pytest.raises(ValueError, match="facades-classes"):
        spade.SPADE(spade.Config(), DataInfo("pairs", (3, 64, 64), None))


def test_class_colour_error_known_values():
    seg = _seg(n=2, k=3, size=8).astype(np.float32)
    photo = np.random.default_rng(0).uniform(-1, 1, (2, 3, 8, 8)).astype(np.float32)
    assert metrics.class_colour_error(photo, photo, seg) == pytest.approx(0.0)
    assert metrics.class_colour_error(photo + 0.1, photo, seg) == pytest.approx(0.1, rel=1e-5)
    shuffled = photo[:, :, ::-1, ::-1]                                # right colours in the wrong places
    assert metrics.class_colour_error(shuffled, photo, seg) > 0.01


def test_facades_classes_are_one_hot_and_stay_one_hot_when_jittered(tmp_path):
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (12, 3))
    for split, n in (("train", 4), ("test", 2)):
        folder = tmp_path / "facades" / split
        folder.mkdir(parents=True)
        for i in range(1, n + 1):
            label = colours[rng.integers(0, 12, (8, 8))].astype(np.uint8)          # 8 x 8 blocks of 12 colours
            pair = np.concatenate([rng.integers(0, 256, (8, 8, 3)).astype(np.uint8), label], 1)
            Image.fromarray(np.kron(pair, np.ones((32, 32, 1), np.uint8))).save(folder / f"{i}.png")
    data = get_dataset("facades-classes", data_dir=tmp_path, image_size=64)
    assert data.y.shape == (4, 12, 64, 64) and data.num_classes == 12 and data.kind == "pairs"
    np.testing.assert_array_equal(data.y.sum(1), 1.0)
    _, maps = data.augment(data.x, data.y, np.random.default_rng(1))
    np.testing.assert_array_equal(maps.sum(1), 1.0)
    assert not np.array_equal(maps, data.y)
    test = get_dataset("facades-classes", data_dir=tmp_path, image_size=64, split="test")
    assert test.y.shape == (2, 12, 64, 64) and test.augment is None
