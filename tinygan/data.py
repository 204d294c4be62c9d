"""Datasets and batching: 2-D toy mixtures, MNIST / Fashion-MNIST, and a seeded batch iterator.

Toy mixtures are the classic mode-collapse probes: a generator that covers only some of the
modes is easy to see and to count.

* ``ring8``: 8 Gaussians on a circle, after Metz et al., "Unrolled Generative Adversarial
  Networks" (2017), here on the unit circle with std 0.01.
* ``grid25``: a 5x5 grid of Gaussians at {-4,-2,0,2,4}^2 with std 0.05, as in Srivastava et al.,
  "VEEGAN" (2017) and Lin et al., "PacGAN" (2018).
* ``gaussian1d``: one 1-D Gaussian, the setting of Goodfellow et al. (2014), Fig. 1.

The image sets are read from their original gzip-compressed IDX files (LeCun et al., "THE MNIST
DATABASE"; Xiao et al., "Fashion-MNIST", 2017). An IDX file is a big-endian header (a magic
number whose last byte is the number of dimensions, then one uint32 per dimension) followed by
the raw uint8 values.

``stacked-mnist`` is the 1000-mode benchmark of the mode-collapse papers (Metz et al. 2017,
"Unrolled GANs"; Srivastava et al. 2017, "VEEGAN", Sec. 5.2; Lin et al. 2018, "PacGAN", Sec. 5):
each image stacks three MNIST digits drawn independently as its three channels, so the digit
triple (one of 10^3) is its mode. VEEGAN's protocol trains on 128,000 such images.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np


# ---------------------------------------------------------------- toy mixtures
@dataclass(frozen=True, eq=False)
class Mixture:
    """An equal-weight mixture of isotropic Gaussians: ``means`` is (K, D), all with one ``std``."""

    means: np.ndarray
    std: float

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` points as float32 (n, D): pick a mode uniformly, then add N(0, std^2 I)."""
        k = rng.integers(len(self.means), size=n)                    # (n,) mode of each point
        noise = rng.standard_normal((n, self.means.shape[1]))        # (n, D)
        return (self.means[k] + self.std * noise).astype(np.float32)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


_angles = 2 * np.pi * np.arange(8) / 8
_grid = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
MIXTURES = {
    "ring8": Mixture(_frozen(np.stack([np.cos(_angles), np.sin(_angles)], axis=1)), 0.01),  # (8, 2)
    "grid25": Mixture(_frozen(np.stack(np.meshgrid(_grid, _grid, indexing="ij"), -1).reshape(-1, 2)),
                      0.05),                                                                 # (25, 2)
}


def ring8(n: int, rng: np.random.Generator) -> np.ndarray:
    """n points (float32, (n, 2)) from 8 Gaussians on the unit circle, std 0.01."""
    return MIXTURES["ring8"].sample(n, rng)


def grid25(n: int, rng: np.random.Generator) -> np.ndarray:
    """n points (float32, (n, 2)) from 25 Gaussians at {-4,-2,0,2,4}^2, std 0.05."""
    return MIXTURES["grid25"].sample(n, rng)


def gaussian1d(n: int, rng: np.random.Generator, mean: float = 4.0, std: float = 1.25) -> np.ndarray:
    """n draws (float32, (n, 1)) from N(mean, std^2)."""
    return (mean + std * rng.standard_normal((n, 1))).astype(np.float32)


# ---------------------------------------------------------------- MNIST-like IDX files
_MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
_FILES = {  # split -> (images file, labels file)
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_MD5 = {  # the checksums published by the datasets' authors (see shared/data/README.md)
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
_IDX_MAGIC = {3: (0x00000803, "IDX image"), 1: (0x00000801, "IDX label")}  # ndim -> (magic, what)


def read_idx(path: str | os.PathLike, ndim: int) -> np.ndarray:
    """Decode a gzip-compressed IDX file of uint8 values with ``ndim`` dimensions (3 or 1).

    The header is validated against the payload, so a wrong file or a truncated download raises
    ``ValueError`` naming the file instead of yielding garbage.
    """
    magic, what = _IDX_MAGIC[ndim]
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError; truncation is EOFError
        raise ValueError(f"{path}: not a readable gzip file ({e})") from e
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: expected at least a {header}-byte {what} header, got {len(raw)} bytes")
    got = int.from_bytes(raw[:4], "big")
    if got != magic:
        raise ValueError(f"{path}: expected magic 0x{magic:08x} for an {what} file, got 0x{got:08x}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise ValueError(f"{path}: expected {expected} bytes for an {what} file of shape {dims}, "
                         f"got {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


@functools.lru_cache(maxsize=8)
def _decode(images: str, labels: str, stamp: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Decode one split once per process; ``stamp`` (mtimes, sizes) invalidates a replaced file."""
    pixels = read_idx(images, 3)                                     # (N, 28, 28) uint8
    y = read_idx(labels, 1).astype(np.int64)                         # (N,)
    if len(pixels) != len(y):
        raise ValueError(f"{images} holds {len(pixels)} images but {labels} holds {len(y)} labels")
    if y.size and y.max() > 9:
        raise ValueError(f"{labels}: expected labels 0-9, got a {y.max()}")
    x = pixels[:, None].astype(np.float32)                           # (N, 1, 28, 28) in [0, 255]
    x -= 127.5                                                       # exact in float32, so the one
    x /= 127.5                                                       # rounding is here: [-1, 1]
    return _frozen(x), _frozen(y)  # shared by every caller, so read-only


def _cache_dir(name: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinygan" / name


def candidate_dirs(name: str, data_dir: str | os.PathLike | None) -> list[Path]:
    """Folders to look in, in order: data_dir, $TINYGAN_DATA (each as parent, then direct), cache."""
    dirs = []
    for root in (data_dir, os.environ.get("TINYGAN_DATA")):
        if root:
            root = Path(root).expanduser()
            dirs.append(root / name)
            if root.name not in _MIRRORS or root.name == name:  # a sibling set's folder is not ours
                dirs.append(root)
    dirs.append(_cache_dir(name))
    return dirs


def _download(url: str, dest: Path, md5: str) -> None:
    """Fetch ``url`` to ``dest`` via a temp file in the same folder, then check its MD5 and rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=60) as r:
            while chunk := r.read(1 << 20):
                f.write(chunk)
        digest = hashlib.md5(Path(tmp).read_bytes()).hexdigest()
        if digest != md5:
            raise ValueError(f"downloaded {url} has MD5 {digest}, expected {md5}; the file was deleted")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _find_split(name: str, split: str, data_dir, download: bool) -> tuple[Path, Path]:
    files = _FILES[split]
    dirs = candidate_dirs(name, data_dir)
    for d in dirs:
        if all((d / f).is_file() for f in files):
            return d / files[0], d / files[1]
    looked = "\n  ".join(str(d) for d in dirs)
    hint = (f"could not find {name} files {files[0]} and {files[1]}; looked in:\n  {looked}\n"
            f"Set TINYGAN_DATA (or pass --data-dir / data_dir=) to a folder holding the four .gz files "
            f"(or a parent holding a {name}/ folder), or connect to the internet to download them "
            f"into {dirs[-1]}.")
    if not download:
        raise FileNotFoundError(hint + " (download=False)")
    cache = dirs[-1]
    for f in files:
        if not (cache / f).is_file():
            try:
                _download(_MIRRORS[name] + f, cache / f, _MD5[name][f])
            except OSError as e:  # URLError, timeouts, no route: we are offline
                raise FileNotFoundError(f"{hint}\nDownloading {_MIRRORS[name] + f} failed: {e}") from e
    return cache / files[0], cache / files[1]


def load_mnist(name: str = "mnist", split: str = "train", data_dir: str | os.PathLike | None = None,
               download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST or Fashion-MNIST as (images float32 (N, 1, 28, 28) in [-1, 1], labels int64 (N,)).

    The files are searched in ``data_dir``, then ``$TINYGAN_DATA`` (each either the folder holding
    the .gz files or its parent with a ``<name>/`` subfolder), then ``$XDG_CACHE_HOME/tinygan/<name>``
    (default ``~/.cache/tinygan/<name>``), and downloaded there, MD5-checked, if ``download``.
    The returned arrays are cached per process and read-only.
    """
    if name not in _MIRRORS:
        raise ValueError(f"unknown image dataset {name!r}; expected one of {sorted(_MIRRORS)}")
    if split not in _FILES:
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'test'")
    images, labels = _find_split(name, split, data_dir, download)
    stamp = tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in (images, labels))
    return _decode(str(images.resolve()), str(labels.resolve()), stamp)


# ---------------------------------------------------------------- the dataset registry
DATASETS = {
    "ring8": "8 Gaussians on the unit circle, std 0.01 (2-D points)",
    "grid25": "25 Gaussians on the grid {-4,-2,0,2,4}^2, std 0.05 (2-D points)",
    "gaussian1d": "one Gaussian N(4, 1.25^2) (1-D points)",
    "mnist": "MNIST handwritten digits, 1x28x28 in [-1, 1], 10 classes",
    "fashion-mnist": "Fashion-MNIST clothing, 1x28x28 in [-1, 1], 10 classes",
    "stacked-mnist": "three MNIST digits as the channels of one 3x28x28 image: 1000 modes (128,000 images)",
    "mnist32": "MNIST padded to 1x32x32 (the growing StyleGAN's size), 10 classes",
    "fashion-mnist32": "Fashion-MNIST padded to 1x32x32, 10 classes",
    "facades": "CMP facades, pix2pix's pairs: label map -> photo, 3x S x S (--image-size), 400 train / 106 test",
    "facades-classes": "CMP facades for SPADE: one-hot maps of the 12 label classes -> photo (--image-size)",
    "facades-unpaired": "CMP facades as two unpaired domains for CycleGAN: A photos, B label maps (--image-size)",
    "mnist-fashion": "two unpaired domains for CycleGAN: A MNIST digits, B Fashion-MNIST clothes, 1x28x28",
}
STACKED = 128_000  # Stacked MNIST's training images (VEEGAN, Sec. 5.2)


class StackedDigits:
    """Stacked MNIST images made when indexed: image i is digits[index[i]] stacked as 3 channels.

    It stands in for an (N, 3, 28, 28) float32 array (``shape``, ``len``, ``x[idx]``) without
    holding the 1.2 GB that 128,000 stacked images would take.
    """

    def __init__(self, digits: np.ndarray, index: np.ndarray):
        self.digits, self.index = digits, index                       # (M, 1, 28, 28), (N, 3)
        self.shape, self.dtype = (len(index), 3, *digits.shape[2:]), digits.dtype

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, idx) -> np.ndarray:
        return self.digits[self.index[idx], 0]                        # (B, 3, 28, 28)


def stacked_mnist(digits: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator):
    """(StackedDigits, modes): n images of three digits drawn independently, and each image's mode
    100 * label_R + 10 * label_G + label_B in 0..999."""
    index = rng.integers(0, len(digits), (n, 3))
    return StackedDigits(digits, index), labels[index] @ np.array([100, 10, 1])


@dataclass(frozen=True, eq=False)
class Dataset:
    """Training data in memory: ``x`` float32 (or ``StackedDigits``), ``y`` int64 labels, source
    images (the "pairs" kind: G translates y[i] into x[i]), a second domain ("unpaired": x is
    domain A, y domain B, of any length, not aligned) or None.

    ``augment(x, y, rng)``, if given, transforms each training batch (pix2pix's random jitter),
    its draws from the batch's own generator.
    """

    name: str
    x: np.ndarray
    y: np.ndarray | None
    kind: str                      # "points" (toy mixtures), "images" (N, C, H, W), "pairs" or "unpaired"
    num_classes: int | None        # 10 for the image sets, the label map's classes for facades-classes, else None
    augment: Callable | None = None

    def __len__(self) -> int:
        return len(self.x)


def get_dataset(name: str, *, data_dir: str | os.PathLike | None = None,
                rng: np.random.Generator | None = None, n: int | None = None,
                split: str = "train", image_size: int = 64) -> Dataset:
    """Build a dataset by name (see ``DATASETS``).

    Toy sets are a fixed pool of ``n`` points (default 100,000) drawn with ``rng`` (default seed 0);
    image sets are the ``split`` of the IDX files, cut to the first ``n`` items if ``n`` is given;
    Stacked MNIST is ``n`` (default 128,000) triples of the ``split``'s digits drawn with ``rng``,
    its labels the 1000 modes. ``facades`` is the ``split``'s (label map, photo) pairs at
    ``image_size`` as (y, x), the training split jittered batch by batch (``image_data.jitter``);
    ``facades-classes`` the same with one-hot class maps (12, S, S) as y (SPADE).
    The unpaired sets hold domain A as x and domain B as y; the trainer draws B's batches apart from A's.
    """
    if name.startswith(FOLDER):
        return image_folders(name, split, image_size, n)
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)} or {FOLDER}PATH")
    if name in _MIRRORS:
        x, y = load_mnist(name, split, data_dir)
        return Dataset(name, x[:n], y[:n], "images", 10)
    if name in ("mnist32", "fashion-mnist32"):  # 2 background pixels (-1) on each side
        x, y = load_mnist(name[:-2], split, data_dir)
        return Dataset(name, np.pad(x[:n], ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=-1.0), y[:n], "images", 10)
    if name == "facades":
        from .image_data import jitter, load_facades
        labels, photos = load_facades(split, image_size, data_dir)
        return Dataset(name, photos[:n], labels[:n], "pairs", None, jitter if split == "train" else None)
    if name == "facades-classes":
        from .image_data import jitter_classes, load_facades_classes
        classes, photos, _ = load_facades_classes(split, image_size, data_dir)
        return Dataset(name, photos[:n], classes[:n], "pairs", classes.shape[1],
                       jitter_classes if split == "train" else None)
    if name == "facades-unpaired":
        from .image_data import jitter_each, load_facades
        labels, photos = load_facades(split, image_size, data_dir)
        return Dataset(name, photos[:n], labels[:n], "unpaired", None, jitter_each if split == "train" else None)
    if name == "mnist-fashion":
        return Dataset(name, load_mnist("mnist", split, data_dir)[0][:n],
                       load_mnist("fashion-mnist", split, data_dir)[0][:n], "unpaired", None)
    rng = np.random.default_rng(0) if rng is None else rng
    if name == "stacked-mnist":
        x, modes = stacked_mnist(*load_mnist("mnist", split, data_dir), STACKED if n is None else n, rng)
        return Dataset(name, x, modes, "images", 1000)
    n = 100_000 if n is None else n
    x = gaussian1d(n, rng) if name == "gaussian1d" else MIXTURES[name].sample(n, rng)
    return Dataset(name, x, None, "points", None)


FOLDER = "folder:"  # --dataset folder:PATH (images for an unconditional G) or folder:A,B (CycleGAN's domains)


def image_folders(name: str, split: str, image_size: int, n: int | None = None) -> Dataset:
    """Your own images: ``folder:PATH`` gives every image in PATH as an unlabelled "images" set (for a
    G of any size, e.g. stylegan); ``folder:A,B`` gives two folders as CycleGAN's unpaired domains,
    jittered for training like the facades. Read by ``image_data.load_image_folder``, resized to
    ``image_size``. A folder is all training data: there is no test split."""
    from .image_data import jitter_each, load_image_folder
    paths = [p for p in name[len(FOLDER):].split(",") if p]
    if len(paths) not in (1, 2):
        raise ValueError(f"--dataset {name}: expected {FOLDER}PATH or {FOLDER}A,B (two folders)")
    if split != "train":
        raise ValueError(f"--dataset {name}: a folder of images has no {split!r} split; it is all training data")
    x = [load_image_folder(p, image_size)[:n] for p in paths]
    if len(x) == 1:
        return Dataset(name, x[0], None, "images", None)
    return Dataset(name, x[0], x[1], "unpaired", None, jitter_each)


# ---------------------------------------------------------------- a few labels (semi-supervised learning)
def labelled_subset(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``per_class`` examples of each class of the labels ``y`` (all of a class that has
    fewer), grouped by class: the first of each class in an order drawn with ``rng``, as Salimans
    et al. (2016) choose their 100 MNIST labels (10 per class). The same ``rng`` seed, the same set."""
    order = rng.permutation(len(y))                                  # (N,)
    return np.concatenate([order[y[order] == k][:per_class] for k in np.unique(y)])


# ---------------------------------------------------------------- batching
class BatchIterator:
    """One epoch of minibatches ``(x_batch, y_batch or None)``, reshuffled with ``rng`` each epoch.

    Accepts a ``Dataset``, an ``(x, y)`` pair or a bare ``x``. The same seed gives the same order.
    """

    def __init__(self, data: Dataset | tuple | np.ndarray, batch_size: int, rng: np.random.Generator,
                 shuffle: bool = True, drop_last: bool = True):
        if isinstance(data, Dataset):
            self.x, self.y = data.x, data.y
        elif isinstance(data, tuple):
            self.x, self.y = data
        else:
            self.x, self.y = data, None
        n = len(self.x)
        if self.y is not None and len(self.y) != n:
            raise ValueError(f"x has {n} items but y has {len(self.y)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if drop_last and batch_size > n:
            raise ValueError(f"batch_size {batch_size} is larger than the dataset ({n} items), "
                             f"so drop_last=True would leave no batch")
        self.batch_size, self.rng, self.shuffle, self.drop_last = batch_size, rng, shuffle, drop_last

    def __len__(self) -> int:
        n, b = len(self.x), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        n = len(self.x)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            yield self.x[idx], (None if self.y is None else self.y[idx])


def infinite(batches: Iterable) -> Iterator:
    """Loop over ``batches`` epoch after epoch, forever; the trainer calls ``next()`` on it."""
    while True:
        empty = True
        for batch in batches:
            empty = False
            yield batch
        if empty:
            raise ValueError("infinite(): an epoch yielded no batches")
