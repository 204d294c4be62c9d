"""What a GAN learned, measured: mode-collapse scores on the 2D Gaussian mixtures, and the
classifier-based scores for images (a class histogram, its KL to uniform, a Frechet distance and
precision / recall on a classifier's features), and the sharpness of translated images (pix2pix).

Mode-collapse scores for GANs trained on 2D Gaussian mixtures.

The protocol is the one of VEEGAN (Srivastava et al., 2017, "VEEGAN: Reducing Mode Collapse in
GANs using Implicit Variational Learning", Sec. 5.1) as reused by PacGAN (Lin et al., 2018,
"PacGAN: The power of two samples in generative adversarial networks", Table 1):

1. Draw 2500 samples from the generator (the caller does this; any ``n`` works here).
2. Assign each sample to its nearest mixture mean.
3. A sample is *high quality* if it lies within 3 standard deviations of that nearest mean.
4. A mode is *captured* if it is the nearest mean of at least one high-quality sample.
5. PacGAN adds the reverse KL divergence ``KL(p || u)`` between ``p``, the histogram of nearest
   modes over the high-quality samples, and ``u``, the uniform distribution over the ``m`` modes
   (the distribution the real data induces on its modes)::

       KL(p || u) = sum_i p_i * log(p_i / (1/m)) = sum_i p_i * log(m * p_i),   0 * log 0 = 0

   It is 0 when the generator spreads its good samples evenly over all modes and ``log(m)`` when
   they all fall on one mode.

Everything here is plain NumPy: the scores take generated samples as an array, never a model.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class ModeScores:
    """The scores of one batch of samples; see the module docstring for the protocol."""

    modes_captured: int   # modes that are the nearest mean of at least one high-quality sample
    num_modes: int        # m, the number of mixture components
    high_quality: float   # fraction of samples within 3 std of their nearest mean, in [0, 1]
    reverse_kl: float     # KL(p_modes || uniform) over high-quality samples; inf if there are none

    def as_dict(self) -> dict[str, float | int]:
        """The scores as a flat dict, ready for a log line or a JSON record."""
        return dataclasses.asdict(self)


def mode_scores(samples: np.ndarray, means: np.ndarray, std: float) -> ModeScores:
    """Score generated 2D samples against a Gaussian mixture with the given means and std.

    ``samples`` is ``(n, 2)`` and ``means`` is ``(m, 2)``; ``std`` is the per-axis standard
    deviation shared by all components. Samples containing NaN or inf are never high quality
    (a diverged generator scores 0, not an error). With no high-quality sample the mode
    histogram is undefined and ``reverse_kl`` is ``inf``, the worst score.
    """
    samples = np.asarray(samples, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2 or samples.shape[0] == 0:
        raise ValueError(f"mode_scores: expected samples of shape (n, 2) with n >= 1, "
                         f"got {samples.shape}")
    if means.ndim != 2 or means.shape[1] != 2 or means.shape[0] == 0:
        raise ValueError(f"mode_scores: expected means of shape (m, 2) with m >= 1, got {means.shape}")
    if not (math.isfinite(std) and std > 0):
        raise ValueError(f"mode_scores: expected a positive finite std, got {std}")
    n, m = samples.shape[0], means.shape[0]

    # Squared distance of every sample to every mean.
    diff = samples[:, None, :] - means[None, :, :]            # (n, m, 2)
    dist2 = np.einsum("nmk,nmk->nm", diff, diff)              # (n, m)
    finite = np.isfinite(dist2).all(axis=1)                   # (n,) False for NaN/inf samples
    dist2 = np.where(finite[:, None], dist2, np.inf)          # keep argmin away from NaN
    nearest = dist2.argmin(axis=1)                            # (n,) index of the nearest mean
    nearest_dist2 = dist2[np.arange(n), nearest]              # (n,)
    good = finite & (nearest_dist2 <= (3.0 * std) ** 2)       # (n,) high-quality samples

    counts = np.bincount(nearest[good], minlength=m)          # (m,) high-quality samples per mode
    num_good = int(counts.sum())
    reverse_kl = kl_to_uniform(counts) if num_good else math.inf
    return ModeScores(modes_captured=int((counts > 0).sum()), num_modes=m,
                      high_quality=num_good / n, reverse_kl=reverse_kl)


def kl_to_uniform(counts: np.ndarray) -> float:
    """KL(p || u) = sum_i p_i log(m p_i) of the histogram p = counts / sum(counts) over m bins against
    the uniform distribution u (0 log 0 = 0): 0 for an even spread, log m for one bin."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0 or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError(f"kl_to_uniform: expected non-negative counts over m >= 1 bins with a positive sum, "
                         f"got {counts!r}")
    p = counts[counts > 0] / counts.sum()
    return max(float(np.sum(p * np.log(counts.size * p))), 0.0)  # clamp float round-off below 0


# ---- classifier-based scores for images --------------------------------------------------------
# A classifier trained on the real data (an MNIST or Fashion-MNIST CNN) labels the samples and gives
# each a feature vector (its penultimate layer). The scores below take those labels and features as
# arrays, never a model; the real test set scored the same way is the reference row.

def class_coverage(labels: np.ndarray, num_classes: int) -> tuple[int, np.ndarray]:
    """(classes that occur, the histogram: the fraction of samples per class)."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0 or labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"class_coverage: expected a non-empty 1-D array of labels in [0, {num_classes}), "
                         f"got shape {labels.shape}")
    counts = np.bincount(labels, minlength=num_classes)
    return int((counts > 0).sum()), counts / labels.size


def label_accuracy(predicted: np.ndarray, requested: np.ndarray) -> float:
    """A conditional G's accuracy: the fraction of samples the classifier labels as the class they were
    generated for (the cGAN check of Mirza & Osindero 2014; the "GAN-test" of Shmelkov et al. 2018)."""
    predicted, requested = np.asarray(predicted), np.asarray(requested)
    if predicted.ndim != 1 or predicted.shape != requested.shape or predicted.size == 0:
        raise ValueError(f"label_accuracy: expected two non-empty 1-D label arrays of one length, got shapes "
                         f"{predicted.shape} and {requested.shape}")
    return float((predicted == requested).mean())


def cluster_purity(codes: np.ndarray, labels: np.ndarray) -> float:
    """How well an unsupervised code matches the classes up to a permutation (InfoGAN's categorical
    c_1 against the digit; Chen et al. 2016, Sec. 7.1, report 5% error): the accuracy of the best
    one-to-one assignment of code values to classes,

        purity = (1/N) max_{pi one-to-one} sum_c |{i : code_i = c, label_i = pi(c)}|

    1 when each code value holds one class of its own; about 1/K for a code that ignores the classes.
    One-to-one, unlike giving each code value its most frequent label: that rule scores a G that
    draws one class for every code 100%. The assignment is found exactly by dynamic programming over
    the subsets of classes already taken (2^K K steps: instant for K <= 16)."""
    codes, labels = np.asarray(codes), np.asarray(labels)
    if codes.ndim != 1 or codes.shape != labels.shape or codes.size == 0 or min(codes.min(), labels.min()) < 0:
        raise ValueError(f"cluster_purity: expected two non-empty 1-D arrays of non-negative integers of one "
                         f"length, got shapes {codes.shape} and {labels.shape}")
    k = max(codes.max(), labels.max()) + 1
    if k > 16:
        raise ValueError(f"cluster_purity: at most 16 code values and classes, got {k}")
    table = np.zeros((k, k), np.int64)                                # table[c, l]: samples of code c, class l
    np.add.at(table, (codes, labels), 1)
    best = np.full(1 << k, -1, np.int64)  # best[taken]: the most matches of codes 0..popcount(taken)-1 to `taken`
    best[0] = 0
    for taken in range(1 << k):
        if best[taken] < 0:
            continue
        c = taken.bit_count()                                         # the next code value to assign
        if c == k:
            continue
        for label in range(k):
            if not taken >> label & 1:
                more = taken | 1 << label
                best[more] = max(best[more], best[taken] + table[c, label])
    return float(best[-1] / codes.size)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Frechet distance between Gaussians fitted to two feature sets a (n, d) and b (n', d)
    (Heusel et al. 2017, Eq. 6; FID when the features are Inception's):

        d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))

    Tr (S_a S_b)^(1/2) is computed as the sum of the square roots of the eigenvalues of
    S_a^(1/2) S_b S_a^(1/2), which is symmetric and positive semi-definite (no scipy needed)."""
    a, b = (np.asarray(f, dtype=np.float64) for f in (a, b))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"frechet_distance: expected feature sets (n, d) and (n', d) with n, n' >= 2, "
                         f"got shapes {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False).reshape(a.shape[1], -1), np.cov(b, rowvar=False).reshape(b.shape[1], -1)
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T                 # S_a^(1/2)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ s_b @ root_a), 0, None)).sum()
    d2 = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * cross)
    return max(d2, 0.0)


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3, chunk: int = 1024) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019, Sec. 3): each set's manifold is the
    union of balls around its points with radius the distance to the point's k-th nearest neighbour
    in the same set. Precision = the fraction of fake points inside the real manifold (quality);
    recall = the fraction of real points inside the fake manifold (coverage). Distances are computed
    ``chunk`` rows at a time, so n x n never has to fit in memory."""
    real, fake = (np.asarray(f, dtype=np.float64) for f in (real, fake))
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"precision_recall: expected feature sets (n, d) and (n', d), got shapes "
                         f"{real.shape} and {fake.shape}")
    if not 1 <= k < min(len(real), len(fake)):
        raise ValueError(f"precision_recall: k must be in [1, {min(len(real), len(fake)) - 1}] for these "
                         f"{len(real)} real and {len(fake)} fake points, got {k}")

    def distances(x, y):  # (len(x), len(y)) Euclidean distances, by |x|^2 - 2 x.y + |y|^2
        d2 = (x * x).sum(1)[:, None] - 2 * x @ y.T + (y * y).sum(1)[None, :]
        return np.sqrt(np.clip(d2, 0, None))

    def radii(x):  # each point's distance to its k-th nearest neighbour in x (itself is the 0th)
        return np.concatenate([np.partition(distances(x[i:i + chunk], x), k, axis=1)[:, k]
                               for i in range(0, len(x), chunk)])

    def inside(points, centres, r):  # the fraction of points within some centre's ball
        hits = [(distances(points[i:i + chunk], centres) <= r[None, :]).any(1) for i in range(0, len(points), chunk)]
        return float(np.concatenate(hits).mean())

    return inside(fake, real, radii(real)), inside(real, fake, radii(fake))



def sharpness(images: np.ndarray, per_image: bool = False):
    """Mean gradient magnitude of images (N, C, H, W): the forward differences
    dx = I[.., i, j+1] - I[.., i, j] and dy = I[.., i+1, j] - I[.., i, j] on the (H-1) x (W-1) grid,
    sqrt(dx^2 + dy^2) averaged over channels and pixels. Blur lowers it; a sharp image of the same
    content scores as its real counterpart. Returns one float, or (N,) with ``per_image``."""
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4 or min(x.shape[2:]) < 2:
        raise ValueError(f"sharpness: expected images (N, C, H, W) with H, W >= 2, got shape {x.shape}")
    dx = x[:, :, :-1, 1:] - x[:, :, :-1, :-1]
    dy = x[:, :, 1:, :-1] - x[:, :, :-1, :-1]
    per = np.sqrt(dx ** 2 + dy ** 2).mean(axis=(1, 2, 3))    # (N,)
    return per if per_image else float(per.mean())


def class_colour_error(images: np.ndarray, photos: np.ndarray, seg: np.ndarray) -> float:
    """Whether translated images follow a label map (SPADE, pix2pix): for each image and each class
    present in its one-hot map ``seg`` (N, K, H, W), |the mean colour of the image's pixels of that
    class - the real photo's mean colour there|, averaged over RGB, then over classes and images."""
    errors = []
    for img, photo, m in zip(images, photos, seg):
        for k in np.flatnonzero(m.sum((1, 2))):
            mask = m[k] > 0.5
            errors.append(np.abs(img[:, mask].mean(1) - photo[:, mask].mean(1)).mean())
    return float(np.mean(errors))
