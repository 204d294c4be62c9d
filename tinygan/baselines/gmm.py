"""A Gaussian mixture fitted by expectation-maximisation (Dempster, Laird & Rubin 1977, "Maximum
likelihood from incomplete data via the EM algorithm"; Bishop, PRML, Sec. 9.2).

The model is p(x) = sum_k pi_k N(x | mu_k, Sigma_k), and EM climbs its log-likelihood (PRML Eq. 9.28)

    ln p(X | pi, mu, Sigma) = sum_n ln sum_k pi_k N(x_n | mu_k, Sigma_k)

by alternating two steps, neither of which ever lowers it (PRML Sec. 9.4):

    E step (Eq. 9.23)   gamma_nk = pi_k N(x_n | mu_k, Sigma_k) / sum_j pi_j N(x_n | mu_j, Sigma_j)
    M step (9.24-9.27)  N_k = sum_n gamma_nk       mu_k = (1/N_k) sum_n gamma_nk x_n       pi_k = N_k / N
                        Sigma_k = (1/N_k) sum_n gamma_nk (x_n - mu_k)(x_n - mu_k)^T

Densities are computed in logs through a Cholesky factor Sigma_k = L_k L_k^T and normalised by
log-sum-exp, so nothing under- or overflows:

    ln N(x | mu, Sigma) = -1/2 (D ln 2 pi + ||L^{-1} (x - mu)||^2) - sum_i ln L_ii

Names and defaults follow ``sklearn.mixture.GaussianMixture``. Differences: no "tied" covariances;
``init_params="k-means++"`` is k-means++ seeding (Arthur & Vassilvitskii 2007, "k-means++: The
advantages of careful seeding") followed by ``LLOYD_STEPS`` Lloyd iterations; ``lower_bound_`` is the
mean log-likelihood of the *fitted* parameters (so it equals ``score(X)``; scikit-learn records it one
M step earlier), and ``lower_bounds_`` lists it after every EM iteration.
"""
from __future__ import annotations

import numpy as np

COVARIANCE_TYPES = ("full", "diag", "spherical")  # covariances_: (K, D, D), (K, D), (K,)
INIT_PARAMS = ("k-means++", "random")
LLOYD_STEPS = 10  # Lloyd iterations after the k-means++ seeding


class GaussianMixture:
    """A mixture of ``n_components`` Gaussians fitted by EM; the best of ``n_init`` runs is kept."""

    def __init__(self, n_components: int = 1, covariance_type: str = "full", tol: float = 1e-3,
                 reg_covar: float = 1e-6, max_iter: int = 100, n_init: int = 1,
                 init_params: str = "k-means++", random_state: int | np.random.Generator | None = None):
        self.n_components = n_components        # K
        self.covariance_type = covariance_type  # "full", "diag" or "spherical"
        self.tol = tol                          # stop when the mean log-likelihood gains less than this
        self.reg_covar = reg_covar              # added to every variance, so Sigma_k stays positive definite
        self.max_iter = max_iter                # EM iterations per run
        self.n_init = n_init                    # runs from fresh initialisations; the best one is kept
        self.init_params = init_params          # "k-means++" (+ Lloyd) or "random" responsibilities
        self.random_state = random_state        # seed or Generator for the initialisation (and sample)
        self.weights_ = self.means_ = self.covariances_ = None  # set by fit

    # ---- fitting
    def fit(self, X: np.ndarray) -> GaussianMixture:
        """Run EM ``n_init`` times and keep the parameters with the highest log-likelihood."""
        self._check_settings()
        X = _check_points(X, "GaussianMixture.fit")
        if len(X) < self.n_components:
            raise ValueError(f"GaussianMixture.fit: expected at least n_components = {self.n_components} "
                             f"samples, got {len(X)}")
        rng = np.random.default_rng(self.random_state)
        runs = [self._em(X, self._initial_responsibilities(X, rng)) for _ in range(self.n_init)]
        params, bounds, converged = max(runs, key=lambda run: run[1][-1])
        self.weights_, self.means_, self.covariances_ = params
        self.lower_bounds_, self.lower_bound_ = bounds, bounds[-1]
        self.converged_, self.n_iter_ = converged, len(bounds)
        return self

    def _em(self, X: np.ndarray, resp: np.ndarray) -> tuple[tuple, list[float], bool]:
        """One EM run from responsibilities ``resp``: ((pi, mu, Sigma), mean log-likelihoods, converged)."""
        bounds = []
        for _ in range(self.max_iter):
            params = m_step(X, resp, self.covariance_type, self.reg_covar)   # M step, Eqs. 9.24-9.27
            log_px, resp = e_step(X, *params)                                 # E step, Eq. 9.23
            bounds.append(float(log_px.mean()))                               # (1/N) Eq. 9.28
            if len(bounds) > 1 and abs(bounds[-1] - bounds[-2]) < self.tol:
                return params, bounds, True
        return params, bounds, False

    def _initial_responsibilities(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(N, K) starting responsibilities: one-hot k-means clusters, or random rows that sum to 1."""
        k = self.n_components
        if self.init_params == "random":
            resp = rng.uniform(size=(len(X), k))                       # (N, K)
            return resp / resp.sum(1, keepdims=True)
        centres = kmeans_plus_plus(X, k, rng)                          # (K, D)
        for _ in range(LLOYD_STEPS):                                   # Lloyd: assign, then re-centre
            nearest = _nearest(X, centres)                             # (N,)
            centres = np.stack([X[nearest == j].mean(0) if (nearest == j).any() else centres[j]
                                for j in range(k)])
        return np.eye(k)[_nearest(X, centres)]                         # (N, K) gamma_nk = 1 for the nearest

    def _check_settings(self) -> None:
        where = "GaussianMixture.fit"
        if not (isinstance(self.n_components, (int, np.integer)) and self.n_components >= 1):
            raise ValueError(f"{where}: expected an integer n_components >= 1, got {self.n_components!r}")
        if self.covariance_type not in COVARIANCE_TYPES:
            raise ValueError(f"{where}: unknown covariance_type {self.covariance_type!r}; "
                             f"expected one of {', '.join(COVARIANCE_TYPES)}")
        if self.init_params not in INIT_PARAMS:
            raise ValueError(f"{where}: unknown init_params {self.init_params!r}; "
                             f"expected one of {', '.join(INIT_PARAMS)}")
        if not (self.max_iter >= 1 and self.n_init >= 1 and self.tol >= 0 and self.reg_covar >= 0):
            raise ValueError(f"{where}: expected max_iter >= 1, n_init >= 1, tol >= 0 and reg_covar >= 0, got "
                             f"{self.max_iter}, {self.n_init}, {self.tol} and {self.reg_covar}")

    # ---- using the fitted model
    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """(N,) ln p(x_n) = ln sum_k pi_k N(x_n | mu_k, Sigma_k) for each row of X."""
        return self._e_step(X, "score_samples")[0]

    def score(self, X: np.ndarray) -> float:
        """The mean log-likelihood (1/N) sum_n ln p(x_n)."""
        return float(self._e_step(X, "score")[0].mean())

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(N, K) the responsibilities gamma_nk = p(component k | x_n), Eq. 9.23."""
        return self._e_step(X, "predict_proba")[1]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(N,) the most probable component of each row of X."""
        return self._e_step(X, "predict")[1].argmax(1)

    def sample(self, n_samples: int = 1, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(X (n, D), labels (n,)): ancestral sampling, grouped by component as in scikit-learn:
        counts ~ Multinomial(n, pi), then x = mu_k + L_k z with z ~ N(0, I), so Cov x = L_k L_k^T.
        Draws from ``rng``, else from ``random_state`` (an int seed then gives the same draws each call)."""
        self._check_fitted("sample")
        if not (isinstance(n_samples, (int, np.integer)) and n_samples >= 1):
            raise ValueError(f"GaussianMixture.sample: expected an integer n_samples >= 1, got {n_samples!r}")
        rng = np.random.default_rng(self.random_state) if rng is None else rng
        counts = rng.multinomial(n_samples, self.weights_)                    # (K,)
        labels = np.repeat(np.arange(len(self.weights_)), counts)             # (n,)
        chol = _cholesky(full_covariances(self.covariances_, self.means_.shape[1]))  # (K, D, D)
        z = rng.standard_normal((n_samples, self.means_.shape[1]))            # (n, D)
        return self.means_[labels] + np.einsum("nij,nj->ni", chol[labels], z), labels

    def _check_fitted(self, method: str) -> None:
        if self.means_ is None:
            raise RuntimeError(f"GaussianMixture.{method}: this mixture is not fitted yet; call fit(X) first")

    def _e_step(self, X: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted(method)
        X = _check_points(X, f"GaussianMixture.{method}")
        if X.shape[1] != self.means_.shape[1]:
            raise ValueError(f"GaussianMixture.{method}: expected {self.means_.shape[1]} features (the fitted "
                             f"dimension), got X of shape {X.shape}")
        return e_step(X, self.weights_, self.means_, self.covariances_)


# ---- the two steps of EM, as functions of arrays
def e_step(X: np.ndarray, weights: np.ndarray, means: np.ndarray,
           covariances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ln p(x_n) (N,), gamma (N, K)): the E step, Eq. 9.23, computed in logs."""
    log_joint = np.log(weights) + gaussian_log_density(X, means, covariances)  # (N, K) ln pi_k N(x_n|mu_k,S_k)
    log_px = logsumexp(log_joint, axis=1)                                      # (N,) ln sum_k ..., Eq. 9.28
    return log_px, np.exp(log_joint - log_px[:, None])                         # gamma_nk, Eq. 9.23


def m_step(X: np.ndarray, resp: np.ndarray, covariance_type: str,
           reg_covar: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pi, mu, Sigma) maximising the expected complete-data log-likelihood, Eqs. 9.24-9.27. The "diag"
    and "spherical" maximisers are the diagonal of the full Sigma_k and its mean, tr(Sigma_k) / D."""
    nk = resp.sum(0) + 10 * np.finfo(float).eps                     # (K,) N_k, Eq. 9.27 (> 0 if empty)
    means = resp.T @ X / nk[:, None]                                # (K, D) mu_k, Eq. 9.24
    diff = X[None, :, :] - means[:, None, :]                        # (K, N, D) x_n - mu_k
    weighted = resp.T[:, :, None] * diff                            # (K, N, D) gamma_nk (x_n - mu_k)
    cov = weighted.transpose(0, 2, 1) @ diff / nk[:, None, None]    # (K, D, D) Sigma_k, Eq. 9.25
    if covariance_type == "full":
        cov = cov + reg_covar * np.eye(X.shape[1])
    elif covariance_type == "diag":
        cov = np.diagonal(cov, axis1=1, axis2=2) + reg_covar        # (K, D)
    else:
        cov = np.trace(cov, axis1=1, axis2=2) / X.shape[1] + reg_covar  # (K,)
    return nk / nk.sum(), means, cov                                # pi_k = N_k / N, Eq. 9.26


def gaussian_log_density(X: np.ndarray, means: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    """(N, K) ln N(x_n | mu_k, Sigma_k) through the Cholesky factor of each Sigma_k."""
    d = X.shape[1]
    chol = _cholesky(full_covariances(covariances, d))                         # (K, D, D) Sigma_k = L_k L_k^T
    diff = (X[None, :, :] - means[:, None, :]).transpose(0, 2, 1)              # (K, D, N) x_n - mu_k
    maha = (np.linalg.solve(chol, diff) ** 2).sum(1)                           # (K, N) ||L_k^{-1}(x_n - mu_k)||^2
    half_log_det = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(1)          # (K,) 1/2 ln |Sigma_k|
    return (-0.5 * (d * np.log(2 * np.pi) + maha) - half_log_det[:, None]).T  # (N, K)


def full_covariances(covariances: np.ndarray, d: int) -> np.ndarray:
    """(K, D, D) covariance matrices from the (K, D, D), (K, D) or (K,) of "full", "diag", "spherical"."""
    if covariances.ndim == 3:
        return covariances
    variances = covariances if covariances.ndim == 2 else np.repeat(covariances[:, None], d, axis=1)
    return variances[:, :, None] * np.eye(d)                                   # (K, D, D) diagonal


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """ln sum exp(a) along ``axis``, with the maximum taken out first so the largest term is exp(0)."""
    top = a.max(axis, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis, keepdims=True))).squeeze(axis)


def kmeans_plus_plus(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """(k, D) k-means++ seeds (Arthur & Vassilvitskii 2007): the first is a uniformly drawn point, each
    next one a point drawn with probability D(x)^2 / sum D^2, D(x) its distance to the nearest seed."""
    centres = [X[rng.integers(len(X))]]
    d2 = ((X - centres[0]) ** 2).sum(1)                                        # (N,) D(x)^2
    for _ in range(1, k):
        if d2.sum() == 0:
            raise ValueError(f"GaussianMixture.fit: expected at least n_components = {k} distinct points, "
                             f"X has {len(centres)}")
        centres.append(X[rng.choice(len(X), p=d2 / d2.sum())])
        d2 = np.minimum(d2, ((X - centres[-1]) ** 2).sum(1))
    return np.stack(centres)


def _nearest(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return ((X[:, None, :] - centres[None, :, :]) ** 2).sum(-1).argmin(1)    # (N,) index of the nearest centre


def _cholesky(cov: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError as e:
        raise ValueError("GaussianMixture: a fitted covariance matrix is not positive definite (a component "
                         "collapsed onto too few points); increase reg_covar") from e


def _check_points(X: np.ndarray, where: str) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{where}: expected X of shape (n_samples, n_features), both >= 1, got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{where}: X holds NaN or infinite values")
    return X
