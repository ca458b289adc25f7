"""Base samplers of the benchmark: joint distributions of (X, Y) that know their mutual information in closed form.

* :class:`MultinormalSampler`: (X, Y) ~ N(0, Sigma), ``I = 1/2 [log det Sigma_XX + log det Sigma_YY - log det Sigma]``;
* :class:`BivariateNormalSampler`: 1 x 1 with correlation rho, ``I = -1/2 log(1 - rho^2)``;
* :class:`AdditiveUniformSampler`: X ~ U(0, 1), Y = X + N, N ~ U(-eps, eps),
  ``I = eps - log(2 eps)`` if eps <= 1/2 else ``1 / (4 eps)``;
* :class:`StudentTSampler`: multivariate t with dispersion Omega and nu degrees of freedom,
  ``I = I_Gauss(Omega) + h(d_x, nu) + h(d_y, nu) - h(d_x + d_y, nu)`` (Arellano-Valle et al. 2013, see
  :func:`student_t_mi_correction`);

with the closed-form ground truths and the covariance parametrisations (dense, sparse latent-variable) the tasks
use.  Transforms of these samplers: :mod:`minde.benchmark.transforms`; the named tasks: :mod:`minde.benchmark.tasks`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
from scipy import special

__all__ = [
    "Sampler",
    "MultinormalSampler",
    "BivariateNormalSampler",
    "AdditiveUniformSampler",
    "StudentTSampler",
    "gaussian_mi",
    "additive_noise_mi",
    "student_t_entropy_term",
    "student_t_mi_correction",
    "dense_covariance",
    "sparse_lvm_correlation",
]

Array = np.ndarray
SeedLike = int | np.integer | np.random.Generator


def _as_rng(seed: SeedLike) -> np.random.Generator:
    """``np.random.default_rng(seed)``; a Generator passes through (so composed samplers share one stream)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(int(seed))


def _check_pd(matrix: Array, what: str) -> Array:
    """Validates a symmetric positive-definite matrix and returns its lower Cholesky factor."""
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"{what} must be square, got shape {matrix.shape}")
    if not np.allclose(matrix, matrix.T):
        raise ValueError(f"{what} must be symmetric")
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError as err:
        raise ValueError(f"{what} must be positive definite") from err


# ----------------------------------------------------------------------------------------------------------------
# Closed-form ground truths
# ----------------------------------------------------------------------------------------------------------------


def gaussian_mi(covariance: Array, dim_x: int) -> float:
    """MI of a jointly Gaussian (X, Y) with joint covariance Sigma, X = the first ``dim_x`` coordinates.

    ``I(X; Y) = 1/2 [log det Sigma_XX + log det Sigma_YY - log det Sigma]`` (nats), i.e. H(X) + H(Y) - H(X, Y) with
    the Gaussian entropy ``H = 1/2 log det(2 pi e Sigma)``.  Log-determinants via ``slogdet`` for stability.
    """
    cov = np.asarray(covariance, dtype=np.float64)
    _, ld_xx = np.linalg.slogdet(cov[:dim_x, :dim_x])
    _, ld_yy = np.linalg.slogdet(cov[dim_x:, dim_x:])
    _, ld = np.linalg.slogdet(cov)
    return max(0.0, float(0.5 * (ld_xx + ld_yy - ld)))


def additive_noise_mi(epsilon: float) -> float:
    """MI of X ~ U(0, 1), Y = X + N, N ~ U(-eps, eps) independent of X.

    ``I(X; Y) = h(Y) - h(N) = h(Y) - log(2 eps)``, and the trapezoidal density of Y gives
    ``I = eps - log(2 eps)`` for eps <= 1/2 and ``I = 1 / (4 eps)`` for eps > 1/2 (the two agree at eps = 1/2).
    """
    if epsilon <= 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    if epsilon > 0.5:
        return 0.25 / epsilon
    return float(epsilon - math.log(2.0 * epsilon))


def student_t_entropy_term(k: int, df: float) -> float:
    """Differential entropy of a k-variate Student t with identity dispersion and ``df`` = nu degrees of freedom.

    Arellano-Valle, Contreras-Reyes & Genton (Scand. J. Stat. 40, 2013), Eq. (7), with Omega = I:
    ``h(k, nu) = log Gamma(nu/2) - log Gamma((nu+k)/2) + k/2 log(nu pi)
    + (nu+k)/2 [psi((nu+k)/2) - psi(nu/2)]``.
    For a general dispersion Omega the entropy adds ``1/2 log det Omega``.
    """
    half = 0.5 * (df + k)
    return float(
        special.gammaln(0.5 * df)
        - special.gammaln(half)
        + 0.5 * k * math.log(df * math.pi)
        + half * (special.digamma(half) - special.digamma(0.5 * df))
    )


def student_t_mi_correction(dim_x: int, dim_y: int, df: float) -> float:
    """The non-Gaussian part of the MI of a multivariate t: ``c = h(d_x, nu) + h(d_y, nu) - h(d_x + d_y, nu)``.

    For (X, Y) ~ t_nu(0, Omega) the marginals are t_nu(0, Omega_XX), t_nu(0, Omega_YY) with the same nu, so
    ``I(X; Y) = 1/2 log(det Omega_XX det Omega_YY / det Omega) + c``: the Gaussian MI of the dispersion plus a
    correction that depends only on the dimensions and nu (the formula as computed in bmi's ``SplitStudentT``
    from the entropies of Arellano-Valle et al.; their closed-form MI expression has a typo).  c > 0 and c -> 0 as
    nu -> infinity.
    """
    if math.isinf(df):
        return 0.0
    return student_t_entropy_term(dim_x, df) + student_t_entropy_term(dim_y, df) - student_t_entropy_term(dim_x + dim_y, df)


# ----------------------------------------------------------------------------------------------------------------
# Covariance parametrisations
# ----------------------------------------------------------------------------------------------------------------


def dense_covariance(dim: int, off_diag: float = 0.5) -> Array:
    """``(1 - c) I + c 1 1^T``: unit variances and every off-diagonal correlation equal to c (over the joint vector)."""
    return np.eye(dim) * (1.0 - off_diag) + off_diag


def sparse_lvm_correlation(
    dim_x: int, dim_y: int, n_interacting: int = 2, strength: float = 2.0, noise: float = 1.0, eta: float | None = None
) -> Array:
    """Correlation matrix of the sparse latent-variable model (bmi's ``GaussianLVMParametrization`` with alpha = beta = 0).

    With independent standard normal latents Z_i (shared), E_i, F_j (individual noise) and V_i, W_j (padding):

    * interacting pairs i < K:  ``X_i = lambda Z_i + eps E_i``,  ``Y_i = lambda Z_i + eps F_i``;
    * other coordinates:        ``X_i = eta V_i + eps E_i``,     ``Y_j = eta W_j + eps F_j``  (eta defaults to lambda);

    then the covariance is normalised to a correlation matrix.  Result: ``corr(X_i, Y_i) = rho =
    lambda^2 / (lambda^2 + eps^2)`` for i < K and no other non-zero off-diagonal entry, so
    ``I = -K/2 log(1 - rho^2)`` whatever the dimensions.  The benchmark uses K = 2, lambda = 2, eps = 1: rho = 0.8,
    I = -log 0.36 = 1.0217 nats.
    """
    if not 0 <= n_interacting <= min(dim_x, dim_y):
        raise ValueError(f"n_interacting={n_interacting} must be between 0 and min(dim_x, dim_y)={min(dim_x, dim_y)}")
    eta = strength if eta is None else eta
    n = dim_x + dim_y
    cov = np.zeros((n, n))
    for i in range(dim_x):
        cov[i, i] = noise**2 + (strength**2 if i < n_interacting else eta**2)
    for j in range(dim_y):
        cov[dim_x + j, dim_x + j] = noise**2 + (strength**2 if j < n_interacting else eta**2)
    for i in range(n_interacting):
        cov[i, dim_x + i] = cov[dim_x + i, i] = strength**2
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


# ----------------------------------------------------------------------------------------------------------------
# Base samplers
# ----------------------------------------------------------------------------------------------------------------


class Sampler(ABC):
    """A joint distribution of (X, Y) that can be sampled and knows its mutual information in closed form."""

    dim_x: int
    dim_y: int

    @abstractmethod
    def sample(self, n: int, rng: np.random.Generator) -> tuple[Array, Array]:
        """Draws n i.i.d. pairs: float64 arrays of shape (n, dim_x) and (n, dim_y)."""

    @abstractmethod
    def mutual_information(self) -> float:
        """Ground-truth I(X; Y) in nats."""


class MultinormalSampler(Sampler):
    """(X, Y) ~ N(mean, Sigma), X = the first ``dim_x`` coordinates.  Sampled as ``mean + L z``, L = chol(Sigma).

    MI: :func:`gaussian_mi`.
    """

    def __init__(self, covariance: Array, dim_x: int, mean: Array | None = None) -> None:
        self.covariance = np.array(covariance, dtype=np.float64)
        self._chol = _check_pd(self.covariance, "covariance")
        n = self.covariance.shape[0]
        if not 0 < dim_x < n:
            raise ValueError(f"dim_x must be in (0, {n}), got {dim_x}")
        self.dim_x, self.dim_y = dim_x, n - dim_x
        self.mean = np.zeros(n) if mean is None else np.asarray(mean, dtype=np.float64)
        if self.mean.shape != (n,):
            raise ValueError(f"mean must have shape ({n},), got {self.mean.shape}")

    def sample(self, n: int, rng: np.random.Generator) -> tuple[Array, Array]:
        xy = self.mean + rng.standard_normal((n, self.covariance.shape[0])) @ self._chol.T
        return xy[:, : self.dim_x], xy[:, self.dim_x :]

    def mutual_information(self) -> float:
        return gaussian_mi(self.covariance, self.dim_x)


class BivariateNormalSampler(MultinormalSampler):
    """1 x 1 standard bivariate normal with correlation rho: ``I = -1/2 log(1 - rho^2)``."""

    def __init__(self, correlation: float) -> None:
        if not -1 < correlation < 1:
            raise ValueError(f"correlation must be in (-1, 1), got {correlation}")
        self.correlation = correlation
        super().__init__(np.array([[1.0, correlation], [correlation, 1.0]]), dim_x=1)

    def mutual_information(self) -> float:
        return float(-0.5 * math.log1p(-(self.correlation**2)))


class AdditiveUniformSampler(Sampler):
    """X ~ U(0, 1), N ~ U(-eps, eps) independent, Y = X + N.  MI: :func:`additive_noise_mi`."""

    def __init__(self, epsilon: float) -> None:
        if epsilon <= 0:
            raise ValueError(f"epsilon must be positive, got {epsilon}")
        self.epsilon = epsilon
        self.dim_x = self.dim_y = 1

    def sample(self, n: int, rng: np.random.Generator) -> tuple[Array, Array]:
        x = rng.uniform(0.0, 1.0, size=(n, 1))
        noise = rng.uniform(-self.epsilon, self.epsilon, size=(n, 1))
        return x, x + noise

    def mutual_information(self) -> float:
        return additive_noise_mi(self.epsilon)


class StudentTSampler(Sampler):
    """(X, Y) ~ multivariate t with dispersion Omega (not the covariance) and ``df`` = nu degrees of freedom.

    Sampled by the normal/chi-square mixture ``(X, Y) = L z / sqrt(w / nu)``, z ~ N(0, I), w ~ chi^2_nu,
    L = chol(Omega) (``df = inf`` gives the Gaussian).  Every coordinate is a scaled t_nu; covariance
    ``nu / (nu - 2) Omega`` exists only for nu > 2.

    MI: ``gaussian_mi(Omega) + student_t_mi_correction(d_x, d_y, nu)`` (Arellano-Valle et al. 2013).
    """

    def __init__(self, dispersion: Array, dim_x: int, df: float) -> None:
        if not df > 0:
            raise ValueError(f"df must be positive, got {df}")
        self.dispersion = np.array(dispersion, dtype=np.float64)
        self._chol = _check_pd(self.dispersion, "dispersion")
        n = self.dispersion.shape[0]
        if not 0 < dim_x < n:
            raise ValueError(f"dim_x must be in (0, {n}), got {dim_x}")
        self.dim_x, self.dim_y = dim_x, n - dim_x
        self.df = df

    def sample(self, n: int, rng: np.random.Generator) -> tuple[Array, Array]:
        xy = rng.standard_normal((n, self.dispersion.shape[0])) @ self._chol.T
        if not math.isinf(self.df):
            xy = xy / np.sqrt(rng.chisquare(self.df, size=(n, 1)) / self.df)
        return xy[:, : self.dim_x], xy[:, self.dim_x :]

    def mi_normal(self) -> float:
        """The Gaussian part: MI of N(0, Omega)."""
        return gaussian_mi(self.dispersion, self.dim_x)

    def mi_correction(self) -> float:
        """The correction term, a function of (d_x, d_y, nu) only."""
        return student_t_mi_correction(self.dim_x, self.dim_y, self.df)

    def mutual_information(self) -> float:
        return self.mi_normal() + self.mi_correction()

    def covariance(self) -> Array:
        """``nu / (nu - 2) Omega``; raises for nu <= 2 where it does not exist."""
        if self.df <= 2:
            raise ValueError(f"the covariance of a Student t with df={self.df} <= 2 does not exist")
        return self.df / (self.df - 2.0) * self.dispersion

