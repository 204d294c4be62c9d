"""pix2pix: the U-Net's shape and skips, the PatchGAN's 70 x 70 receptive field, D judging pairs,
the objective's weights, the jittered pairs the trainer feeds it, and the command line on a tiny
facades folder (training, resume, eval)."""
import json

import numpy as np
import pytest
from PIL import Image

import tinygan
from tinygan import losses, metrics
from tinygan.cli import main
from tinygan.data import Dataset, get_dataset
from tinygan.gans import pix2pix
from tinygan.gans.common import DataInfo, config_from
from tinygan.gans.image_nets import UNet, patch_discriminator, unet_widths
from tinygan.train import StepSampler


def _pairs(n=8, size=32, seed=0):
    rng = np.random.default_rng(seed)
    photos = rng.uniform(-1, 1, (n, 3, size, size)).astype(np.float32)
    labels = rng.uniform(-1, 1, (n, 3, size, size)).astype(np.float32)
    return Dataset("tiny-pairs", photos, labels, "pairs", None)


def _gan(size=32, **overrides):
    tinygan.manual_seed(0)
    cfg = config_from(pix2pix.Config, {"base": 8, **overrides})
    return pix2pix.Pix2Pix(cfg, DataInfo("pairs", (3, size, size), None))


@pytest.mark.parametrize("size,depth", [(32, 5), (64, 6), (128, 7), (256, 8)])
def test_unet_depth_follows_the_image_size(size, depth):
    widths = unet_widths(size)
    assert len(widths) == depth and widths[:4] == [64, 128, 256, 512] and widths[-1] == 512
    g = UNet(size, base=4)
    assert len(g.down) == len(g.up) == depth
    x = tinygan.tensor(np.zeros((1, 3, size, size), np.float32))
    assert g(x).shape == (1, 3, size, size)


def test_unet_rejects_a_size_that_is_not_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        UNet(96)


def test_unet_dropout_sits_in_the_three_innermost_decoder_layers():
    g = UNet(64, base=4)
    with_dropout = [any(isinstance(m, tinygan.nn.Dropout) for m in layer.modules()) for layer in g.up]
    assert with_dropout == [True, True, True, False, False, False]


def test_unet_skip_carries_the_outermost_features_past_the_bottleneck():
    """The decoder's last layer sees the first encoder layer's output: with every deeper layer's
    output zeroed, the image still reaches G's output (an encoder-decoder without skips gives a constant)."""
    g = UNet(32, base=4, dropout=0.0)
    g.eval()
    for layer in g.up[:-1]:                      # every decoder layer but the last outputs zeros
        conv = layer[1]
        conv.weight.data[...] = 0
        if conv.bias is not None:
            conv.bias.data[...] = 0
    rng = np.random.default_rng(0)
    a, b = (tinygan.tensor(rng.uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32)) for _ in range(2))
    with tinygan.no_grad():
        assert np.abs(g(a).numpy() - g(b).numpy()).max() > 1e-3


def test_patchgan_sees_a_70_by_70_patch():
    """The input gradient of one logit in the middle of a 128 x 128 input is zero outside a 70 x 70 window
    (batch norm in eval mode, so that no statistics spread it over the image)."""
    d = patch_discriminator(3, base=4, norm="batch")
    d.eval()
    x = tinygan.tensor(np.random.default_rng(0).uniform(-1, 1, (1, 3, 128, 128)).astype(np.float32),
                       requires_grad=True)
    out = d(x)
    assert out.shape == (1, 1, 14, 14)
    out[0, 0, 7, 7].backward()
    rows, cols = np.nonzero(np.abs(x.grad.numpy()[0]).sum(0))
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


def test_d_judges_the_source_with_the_image():
    gan = _gan()
    data = _pairs(2)
    photo, label = tinygan.tensor(data.x), tinygan.tensor(data.y)
    other = tinygan.tensor(data.y[::-1].copy())
    assert gan.D[0].weight.shape[1] == 6        # (source, image) stacked as 6 channels
    with tinygan.no_grad():
        assert not np.allclose(gan.judge(label, photo).numpy(), gan.judge(other, photo).numpy())


@pytest.mark.parametrize("lambda_gan", [1.0, 0.0])
def test_g_minimises_the_cgan_term_plus_100_l1(lambda_gan, monkeypatch):
    gan = _gan(lambda_gan=lambda_gan)
    data = _pairs(4)
    seen = []
    real_descend = pix2pix.descend
    monkeypatch.setattr(pix2pix, "descend", lambda loss, *opts: (seen.append(loss.item()), real_descend(loss, *opts)))
    row = gan.g_step(tinygan.tensor(data.x), tinygan.tensor(data.y), np.random.default_rng(0))
    assert seen[0] == pytest.approx(lambda_gan * row["g_loss"] + 100.0 * row["l1_loss"], rel=1e-5)
    d_row = gan.d_step(tinygan.tensor(data.x), tinygan.tensor(data.y), np.random.default_rng(0))
    gan.G.eval()  # the same G(x) as the step's, without dropout's draws: compare the halved objective
    with tinygan.no_grad():
        fake = gan.G(tinygan.tensor(data.y))
        full = losses.minimax_d_loss(gan.judge(tinygan.tensor(data.y), tinygan.tensor(data.x)),
                                     gan.judge(tinygan.tensor(data.y), fake)).item()
    assert seen[1] == d_row["d_loss"]
    assert 0.3 * full < d_row["d_loss"] < 0.7 * full  # halved (Sec. 3.3); D moved a little since


def test_sampler_jitters_both_images_of_a_pair_alike_and_repeatably():
    from tinygan.image_data import jitter
    x = np.random.default_rng(1).uniform(-1, 1, (6, 3, 64, 64)).astype(np.float32)
    data = Dataset("same-pairs", x, x.copy(), "pairs", None, jitter)
    a, b = StepSampler(data, 4, 0, "cpu"), StepSampler(data, 4, 0, "cpu")
    xa, ya = a.batch(3)
    xb, _ = b.batch(3)
    np.testing.assert_array_equal(xa.numpy(), ya.numpy())            # one crop and flip per pair
    np.testing.assert_array_equal(xa.numpy(), xb.numpy())            # keyed by (seed, batch)
    raw = StepSampler(Dataset("raw", x, x.copy(), "pairs", None), 4, 0, "cpu").batch(3)[0]
    assert not np.allclose(xa.numpy(), raw.numpy())                  # and it did jitter


def test_sharpness_known_values():
    ramp = np.tile(np.arange(8, dtype=np.float32) * 0.25, (1, 1, 8, 1))     # (1, 1, 8, 8): +0.25 per column
    assert metrics.sharpness(ramp) == pytest.approx(0.25)
    assert metrics.sharpness(np.zeros((2, 3, 4, 4))) == 0.0
    noise = np.random.default_rng(0).uniform(-1, 1, (1, 1, 32, 32))
    blurred = (noise + np.roll(noise, 1, 2) + np.roll(noise, 1, 3) + np.roll(noise, (1, 1), (2, 3))) / 4
    assert metrics.sharpness(blurred) < 0.6 * metrics.sharpness(noise)
    with pytest.raises(ValueError, match="sharpness"):
        metrics.sharpness(np.zeros((4, 4)))


def test_other_variants_refuse_pairs_and_pix2pix_refuses_points():
    from tinygan.gans import get_variant
    with pytest.raises(ValueError, match="dcgan trains on points or images data, not pairs"):
        get_variant("dcgan")(get_variant("dcgan").Config(), DataInfo("pairs", (3, 64, 64), None))
    with pytest.raises(ValueError, match="pix2pix trains on pairs data, not points"):
        pix2pix.Pix2Pix(pix2pix.Config(), DataInfo("points", (2,), None))


# ---------------------------------------------------------------- the command line on a tiny facades folder
def _tiny_facades(root, train=6, test=3):
    """root/facades with 512 x 256 pairs (photo | label map) of random blocks."""
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("test", test)):
        folder = root / "facades" / split
        folder.mkdir(parents=True)
        for i in range(1, n + 1):
            blocks = rng.integers(0, 256, (8, 16, 3), dtype=np.uint8)
            Image.fromarray(np.kron(blocks, np.ones((32, 32, 1), np.uint8))).save(folder / f"{i}.jpg")
    return root


def test_facades_dataset_is_jittered_pairs_in_training_only(tmp_path):
    _tiny_facades(tmp_path)
    train, test = (get_dataset("facades", data_dir=tmp_path, split=s, image_size=64) for s in ("train", "test"))
    assert train.kind == test.kind == "pairs" and train.x.shape == train.y.shape == (6, 3, 64, 64)
    assert train.augment is not None and test.augment is None and len(test) == 3


def test_cli_trains_resumes_and_evaluates_pix2pix(tmp_path, capsys):
    data = _tiny_facades(tmp_path / "data")
    out = tmp_path / "run"
    args = ["train", "pix2pix", "--data-dir", str(data), "--out", str(out), "--batch-size", "2",
            "--sample-every", "2", "--set", "base=4", "--no-progress"]
    assert main(args + ["--steps", "2"]) == 0
    args += ["--steps", "4"]
    assert main(args + ["--resume"]) == 0
    resumed = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert main(args + ["--overwrite", "--out", str(tmp_path / "full")]) == 0
    full = [json.loads(line) for line in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    assert resumed[-1]["step"] == full[-1]["step"] == 4
    for k in ("d_loss", "g_loss", "l1_loss"):                # the resumed run replays the uninterrupted one
        assert resumed[-1][k] == pytest.approx(full[-1][k], rel=1e-5), k
    assert (out / "samples" / "step_0000004.png").exists()
    assert main(["eval", str(out), "--data-dir", str(data)]) == 0
    result = json.loads((out / "eval.json").read_text())
    assert result["step"] == 4 and result["scores"]["n"] == 3
    assert set(result["scores"]) >= {"l1", "sharpness", "real_sharpness", "patch_accuracy"}
    assert (out / "test_pairs.png").exists()
    with pytest.raises(SystemExit):
        main(["sample", str(out), "--out", str(tmp_path / "x.png")])
    assert "translates images" in capsys.readouterr().err


def test_cli_image_size_is_for_facades_only(capsys):
    with pytest.raises(SystemExit):
        main(["train", "dcgan", "--image-size", "128", "--steps", "1"])
    assert "--image-size: sets the size of the facades and folder images, not of mnist" in capsys.readouterr().err
