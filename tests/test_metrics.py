"""Mode-collapse scores on a ring of 8 Gaussians (the VEEGAN/PacGAN protocol)."""
import math
import re

import numpy as np
import pytest

from tinygan.metrics import ModeScores, mode_scores

STD = 0.01
ANGLES = 2 * np.pi * np.arange(8) / 8
RING8 = np.stack([np.cos(ANGLES), np.sin(ANGLES)], axis=1)      # (8, 2) means on the unit circle


def test_perfect_samples_capture_every_mode():
    rng = np.random.default_rng(0)
    samples = RING8[rng.integers(0, 8, size=2500)] + STD * rng.standard_normal((2500, 2))
    scores = mode_scores(samples, RING8, STD)
    assert scores.modes_captured == 8 and scores.num_modes == 8
    assert scores.high_quality > 0.98      # a 2D Gaussian puts ~98.9% of its mass within 3 std
    assert scores.reverse_kl < 0.01


def test_collapse_to_one_mode_gives_log_m():
    scores = mode_scores(np.repeat(RING8[3:4], 100, axis=0), RING8, STD)
    assert scores.modes_captured == 1
    assert scores.high_quality == 1.0
    assert scores.reverse_kl == pytest.approx(math.log(8), abs=1e-12)


def test_far_samples_are_neither_good_nor_modes():
    scores = mode_scores(np.full((50, 2), 10.0), RING8, STD)
    assert scores == ModeScores(modes_captured=0, num_modes=8, high_quality=0.0, reverse_kl=math.inf)


def test_nan_samples_are_not_high_quality():
    samples = np.array([[1.0, 0.0], [np.nan, 0.0], [0.0, np.inf], [0.0, 1.0]])
    scores = mode_scores(samples, RING8, STD)
    assert scores.high_quality == 0.5 and scores.modes_captured == 2


def test_hand_computed_case():
    # Two modes, std 1 (so "high quality" means within distance 3). Samples: two near mode A,
    # one near mode B, one at distance 4 from B (nearest B, but not high quality).
    means = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[0.5, 0.0], [0.0, -2.9], [10.0, 1.0], [14.0, 0.0]])
    scores = mode_scores(samples, means, std=1.0)
    # p = (2/3, 1/3); KL(p || u) = 2/3 log(2 * 2/3) + 1/3 log(2 * 1/3)
    expected_kl = 2 / 3 * math.log(4 / 3) + 1 / 3 * math.log(2 / 3)
    assert scores.modes_captured == 2
    assert scores.high_quality == 0.75
    assert scores.reverse_kl == pytest.approx(expected_kl, rel=1e-12)
    assert scores.as_dict() == {"modes_captured": 2, "num_modes": 2, "high_quality": 0.75,
                                "reverse_kl": scores.reverse_kl}


@pytest.mark.parametrize("shape", [(10,), (10, 3), (2, 5, 2), (0, 2)])
def test_wrong_sample_shape_raises(shape):
    with pytest.raises(ValueError, match=r"mode_scores.*" + re.escape(str(shape))):
        mode_scores(np.zeros(shape), RING8, STD)


def test_bad_means_or_std_raise():
    with pytest.raises(ValueError, match="mode_scores"):
        mode_scores(np.zeros((4, 2)), np.zeros(8), STD)
    with pytest.raises(ValueError, match="mode_scores"):
        mode_scores(np.zeros((4, 2)), RING8, 0.0)

