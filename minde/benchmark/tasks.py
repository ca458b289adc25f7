"""The 40 tasks of the "Beyond Normal" mutual-information benchmark, in numpy/scipy only.

Reference: P. Czyz, F. Grabowski, J. E. Vogt, N. Beerenwinkel, A. Marx, "Beyond Normal: On the Evaluation of
Mutual Information Estimators", NeurIPS 2023; package ``benchmark-mi`` 0.1.3 (github.com/cbg-ethz/bmi).
The released package needs an old JAX and numpy < 2, so this module re-implements its tasks from the published
constructions: same task ids, same order, same closed-form ground truths, same distributions.  Random streams
differ from the package (it draws with JAX keys, we draw with ``np.random.default_rng(seed)``), so a sample of
ours is not bit-identical to a sample of theirs; it is a sample of the same distribution.

Building blocks
---------------
* Base samplers (each knows its closed-form MI in nats):

  - :class:`MultinormalSampler`: (X, Y) ~ N(0, Sigma),
    ``I = 1/2 [log det Sigma_XX + log det Sigma_YY - log det Sigma]``;
  - :class:`BivariateNormalSampler`: 1 x 1 with correlation rho, ``I = -1/2 log(1 - rho^2)``;
  - :class:`AdditiveUniformSampler`: X ~ U(0, 1), Y = X + N, N ~ U(-eps, eps),
    ``I = eps - log(2 eps)`` if eps <= 1/2 else ``1 / (4 eps)``;
  - :class:`StudentTSampler`: multivariate t with dispersion Omega and nu degrees of freedom,
    ``I = I_Gauss(Omega) + h(d_x, nu) + h(d_y, nu) - h(d_x + d_y, nu)`` (Arellano-Valle et al. 2013, see
    :func:`student_t_mi_correction`).

* Transforms (:class:`Transform`, a pair of maps f for X and g for Y applied to whole samples): ``normal_cdf``,
  ``half_cube``, ``asinh``, ``wiggly``, ``spiral``, ``swissroll_x`` and the ``bimodal`` inverse CDFs.  All but the
  swiss roll are diffeomorphisms, so ``I(f(X); g(Y)) = I(X; Y)``: a transformed task keeps the MI of its base.
  The swiss roll embeds a 1-d variable in 2-d injectively and smoothly, which also keeps the MI.

* Task builders (:func:`bivariate_normal`, :func:`additive_noise`, :func:`bimodal`, :func:`multinormal_dense`,
  :func:`multinormal_sparse`, :func:`student_identity`) and :func:`transform_task`, so a new task is one line::

      task = transform_task(multinormal_sparse(5, 5), "spiral-normal_cdf")   # spiral of normal_cdf of base

* The registry (:func:`list_tasks`, :func:`get_task`) holds the 40 benchmark tasks in the benchmark's order.

* Figure 1 of MINDE (sparse 3 x 3 multinormal with growing interaction strength, and its transforms):
  :func:`sparse_multinormal_task`, :func:`sparse_multinormal_mi`, :func:`sparse_strength_for_mi`,
  :func:`figure1_tasks`.
"""

from __future__ import annotations

import difflib
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import numpy as np
from scipy import special

__all__ = [
    "Sampler",
    "MultinormalSampler",
    "BivariateNormalSampler",
    "AdditiveUniformSampler",
    "StudentTSampler",
    "TransformedSampler",
    "Transform",
    "Family",
    "Task",
    "GaussianMixture1D",
    "gaussian_mi",
    "additive_noise_mi",
    "student_t_entropy_term",
    "student_t_mi_correction",
    "dense_covariance",
    "sparse_lvm_correlation",
    "normal_cdf",
    "half_cube",
    "wiggly_x",
    "wiggly_y",
    "swissroll2d",
    "spiral_map",
    "make_transform",
    "TRANSFORM_NAMES",
    "FIGURE1_MI",
    "bivariate_normal",
    "additive_noise",
    "bimodal",
    "multinormal_dense",
    "multinormal_sparse",
    "student_identity",
    "transform_task",
    "sparse_multinormal_mi",
    "sparse_strength_for_mi",
    "sparse_multinormal_task",
    "figure1_tasks",
    "list_tasks",
    "get_task",
]

Array = np.ndarray
ArrayMap = Callable[[Array], Array]
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


# ----------------------------------------------------------------------------------------------------------------
# Transforms (applied to whole sample arrays of shape (n, d); the per-coordinate ones act elementwise)
# ----------------------------------------------------------------------------------------------------------------


def normal_cdf(x: Array) -> Array:
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 per coordinate: Gaussian margins -> uniform margins."""
    return special.ndtr(x)


def half_cube(x: Array) -> Array:
    """``x sqrt|x|`` per coordinate (a signed x^(3/2)); heavier tails, a diffeomorphism of R."""
    return x * np.sqrt(np.abs(x))


def wiggly_x(x: Array) -> Array:
    """``x + 0.4 sin x + 0.2 sin(1.7 x + 1) + 0.03 sin(3.3 x - 2.5)`` per coordinate (derivative >= 0.16 > 0)."""
    return x + 0.4 * np.sin(x) + 0.2 * np.sin(1.7 * x + 1.0) + 0.03 * np.sin(3.3 * x - 2.5)


def wiggly_y(y: Array) -> Array:
    """``y - 0.4 sin(0.4 y) + 0.17 sin(1.3 y + 3.5) + 0.02 sin(4.3 y - 2.5)`` per coordinate (strictly increasing)."""
    return y - 0.4 * np.sin(0.4 * y) + 0.17 * np.sin(1.3 * y + 3.5) + 0.02 * np.sin(4.3 * y - 2.5)


def swissroll2d(u: Array) -> Array:
    """Swiss-roll embedding of a 1-d variable u in [0, 1]: ``t = 1.5 pi (1 + 2u)``, ``u -> (t cos t, t sin t) / 21``.

    Input shape (n, 1), output (n, 2).  (The 21 keeps the scale close to that of the unit interval.)
    """
    if u.ndim != 2 or u.shape[1] != 1:
        raise ValueError(f"the swiss roll embeds a 1-d variable, got shape {u.shape}")
    t = 1.5 * np.pi * (1.0 + 2.0 * u[:, 0])
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 21.0


def spiral_map(x: Array, i: int, j: int, speed: float) -> Array:
    """The spiral ``x -> exp(speed ||x||^2 A_ij) x`` applied to each row x.

    A_ij is the canonical so(d) generator (``A[i, j] = -1``, ``A[j, i] = 1``), so ``exp(theta A_ij)`` rotates the
    (i, j) plane by ``theta = speed ||x||^2`` and leaves the other coordinates alone:
    ``x_i' = cos(theta) x_i - sin(theta) x_j``, ``x_j' = sin(theta) x_i + cos(theta) x_j``.
    The map preserves ||x|| and is a diffeomorphism (its inverse rotates by -speed ||x||^2).
    """
    if not 0 <= i < j < x.shape[1]:
        raise ValueError(f"need 0 <= i < j < dim, got i={i}, j={j}, dim={x.shape[1]}")
    theta = speed * np.einsum("nd,nd->n", x, x)
    c, s = np.cos(theta), np.sin(theta)
    out = x.copy()
    out[:, i] = c * x[:, i] - s * x[:, j]
    out[:, j] = s * x[:, i] + c * x[:, j]
    return out


@dataclass(frozen=True)
class GaussianMixture1D:
    """A 1-d mixture of unit-variance normals ``F(x) = sum_k w_k Phi(x - m_k)``, with a numerical inverse CDF."""

    weights: tuple[float, ...]
    means: tuple[float, ...]

    def cdf(self, x: Array) -> Array:
        return sum(w * special.ndtr(x - m) for w, m in zip(self.weights, self.means, strict=True))

    def ppf(self, u: Array, n_iter: int = 200) -> Array:
        """F^{-1}(u) by vectorised bisection on [min m - 40, max m + 40] (bmi bisects on [-10, 10] to 1e-12;
        the wider bracket only matters for u within ~1e-7 of 0 or 1)."""
        u = np.asarray(u, dtype=np.float64)
        lo = np.full(u.shape, min(self.means) - 40.0)
        hi = np.full(u.shape, max(self.means) + 40.0)
        for _ in range(n_iter):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < u
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
            if np.all(hi - lo <= 1e-13 * np.maximum(1.0, np.abs(mid))):
                break
        return 0.5 * (lo + hi)


#: The bimodal task's margins (Beyond Normal): X ~ 0.3 N(0, 1) + 0.7 N(5, 1), Y ~ 0.5 N(-1, 1) + 0.5 N(3, 1).
BIMODAL_X = GaussianMixture1D(weights=(0.3, 0.7), means=(0.0, 5.0))
BIMODAL_Y = GaussianMixture1D(weights=(0.5, 0.5), means=(-1.0, 3.0))


@dataclass(frozen=True)
class Transform:
    """A product map f x g: X -> f(X), Y -> g(Y) acting on sample arrays (n, d) -> (n, d + add_dim).

    ``name`` is the id prefix (``f"{name}-{base id}"``), ``label`` the human-readable prefix of the task name.
    f = None or g = None means the identity.  For diffeomorphisms (and injective smooth embeddings)
    I(f(X); g(Y)) = I(X; Y), which is what :class:`TransformedSampler` reports.
    """

    name: str
    label: str
    fx: ArrayMap | None = None
    fy: ArrayMap | None = None
    add_dim_x: int = 0
    add_dim_y: int = 0

    def __call__(self, x: Array, y: Array) -> tuple[Array, Array]:
        fx = x if self.fx is None else self.fx(x)
        fy = y if self.fy is None else self.fy(y)
        return np.asarray(fx, dtype=np.float64), np.asarray(fy, dtype=np.float64)


def _spiral_transform(dim_x: int, dim_y: int, speed: float = 1.0, normalize_speed: bool = True) -> Transform:
    """bmi's spiral: generator on coordinates (0, 1) for X and (1, 2) for Y, speed ``speed / d`` per variable."""
    if dim_x < 2 or dim_y < 3:
        raise ValueError(f"the spiral needs dim_x >= 2 and dim_y >= 3, got {dim_x} x {dim_y}")
    sx = speed / dim_x if normalize_speed else speed
    sy = speed / dim_y if normalize_speed else speed
    return Transform(
        name="spiral",
        label="Spiral",
        fx=lambda x: spiral_map(x, 0, 1, sx),
        fy=lambda y: spiral_map(y, 1, 2, sy),
    )


_SIMPLE_TRANSFORMS: dict[str, Transform] = {
    "normal_cdf": Transform("normal_cdf", "Normal CDF", normal_cdf, normal_cdf),
    "half_cube": Transform("half_cube", "Half-cube", half_cube, half_cube),
    "asinh": Transform("asinh", "Asinh", np.arcsinh, np.arcsinh),
    "wiggly": Transform("wiggly", "Wiggly", wiggly_x, wiggly_y),
    # inverse mixture CDFs: meant for uniform margins (apply after normal_cdf, as in the bimodal task)
    "bimodal": Transform("bimodal", "Bimodal", BIMODAL_X.ppf, BIMODAL_Y.ppf),
    "swissroll_x": Transform("swissroll_x", "Swiss roll", swissroll2d, None, add_dim_x=1),
}

#: Names accepted by :func:`make_transform` and :func:`transform_task`.
TRANSFORM_NAMES: tuple[str, ...] = (*_SIMPLE_TRANSFORMS, "spiral")


def make_transform(name: str, dim_x: int, dim_y: int, **kwargs: Any) -> Transform:
    """The transform called ``name`` for a (dim_x, dim_y) task (only ``spiral`` depends on the dimensions and takes
    ``speed`` / ``normalize_speed`` keyword arguments)."""
    if name == "spiral":
        return _spiral_transform(dim_x, dim_y, **kwargs)
    if kwargs:
        raise TypeError(f"transform {name!r} takes no parameters, got {sorted(kwargs)}")
    if name not in _SIMPLE_TRANSFORMS:
        raise ValueError(f"unknown transform {name!r}; known: {', '.join(TRANSFORM_NAMES)}")
    if name == "swissroll_x" and dim_x != 1:
        raise ValueError(f"swissroll_x needs dim_x == 1, got {dim_x}")
    return _SIMPLE_TRANSFORMS[name]


class TransformedSampler(Sampler):
    """Pushforward of a base sampler through a :class:`Transform`; keeps the base MI (invariance of MI under
    diffeomorphisms / injective smooth embeddings of each variable separately)."""

    def __init__(self, base: Sampler, transform: Transform) -> None:
        self.base, self.transform = base, transform
        self.dim_x = base.dim_x + transform.add_dim_x
        self.dim_y = base.dim_y + transform.add_dim_y

    def sample(self, n: int, rng: np.random.Generator) -> tuple[Array, Array]:
        return self.transform(*self.base.sample(n, rng))

    def mutual_information(self) -> float:
        return self.base.mutual_information()


# ----------------------------------------------------------------------------------------------------------------
# Tasks
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """Where a task comes from: its base distribution and the transforms applied to it (outermost first)."""

    base: str
    transforms: tuple[str, ...] = ()

    @property
    def transform(self) -> str | None:
        """The transforms joined as in task ids (``"spiral-normal_cdf"``), None for an untransformed base."""
        return "-".join(self.transforms) or None

    def __str__(self) -> str:
        return self.base if not self.transforms else f"{self.transform}-{self.base}"


@dataclass(frozen=True, eq=False)
class Task:
    """A named, preconfigured sampler with a closed-form ground truth.

    Attributes: ``id`` (the benchmark id), ``name`` (human readable), ``family``, ``sampler``, ``params``.
    Properties: ``dim_x``, ``dim_y``, ``mutual_information`` (nats).  ``sample(n, seed)`` draws everything from
    ``np.random.default_rng(seed)``.
    """

    id: str
    name: str
    family: Family
    sampler: Sampler
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def dim_x(self) -> int:
        return self.sampler.dim_x

    @property
    def dim_y(self) -> int:
        return self.sampler.dim_y

    @property
    def mutual_information(self) -> float:
        """Ground-truth I(X; Y) in nats."""
        return float(self.sampler.mutual_information())

    def sample(self, n: int, seed: SeedLike) -> tuple[Array, Array]:
        """n i.i.d. pairs (x, y), float64 arrays of shape (n, dim_x), (n, dim_y); same seed, same samples."""
        x, y = self.sampler.sample(int(n), _as_rng(seed))
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def __repr__(self) -> str:
        return f"Task({self.id!r}, {self.dim_x}x{self.dim_y}, MI={self.mutual_information:.4f})"


def bivariate_normal(correlation: float = 0.75) -> Task:
    """``1v1-normal-{rho}``: standard bivariate normal, ``I = -1/2 log(1 - rho^2)`` (0.4133 for rho = 0.75)."""
    return Task(
        id=f"1v1-normal-{correlation}",
        name="Bivariate normal 1 × 1",
        family=Family("bivariate-normal"),
        sampler=BivariateNormalSampler(correlation),
        params={"gaussian_correlation": correlation},
    )


def additive_noise(epsilon: float) -> Task:
    """``1v1-additive-{eps}``: X ~ U(0, 1), Y = X + U(-eps, eps); MI from :func:`additive_noise_mi`."""
    return Task(
        id=f"1v1-additive-{epsilon}",
        name=f"Uniform 1 × 1 (additive noise={epsilon})",
        family=Family("additive-uniform"),
        sampler=AdditiveUniformSampler(epsilon),
        params={"epsilon": epsilon},
    )


def bimodal(correlation: float = 0.75) -> Task:
    """``1v1-bimodal-{rho}``: the uniform-margin bivariate normal (Phi per coordinate) pushed through the inverse
    CDFs of 0.3 N(0, 1) + 0.7 N(5, 1) (for X) and 0.5 N(-1, 1) + 0.5 N(3, 1) (for Y).  MI of the base."""
    uniform = transform_task(bivariate_normal(correlation), "normal_cdf")
    return transform_task(
        uniform,
        "bimodal",
        task_id=f"1v1-bimodal-{correlation}",
        task_name="Bimodal 1 × 1",
        params={"gaussian_correlation": correlation},
    )


def multinormal_dense(dim_x: int, dim_y: int, off_diag: float = 0.5) -> Task:
    """``multinormal-dense-{dx}-{dy}-{c}``: N(0, (1-c) I + c 11^T) over the joint vector; MI by :func:`gaussian_mi`."""
    return Task(
        id=f"multinormal-dense-{dim_x}-{dim_y}-{off_diag}",
        name=f"Multinormal {dim_x} × {dim_y} (dense)",
        family=Family("multinormal-dense"),
        sampler=MultinormalSampler(dense_covariance(dim_x + dim_y, off_diag), dim_x),
        params={"off_diag": off_diag},
    )


def multinormal_sparse(dim_x: int, dim_y: int, n_interacting: int = 2, strength: float = 2.0) -> Task:
    """``multinormal-sparse-{dx}-{dy}-{K}-{lambda}``: N(0, R) with R from :func:`sparse_lvm_correlation`.

    ``I = -K/2 log(1 - rho^2)``, ``rho = lambda^2 / (1 + lambda^2)``.  The benchmark's "2-pair" tasks are K = 2,
    lambda = 2.0 (I = 1.0217).  Float formatting of ``strength`` is part of the id (2.0 -> ``-2.0``).
    """
    name = f"Multinormal {dim_x} × {dim_y} " + ("(2-pair)" if n_interacting == 2 else "(sparse)")
    return Task(
        id=f"multinormal-sparse-{dim_x}-{dim_y}-{n_interacting}-{strength}",
        name=name,
        family=Family("multinormal-sparse"),
        sampler=MultinormalSampler(sparse_lvm_correlation(dim_x, dim_y, n_interacting, strength), dim_x),
        params={"n_interacting": n_interacting, "strength": strength},
    )


def student_identity(dim_x: int, dim_y: int, df: int) -> Task:
    """``student-identity-{dx}-{dy}-{nu}``: multivariate t with identity dispersion.  X and Y are uncorrelated but
    dependent through the shared chi-square scale; ``I = student_t_mi_correction(dx, dy, nu)``."""
    return Task(
        id=f"student-identity-{dim_x}-{dim_y}-{df}",
        name=f"Student-t {dim_x} × {dim_y} (dof={df})",
        family=Family("student-identity"),
        sampler=StudentTSampler(np.eye(dim_x + dim_y), dim_x, df),
        params={"dof": df},
    )


def transform_task(
    base: Task,
    transform: str | Transform,
    *,
    task_id: str | None = None,
    task_name: str | None = None,
    params: dict[str, Any] | None = None,
    **transform_kwargs: Any,
) -> Task:
    """Applies a transform to a task: id ``f"{name}-{base.id}"``, name ``f"{label} @ {base.name}"``, same MI.

    ``transform`` is a :class:`Transform` or a name from :data:`TRANSFORM_NAMES`; a chain such as
    ``"spiral-normal_cdf"`` applies the rightmost first (as in the ids: spiral of normal_cdf of the base).
    """
    if isinstance(transform, str):
        parts = transform.split("-")
        if len(parts) > 1:
            if task_id is not None or task_name is not None:
                raise ValueError("task_id / task_name overrides need a single transform")
            task = base
            for part in reversed(parts):
                task = transform_task(task, part, **(transform_kwargs if part == "spiral" else {}))
            return task
        transform = make_transform(transform, base.dim_x, base.dim_y, **transform_kwargs)
    elif transform_kwargs:
        raise TypeError("transform keyword arguments are only accepted with a transform name")
    return Task(
        id=task_id or f"{transform.name}-{base.id}",
        name=task_name or f"{transform.label} @ {base.name}",
        family=replace(base.family, transforms=(transform.name, *base.family.transforms)),
        sampler=TransformedSampler(base.sampler, transform),
        params=dict(base.params) if params is None else params,
    )


# ----------------------------------------------------------------------------------------------------------------
# Figure 1 of MINDE: the sparse 3 x 3 multinormal with a growing interaction strength
# ----------------------------------------------------------------------------------------------------------------


def sparse_multinormal_mi(strength: float, n_interacting: int = 2) -> float:
    """Closed-form MI of :func:`multinormal_sparse` (any dims): ``-K/2 log(1 - rho^2)``, ``rho = l^2 / (1 + l^2)``.

    Equivalently ``K/2 [2 log(1 + l^2) - log(1 + 2 l^2)]``, which grows like ``K/2 log(l^2 / 2)`` for large l.
    """
    lam2 = float(strength) ** 2
    return 0.5 * n_interacting * (2.0 * math.log1p(lam2) - math.log1p(2.0 * lam2))


def sparse_strength_for_mi(mi: float, n_interacting: int = 2) -> float:
    """The strength lambda >= 0 at which the sparse multinormal has MI ``mi`` (inverse of :func:`sparse_multinormal_mi`):
    ``rho = sqrt(1 - exp(-2 I / K))``, ``lambda = sqrt(rho / (1 - rho))``."""
    if mi < 0:
        raise ValueError(f"mi must be >= 0, got {mi}")
    if n_interacting < 1:
        raise ValueError("n_interacting must be >= 1 for a positive MI")
    rho = math.sqrt(-math.expm1(-2.0 * mi / n_interacting))
    return math.sqrt(rho / (1.0 - rho))


def sparse_multinormal_task(dim: int = 3, strength: float = 2.0, n_interacting: int = 2, transform: str | None = None) -> Task:
    """The Figure 1 task: the sparse ``dim x dim`` multinormal (K = ``n_interacting`` pairs with
    ``corr(X_i, Y_i) = lambda^2 / (1 + lambda^2)``), optionally transformed (``None``, ``"half_cube"``,
    ``"spiral"``, ``"normal_cdf"``, ``"asinh"``, ``"wiggly"`` or a chain such as ``"spiral-normal_cdf"``).

    Ground truth ``I = K/2 [2 log(1 + l^2) - log(1 + 2 l^2)]`` (:func:`sparse_multinormal_mi`), whatever ``dim``
    and the transform.  For K = 2 (nats; use :func:`sparse_strength_for_mi` for an evenly spaced MI grid):

    ===============  ======  ======  ======  ======  ======  ======  ======  ======  ======  ======
    strength lambda   0.25    0.5     1       2       3       5       7       10      17.19   28.38
    MI (nats)         0.0035  0.0408  0.2877  1.0217  1.6607  2.5844  3.2289  3.9269  5.0006  6.0001
    ===============  ======  ======  ======  ======  ======  ======  ======  ======  ======  ======

    So strength in [0, ~17.2] spans MI from 0 to 5 nats, [0, ~28.4] up to 6 nats (MI ~ log(lambda^2 / 2) for large
    lambda: each extra nat multiplies lambda by e^(1/2) ~ 1.65).  With ``dim=3``, ``strength=2.0`` and
    ``transform`` in {None, "normal_cdf", "half_cube", "spiral", "spiral-normal_cdf"} this is exactly the benchmark
    task ``[transform-]multinormal-sparse-3-3-2-2.0``.
    """
    task = multinormal_sparse(dim, dim, n_interacting=n_interacting, strength=float(strength))
    return task if transform is None else transform_task(task, transform)


#: True MI (nats) of the Figure 1 grid run by this project: near 0 up to 6 nats, past where MINDE is expected to break.
FIGURE1_MI: tuple[float, ...] = (0.1, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)


def figure1_tasks(
    mi_values: Sequence[float] = FIGURE1_MI,
    transforms: Sequence[str | None] = (None, "half_cube", "spiral"),
    dim: int = 3,
    n_interacting: int = 2,
) -> dict[str | None, list[Task]]:
    """The Figure 1 grid: for each transform, one sparse task per target MI (strength by :func:`sparse_strength_for_mi`).

    Task ids carry the strength, e.g. ``half_cube-multinormal-sparse-3-3-2-4.4417...``.
    """
    return {
        tr: [sparse_multinormal_task(dim, sparse_strength_for_mi(mi, n_interacting), n_interacting, tr) for mi in mi_values]
        for tr in transforms
    }


# ----------------------------------------------------------------------------------------------------------------
# The benchmark registry (order of bmi's BENCHMARK_TASKS_LIST)
# ----------------------------------------------------------------------------------------------------------------


def _benchmark_tasks() -> list[Task]:
    """The 40 tasks: 1-d tasks, the swiss roll, multinormals, Student t, then the transformed high-dim tasks."""
    binormal = bivariate_normal(0.75)
    uniform = transform_task(binormal, "normal_cdf")
    bistudent = student_identity(1, 1, 1)
    one_dim = [
        binormal,
        uniform,
        additive_noise(0.1),
        additive_noise(0.75),
        bimodal(0.75),
        transform_task(binormal, "wiggly"),
        transform_task(binormal, "half_cube"),
        bistudent,
        transform_task(bistudent, "asinh"),
    ]
    embeddings = [transform_task(uniform, "swissroll_x", task_name="Swiss roll 2 × 1")]
    multinormal = [multinormal_dense(d, d) for d in (2, 3, 5, 25, 50)] + [multinormal_sparse(d, d) for d in (2, 3, 5, 25)]
    student = [student_identity(d, d, nu) for d, nu in ((2, 1), (2, 2), (3, 2), (3, 3), (5, 2), (5, 3))]
    sparse = [multinormal_sparse(d, d) for d in (3, 5, 25)]
    transformed = [transform_task(t, tr) for tr in ("normal_cdf", "half_cube", "spiral", "spiral-normal_cdf") for t in sparse]
    asinh_student = [transform_task(student_identity(d, d, nu), "asinh") for d, nu in ((2, 1), (3, 2), (5, 2))]
    return one_dim + embeddings + multinormal + student + transformed + asinh_student


@cache
def _task_ids() -> tuple[str, ...]:
    ids = tuple(t.id for t in _benchmark_tasks())
    assert len(set(ids)) == len(ids) == 40, "benchmark task ids must be 40 and unique"
    return ids


def list_tasks() -> list[str]:
    """The 40 benchmark task ids, in the order of the Beyond Normal benchmark (bmi's ``BENCHMARK_TASKS_LIST``)."""
    return list(_task_ids())


_SPARSE_ID = re.compile(
    r"^(?:(?P<transform>[a-z_-]+)-)?multinormal-sparse-(?P<dx>\d+)-(?P<dy>\d+)-(?P<k>\d+)-(?P<strength>[0-9.eE+-]+)$"
)


def _sparse_task_from_id(task_id: str) -> Task | None:
    """The sparse multinormal (optionally transformed) named by ``task_id``, e.g. the Figure 1 ids
    ``half_cube-multinormal-sparse-3-3-2-4.44...``; None if the id is not of that form."""
    m = _SPARSE_ID.match(str(task_id))
    if m is None:
        return None
    transform = m["transform"]
    if transform is not None and not all(part in TRANSFORM_NAMES for part in transform.split("-")):
        return None
    try:
        strength = float(m["strength"])
    except ValueError:
        return None
    dx, dy, k = int(m["dx"]), int(m["dy"]), int(m["k"])
    if min(dx, dy) < 1 or not 0 <= k <= min(dx, dy) or not math.isfinite(strength) or strength < 0:
        raise ValueError(f"task id {task_id!r}: need dims >= 1, 0 <= K <= min(dims) and a finite strength >= 0")
    task = multinormal_sparse(dx, dy, n_interacting=k, strength=strength)
    task = task if transform is None else transform_task(task, transform)
    return task if task.id == task_id else None  # ids are canonical: "-2.0", not "-2"


def get_task(task_id: str) -> Task:
    """The benchmark task with this id (a fresh object each call; building all 40 takes ~10 ms).

    Besides the 40 benchmark ids, any sparse multinormal id ``[transform-]multinormal-sparse-{dx}-{dy}-{K}-{lambda}``
    is understood (the Figure 1 grid, :func:`figure1_tasks`).  ``ValueError`` naming the id and its close matches if
    unknown."""
    if task_id in _task_ids():
        return next(t for t in _benchmark_tasks() if t.id == task_id)
    sparse = _sparse_task_from_id(task_id)
    if sparse is not None:
        return sparse
    close = difflib.get_close_matches(str(task_id), _task_ids(), n=5, cutoff=0.5)
    hint = f"close matches: {', '.join(close)}" if close else "no close match; see list_tasks() for the 40 ids"
    raise ValueError(f"unknown task id {task_id!r} ({hint})")
