"""Mode-collapse scores on a ring of 8 Gaussians (the VEEGAN/PacGAN protocol), and the classifier-feature
scores (class coverage, KL to uniform, Frechet distance, precision / recall) on cases with known answers."""
import math
import re

import numpy as np
import pytest

from tinygan.metrics import (
    ModeScores,
    class_coverage,
    cluster_purity,
    frechet_distance,
    kl_to_uniform,
    label_accuracy,
    mode_scores,
    precision_recall,
)

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



# ---- classifier-feature scores ------------------------------------------------------------------
def test_kl_to_uniform_and_class_coverage():
    assert kl_to_uniform(np.full(10, 7)) == 0.0
    assert kl_to_uniform(np.eye(10)[3]) == pytest.approx(math.log(10))
    assert kl_to_uniform([1, 1, 0, 0]) == pytest.approx(math.log(2))  # two of four bins: log(4 / 2)
    covered, hist = class_coverage(np.array([0, 0, 1, 0]), 3)
    assert covered == 2
    np.testing.assert_allclose(hist, [0.75, 0.25, 0.0])
    covered, _ = class_coverage(np.full(100, 4), 10)  # one repeated image: one class
    assert covered == 1
    for bad in ([], [0, -1], [[1, 2]]):
        with pytest.raises(ValueError, match="kl_to_uniform"):
            kl_to_uniform(bad)
    with pytest.raises(ValueError, match=r"class_coverage.*\[0, 3\)"):
        class_coverage(np.array([0, 3]), 3)


def test_label_accuracy_is_broken_by_shuffled_labels():
    rng = np.random.default_rng(0)
    requested = np.arange(1000) % 10
    assert label_accuracy(requested, requested) == 1.0
    assert label_accuracy(rng.permutation(requested), requested) < 0.2  # labels shuffled: chance, 0.1
    assert label_accuracy(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 0])) == 0.5
    with pytest.raises(ValueError, match="label_accuracy"):
        label_accuracy(np.array([1, 2]), np.array([1, 2, 3]))


def test_cluster_purity_finds_the_permutation_and_does_not_reward_collapse():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 5000)
    assert cluster_purity(rng.permutation(10)[labels], labels) == 1.0   # the code is the class, relabelled
    assert cluster_purity(rng.integers(0, 10, 5000), labels) < 0.15      # a code that ignores the class
    assert cluster_purity(rng.integers(0, 10, 5000), np.zeros(5000, int)) < 0.15  # G draws one class for all codes
    # by hand: code 0 holds classes (1, 1, 0), code 1 holds (1, 0): best one-to-one is 0 -> 1, 1 -> 0: 3 of 5
    assert cluster_purity(np.array([0, 0, 0, 1, 1]), np.array([1, 1, 0, 1, 0])) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="cluster_purity"):
        cluster_purity(np.array([0, -1]), np.array([0, 1]))


def test_frechet_distance_known_answers():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((500, 6)) @ rng.standard_normal((6, 6))  # a full covariance
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    shift = rng.standard_normal(6)
    assert frechet_distance(a, a + shift) == pytest.approx((shift ** 2).sum(), rel=1e-8)  # same covariance
    # 1-D: (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2 with the sample statistics
    x = rng.standard_normal((400, 1))
    y = 3 * x + 2
    expect = (y.mean() - x.mean()) ** 2 + (y.std(ddof=1) - x.std(ddof=1)) ** 2
    assert frechet_distance(x, y) == pytest.approx(expect, rel=1e-9)
    # against scipy's matrix square root, where installed
    linalg = pytest.importorskip("scipy.linalg")
    b = rng.standard_normal((300, 6)) * [1, 2, 3, 1, 0.5, 2] + 1
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s_a + s_b - 2 * linalg.sqrtm(s_a @ s_b).real)
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-7)
    with pytest.raises(ValueError, match="frechet_distance"):
        frechet_distance(a, b[:, :5])


def test_precision_recall_known_answers():
    rng = np.random.default_rng(1)
    left = rng.standard_normal((300, 4)) * 0.1
    right = left[::-1] + 10.0
    real = np.concatenate([left, right])                    # two far-apart clusters
    assert precision_recall(real, real, chunk=100) == (1.0, 1.0)
    assert precision_recall(real, real + 100.0) == (0.0, 0.0)  # every fake point far from the data
    precision, recall = precision_recall(real, left[:200], k=3, chunk=64)
    assert precision == 1.0           # a collapsed G: all its points are realistic ...
    assert 0.3 < recall < 0.5         # ... but it covers at most one of the two clusters
    with pytest.raises(ValueError, match="precision_recall: k"):
        precision_recall(real, real[:3], k=3)
