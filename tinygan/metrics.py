"""Mode-collapse scores for GANs trained on 2D Gaussian mixtures.

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
    if num_good == 0:
        reverse_kl = math.inf
    else:
        p = counts[counts > 0] / num_good                     # zero counts contribute 0 * log 0 = 0
        reverse_kl = float(np.sum(p * np.log(m * p)))
        reverse_kl = max(reverse_kl, 0.0)                     # clamp float round-off below 0
    return ModeScores(modes_captured=int((counts > 0).sum()), num_modes=m,
                      high_quality=num_good / n, reverse_kl=reverse_kl)
