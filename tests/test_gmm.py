"""The EM-fitted Gaussian mixture (tinygan/baselines/gmm.py) on cases with known answers: it recovers a
well-separated mixture, EM never lowers the likelihood, its densities match the Gaussian formula written
out here, its samples follow the model, and bad input is refused with a clear error."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygan.baselines.gmm import GaussianMixture

# Three well-separated 2-D components with unequal weights, one covariance of each type's shape.
WEIGHTS = np.array([0.5, 0.3, 0.2])
MEANS = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]])
COVARIANCES = {
    "full": np.array([[[1.0, 0.6], [0.6, 0.5]], [[0.4, -0.2], [-0.2, 0.8]], [[0.7, 0.0], [0.0, 0.3]]]),
    "diag": np.array([[1.0, 0.5], [0.4, 0.8], [0.7, 0.3]]),
    "spherical": np.array([1.0, 0.4, 0.7]),
}


def as_matrices(covariances: np.ndarray, d: int) -> np.ndarray:
    """(K, D, D) from any of the three shapes, written independently of the module."""
    if covariances.ndim == 3:
        return covariances
    if covariances.ndim == 2:
        return np.stack([np.diag(v) for v in covariances])
    return np.stack([v * np.eye(d) for v in covariances])


def draw(covariance_type: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points of the test mixture and their components."""
    labels = rng.choice(3, size=n, p=WEIGHTS)
    chol = np.linalg.cholesky(as_matrices(COVARIANCES[covariance_type], 2))
    return MEANS[labels] + np.einsum("nij,nj->ni", chol[labels], rng.standard_normal((n, 2))), labels


def random_points(seed: int, n: int, d: int) -> np.ndarray:
    """n points in d dimensions from a few random, overlapping blobs: no structure EM could fit exactly."""
    rng = np.random.default_rng(seed)
    centres = 3 * rng.standard_normal((4, d))
    return centres[rng.integers(4, size=n)] + rng.uniform(0.3, 1.5, size=d) * rng.standard_normal((n, d))


def densities_by_hand(gmm: GaussianMixture, X: np.ndarray) -> np.ndarray:
    """(N, K) pi_k (2 pi)^(-D/2) |S_k|^(-1/2) exp(-1/2 (x_n - mu_k)^T S_k^-1 (x_n - mu_k)), with no log tricks."""
    d = X.shape[1]
    columns = []
    for w, mu, cov in zip(gmm.weights_, gmm.means_, as_matrices(gmm.covariances_, d)):
        diff = X - mu
        maha = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
        columns.append(w * np.exp(-0.5 * maha) / math.sqrt((2 * math.pi) ** d * np.linalg.det(cov)))
    return np.stack(columns, 1)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_recovers_a_well_separated_mixture(covariance_type):
    X, _ = draw(covariance_type, 6000, np.random.default_rng(0))
    gmm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    order = [int(np.argmin(((gmm.means_ - mu) ** 2).sum(1))) for mu in MEANS]   # match up to permutation
    assert sorted(order) == [0, 1, 2]
    assert gmm.converged_ and gmm.n_iter_ < gmm.max_iter
    np.testing.assert_allclose(gmm.means_[order], MEANS, atol=0.06)
    np.testing.assert_allclose(gmm.weights_[order], WEIGHTS, atol=0.02)
    assert gmm.covariances_.shape == COVARIANCES[covariance_type].shape
    np.testing.assert_allclose(gmm.covariances_[order], COVARIANCES[covariance_type], atol=0.08)


@settings(deadline=None, max_examples=12)
@given(seed=st.integers(0, 2**31), d=st.integers(1, 3), k=st.integers(1, 4),
       covariance_type=st.sampled_from(["full", "diag", "spherical"]),
       init_params=st.sampled_from(["k-means++", "random"]))
def test_em_never_lowers_the_log_likelihood(seed, d, k, covariance_type, init_params):
    X = random_points(seed, 200, d)
    gmm = GaussianMixture(k, covariance_type=covariance_type, init_params=init_params, tol=0.0,
                          max_iter=30, random_state=seed).fit(X)
    bounds = np.array(gmm.lower_bounds_)
    assert len(bounds) == gmm.n_iter_ == 30 and not gmm.converged_   # tol = 0 never stops early
    assert np.all(np.diff(bounds) >= -1e-9 * np.abs(bounds[1:])), np.diff(bounds).min()
    assert gmm.lower_bound_ == pytest.approx(gmm.score(X), rel=1e-12)   # the fitted mean log-likelihood


@settings(deadline=None, max_examples=12)
@given(seed=st.integers(0, 2**31), d=st.integers(1, 3), k=st.integers(1, 4),
       covariance_type=st.sampled_from(["full", "diag", "spherical"]))
def test_densities_and_responsibilities_match_the_formula(seed, d, k, covariance_type):
    X = random_points(seed, 100, d)
    gmm = GaussianMixture(k, covariance_type=covariance_type, max_iter=5, random_state=seed).fit(X)
    queries = X[:50] + 0.5 * np.random.default_rng(seed).standard_normal((50, d))   # near the data
    joint = densities_by_hand(gmm, queries)                                         # (50, K)
    np.testing.assert_allclose(gmm.score_samples(queries), np.log(joint.sum(1)), rtol=1e-9, atol=1e-9)
    assert gmm.score(queries) == pytest.approx(np.log(joint.sum(1)).mean(), rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(gmm.predict_proba(queries), joint / joint.sum(1, keepdims=True), atol=1e-9)
    np.testing.assert_array_equal(gmm.predict(queries), joint.argmax(1))


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_samples_follow_the_model(covariance_type):
    X, _ = draw(covariance_type, 3000, np.random.default_rng(1))
    gmm = GaussianMixture(3, covariance_type=covariance_type, random_state=1).fit(X)
    samples, labels = gmm.sample(20_000, np.random.default_rng(2))
    assert samples.shape == (20_000, 2) and labels.shape == (20_000,)
    np.testing.assert_allclose(np.bincount(labels, minlength=3) / 20_000, gmm.weights_, atol=0.015)
    covs = as_matrices(gmm.covariances_, 2)
    for j in range(3):   # each label's points have that component's mean and covariance
        np.testing.assert_allclose(samples[labels == j].mean(0), gmm.means_[j], atol=0.05)
        np.testing.assert_allclose(np.cov(samples[labels == j].T), covs[j], atol=0.06)
    # and together the mixture's: E x = sum_k pi_k mu_k, Cov x = sum_k pi_k (S_k + mu_k mu_k^T) - E x E x^T
    mean = gmm.weights_ @ gmm.means_
    cov = np.einsum("k,kij->ij", gmm.weights_, covs + np.einsum("ki,kj->kij", gmm.means_, gmm.means_))
    np.testing.assert_allclose(samples.mean(0), mean, atol=0.1)
    np.testing.assert_allclose(np.cov(samples.T), cov - np.outer(mean, mean), rtol=0.03)


@settings(deadline=None, max_examples=10)
@given(n=st.integers(1, 40), d=st.integers(1, 4), k=st.integers(1, 3))
def test_sample_shapes(n, d, k):
    gmm = GaussianMixture(k, max_iter=2, random_state=0).fit(random_points(0, 30, d))
    samples, labels = gmm.sample(n)
    assert samples.shape == (n, d) and labels.shape == (n,) and labels.min() >= 0 and labels.max() < k
    np.testing.assert_array_equal(gmm.sample(n)[0], samples)   # an int random_state: the same draws


def test_n_init_keeps_the_best_run():
    # grid25's layout, 2500 points, K = 25: the single k-means++ start of random_state=7 merges two blobs
    # into one component (and splits another); among 5 starts, whose first is that one, some find all 25
    rng = np.random.default_rng(0)
    centres = 2.0 * np.stack(np.meshgrid(np.arange(5), np.arange(5)), -1).reshape(-1, 2)   # (25, 2)
    X = centres[rng.integers(25, size=2500)] + 0.05 * rng.standard_normal((2500, 2))
    one = GaussianMixture(25, random_state=7).fit(X)
    five = GaussianMixture(25, n_init=5, random_state=7).fit(X)
    nearest = np.sqrt(((centres[:, None] - five.means_[None]) ** 2).sum(-1)).min(1)       # (25,)
    assert nearest.max() < 0.05                                       # every blob has its component
    assert five.lower_bound_ > one.lower_bound_ + 0.1


@pytest.mark.parametrize(("kwargs", "X", "message"), [
    ({}, np.zeros(5), r"GaussianMixture.fit: expected X of shape \(n_samples, n_features\)"),
    ({}, np.zeros((5, 2, 1)), r"GaussianMixture.fit: expected X of shape \(n_samples, n_features\)"),
    ({"n_components": 4}, np.eye(3), r"GaussianMixture.fit: expected at least n_components = 4 samples, got 3"),
    ({}, np.array([[0.0, 1.0], [np.nan, 0.0]]), "GaussianMixture.fit: X holds NaN or infinite"),
    ({}, np.array([[0.0, 1.0], [np.inf, 0.0]]), "GaussianMixture.fit: X holds NaN or infinite"),
    ({"covariance_type": "tied"}, np.eye(3), "GaussianMixture.fit: unknown covariance_type 'tied'"),
    ({"n_components": 0}, np.eye(3), "GaussianMixture.fit: expected an integer n_components >= 1, got 0"),
    ({"init_params": "kmeans"}, np.eye(3), "GaussianMixture.fit: unknown init_params 'kmeans'"),
    ({"max_iter": 0}, np.eye(3), "GaussianMixture.fit: expected max_iter >= 1"),
    ({"n_components": 3}, np.ones((5, 2)), "GaussianMixture.fit: expected at least n_components = 3 distinct"),
    ({"reg_covar": 0.0}, np.zeros((5, 2)), "not positive definite .* increase reg_covar"),
])
def test_fit_refuses_bad_input(kwargs, X, message):
    with pytest.raises(ValueError, match=message):
        GaussianMixture(**kwargs).fit(X)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score_samples", "score", "sample"])
def test_an_unfitted_mixture_says_so(method):
    args = () if method == "sample" else (np.zeros((2, 2)),)
    with pytest.raises(RuntimeError, match=rf"GaussianMixture.{method}: .*not fitted yet; call fit\(X\) first"):
        getattr(GaussianMixture(2), method)(*args)


def test_a_fitted_mixture_refuses_the_wrong_dimension():
    gmm = GaussianMixture(1).fit(np.random.default_rng(0).standard_normal((10, 2)))
    with pytest.raises(ValueError, match=r"GaussianMixture.predict: expected 2 features"):
        gmm.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="GaussianMixture.sample: expected an integer n_samples >= 1"):
        gmm.sample(0)
