"""Image-to-image data: the pix2pix facades pairs, folders of images, pix2pix's jitter, label palettes.

``facades`` is the CMP Facade Database (Tyleček and Šára, "Spatial Pattern Templates for
Recognition of Objects with Regular Structure", GCPR 2013) in the split and format of pix2pix
(Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks", CVPR 2017):
``train/`` (400) and ``test/`` (106) JPEGs ``1.jpg``..``N.jpg``, each 512x256 with the photo on
the left half and its label map on the right half. pix2pix's facades task maps label -> photo.

``jitter`` is pix2pix's training augmentation (Sec. 6.1; ``resize_and_crop`` plus a flip in the
authors' code): upscale 256 -> 286, take a random 256x256 crop, flip horizontally half the time,
with the same crop and flip for both images of a pair.

Why a palette: a label map paints its 12 classes (facade, molding, cornice, pillar, window, door,
sill, blind, balcony, shop, deco, background) in 12 flat colours of a jet-like colormap, but JPEG
compression blurs them, so a map holds thousands of nearby shades and a band of in-between colours
a few pixels wide at every class boundary (ringing even adds a dark halo colour of its own). SPADE
(Park et al., "Semantic Image Synthesis with Spatially-Adaptive Normalization", CVPR 2019) wants a
one-hot map instead. The 12 colours are not shipped with the data, so they are recovered from it:
k-means (Lloyd 1982, with the k-means++ seeding of Arthur and Vassilvitskii 2007) on a sample of
the pixels that lie inside flat regions finds the 12 clusters (``fit_palette``), and each pixel is
snapped to its nearest cluster colour (``snap_to_palette``), whose index is its class (``one_hot``).
The pixels of a blur band land on the nearest of the colours they mix, and their distance to the
palette stays large: at 256x256, 62% of the facades label pixels lie within 0.1 (13/255) of a
palette colour and 86% within 0.5, but 98% of those away from class boundaries lie within 0.1.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image

from .data import candidate_dirs

FACADES_URL = "https://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
PAIR_SIZE = (512, 256)     # (width, height) of a facades file: photo | label map
_CHUNK = 1 << 16           # pixels per block in snap_to_palette, to bound its (pixels, k, 3) temporary


# ---------------------------------------------------------------- decoding
def _open_rgb(path: Path) -> Image.Image:
    """Decode ``path`` fully as an RGB image; any decoding failure is a ValueError naming the file."""
    try:
        with Image.open(path) as img:
            return img.convert("RGB")  # convert loads the pixels, so a truncated file fails here
    except (OSError, ValueError) as e:  # Pillow's UnidentifiedImageError is an OSError
        raise ValueError(f"{path}: not a readable image ({e})") from e


def _resized(img: Image.Image, size: int) -> Image.Image:
    return img if img.size == (size, size) else img.resize((size, size), Image.BICUBIC)


def _to_chw(img: Image.Image) -> np.ndarray:
    """An 8-bit RGB image as float32 (3, H, W) in [-1, 1]: (p - 127.5) / 127.5, i.e. p / 127.5 - 1."""
    x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1)          # (3, H, W) in [0, 255]
    x -= 127.5                                                        # exact in float32, so the one
    x /= 127.5                                                        # rounding is here (as data.py)
    return x


def _check_size(size) -> None:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")


# ---------------------------------------------------------------- facades
def find_facades(data_dir: str | os.PathLike | None = None) -> Path:
    """The ``facades`` folder holding ``train/`` and ``test/``.

    Searched in ``data_dir``, then ``$TINYGAN_DATA`` (each either the facades folder itself or its
    parent holding ``facades/``), then ``$XDG_CACHE_HOME/tinygan/facades`` (default
    ``~/.cache/tinygan/facades``). Nothing is downloaded.
    """
    dirs = candidate_dirs("facades", data_dir)
    for d in dirs:
        if (d / "train").is_dir() and (d / "test").is_dir():
            return d
    looked = "\n  ".join(str(d) for d in dirs)
    raise FileNotFoundError(
        f"could not find the facades dataset (a folder holding train/ and test/); looked in:\n  {looked}\n"
        f"Download the pix2pix facades archive from the pix2pix authors, {FACADES_URL}, and unpack it "
        f"(tar -xzf facades.tar.gz -C DIR) into a folder DIR that you pass as --data-dir / data_dir= or "
        f"set as TINYGAN_DATA, or into {dirs[-1].parent} (giving {dirs[-1]}).")


def _numbered_images(folder: Path) -> list[Path]:
    """The image files of ``folder``, named ``1.jpg``..``N.jpg``, in numeric order (2 before 10)."""
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    for p in files:
        if not p.stem.isdecimal():
            raise ValueError(f"{p}: expected numbered pair images 1.jpg..N.jpg, got {p.name!r}")
    if not files:
        raise FileNotFoundError(f"{folder}: no images, expected numbered pair images 1.jpg..N.jpg")
    return sorted(files, key=lambda p: int(p.stem))


def _check_md5(folder: Path, files: list[Path], listing: Path) -> None:
    """Compare each file's MD5 with ``listing`` (md5sum format: ``<md5>  <name>`` per line).

    A listed file that is missing, a file that is not listed, or a different checksum is a ValueError.
    """
    expected = {}
    for number, line in enumerate(listing.read_text().splitlines(), 1):
        if line.strip():
            parts = line.split(maxsplit=1)
            if len(parts) != 2 or len(parts[0]) != 32:
                raise ValueError(f"{listing}, line {number}: expected '<md5>  <name>', got {line!r}")
            expected[parts[1].strip().lstrip("*")] = parts[0].lower()   # '*' marks md5sum's binary mode
    present = {p.name: p for p in files}
    missing = sorted(expected.keys() - present.keys(), key=lambda name: (len(name), name))
    if missing:
        raise ValueError(f"{listing} lists {len(missing)} files missing from {folder}, the first "
                         f"{folder / missing[0]} (expected MD5 {expected[missing[0]]})")
    for name, path in present.items():
        if name not in expected:
            raise ValueError(f"{path} is not listed in {listing}; remove it, or pass check_md5=False")
        got = hashlib.md5(path.read_bytes()).hexdigest()
        if got != expected[name]:
            raise ValueError(f"{path} has MD5 {got}, but {listing} expects {expected[name]}")


def load_facades(split: str = "train", size: int = 256, data_dir: str | os.PathLike | None = None,
                 check_md5: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The facades pairs as ``(labels, photos)``, both float32 (N, 3, size, size) in [-1, 1].

    Pair i is file ``i.jpg`` (numeric order): its right half is the label map, its left half the
    photo, each 256x256 and resized to ``size`` with Pillow's bicubic filter (8-bit, as pix2pix's
    loader). With ``check_md5``, each file is checked against ``<split>.md5`` beside the split's
    folder when that list exists. Search order for the folder: see ``find_facades``.
    """
    if split not in ("train", "test"):
        raise ValueError(f"unknown facades split {split!r}; expected 'train' or 'test'")
    _check_size(size)
    folder = find_facades(data_dir) / split
    files = _numbered_images(folder)
    listing = folder.parent / f"{split}.md5"
    if check_md5 and listing.is_file():
        _check_md5(folder, files, listing)
    labels = np.empty((len(files), 3, size, size), np.float32)      # filled in place: no second copy
    photos = np.empty((len(files), 3, size, size), np.float32)
    half = PAIR_SIZE[0] // 2
    for i, path in enumerate(files):
        pair = _open_rgb(path)
        if pair.size != PAIR_SIZE:
            raise ValueError(f"{path}: expected a {PAIR_SIZE[0]}x{PAIR_SIZE[1]} image (photo | label map), "
                             f"got {pair.size[0]}x{pair.size[1]}")
        photos[i] = _to_chw(_resized(pair.crop((0, 0, half, PAIR_SIZE[1])), size))
        labels[i] = _to_chw(_resized(pair.crop((half, 0, PAIR_SIZE[0], PAIR_SIZE[1])), size))
    return labels, photos


# ---------------------------------------------------------------- folders of images
def load_image_folder(path: str | os.PathLike, size: int) -> np.ndarray:
    """Every image in folder ``path`` (not its subfolders) as float32 (N, 3, size, size) in [-1, 1].

    Files ending in .jpg .jpeg .png .bmp .webp (any case) are read in name order, converted to RGB
    (an alpha channel is dropped) and resized to size x size with Pillow's bicubic filter, without
    keeping the aspect ratio. Other files are ignored.
    """
    _check_size(size)
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist or is not a folder")
    files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                   key=lambda p: p.name)
    if not files:
        raise FileNotFoundError(f"{folder}: no image files (expected names ending in "
                                f"{' '.join(IMAGE_SUFFIXES)})")
    x = np.empty((len(files), 3, size, size), np.float32)           # (N, 3, size, size)
    for i, p in enumerate(files):
        x[i] = _to_chw(_resized(_open_rgb(p), size))
    return x


# ---------------------------------------------------------------- pix2pix jitter
def _resize_plane(plane: np.ndarray, size: int) -> np.ndarray:
    """One (S, S) channel resized to (size, size) with Pillow's bicubic filter on 32-bit floats
    (mode "F"), clipped to the channel's own [min, max]: bicubic overshoots at sharp edges, where
    the reference's 8-bit resize clamps to [0, 255]."""
    plane = np.ascontiguousarray(plane, dtype=np.float32)
    if plane.shape[0] == size:
        return plane
    big = np.asarray(Image.fromarray(plane).resize((size, size), Image.BICUBIC))
    return np.clip(big, plane.min(), plane.max())


def _resize_crop_flip(x: np.ndarray, size: int, corners: np.ndarray, flips: np.ndarray) -> np.ndarray:
    n, c, s, _ = x.shape
    out = np.empty((n, c, s, s), np.float32)
    for i in range(n):
        top, left = corners[i]
        for ch in range(c):
            crop = _resize_plane(x[i, ch], size)[top:top + s, left:left + s]   # (S, S)
            out[i, ch] = crop[:, ::-1] if flips[i] else crop
    return out


def jitter(a: np.ndarray, b: np.ndarray | None, rng: np.random.Generator,
           load_size: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """pix2pix's random jitter of image pairs (Isola et al. 2017, Sec. 6.1): returns ``(a', b')``.

    For each pair i, a[i] and b[i] (float (C, S, S); C may differ between a and b) are resized to
    L x L, L = ``load_size`` or round(286 / 256 * S) (286 for S = 256), then cut to the same random
    S x S crop and flipped left-right together with probability 1/2. The resize is Pillow's bicubic
    on float32 channels (see ``_resize_plane``). All draws come from ``rng``, so a seeded generator
    repeats them. ``b=None`` jitters ``a`` alone (CycleGAN's unpaired domains) and returns
    ``(a', None)``. A one-hot map would be blurred by the resize: jitter the colour label map with
    its photo and snap it to the palette afterwards.
    """
    if a.ndim != 4 or a.shape[2] != a.shape[3]:
        raise ValueError(f"jitter: expected a as (N, C, S, S), got shape {a.shape}")
    n, _, s, _ = a.shape
    if b is not None and (b.ndim != 4 or len(b) != n or b.shape[2:] != a.shape[2:]):
        raise ValueError(f"jitter: expected b as ({n}, C, {s}, {s}) to match a {a.shape}, got {b.shape}")
    size = round(286 / 256 * s) if load_size is None else load_size
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < s:
        raise ValueError(f"jitter: load_size must be an int >= the image size {s}, got {size!r}")
    corners = rng.integers(0, size - s + 1, size=(n, 2))             # (N, 2): top, left of each crop
    flips = rng.random(n) < 0.5                                      # (N,)
    return (_resize_crop_flip(a, size, corners, flips),
            None if b is None else _resize_crop_flip(b, size, corners, flips))


def jitter_each(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The jitter of two unpaired batches (CycleGAN's domains), each image with a crop and flip of its own."""
    return jitter(a, None, rng)[0], jitter(b, None, rng)[0]


# ---------------------------------------------------------------- palette and one-hot maps
def _check_maps(label_maps: np.ndarray) -> None:
    if label_maps.ndim != 4 or label_maps.shape[1] != 3:
        raise ValueError(f"expected label maps as (N, 3, H, W), got shape {label_maps.shape}")


def _sq_dist(pixels: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (M, K) between pixels (M, 3) and colours (K, 3)."""
    return ((pixels[:, None, :] - colours[None, :, :]) ** 2).sum(-1)


def _flat_pixels(label_maps: np.ndarray, samples: int, rng: np.random.Generator, tol: float) -> np.ndarray:
    """The colours (M, 3) of those of ``samples`` random pixels (drawn without replacement) that lie
    inside a flat region: all 8 neighbours (edges repeated) within Euclidean distance ``tol``.

    The blur bands at class boundaries fail this test, so k-means sees the class colours themselves
    and not their blends, which would otherwise take clusters of their own.
    """
    n, _, h, w = label_maps.shape
    picked = rng.choice(n * h * w, size=min(samples, n * h * w), replace=False)
    i, y, x = np.unravel_index(picked, (n, h, w))                    # (S,) each
    centre = label_maps[i, :, y, x]                                  # (S, 3)
    flat = np.ones(len(picked), dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            neighbour = label_maps[i, :, np.clip(y + dy, 0, h - 1), np.clip(x + dx, 0, w - 1)]   # (S, 3)
            flat &= ((neighbour - centre) ** 2).sum(1) <= tol ** 2
    return centre[flat].astype(np.float64)                           # (M, 3)


def _kmeans_pp(pixels: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur and Vassilvitskii 2007): the first centre uniformly, each next one
    with probability proportional to its squared distance D^2 to the nearest centre so far."""
    centres = [pixels[rng.integers(len(pixels))]]
    d2 = _sq_dist(pixels, centres[0][None])[:, 0]                    # (M,)
    for _ in range(1, k):
        if d2.sum() == 0:
            raise ValueError(f"fit_palette: the flat pixels hold fewer than k={k} distinct colours")
        centres.append(pixels[rng.choice(len(pixels), p=d2 / d2.sum())])
        d2 = np.minimum(d2, _sq_dist(pixels, centres[-1][None])[:, 0])
    return np.array(centres)                                         # (k, 3)


def _lloyd(pixels: np.ndarray, centres: np.ndarray, iters: int) -> tuple[np.ndarray, float]:
    """Lloyd's k-means iterations from ``centres`` (k, 3): assign each pixel to its nearest centre,
    move each centre to its pixels' mean; stop after ``iters`` or when no centre moves. A centre
    that loses all its pixels stays put. Returns the centres and their sum of squared distances."""
    k = len(centres)
    for _ in range(iters):
        nearest = _sq_dist(pixels, centres).argmin(1)                # (M,) cluster of each pixel
        counts = np.bincount(nearest, minlength=k)[:, None]          # (k, 1)
        sums = np.stack([np.bincount(nearest, pixels[:, c], k) for c in range(3)], 1)   # (k, 3)
        moved = np.where(counts > 0, sums / np.maximum(counts, 1), centres)
        if np.array_equal(moved, centres):
            break
        centres = moved
    return centres, float(_sq_dist(pixels, centres).min(1).sum())


def fit_palette(label_maps: np.ndarray, k: int = 12, rng: np.random.Generator | None = None,
                samples: int = 200_000, iters: int = 50, restarts: int = 10,
                flat_tol: float = 0.07) -> np.ndarray:
    """The k colours (float32 (k, 3), in the maps' [-1, 1] units) that k-means finds in label maps
    (N, 3, H, W).

    Of ``samples`` random pixels, the flat ones (all 8 neighbours within ``flat_tol``, 0.07 = 9/255)
    are clustered: ``restarts`` runs of Lloyd's iterations (at most ``iters`` each) from k-means++
    seedings, keeping the run with the least squared error. Both refinements are needed on facades:
    k-means on all pixels spends clusters on the blends in the blur bands, and a single seeding
    often merges two of the small classes. The colours are sorted by luminance
    (0.299 R + 0.587 G + 0.114 B), then R, G, B, so class ids repeat for the same data and seed.
    ``rng`` defaults to seed 0.
    """
    _check_maps(label_maps)
    if restarts < 1:
        raise ValueError(f"fit_palette: restarts must be at least 1, got {restarts}")
    rng = np.random.default_rng(0) if rng is None else rng
    pixels = _flat_pixels(label_maps, samples, rng, flat_tol)        # (M, 3) float64
    if len(pixels) < k:
        raise ValueError(f"fit_palette: only {len(pixels)} of {samples} sampled pixels are flat (8 neighbours "
                         f"within flat_tol={flat_tol}), too few for k={k} clusters; raise flat_tol or samples")
    runs = [_lloyd(pixels, _kmeans_pp(pixels, k, rng), iters) for _ in range(restarts)]
    centres = min(runs, key=lambda run: run[1])[0]
    luminance = centres @ np.array([0.299, 0.587, 0.114])
    order = np.lexsort((centres[:, 2], centres[:, 1], centres[:, 0], luminance))   # last key first
    return centres[order].astype(np.float32)


def snap_to_palette(label_maps: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's nearest palette colour (Euclidean in RGB, [-1, 1] units): ``(classes, distance)``,
    int64 and float32 (N, H, W). Works through blocks of whole images of about ``_CHUNK`` pixels
    (one image at least), so the temporary (pixels, K, 3) differences stay small."""
    _check_maps(label_maps)
    if palette.ndim != 2 or palette.shape[1] != 3:
        raise ValueError(f"expected a palette as (K, 3), got shape {palette.shape}")
    palette = palette.astype(np.float32)
    n, _, h, w = label_maps.shape
    classes = np.empty((n, h, w), np.int64)
    distance = np.empty((n, h, w), np.float32)
    step = max(1, _CHUNK // (h * w))                                 # images per block
    for i in range(0, n, step):
        block = label_maps[i:i + step].transpose(0, 2, 3, 1).reshape(-1, 3).astype(np.float32)  # (M, 3)
        d2 = _sq_dist(block, palette)                                # (M, K)
        nearest = d2.argmin(1)                                       # (M,)
        classes[i:i + step] = nearest.reshape(-1, h, w)
        distance[i:i + step] = np.sqrt(d2[np.arange(len(nearest)), nearest]).reshape(-1, h, w)
    return classes, distance


def one_hot(classes: np.ndarray, k: int) -> np.ndarray:
    """Class ids (N, H, W) in 0..k-1 as a float32 one-hot map (N, k, H, W)."""
    if classes.ndim != 3 or not np.issubdtype(classes.dtype, np.integer):
        raise ValueError(f"one_hot: expected integer classes (N, H, W), got {classes.dtype} {classes.shape}")
    if classes.size and (classes.min() < 0 or classes.max() >= k):
        raise ValueError(f"one_hot: class ids must lie in 0..{k - 1}, got {classes.min()}..{classes.max()}")
    return (classes[:, None] == np.arange(k)[None, :, None, None]).astype(np.float32)


FACADES_CLASSES = 12


def load_facades_classes(split: str = "train", size: int = 256, data_dir: str | os.PathLike | None = None
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The facades pairs for SPADE: ``(class_maps, photos, palette)``, the label maps snapped to the
    12-colour palette that ``fit_palette`` finds in the *training* maps (so both splits share class
    ids) as one-hot float32 (N, 12, size, size), the photos as ``load_facades`` gives them."""
    train_labels, photos = load_facades("train", size, data_dir)
    palette = fit_palette(train_labels, FACADES_CLASSES)
    labels = train_labels if split == "train" else None
    if labels is None:
        labels, photos = load_facades(split, size, data_dir)
    return one_hot(snap_to_palette(labels, palette)[0], FACADES_CLASSES), photos, palette


def jitter_classes(photos: np.ndarray, class_maps: np.ndarray, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """pix2pix's jitter of (photo, one-hot class map) pairs: one crop and flip for both; the resized
    one-hot planes are blurred by the bicubic filter, so each pixel takes the class whose plane is
    largest there, and the map is one-hot again."""
    photos, soft = jitter(photos, class_maps, rng)
    return photos, one_hot(soft.argmax(1), class_maps.shape[1])
