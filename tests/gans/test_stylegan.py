"""StyleGAN and progressive growing: the equalized-lr layers, pixel norm, noise, minibatch stddev, AdaIN's
styles, the growing schedule and its fade-in in G and D, style mixing, truncation, and the padded
MNIST the classifier judges."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
from tinygan import classifier
from tinygan.data import get_dataset
from tinygan.gans import stylegan
from tinygan.gans.common import DataInfo, config_from
from tinygan.gans.style_nets import GrowingDiscriminator, StyleGenerator, StyleLayer
from tinygan.gradcheck import gradcheck
from tinygan.nn.style import EqualizedConv2d, EqualizedLinear, MinibatchStdDev, NoiseInjection, PixelNorm

SMALL = {"fmap_base": 64, "fmap_max": 8, "z_dim": 8, "w_dim": 8, "mapping_layers": 2, "stage_steps": 4}


def _gan(**overrides):
    tinygan.manual_seed(0)
    return stylegan.StyleGAN(config_from(stylegan.Config, {**SMALL, **overrides}), DataInfo("images", (1, 32, 32), 10))


def test_equalized_layers_scale_their_n01_weights_at_run_time():
    tinygan.manual_seed(0)
    lin = EqualizedLinear(400, 300, lr_mul=0.01)
    assert np.std(lin.weight.data) == pytest.approx(100.0, rel=0.02)          # N(0, 1 / lr_mul^2)
    x = tinygan.randn(5, 400)
    with tinygan.no_grad():
        expected = x.numpy() @ (lin.weight.data * np.sqrt(2) * 0.01 / 20).T
        np.testing.assert_allclose(lin(x).numpy(), expected, rtol=1e-4, atol=1e-5)
    conv = EqualizedConv2d(3, 4, 3)
    assert conv.scale == pytest.approx(np.sqrt(2) / np.sqrt(27))


@settings(deadline=None, max_examples=3)
@given(st.integers(0, 1000))
def test_style_layers_gradients_match_finite_differences(seed):
    tinygan.manual_seed(seed)
    x = tinygan.randn(4, 2, 4, 4, dtype=np.float64, requires_grad=True)
    for layer in (EqualizedConv2d(2, 3, 3).double(), MinibatchStdDev(2), PixelNorm()):
        params = list(layer.parameters())
        assert gradcheck(lambda x, *ps, layer=layer: layer(x), (x, *params))
    w = tinygan.randn(4, 5, dtype=np.float64)
    style = StyleLayer(2, 2, 5, conv=True).double()
    noise = tinygan.randn(4, 1, 4, 4, dtype=np.float64)
    assert gradcheck(lambda x, *ps: style(x, w, noise), (x, *style.parameters()))


def test_pixel_norm_and_minibatch_stddev_known_values():
    x = tinygan.tensor(np.array([[[[3.0]], [[4.0]]]], np.float32))               # one pixel, channels (3, 4)
    np.testing.assert_allclose(PixelNorm()(x).numpy().ravel(), [3 / np.sqrt(12.5), 4 / np.sqrt(12.5)], rtol=1e-6)
    a = np.zeros((4, 2, 3, 3), np.float32)
    a[1::2] = 2.0                                                                # groups {0, 2} equal, {1, 3} too
    out = MinibatchStdDev(2)(tinygan.tensor(a)).numpy()
    assert out.shape == (4, 3, 3, 3)
    np.testing.assert_allclose(out[:, 2], 1e-4, atol=1e-4)                      # equal members: std 0
    b = a.copy()
    b[2] = 2.0                                                                   # group {0, 2}: values 0 and 2
    out = MinibatchStdDev(2)(tinygan.tensor(b)).numpy()
    np.testing.assert_allclose(out[[0, 2], 2], 1.0, rtol=1e-4)                  # population std of {0, 2}
    np.testing.assert_allclose(out[[1, 3], 2], 1e-4, atol=1e-4)


def test_noise_injection_scales_one_map_per_channel():
    inject = NoiseInjection(3)
    x = tinygan.zeros(2, 3, 4, 4)
    noise = tinygan.randn(2, 1, 4, 4)
    with tinygan.no_grad():
        np.testing.assert_array_equal(inject(x, noise).numpy(), 0.0)            # B starts at zero
        inject.weight.data[:] = [1.0, 2.0, 0.0]
        out = inject(x, noise).numpy()
    np.testing.assert_allclose(out[:, 1], 2 * noise.numpy()[:, 0], rtol=1e-6)
    np.testing.assert_array_equal(out[:, 2], 0.0)


def test_adain_sets_each_channels_mean_and_std_to_the_style():
    tinygan.manual_seed(0)
    layer = StyleLayer(2, 2, 4, conv=False)
    with tinygan.no_grad():
        layer.style.weight.data[:] = 0
        layer.style.bias.data[:] = [1.5, 3.0, -0.5, 0.25]                       # y_s = (1.5, 3), y_b = (-0.5, 0.25)
        out = layer(tinygan.randn(3, 2, 8, 8), tinygan.randn(3, 4)).numpy()
    np.testing.assert_allclose(out.mean((2, 3)), [[-0.5, 0.25]] * 3, atol=1e-5)
    np.testing.assert_allclose(out.std((2, 3)), [[1.5, 3.0]] * 3, rtol=1e-3)


def test_growing_schedule():
    gan = _gan()                                        # 4 steps per stage, stages 4, 8, 16, 32 pixels
    assert [gan.stage_alpha(s) for s in (0, 3, 4, 5, 6, 8, 15, 40)] == [
        (0, 1.0), (0, 1.0), (1, 0.0), (1, 0.5), (1, 1.0), (2, 0.0), (3, 1.0), (3, 1.0)]


def test_fade_in_starts_from_the_previous_stage_in_g_and_d():
    tinygan.manual_seed(0)
    G, D = StyleGenerator(32, 1, 8, 8, 2, 64, 8), GrowingDiscriminator(32, 1, 64, 8)
    ws = tinygan.randn(2, G.num_layers, 8)
    noise = [tinygan.randn(2, 1, 4 * 2 ** (i // 2), 4 * 2 ** (i // 2)) for i in range(G.num_layers)]
    with tinygan.no_grad():
        low = G.synthesis(ws, 1, 1.0, noise)
        faded = G.synthesis(ws, 2, 0.0, noise)
        np.testing.assert_allclose(faded.numpy(), low.numpy(), rtol=1e-5, atol=1e-6)
        assert faded.shape == (2, 1, 32, 32)
        blocks = low.numpy()[0, 0].reshape(8, 4, 8, 4)                          # stage 1 is 8 x 8, upsampled 4x
        np.testing.assert_allclose(blocks, blocks[:, :1, :, :1].repeat(4, 1).repeat(4, 3))
        image = tinygan.randn(2, 1, 32, 32)
        np.testing.assert_allclose(D(image, 2, 0.0).numpy(), D(image, 1, 1.0).numpy(), rtol=1e-5, atol=1e-6)
        assert not np.allclose(D(image, 2, 0.5).numpy(), D(image, 1, 1.0).numpy())


def test_style_mixing_and_truncation():
    gan = _gan()
    gan.step = 100                                      # the last stage: every layer in use
    z1, z2 = tinygan.randn(3, 8), tinygan.randn(3, 8)
    L = gan.G.num_layers
    noise = [tinygan.zeros(3, 1, 4 * 2 ** (i // 2), 4 * 2 ** (i // 2)) for i in range(L)]
    with tinygan.no_grad():
        gan.w_avg = tinygan.randn(8).numpy()
        plain = gan.generate_styles(z1, noise=noise).numpy()
        for crossover, source in ((L, z1), (0, z2)):    # (the noise scales start at 0: no noise to fix here)
            np.testing.assert_allclose(gan.mix(z1, z2, crossover).numpy(), gan.mix(source, source, L).numpy(),
                                       rtol=1e-5, atol=1e-6)
        mixed = gan.mix(z1, z2, L // 2).numpy()
        assert not np.allclose(mixed, gan.mix(z1, z1, L).numpy()) and not np.allclose(mixed, gan.mix(z2, z2, L).numpy())
        same = gan.generate_styles(tinygan.randn(3, 8), psi=0.0, noise=noise).numpy()
        np.testing.assert_allclose(same, same[:1].repeat(3, 0), rtol=1e-5, atol=1e-6)   # psi = 0: w_avg for all
        np.testing.assert_allclose(gan.generate_styles(z1, psi=1.0, noise=noise).numpy(), plain, rtol=1e-6)


def test_d_step_adds_r1_and_reals_follow_the_fade():
    gan = _gan()
    real = tinygan.tensor(np.random.default_rng(0).uniform(-1, 1, (4, 1, 32, 32)).astype(np.float32))
    gan.step = 5                                        # stage 1, alpha 0.5
    row = gan.d_step(real, None, np.random.default_rng(0))
    assert row["r1"] > 0 and (row["stage"], row["alpha"]) == (1, 0.5)
    x = real.numpy()
    r8 = x.reshape(4, 1, 8, 4, 8, 4).mean((3, 5))
    r4 = r8.reshape(4, 1, 4, 2, 4, 2).mean((3, 5)).repeat(2, 2).repeat(2, 3)
    expected = (0.5 * r4 + 0.5 * r8).repeat(4, 2).repeat(4, 3)
    with tinygan.no_grad():
        np.testing.assert_allclose(gan.reals_at(real, 1, 0.5).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert "r1" not in _gan(r1_gamma=0.0).d_step(real, None, np.random.default_rng(0))


def test_padded_mnist_is_judged_on_its_central_28_by_28():
    try:
        d = get_dataset("mnist32", n=20)
    except FileNotFoundError:
        pytest.skip("needs MNIST ($TINYGAN_DATA)")
    assert d.x.shape == (20, 1, 32, 32) and (d.x[:, :, :2] == -1).all() and (d.x[:, :, :, -2:] == -1).all()
    tinygan.manual_seed(0)
    judge = classifier.Judge(classifier.Classifier(), np.random.default_rng(0).standard_normal((50, classifier.FEATURES)))
    np.testing.assert_allclose(judge(d.x, manifold=False)["classifier_fid"],
                               judge(d.x[..., 2:30, 2:30], manifold=False)["classifier_fid"])


def test_a_loaded_run_draws_at_the_stage_it_reached(tmp_path, tiny_case, build):
    """``tinygan sample`` / ``eval`` rebuild the GAN with its own state: StyleGAN's step (its resolution)
    and w_avg, not a fresh 4 x 4 stage-0 network."""
    from tinygan.cli import load_run
    from tinygan.train import TrainConfig, train
    data, _ = tiny_case("stylegan")
    gan = build("stylegan", data)
    train(gan, data, TrainConfig(steps=5, batch_size=8, out=str(tmp_path), sample_every=1000, checkpoint_every=5,
                                 progress=False))
    loaded, _ = load_run(str(tmp_path))
    assert loaded.step == gan.step == 5 and loaded.stage_alpha() == gan.stage_alpha() != (0, 1.0)
    np.testing.assert_array_equal(loaded.w_avg, gan.w_avg)
    z = gan.sample_z(4, np.random.default_rng(0))
    noise = [tinygan.zeros(4, 1, 4 * 2 ** (i // 2), 4 * 2 ** (i // 2)) for i in range(gan.G.num_layers)]
    with tinygan.no_grad():
        np.testing.assert_allclose(loaded.generate_styles(z, noise=noise).numpy(),
                                   gan.generate_styles(z, noise=noise).numpy(), rtol=1e-5, atol=1e-6)
