"""Pictures a runner looks at: sample grids, loss curves, 2D point clouds, GIFs, 1D histograms.

Everything takes plain NumPy arrays (and, for the critic heat map, a plain callable), so this
module never touches the autograd engine. Plots use ``matplotlib.figure.Figure`` with an explicit
``FigureCanvasAgg`` rather than ``pyplot``: no global figure registry, no backend to select, and a
figure is freed with its last reference, so nothing is left open. Every ``save_*`` function creates
the parent directory, writes to a temporary file beside the target and ``os.replace``s it into place,
so a reader (or a crashed run) never sees half a PNG. Each returns the path it wrote.

The grid layout follows ``torchvision.utils.make_grid``: ``nrow`` images per row, a 2-pixel border
around and between them. The critic heat map behind a 2D scatter follows GAN Lab (Kahng et al.,
2019, "GAN Lab: Understanding Complex Deep Generative Models using Interactive Visual Experimentation").
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from .fileio import write_atomically

PathLike = str | os.PathLike
REAL_COLOR, FAKE_COLOR = "black", "tab:orange"


def _save_figure(fig: Figure, path: PathLike) -> Path:
    FigureCanvasAgg(fig)            # attach an Agg canvas explicitly; no pyplot state involved
    return write_atomically(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def image_grid(images: np.ndarray, nrow: int = 8) -> np.ndarray:
    """Tile ``(N, C, H, W)`` images in [-1, 1] into one ``(H', W', 3)`` uint8 picture.

    ``nrow`` images go in each row (torchvision's convention), with a 2-pixel black border; so
    ``H' = rows * (H + 2) + 2`` and ``W' = cols * (W + 2) + 2``. Values outside [-1, 1] are
    clipped, NaN shows as mid grey, and single-channel images are repeated to RGB.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1] not in (1, 3) or images.shape[0] == 0:
        raise ValueError(f"image_grid: expected images of shape (N, C, H, W) with N >= 1 and "
                         f"C in (1, 3), got {images.shape}")
    if nrow < 1:
        raise ValueError(f"image_grid: expected nrow >= 1, got {nrow}")
    n, _, h, w = images.shape
    pixels = np.nan_to_num(images, nan=0.0)
    pixels = np.rint((np.clip(pixels, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)   # (N, C, H, W)
    pixels = np.broadcast_to(pixels, (n, 3, h, w)).transpose(0, 2, 3, 1)           # (N, H, W, 3)

    pad = 2
    cols = min(nrow, n)
    rows = -(-n // cols)                                                            # ceil(n / cols)
    grid = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), dtype=np.uint8)
    for i in range(n):
        top = pad + (i // cols) * (h + pad)
        left = pad + (i % cols) * (w + pad)
        grid[top:top + h, left:left + w] = pixels[i]
    return grid


def save_image_grid(images: np.ndarray, path: PathLike, nrow: int = 8) -> Path:
    """Write ``image_grid(images, nrow)`` as a PNG at ``path``."""
    grid = image_grid(images, nrow)
    return write_atomically(path, lambda tmp: Image.fromarray(grid).save(tmp, format="PNG"))


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (fewer at the start), same length as input."""
    csum = np.cumsum(np.concatenate([[0.0], values]))                     # (n + 1,)
    idx = np.arange(1, len(values) + 1)                                   # (n,) window ends
    start = np.maximum(idx - window, 0)
    return (csum[idx] - csum[start]) / (idx - start)


def save_loss_curves(history: dict[str, Sequence[float]], steps: Sequence[int], path: PathLike,
                     title: str = "", smooth: int = 0,
                     scores: dict[str, tuple[Sequence[int], Sequence[float]]] | None = None) -> Path:
    """Plot one line per loss name in ``history`` against ``steps`` and save a PNG.

    Every list in ``history`` must have ``len(steps)`` entries. With ``smooth > 1`` each curve is
    drawn as a trailing moving average over ``smooth`` steps, with the raw values faint behind it.
    ``scores`` ({name: (steps, values)}, e.g. the classifier-FID of an image run, measured at fewer
    steps than the losses) adds a second panel beside the losses, one small plot per score.
    """
    steps = np.asarray(steps, dtype=np.float64)
    if steps.ndim != 1:
        raise ValueError(f"save_loss_curves: expected steps of shape (n,), got {steps.shape}")
    scores = scores or {}
    fig = Figure(figsize=(7 + 4 * bool(scores), 4))
    ax = fig.add_subplot(1, 1 + bool(scores), 1)
    for name, values in history.items():
        values = np.asarray(values, dtype=np.float64)
        if values.shape != steps.shape:
            raise ValueError(f"save_loss_curves: expected history[{name!r}] of shape {steps.shape} "
                             f"(one value per step), got {values.shape}")
        if smooth > 1:
            (line,) = ax.plot(steps, values, alpha=0.25, linewidth=0.8)
            ax.plot(steps, _moving_average(values, smooth), color=line.get_color(), label=name)
        else:
            ax.plot(steps, values, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    if history:
        ax.legend()
    ax.grid(alpha=0.3)
    for i, (name, (at, values)) in enumerate(scores.items()):  # the scores, stacked in the right column
        if len(at) != len(values):
            raise ValueError(f"save_loss_curves: scores[{name!r}] has {len(at)} steps but {len(values)} values")
        panel = fig.add_subplot(len(scores), 2, 2 * i + 2)
        panel.plot(at, values, "o-", markersize=3, color=f"C{i + 3}")
        panel.set_ylabel(name, fontsize=8)
        panel.grid(alpha=0.3)
        if i == len(scores) - 1:
            panel.set_xlabel("step")
    fig.tight_layout()
    return _save_figure(fig, path)


def _points(name: str, arg: str, points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"{name}: expected {arg} of shape (n, 2), got {points.shape}")
    return points


def save_points_plot(real: np.ndarray, fake: np.ndarray, path: PathLike,
                     critic: Callable[[np.ndarray], np.ndarray] | None = None,
                     lim: float | None = None, title: str = "") -> Path:
    """Scatter real vs generated 2D points, over a heat map of ``critic`` if one is given.

    ``critic`` receives a ``(k, 2)`` float32 array of the 200x200 grid points covering the view
    and returns ``(k,)`` values (a discriminator's logits, say). The view is the square
    ``[-lim, lim]^2``; without ``lim`` it is fitted to the finite points with a 10% margin.
    """
    real = _points("save_points_plot", "real", real)
    fake = _points("save_points_plot", "fake", fake)
    if lim is None:
        both = np.concatenate([real, fake])
        both = both[np.isfinite(both).all(axis=1)]
        lim = 1.1 * float(np.abs(both).max()) if len(both) else 1.0
        lim = lim if lim > 0 else 1.0

    fig = Figure(figsize=(6, 5) if critic is not None else (5, 5))
    ax = fig.add_subplot()
    if critic is not None:
        axis = np.linspace(-lim, lim, 200, dtype=np.float32)                    # (200,)
        gx, gy = np.meshgrid(axis, axis)                                          # (200, 200) each
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1)                        # (40000, 2), row = y
        values = np.asarray(critic(grid), dtype=np.float64)
        if values.size != grid.shape[0]:
            raise ValueError(f"save_points_plot: expected critic to return shape ({grid.shape[0]},), "
                             f"got {values.shape}")
        heat = ax.imshow(values.reshape(200, 200), origin="lower", extent=(-lim, lim, -lim, lim),
                         cmap="PRGn", alpha=0.7, aspect="auto")
        fig.colorbar(heat, ax=ax, label="critic")
    ax.scatter(real[:, 0], real[:, 1], s=2, c=REAL_COLOR, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c=FAKE_COLOR, label="generated")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.legend(loc="upper right", markerscale=4)
    fig.tight_layout()
    return _save_figure(fig, path)


def save_gif(frames: Sequence[np.ndarray | PathLike], path: PathLike, duration_ms: int = 200) -> Path:
    """Write an animated GIF (looping forever) from uint8 ``(H, W, 3)`` arrays or image paths.

    All frames must share one size. Pillow merges identical consecutive frames into one longer
    frame, so a GIF of repeated pictures may hold fewer frames than were given.
    """
    if len(frames) == 0:
        raise ValueError("save_gif: expected at least one frame")
    pictures = []
    for i, frame in enumerate(frames):
        if isinstance(frame, (str, os.PathLike)):
            with Image.open(frame) as im:
                pictures.append(im.convert("RGB"))
            continue
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"save_gif: expected frame {i} as a uint8 array of shape (H, W, 3), "
                             f"got {frame.dtype} {frame.shape}")
        pictures.append(Image.fromarray(frame))
    sizes = {im.size for im in pictures}
    if len(sizes) != 1:
        raise ValueError(f"save_gif: expected all frames to share one size, got (W, H) sizes {sizes}")
    return write_atomically(path, lambda tmp: pictures[0].save(
        tmp, format="GIF", save_all=True, append_images=pictures[1:], duration=duration_ms, loop=0))


def save_1d_hist(real: np.ndarray, fake: np.ndarray, path: PathLike, title: str = "") -> Path:
    """Overlay density histograms of real and generated 1D samples (``(n,)`` or ``(n, 1)``)."""
    arrays = []
    for arg, values in (("real", real), ("fake", fake)):
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim != 1:
            raise ValueError(f"save_1d_hist: expected {arg} of shape (n,), got {values.shape}")
        arrays.append(values[np.isfinite(values)])
    real, fake = arrays
    both = np.concatenate([real, fake])
    lo, hi = (float(both.min()), float(both.max())) if len(both) else (-1.0, 1.0)
    bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 51)                    # shared bin edges

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.hist(real, bins=bins, density=True, alpha=0.5, color="tab:blue", label="real")
    ax.hist(fake, bins=bins, density=True, alpha=0.5, color=FAKE_COLOR, label="generated")
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return _save_figure(fig, path)
