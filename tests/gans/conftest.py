"""Tiny datasets and a helper that builds any variant on them."""
import numpy as np
import pytest

import tinygan
from tinygan.data import MIXTURES, Dataset
from tinygan.gans import get_variant
from tinygan.gans.common import DataInfo, config_from


@pytest.fixture(scope="session")
def tiny_points():
    x = MIXTURES["ring8"].sample(256, np.random.default_rng(0))
    return Dataset(name="ring8", x=x, y=None, kind="points", num_classes=None)


@pytest.fixture(scope="session")
def tiny_images():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (48, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 48)
    return Dataset(name="tiny-images", x=x, y=y, kind="images", num_classes=10)


@pytest.fixture(scope="session")
def tiny_pairs():
    """(source, target) image pairs at the U-Net's smallest size, 32 x 32 (pix2pix)."""
    rng = np.random.default_rng(0)
    x, y = (rng.uniform(-1, 1, (24, 3, 32, 32)).astype(np.float32) for _ in range(2))
    return Dataset(name="tiny-pairs", x=x, y=y, kind="pairs", num_classes=None)


@pytest.fixture(scope="session")
def tiny_unpaired():
    """Two unaligned domains of 32 x 32 images, B shorter than A (CycleGAN)."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, (24, 1, 32, 32)).astype(np.float32), rng.uniform(-1, 1, (20, 1, 32, 32)).astype(np.float32)
    return Dataset(name="tiny-unpaired", x=x, y=y, kind="unpaired", num_classes=None)


@pytest.fixture(scope="session")
def tiny_class_pairs():
    """(one-hot class map of 4 classes, photo) pairs at 32 x 32 (SPADE, with a one-scale D at this size)."""
    rng = np.random.default_rng(0)
    classes = np.kron(rng.integers(0, 4, (16, 8, 8)), np.ones((1, 4, 4), np.int64))
    y = (classes[:, None] == np.arange(4)[None, :, None, None]).astype(np.float32)
    x = rng.uniform(-1, 1, (16, 3, 32, 32)).astype(np.float32)
    return Dataset(name="tiny-class-pairs", x=x, y=y, kind="pairs", num_classes=4)


@pytest.fixture(scope="session")
def tiny_images32():
    """32 x 32 images with labels, the least the growing StyleGAN works on."""
    rng = np.random.default_rng(0)
    return Dataset(name="tiny-images32", x=rng.uniform(-1, 1, (48, 1, 32, 32)).astype(np.float32),
                   y=rng.integers(0, 10, 48), kind="images", num_classes=10)


# the data each variant is tested on (by default 2-D points), and the config fields that make its networks small
KINDS = {"dcgan": "images", "cgan": "images", "infogan": "images", "pix2pix": "pairs", "cyclegan": "unpaired",
         "spade": "class_pairs", "stylegan": "images32", "sgan": "images"}
SMALL = {"points": {"hidden": 32}, "pairs": {"base": 4}, "unpaired": {"base": 4, "blocks": 1},
         "class_pairs": {"base": 2, "spade_hidden": 4, "scales": 1},
         "images32": {"fmap_base": 64, "fmap_max": 8, "z_dim": 8, "w_dim": 8, "mapping_layers": 2, "stage_steps": 1}}


@pytest.fixture
def tiny_case(tiny_points, tiny_images, tiny_pairs, tiny_unpaired, tiny_class_pairs, tiny_images32):
    """tiny_case(variant) -> (its tiny dataset, the config fields that make its networks small)."""
    data = {"points": tiny_points, "images": tiny_images, "pairs": tiny_pairs, "unpaired": tiny_unpaired,
            "class_pairs": tiny_class_pairs, "images32": tiny_images32}
    return lambda name: (data[KINDS.get(name, "points")], SMALL.get(KINDS.get(name, "points"), {}))


@pytest.fixture
def build():
    """build(name, data, **config_overrides) -> a seeded GAN of that variant."""
    return _build


def _build(name, data, **overrides):
    tinygan.manual_seed(0)
    cls = get_variant(name)
    kind = ("class_pairs" if data.kind == "pairs" and data.num_classes else
            "images32" if data.kind == "images" and data.x.shape[-1] == 32 else data.kind)
    cfg = config_from(cls.Config, {**SMALL.get(kind, {}), **overrides})
    return cls(cfg, DataInfo(data.kind, tuple(data.x.shape[1:]), data.num_classes))
