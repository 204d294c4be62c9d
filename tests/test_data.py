"""Tests for tinygan.data: toy mixtures, IDX parsing, the file lookup order, batching.

The network is never touched: every test that could download patches ``_download``.
"""
import gzip
import hashlib
import os
import pathlib

import numpy as np
import pytest

from tinygan import data
from tinygan.data import MIXTURES, BatchIterator, get_dataset, grid25, infinite, load_mnist, ring8

TRAIN = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
TEST = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


# ---------------------------------------------------------------- toy mixtures
@pytest.mark.parametrize("name,sample", [("ring8", ring8), ("grid25", grid25)])
def test_mixture_shape_modes_and_spread(name, sample):
    mix = MIXTURES[name]
    x = sample(2000, np.random.default_rng(0))
    assert x.shape == (2000, 2) and x.dtype == np.float32
    dist = np.linalg.norm(x[:, None, :] - mix.means[None], axis=-1)   # (n, K)
    assert dist.min(axis=1).max() < 5 * mix.std                       # all within 5 std of a mean
    assert len(np.unique(dist.argmin(axis=1))) == len(mix.means)      # every mode is hit


def test_mixture_means():
    assert MIXTURES["ring8"].means.shape == (8, 2) and MIXTURES["ring8"].std == 0.01
    assert np.allclose(np.linalg.norm(MIXTURES["ring8"].means, axis=1), 1.0)
    assert MIXTURES["grid25"].means.shape == (25, 2) and MIXTURES["grid25"].std == 0.05
    assert set(MIXTURES["grid25"].means.ravel()) == {-4.0, -2.0, 0.0, 2.0, 4.0}


def test_toy_sets_are_seeded():
    for f in (ring8, grid25, data.gaussian1d):
        a, b = f(100, np.random.default_rng(7)), f(100, np.random.default_rng(7))
        assert np.array_equal(a, b)
        assert not np.array_equal(a, f(100, np.random.default_rng(8)))
    g = data.gaussian1d(50_000, np.random.default_rng(0))
    assert g.shape == (50_000, 1) and g.dtype == np.float32
    assert abs(g.mean() - 4.0) < 0.05 and abs(g.std() - 1.25) < 0.05


# ---------------------------------------------------------------- IDX files
def idx_bytes(magic, dims, payload):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + np.asarray(payload, dtype=np.uint8).tobytes()


def write_split(folder, files=TEST, n=3, fill=None):
    """Write a tiny valid split into ``folder``; ``fill`` sets every pixel (to tell folders apart)."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.arange(n * 28 * 28, dtype=np.int64) % 256 if fill is None else np.full(n * 784, fill)
    (folder / files[0]).write_bytes(gzip.compress(idx_bytes(0x803, (n, 28, 28), pixels)))
    (folder / files[1]).write_bytes(gzip.compress(idx_bytes(0x801, (n,), np.arange(n) % 10)))
    return pixels.reshape(n, 1, 28, 28)


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    """No TINYGAN_DATA, a cache inside tmp_path, and a download that fails loudly if reached."""
    monkeypatch.delenv("TINYGAN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def no_network(url, dest, md5):
        raise AssertionError(f"tests must not download {url}")
    monkeypatch.setattr(data, "_download", no_network)


def test_idx_values_and_scaling(tmp_path, no_env):
    pixels = write_split(tmp_path)
    x, y = load_mnist("mnist", "test", data_dir=tmp_path)
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2]
    assert x.min() == -1.0 and x.max() == 1.0
    assert np.allclose(x, (pixels - 127.5) / 127.5, rtol=0, atol=1e-7)


@pytest.mark.parametrize("content,match", [
    (gzip.compress(idx_bytes(0x801, (3, 28, 28), [0] * 3 * 784)), "expected magic 0x00000803"),
    (gzip.compress(idx_bytes(0x803, (3, 28, 28), [0] * 100)), "expected 2368 bytes"),
    (b"definitely not gzip", "not a readable gzip file"),
    (gzip.compress(idx_bytes(0x803, (3, 28, 28), [0] * 3 * 784))[:-20], "not a readable gzip file"),
    (gzip.compress(b"\x00\x00"), "header"),
])
def test_corrupt_image_file_raises_naming_it(tmp_path, no_env, content, match):
    write_split(tmp_path)
    (tmp_path / TEST[0]).write_bytes(content)
    with pytest.raises(ValueError, match=match) as err:
        load_mnist("mnist", "test", data_dir=tmp_path)
    assert TEST[0] in str(err.value)


def test_label_count_mismatch_raises(tmp_path, no_env):
    write_split(tmp_path)
    (tmp_path / TEST[1]).write_bytes(gzip.compress(idx_bytes(0x801, (2,), [0, 1])))
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        load_mnist("mnist", "test", data_dir=tmp_path)


# ---------------------------------------------------------------- lookup order
def test_lookup_order(tmp_path, monkeypatch, no_env):
    write_split(tmp_path / "arg", fill=10)
    write_split(tmp_path / "env", fill=20)
    write_split(tmp_path / "cache" / "tinygan" / "mnist", fill=30)
    monkeypatch.setenv("TINYGAN_DATA", str(tmp_path / "env"))

    def first_pixel(**kw):
        return round((float(load_mnist("mnist", "test", **kw)[0].flat[0]) + 1) * 127.5)
    assert first_pixel(data_dir=tmp_path / "arg") == 10         # data_dir beats TINYGAN_DATA
    assert first_pixel() == 20                                  # TINYGAN_DATA beats the cache
    monkeypatch.delenv("TINYGAN_DATA")
    assert first_pixel() == 30                                  # the cache comes last


def test_parent_folder_layout(tmp_path, monkeypatch, no_env):
    write_split(tmp_path / "root" / "mnist", fill=1)
    write_split(tmp_path / "root" / "fashion-mnist", fill=2)
    assert load_mnist("fashion-mnist", "test", data_dir=tmp_path / "root")[0].flat[0] == 2 / 127.5 - 1
    monkeypatch.setenv("TINYGAN_DATA", str(tmp_path / "root"))
    assert load_mnist("mnist", "test")[0].flat[0] == 1 / 127.5 - 1
    monkeypatch.delenv("TINYGAN_DATA")
    with pytest.raises(FileNotFoundError):      # a folder named after the other set is not used directly
        load_mnist("fashion-mnist", "test", data_dir=tmp_path / "root" / "mnist", download=False)


def test_absent_without_download_raises(tmp_path, monkeypatch, no_env):
    monkeypatch.setenv("TINYGAN_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError, match="TINYGAN_DATA") as err:
        load_mnist("mnist", "train", data_dir=tmp_path / "arg", download=False)
    for place in ("arg", "env", str(pathlib.Path("cache", "tinygan", "mnist"))):
        assert place in str(err.value)


def test_offline_download_raises_file_not_found(tmp_path, monkeypatch, no_env):
    calls = []

    def offline(url, dest, md5):
        calls.append(url)
        raise OSError("network is unreachable")
    monkeypatch.setattr(data, "_download", offline)
    with pytest.raises(FileNotFoundError, match="TINYGAN_DATA"):
        load_mnist("fashion-mnist", "test")
    assert calls == [data._MIRRORS["fashion-mnist"] + TEST[0]]


def test_download_checks_md5_and_deletes(tmp_path, monkeypatch):
    served = tmp_path / "served.gz"
    served.write_bytes(b"not what was published")
    dest = tmp_path / "cache" / "file.gz"
    with pytest.raises(ValueError, match="MD5"):
        data._download(served.as_uri(), dest, "0" * 32)       # a file:// URL: no network involved
    assert list(dest.parent.iterdir()) == []
    data._download(served.as_uri(), dest, hashlib.md5(served.read_bytes()).hexdigest())
    assert dest.read_bytes() == served.read_bytes()


SHARED = os.environ.get("TINYGAN_DATA")


@pytest.mark.skipif(not (SHARED and pathlib.Path(SHARED, "mnist", TEST[0]).is_file()),
                    reason="real MNIST not found under $TINYGAN_DATA/mnist")
def test_real_mnist_test_split():
    x, y = load_mnist("mnist", "test", data_dir=SHARED, download=False)
    assert x.shape == (10000, 1, 28, 28) and y.shape == (10000,)
    assert x.min() == -1.0 and x.max() == 1.0
    assert np.bincount(y, minlength=10).sum() == 10000 and len(np.bincount(y)) == 10
    assert load_mnist("mnist", "test", data_dir=SHARED)[0] is x          # cached per process


# ---------------------------------------------------------------- registry
def test_get_dataset(tmp_path, no_env):
    ds = get_dataset("grid25", rng=np.random.default_rng(0), n=500)
    assert ds.x.shape == (500, 2) and ds.y is None and ds.kind == "points" and ds.num_classes is None
    assert set(data.DATASETS) == {"ring8", "grid25", "gaussian1d", "mnist", "fashion-mnist", "stacked-mnist", "mnist32",
                                  "fashion-mnist32", "facades", "facades-classes", "facades-unpaired", "mnist-fashion"}
    write_split(tmp_path / "mnist", files=TRAIN, n=5)
    img = get_dataset("mnist", data_dir=tmp_path, n=4)
    assert img.x.shape == (4, 1, 28, 28) and img.y.shape == (4,) and img.kind == "images"
    assert img.num_classes == 10
    with pytest.raises(ValueError, match="ring8"):
        get_dataset("cifar10")


def test_stacked_mnist_stacks_three_independent_digits_and_labels_their_mode(tmp_path, no_env):
    pixels = write_split(tmp_path / "mnist", files=TRAIN, n=10)         # digit i has label i
    ds = get_dataset("stacked-mnist", data_dir=tmp_path, n=2000, rng=np.random.default_rng(0))
    assert ds.x.shape == (2000, 3, 28, 28) and len(ds) == 2000 and ds.kind == "images" and ds.num_classes == 1000
    idx = np.array([5, 0, 1999])
    batch = ds.x[idx]
    assert batch.shape == (3, 3, 28, 28) and batch.dtype == np.float32
    for image, mode in zip(batch, ds.y[idx]):  # each channel is the digit its mode names, scaled to [-1, 1]
        for channel, digit in zip(image, (mode // 100, mode // 10 % 10, mode % 10)):
            np.testing.assert_allclose(channel, (pixels[digit, 0] - 127.5) / 127.5, rtol=1e-6)
    counts = np.bincount(ds.y, minlength=1000)                        # independent, uniform digits
    assert counts.sum() == 2000 and (counts > 0).sum() > 800
    assert np.abs(np.bincount(ds.y // 100, minlength=10) / 2000 - 0.1).max() < 0.03
    again = get_dataset("stacked-mnist", data_dir=tmp_path, n=2000, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again.y, ds.y)                      # seeded


# ---------------------------------------------------------------- batching
def test_batches_shapes_and_len():
    x, y = np.zeros((10, 1, 28, 28), np.float32), np.arange(10)
    it = BatchIterator((x, y), 4, np.random.default_rng(0))
    batches = list(it)
    assert len(it) == len(batches) == 2
    assert all(bx.shape == (4, 1, 28, 28) and by.shape == (4,) for bx, by in batches)
    assert len(BatchIterator(x, 4, np.random.default_rng(0), drop_last=False)) == 3
    assert next(iter(BatchIterator(x, 4, np.random.default_rng(0))))[1] is None


def test_epoch_covers_each_index_once():
    y = np.arange(23)
    it = BatchIterator((y.astype(np.float32), y), 5, np.random.default_rng(1), drop_last=False)
    seen = np.concatenate([by for _, by in it])
    assert sorted(seen.tolist()) == list(range(23))
    assert not np.array_equal(seen, y)                                       # it did shuffle
    again = np.concatenate([by for _, by in it])
    assert not np.array_equal(seen, again)                                   # and reshuffles


def test_batches_are_seeded():
    ds = get_dataset("ring8", rng=np.random.default_rng(0), n=100)

    def order(seed):
        return np.concatenate([bx for bx, _ in BatchIterator(ds, 16, np.random.default_rng(seed))])
    assert np.array_equal(order(3), order(3))
    assert not np.array_equal(order(3), order(4))


def test_oversize_batch_raises():
    with pytest.raises(ValueError, match="64.*10"):
        BatchIterator(np.zeros((10, 2)), 64, np.random.default_rng(0))
    assert len(BatchIterator(np.zeros((10, 2)), 64, np.random.default_rng(0), drop_last=False)) == 1


def test_infinite_loops_epochs():
    it = BatchIterator(np.arange(6.0), 2, np.random.default_rng(0), shuffle=False)
    stream = infinite(it)
    got = [next(stream)[0].tolist() for _ in range(5)]
    assert got == [[0, 1], [2, 3], [4, 5], [0, 1], [2, 3]]
    with pytest.raises(ValueError):
        next(infinite([]))
