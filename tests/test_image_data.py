"""Tests for tinygan.image_data: the facades loader and its lookup, image folders, pix2pix's jitter,
the label palette and one-hot maps.

Synthetic files are written with Pillow into tmp_path; the network is never touched. The
test_real_* tests run on the facades found via $TINYGAN_DATA (or the user cache) and skip without it.
"""
import hashlib
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tinygan import image_data
from tinygan.image_data import (
    find_facades,
    fit_palette,
    jitter,
    load_facades,
    load_image_folder,
    one_hot,
    snap_to_palette,
)


def scaled(pixels):
    """8-bit values in the loaders' [-1, 1] units."""
    return (np.asarray(pixels, dtype=np.float32) - 127.5) / 127.5


# ---------------------------------------------------------------- a fake facades folder
def photo_colour(i):
    return (0, 20 * i, 100)        # left half of pair i: the 0 gives -1 exactly


def label_colour(i):
    return (255, 40, 5 * i)        # right half of pair i: the 255 gives +1 exactly


def write_pair(path, i, size=(512, 256)):
    """A pair image: photo_colour(i) on the left half, label_colour(i) on the right half."""
    w, h = size
    img = np.empty((h, w, 3), np.uint8)
    img[:, :w // 2], img[:, w // 2:] = photo_colour(i), label_colour(i)
    Image.fromarray(img).save(path)


def write_md5(folder, split):
    files = sorted((folder / split).iterdir())
    lines = [f"{hashlib.md5(p.read_bytes()).hexdigest()}  {p.name}\n" for p in files]
    (folder / f"{split}.md5").write_text("".join(lines))


def make_facades(root, numbers=(1, 2, 10), suffix=".png", md5=True):
    """``root/facades`` with train/ holding pairs ``numbers`` and test/ holding one pair."""
    folder = root / "facades"
    for split, nums in (("train", numbers), ("test", (1,))):
        (folder / split).mkdir(parents=True)
        for i in nums:
            write_pair(folder / split / f"{i}{suffix}", i)
        if md5:
            write_md5(folder, split)
    return folder


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    """No TINYGAN_DATA, and a user cache inside tmp_path."""
    monkeypatch.delenv("TINYGAN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_facades_shapes_range_halves_and_numeric_order(tmp_path, no_env):
    make_facades(tmp_path)
    labels, photos = load_facades("train", data_dir=tmp_path)
    assert labels.shape == photos.shape == (3, 3, 256, 256)
    assert labels.dtype == photos.dtype == np.float32
    for k, i in enumerate((1, 2, 10)):                                # 10 last: numeric, not "1, 10, 2"
        assert np.array_equal(photos[k], np.broadcast_to(scaled(photo_colour(i))[:, None, None], (3, 256, 256)))
        assert np.array_equal(labels[k], np.broadcast_to(scaled(label_colour(i))[:, None, None], (3, 256, 256)))
    assert photos.min() == -1.0 and labels.max() == 1.0


def test_facades_resize_is_pillow_bicubic_of_each_half(tmp_path, no_env):
    folder = make_facades(tmp_path, numbers=(1,), suffix=".jpg")
    (folder / "train" / "1.jpg").rename(folder / "train" / "2.jpg")  # pair 2: flat colours, as JPEG
    pair = np.random.default_rng(0).integers(0, 256, (256, 512, 3), dtype=np.uint8)
    Image.fromarray(pair).save(folder / "train" / "1.png")            # pair 1: texture, lossless
    labels, photos = load_facades("train", 64, tmp_path, check_md5=False)
    assert labels.shape == photos.shape == (2, 3, 64, 64)
    for half, got in ((pair[:, :256], photos[0]), (pair[:, 256:], labels[0])):
        want = np.asarray(Image.fromarray(half).resize((64, 64), Image.BICUBIC))
        assert np.array_equal(got, scaled(want).transpose(2, 0, 1))
    # the JPEG pair: flat colours up to JPEG's error (larger at the seam, blurred by JPEG itself)
    assert np.abs(photos[1, :, :, :48] - scaled(photo_colour(1))[:, None, None]).max() < 0.05
    assert np.abs(labels[1, :, :, 16:] - scaled(label_colour(1))[:, None, None]).max() < 0.05


def test_facades_md5_mismatch_names_file_and_both_checksums(tmp_path, no_env):
    folder = make_facades(tmp_path)
    listed = hashlib.md5((folder / "train" / "2.png").read_bytes()).hexdigest()
    write_pair(folder / "train" / "2.png", 7)
    actual = hashlib.md5((folder / "train" / "2.png").read_bytes()).hexdigest()
    with pytest.raises(ValueError, match=rf"2\.png has MD5 {actual}, but .*train\.md5 expects {listed}"):
        load_facades("train", data_dir=tmp_path)
    labels, _ = load_facades("train", data_dir=tmp_path, check_md5=False)
    assert np.array_equal(labels[1, :, 0, 0], scaled(label_colour(7)))


def test_facades_md5_listed_file_missing_or_unlisted_file(tmp_path, no_env):
    folder = make_facades(tmp_path)
    (folder / "train" / "10.png").unlink()
    with pytest.raises(ValueError, match=r"train\.md5 lists 1 files missing .*10\.png"):
        load_facades("train", data_dir=tmp_path)
    write_pair(folder / "train" / "10.png", 10)
    write_pair(folder / "train" / "11.png", 11)
    with pytest.raises(ValueError, match=r"11\.png is not listed in .*train\.md5"):
        load_facades("train", data_dir=tmp_path)
    (folder / "train.md5").write_text("d41d8cd98f00b204e9800998ecf8427e 1.png extra\n1.png\n")
    with pytest.raises(ValueError, match=r"train\.md5, line 2: expected '<md5>  <name>'"):
        load_facades("train", data_dir=tmp_path)


def test_facades_bad_files(tmp_path, no_env):
    folder = make_facades(tmp_path, md5=False)                        # without a list, nothing to check
    write_pair(folder / "train" / "3.png", 3, size=(256, 256))
    with pytest.raises(ValueError, match=r"3\.png: expected a 512x256 image .*got 256x256"):
        load_facades("train", data_dir=tmp_path)
    (folder / "train" / "3.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"3\.png: not a readable image"):
        load_facades("train", data_dir=tmp_path)
    (folder / "train" / "3.png").rename(folder / "train" / "three.png")
    with pytest.raises(ValueError, match=r"three\.png.*expected numbered pair images"):
        load_facades("train", data_dir=tmp_path)
    (folder / "test" / "1.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"test: no images"):
        load_facades("test", data_dir=tmp_path)


@pytest.mark.parametrize("split,size,message", [
    ("val", 64, "unknown facades split 'val'"), ("training", 64, "unknown facades split"),
    ("train", 0, "size must be a positive int"), ("train", -64, "size must be a positive int"),
    ("train", 64.0, "size must be a positive int"), ("train", True, "size must be a positive int")])
def test_facades_bad_arguments(tmp_path, no_env, split, size, message):
    make_facades(tmp_path)
    with pytest.raises(ValueError, match=message):
        load_facades(split, size, tmp_path)


def test_facades_search_order(tmp_path, no_env, monkeypatch):
    given_, env, cache = (make_facades(tmp_path / name) for name in ("given", "env", "cache/tinygan"))
    assert cache == tmp_path / "cache" / "tinygan" / "facades"
    assert find_facades() == cache
    monkeypatch.setenv("TINYGAN_DATA", str(env.parent))              # the parent of facades/ ...
    assert find_facades() == env
    monkeypatch.setenv("TINYGAN_DATA", str(env))                     # ... or the folder itself
    assert find_facades() == env
    assert find_facades(given_.parent) == given_
    assert find_facades(given_) == given_


def test_facades_absent_everywhere_says_how_to_get_them(tmp_path, no_env, monkeypatch):
    monkeypatch.setenv("TINYGAN_DATA", str(tmp_path / "env"))
    (tmp_path / "given" / "facades" / "train").mkdir(parents=True)    # no test/: not the dataset
    with pytest.raises(FileNotFoundError) as err:
        load_facades("test", data_dir=tmp_path / "given")
    message = str(err.value)
    for place in (tmp_path / "given" / "facades", tmp_path / "env" / "facades",
                  tmp_path / "cache" / "tinygan" / "facades"):
        assert str(place) in message
    assert "https://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz" in message
    assert "--data-dir" in message and "TINYGAN_DATA" in message


# ---------------------------------------------------------------- folders of images
def test_image_folder_mixed_formats_in_name_order(tmp_path):
    colours = {"a.png": (255, 0, 0), "b.JPG": (0, 255, 0), "c.bmp": (0, 0, 255), "d.png": (10, 20, 30)}
    for name, colour in colours.items():
        Image.new("RGB", (40, 30), colour).save(tmp_path / name)
    Image.new("RGBA", (8, 8), (9, 8, 7, 0)).save(tmp_path / "e.PNG")  # alpha dropped
    Image.new("L", (8, 8), 77).save(tmp_path / "f.webp", lossless=True)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub.png").mkdir()                                    # a folder, even named .png
    x = load_image_folder(tmp_path, 16)
    assert x.shape == (6, 3, 16, 16) and x.dtype == np.float32
    want = [*colours.values(), (9, 8, 7), (77, 77, 77)]
    for k in (0, 2, 3, 4, 5):                                         # lossless files: exact colours
        assert np.array_equal(x[k], np.broadcast_to(scaled(want[k])[:, None, None], (3, 16, 16)))
    assert np.abs(x[1] - scaled(want[1])[:, None, None]).max() < 0.05  # the JPEG, up to its error


def test_image_folder_resize_is_pillow_bicubic(tmp_path):
    img = np.random.default_rng(1).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "x.png")
    want = np.asarray(Image.fromarray(img).resize((24, 24), Image.BICUBIC))
    assert np.array_equal(load_image_folder(tmp_path, 24)[0], scaled(want).transpose(2, 0, 1))


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nowhere", 16)
    (tmp_path / "readme.md").write_text("no images here")
    with pytest.raises(FileNotFoundError, match="no image files"):
        load_image_folder(tmp_path, 16)
    Image.new("RGB", (8, 8)).save(tmp_path / "good.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(ValueError, match=r"broken\.jpg: not a readable image"):
        load_image_folder(tmp_path, 16)
    (tmp_path / "broken.jpg").unlink()
    with pytest.raises(ValueError, match="size must be a positive int"):
        load_image_folder(tmp_path, 0)


# ---------------------------------------------------------------- jitter
def find_window(big, crop):
    """(top, left, flipped) of the window of ``big`` (C, L, L) equal to ``crop`` (C, S, S), or None."""
    s, size = crop.shape[-1], big.shape[-1]
    for top in range(size - s + 1):
        for left in range(size - s + 1):
            window = big[:, top:top + s, left:left + s]
            for flipped in (False, True):
                if np.array_equal(window[..., ::-1] if flipped else window, crop):
                    return top, left, flipped
    return None


def resized(x, size):
    """(C, S, S) -> (C, size, size) by Pillow's bicubic filter on float32 channels, each clipped to
    its own range (no resize when size == S)."""
    if x.shape[-1] == size:
        return x
    return np.stack([np.clip(np.asarray(Image.fromarray(c).resize((size, size), Image.BICUBIC)),
                             c.min(), c.max()) for c in x.astype(np.float32)])


def test_jitter_shapes_and_same_crop_and_flip_for_both():
    a = np.random.default_rng(0).uniform(-1, 1, (6, 3, 16, 16))
    a2, b2 = jitter(a, a[:, :1].copy(), np.random.default_rng(1))      # b: a's first channel
    assert a2.shape == a.shape and b2.shape == (6, 1, 16, 16)
    assert a2.dtype == b2.dtype == np.float32
    assert np.array_equal(a2[:, :1], b2)
    alone, none = jitter(a, None, np.random.default_rng(1))           # the same draws for one stream
    assert none is None and np.array_equal(alone, a2)


@pytest.mark.parametrize("s,load_size,expect", [(64, None, 72), (16, 21, 21), (16, 16, 16)])
def test_jitter_crops_the_resized_image(s, load_size, expect):
    """Each output is an S x S window, maybe flipped, of the input resized to load_size (default
    round(286 / 256 * S)), clipped to the input's range."""
    a = np.random.default_rng(2).uniform(-1, 1, (3, 2, s, s)).astype(np.float32)
    out, _ = jitter(a, None, np.random.default_rng(3), load_size=load_size)
    for x, y in zip(a, out):
        assert find_window(resized(x, expect), y) is not None


def test_jitter_flips_half_the_time_and_offsets_cover_the_range():
    a = np.random.default_rng(4).uniform(-1, 1, (400, 1, 8, 8)).astype(np.float32)
    out, _ = jitter(a, None, np.random.default_rng(5), load_size=8)  # no resize: only flips
    flipped = [np.array_equal(y, x[..., ::-1]) for x, y in zip(a, out)]
    assert all(f or np.array_equal(y, x) for f, x, y in zip(flipped, a, out))
    assert 150 <= sum(flipped) <= 250                                 # Binomial(400, 1/2): mean 200, std 10
    out, _ = jitter(a[:40], None, np.random.default_rng(6), load_size=10)
    corners = {find_window(resized(x, 10), y)[:2] for x, y in zip(a[:40], out)}
    assert {t for t, _ in corners} == {0, 1, 2} and {le for _, le in corners} == {0, 1, 2}


def test_jitter_keeps_constants_and_range_and_is_seeded():
    const = np.full((2, 3, 32, 32), 0.3, np.float32)
    assert np.array_equal(jitter(const, None, np.random.default_rng(0))[0], const)
    a = np.random.default_rng(7).uniform(-1, 1, (5, 3, 32, 32))
    a = np.where(a > 0, 1.0, -1.0)                                    # sharp edges: bicubic overshoots
    first, _ = jitter(a, None, np.random.default_rng(8))
    assert first.min() == -1.0 and first.max() == 1.0
    assert np.array_equal(first, jitter(a, None, np.random.default_rng(8))[0])
    assert not np.array_equal(first, jitter(a, None, np.random.default_rng(9))[0])


def test_jitter_rejects_bad_shapes():
    a = np.zeros((2, 3, 16, 16))
    with pytest.raises(ValueError, match="load_size"):
        jitter(a, None, np.random.default_rng(0), load_size=15)
    with pytest.raises(ValueError, match="to match a"):
        jitter(a, np.zeros((2, 3, 16, 8)), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"expected a as \(N, C, S, S\)"):
        jitter(np.zeros((2, 3, 16, 8)), None, np.random.default_rng(0))


# ---------------------------------------------------------------- palette and one-hot
CORNERS = np.array([[r, g, b] for r in (-0.8, 0.8) for g in (-0.8, 0.8) for b in (-0.8, 0.8)])   # (8, 3)


def block_maps(colours, rng, n=4, blocks=6, cell=8, noise=0.01):
    """Label maps (n, 3, blocks*cell, blocks*cell) of flat cell x cell blocks in random ``colours``,
    plus N(0, noise^2) per channel; also returns the block classes."""
    classes = rng.integers(len(colours), size=(n, blocks, blocks)).repeat(cell, 1).repeat(cell, 2)
    maps = colours[classes].transpose(0, 3, 1, 2) + noise * rng.standard_normal((n, 3, *classes.shape[1:]))
    return maps.astype(np.float32), classes


def assert_recovers(palette, colours, tol):
    d = np.sqrt(((colours[:, None] - palette[None]) ** 2).sum(-1))    # (true, fitted)
    assert d.min(1).max() <= tol                                       # every true colour has a match
    assert len(set(d.argmin(1))) == len(colours)                      # each its own


@pytest.mark.parametrize("seed,k", [(0, 3), (1, 5), (2, 8)])
def test_fit_palette_recovers_flat_colours(seed, k):
    rng = np.random.default_rng(seed)
    colours = CORNERS[rng.permutation(8)[:k]]
    maps, _ = block_maps(colours, rng)
    palette = fit_palette(maps, k, np.random.default_rng(seed), samples=20_000)
    assert palette.shape == (k, 3) and palette.dtype == np.float32
    assert_recovers(palette, colours, 0.05)
    luminance = palette @ np.array([0.299, 0.587, 0.114])
    assert np.all(np.diff(luminance) >= 0)                            # sorted, so ids are stable
    assert np.array_equal(palette, fit_palette(maps, k, np.random.default_rng(seed), samples=20_000))


def test_fit_palette_centres_are_cluster_means():
    """With noise 0.05 no single pixel is a good centre (each is ~0.09 off), but the mean of a
    cluster's ~1000 pixels is within ~0.003; the noise is too rough to pass the flatness test, so
    it is switched off (flat_tol=inf)."""
    rng = np.random.default_rng(3)
    colours = CORNERS[[1, 2, 4, 7]]
    maps, _ = block_maps(colours, rng, noise=0.05)
    palette = fit_palette(maps, 4, np.random.default_rng(0), samples=20_000, flat_tol=np.inf)
    assert_recovers(palette, colours, 0.02)


def uneven_maps(seed):
    """Pixels (as one (1, 3, 60, 100) map, not flat) of two big, spread clusters (85%) and four
    small, tight ones, three of them in a row 0.4 apart: a single k-means++ seeding often puts two
    centres in a big cluster and one between two small ones, the facades' failure in miniature."""
    colours = np.array([[-0.8, -0.8, -0.8], [0.8, 0.8, 0.8], [0.8, -0.8, -0.8], [0.8, -0.4, -0.8],
                        [0.8, 0.0, -0.8], [-0.8, 0.8, -0.8]])
    rng = np.random.default_rng(seed)
    classes = rng.choice(6, size=6_000, p=[0.55, 0.3, 0.04, 0.04, 0.04, 0.03])
    pixels = colours[classes] + np.where(classes[:, None] < 2, 0.03, 0.01) * rng.standard_normal((6_000, 3))
    return colours, pixels.T.reshape(1, 3, 60, 100)


def test_fit_palette_keeps_the_best_of_its_restarts():
    colours, maps = uneven_maps(0)
    def fit(seed, restarts):
        return fit_palette(maps, 6, np.random.default_rng(seed), restarts=restarts, flat_tol=np.inf)
    for seed in range(6):
        assert_recovers(fit(seed, 10), colours, 0.05)
    with pytest.raises(AssertionError):                               # the case is hard for one seeding
        for seed in range(6):
            assert_recovers(fit(seed, 1), colours, 0.05)


def test_fit_palette_ignores_blur_bands():
    """Stripes of three colours joined by 4-pixel linear blends (40% of the pixels): the blends
    would pull plain k-means' centres off the colours."""
    colours = CORNERS[[0, 3, 6]]
    ramp = np.linspace(0, 1, 6)[1:-1, None]                           # (4, 1) blend weights
    stripe = []
    for c0, c1 in zip(colours, np.roll(colours, -1, 0)):
        stripe += [np.repeat(c0[None], 6, 0), (1 - ramp) * c0 + ramp * c1]
    row = np.concatenate(stripe)                                      # (30, 3): one period
    maps = np.broadcast_to(np.tile(row, (2, 1)).T[None, :, None, :], (4, 3, 60, 60)).astype(np.float32)
    assert_recovers(fit_palette(maps, 3, np.random.default_rng(0), samples=20_000), colours, 0.01)


def test_fit_palette_errors():
    rng = np.random.default_rng(0)
    maps, _ = block_maps(CORNERS[:2], rng)
    with pytest.raises(ValueError, match="fewer than k=3 distinct colours"):
        fit_palette(maps.round(1), 3)
    with pytest.raises(ValueError, match="sampled pixels are flat"):
        fit_palette(rng.uniform(-1, 1, (2, 3, 16, 16)), 3)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        fit_palette(maps[:, :2], 2)


@settings(deadline=None, max_examples=25)
@given(n=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9), k=st.integers(1, 8),
       seed=st.integers(0, 2**32 - 1))
def test_snap_and_one_hot_round_trip(n, h, w, k, seed):
    rng = np.random.default_rng(seed)
    palette = CORNERS[rng.permutation(8)[:k]].astype(np.float32)
    classes = rng.integers(k, size=(n, h, w))
    noise = 0.1 * rng.uniform(-1, 1, (n, 3, h, w))                   # well inside the half gap of 0.8
    maps = palette[classes].transpose(0, 3, 1, 2) + noise
    got, distance = snap_to_palette(maps, palette)
    assert got.dtype == np.int64 and distance.dtype == np.float32
    assert np.array_equal(got, classes)
    assert np.allclose(distance, np.sqrt((noise ** 2).sum(1)), atol=1e-6)
    hot = one_hot(got, k)
    assert hot.shape == (n, k, h, w) and hot.dtype == np.float32
    assert np.array_equal(hot.sum(1), np.ones((n, h, w))) and np.array_equal(hot.argmax(1), classes)


def test_snap_works_in_blocks(monkeypatch):
    rng = np.random.default_rng(0)
    maps = rng.uniform(-1, 1, (5, 3, 7, 9)).astype(np.float32)
    palette = rng.uniform(-1, 1, (6, 3))
    whole = snap_to_palette(maps, palette)
    monkeypatch.setattr(image_data, "_CHUNK", 100)                    # 1 image (63 pixels) per block
    blocks = snap_to_palette(maps, palette)
    assert all(np.array_equal(x, y) for x, y in zip(whole, blocks))
    d = np.sqrt(((maps.transpose(0, 2, 3, 1)[..., None, :] - palette) ** 2).sum(-1))   # (N, H, W, K)
    assert np.array_equal(blocks[0], d.argmin(-1)) and np.allclose(blocks[1], d.min(-1), atol=1e-6)


def test_one_hot_rejects_bad_classes():
    with pytest.raises(ValueError, match=r"class ids must lie in 0\.\.2, got 0\.\.3"):
        one_hot(np.arange(4).reshape(1, 2, 2), 3)
    with pytest.raises(ValueError, match="integer classes"):
        one_hot(np.zeros((1, 2, 2)), 3)


# ---------------------------------------------------------------- the real facades (shared data)
# The 12 label colours of the facades maps: the 12 modes of the colour histogram of the train label
# maps (a JPEG-stable shade of each class's flat colour), measured once with a plain histogram.
FACADES_COLOURS = scaled([[0, 0, 222], [0, 48, 255], [0, 128, 255], [1, 207, 255], [32, 255, 224],
                          [112, 254, 142], [192, 255, 63], [255, 240, 1], [255, 159, 0], [255, 80, 0],
                          [253, 1, 0], [174, 0, 1]])


@pytest.fixture(scope="module")
def facades():
    try:
        return find_facades(os.environ.get("TINYGAN_DATA"))
    except FileNotFoundError:
        pytest.skip("real data: no facades folder via $TINYGAN_DATA or the user cache "
                    "(set TINYGAN_DATA to a folder holding facades/train and facades/test)")


def near_palette(maps, palette, distance):
    return float(np.mean(snap_to_palette(maps, palette)[1] <= distance))


def test_real_facades_test_split(facades):
    labels, photos = load_facades("test", 64, facades)               # MD5-checked against test.md5
    assert labels.shape == photos.shape == (106, 3, 64, 64)
    assert -1 <= labels.min() and photos.max() <= 1
    assert near_palette(labels, FACADES_COLOURS, 0.2) > 0.6           # label maps: flat palette colours
    assert near_palette(photos, FACADES_COLOURS, 0.2) < 0.05          # photos: not


def test_real_facades_palette(facades):
    """The palette fitted on the 400 train label maps at 256x256 finds the 12 colours.

    The issue's wish, 99% of all label pixels within a small distance of a palette colour, does not
    hold for any palette: JPEG blurs every class boundary into a band a few pixels wide, and those
    pixels are blends of two colours. Measured (seed 0, 256x256): the fitted palette has 41.8% of
    all pixels within 0.02, 53.8% within 0.05, 61.6% within 0.1, 71.4% within 0.2 and 86.0%
    within 0.5 ([-1, 1] units; 0.1 is 12.75/255), and the 12 histogram modes above do no better.
    What holds is the same figure among pixels away from the boundaries: of the pixels whose 7x7
    neighbourhood snaps to one class (51% of them), 97.9% lie within 0.1 and 99.3% within 0.2.
    """
    labels, _ = load_facades("train", 256, facades)
    palette = fit_palette(labels, 12, np.random.default_rng(0))
    assert_recovers(palette, FACADES_COLOURS, 0.05)
    classes, distance = snap_to_palette(labels, palette)
    assert np.mean(distance <= 0.1) >= near_palette(labels, FACADES_COLOURS, 0.1) - 0.005
    interior = np.ones(classes.shape, dtype=bool)                     # 7x7 neighbourhood in one class
    padded = np.pad(classes, ((0, 0), (3, 3), (3, 3)), mode="edge")
    for dy in range(7):
        for dx in range(7):
            interior &= padded[:, dy:dy + 256, dx:dx + 256] == classes
    assert interior.mean() > 0.45 and np.mean(distance[interior] <= 0.2) >= 0.99


# ---------------------------------------------------------------- --dataset folder:PATH and folder:A,B
def _folder(path, n, colour):
    path.mkdir(parents=True)
    for i in range(n):
        Image.fromarray(np.full((40, 30, 3), colour, np.uint8)).save(path / f"{i}.png")
    return path


def test_folder_datasets_are_images_or_two_unpaired_domains(tmp_path):
    from tinygan.data import get_dataset
    a, b = _folder(tmp_path / "a", 5, (255, 0, 0)), _folder(tmp_path / "b", 3, (0, 0, 255))
    one = get_dataset(f"folder:{a}", image_size=32)
    assert one.kind == "images" and one.x.shape == (5, 3, 32, 32) and one.y is None and one.num_classes is None
    two = get_dataset(f"folder:{a},{b}", image_size=32)
    assert two.kind == "unpaired" and two.x.shape == (5, 3, 32, 32) and two.y.shape == (3, 3, 32, 32)
    np.testing.assert_allclose(two.y[:, 2], 1.0)                     # B is the blue folder
    assert two.augment is not None and one.augment is None
    with pytest.raises(ValueError, match="no 'test' split"):
        get_dataset(f"folder:{a}", split="test")
    with pytest.raises(ValueError, match="folder:A,B"):
        get_dataset(f"folder:{a},{b},{a}")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        get_dataset(f"folder:{tmp_path / 'nowhere'}")


def test_cli_trains_on_a_folder(tmp_path, capsys):
    from tinygan.cli import main
    a = _folder(tmp_path / "a", 4, (10, 200, 30))
    assert main(["train", "stylegan", "--dataset", f"folder:{a}", "--image-size", "32", "--steps", "2",
                 "--batch-size", "4", "--set", "fmap_base=64", "--set", "fmap_max=8", "--set", "z_dim=8",
                 "--set", "w_dim=8", "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert (tmp_path / "run" / "checkpoint.npz").exists()
    with pytest.raises(SystemExit):
        main(["train", "dcgan", "--dataset", "cifar"])
    assert "folder:PATH" in capsys.readouterr().err
