"""Closed-form scores of a diffused Gaussian pair (X, Y): the exact-score check of MINDE's identities.

For (X, Y) ~ N(0, Sigma) every score MINDE needs is Gaussian at every t.  Under a kernel
N(alpha_t x_0, sigma_t^2 I):

* marginal     X_t ~ N(0, alpha^2 S_xx + sigma^2 I)
* conditional  X_t | Y_0 = y ~ N(alpha S_xy S_yy^{-1} y, alpha^2 S_{x|y} + sigma^2 I)
* joint        (X_t, Y_t) ~ N(0, alpha^2 Sigma + sigma^2 I)

and the score of N(m, C) is -C^{-1}(x - m).  ``exact_estimates`` feeds these to the estimator functions,
so the four MI forms and the entropies can be compared with the closed form
I = 1/2 log(det S_xx det S_yy / det Sigma) without any training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from . import estimators as est
from .sde import SDE

__all__ = ["GaussianPair", "exact_integrands", "exact_estimates", "exact_time_profile"]


def _score(z: Tensor, mean: Tensor, cov_base: Tensor, alpha: Tensor, sigma: Tensor) -> Tensor:
    """-(alpha^2 C + sigma^2 I)^{-1} (z - alpha m) for per-sample alpha, sigma of shape (n, 1)."""
    d = cov_base.shape[0]
    eye = torch.eye(d, dtype=z.dtype)
    cov_t = alpha[:, :, None] ** 2 * cov_base + sigma[:, :, None] ** 2 * eye
    return -torch.linalg.solve(cov_t, (z - alpha * mean).unsqueeze(-1)).squeeze(-1)


@dataclass
class GaussianPair:
    """A zero-mean Gaussian pair (X, Y) with joint covariance ``cov`` and X = the first ``dim_x`` coordinates."""

    cov: np.ndarray
    dim_x: int

    def __post_init__(self) -> None:
        self.cov = np.asarray(self.cov, dtype=np.float64)
        if self.cov.ndim != 2 or self.cov.shape[0] != self.cov.shape[1]:
            raise ValueError(f"cov must be square, got shape {self.cov.shape}")
        if not 0 < self.dim_x < self.cov.shape[0]:
            raise ValueError(f"dim_x must be in (0, {self.cov.shape[0]}), got {self.dim_x}")
        np.linalg.cholesky(self.cov)  # raises if not positive definite
        c = torch.as_tensor(self.cov)
        dx = self.dim_x
        self._sxx, self._sxy, self._syy = c[:dx, :dx], c[:dx, dx:], c[dx:, dx:]
        self._cov = c

    @classmethod
    def correlated(cls, rho: float, dim: int = 1) -> GaussianPair:
        """X, Y in R^dim with corr(X_i, Y_i) = rho and no other correlation: I = -dim/2 log(1 - rho^2)."""
        eye = np.eye(dim)
        return cls(np.block([[eye, rho * eye], [rho * eye, eye]]), dim)

    @classmethod
    def dense(cls, dim_x: int, dim_y: int, correlation: float = 0.5) -> GaussianPair:
        """All pairwise correlations equal to ``correlation`` (the benchmark's dense multinormal)."""
        d = dim_x + dim_y
        return cls((1 - correlation) * np.eye(d) + correlation * np.ones((d, d)), dim_x)

    @property
    def dim_y(self) -> int:
        return self.cov.shape[0] - self.dim_x

    # --- closed forms ----------------------------------------------------------------------------
    def mutual_information(self) -> float:
        dx = self.dim_x
        ld = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
        return 0.5 * (ld(self.cov[:dx, :dx]) + ld(self.cov[dx:, dx:]) - ld(self.cov))

    @staticmethod
    def _entropy(cov: np.ndarray) -> float:
        d = cov.shape[0]
        return 0.5 * (d * math.log(2 * math.pi * math.e) + np.linalg.slogdet(cov)[1])

    def entropies(self) -> dict[str, float]:
        """Closed-form H(X), H(Y), H(X,Y), H(X|Y), H(Y|X) in nats."""
        dx = self.dim_x
        hx, hy, hxy = self._entropy(self.cov[:dx, :dx]), self._entropy(self.cov[dx:, dx:]), self._entropy(self.cov)
        return {"H(X)": hx, "H(Y)": hy, "H(X,Y)": hxy, "H(X|Y)": hxy - hy, "H(Y|X)": hxy - hx}

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        z = np.random.default_rng(seed).multivariate_normal(np.zeros(self.cov.shape[0]), self.cov, size=n)
        return z[:, : self.dim_x], z[:, self.dim_x :]

    # --- scores of the diffused densities --------------------------------------------------------
    def _conditional(self, given: Tensor, of_x: bool) -> tuple[Tensor, Tensor]:
        if of_x:
            a, b, c = self._sxx, self._sxy, self._syy
        else:
            a, b, c = self._syy, self._sxy.T, self._sxx
        gain = b @ torch.linalg.inv(c)
        return given @ gain.T, a - gain @ b.T

    def score_marginal_x(self, x_t: Tensor, alpha: Tensor, sigma: Tensor) -> Tensor:
        return _score(x_t, torch.zeros_like(x_t), self._sxx, alpha, sigma)

    def score_marginal_y(self, y_t: Tensor, alpha: Tensor, sigma: Tensor) -> Tensor:
        return _score(y_t, torch.zeros_like(y_t), self._syy, alpha, sigma)

    def score_conditional_x(self, x_t: Tensor, y0: Tensor, alpha: Tensor, sigma: Tensor) -> Tensor:
        mean, cov = self._conditional(y0, of_x=True)
        return _score(x_t, mean, cov, alpha, sigma)

    def score_conditional_y(self, y_t: Tensor, x0: Tensor, alpha: Tensor, sigma: Tensor) -> Tensor:
        mean, cov = self._conditional(x0, of_x=False)
        return _score(y_t, mean, cov, alpha, sigma)

    def score_joint(self, xy_t: Tensor, alpha: Tensor, sigma: Tensor) -> Tensor:
        return _score(xy_t, torch.zeros_like(xy_t), self._cov, alpha, sigma)


def exact_integrands(
    pair: GaussianPair,
    sde: SDE,
    x0: Tensor,
    y0: Tensor,
    t: Tensor,
    weight: Tensor,
    noise: Tensor,
    reference_std: float = 1.0,
) -> dict[str, Tensor]:
    """Per-sample integrands of the four MI forms, of KL(joint || product of marginals), and of the KL
    terms of the five entropies, computed from closed-form scores at times t (n, 1) with weights w."""
    dx = pair.dim_x
    alpha, sigma, g2 = sde.alpha(t), sde.sigma(t), sde.g2(t)
    chi = sde.chi(t, reference_std)
    z0 = torch.cat([x0, y0], dim=1)
    z_t = sde.perturb(z0, t, noise)
    x_t, y_t = z_t[:, :dx], z_t[:, dx:]
    s_x = pair.score_marginal_x(x_t, alpha, sigma)
    s_y = pair.score_marginal_y(y_t, alpha, sigma)
    s_x_given_y = pair.score_conditional_x(x_t, y0, alpha, sigma)
    s_y_given_x = pair.score_conditional_y(y_t, x0, alpha, sigma)
    s_xy = pair.score_joint(z_t, alpha, sigma)
    w = weight
    return {
        "MINDE-C": est.minde_c(s_x_given_y, s_x, g2, w),
        "MINDE-C(sigma)": est.minde_c_sigma(s_x_given_y, s_x, x_t, chi, g2, w),
        "MINDE-J": est.minde_j(s_xy, s_x_given_y, s_y_given_x, g2, w),
        "MINDE-J(sigma)": est.minde_j_sigma(s_xy, s_x_given_y, s_y_given_x, x_t, y_t, chi, g2, w),
        "KL(joint||product)": est.kl_integrand(s_xy, torch.cat([s_x, s_y], dim=1), g2, w),
        "H(X)": est.entropy_integrand(s_x, x_t, chi, g2, w),
        "H(Y)": est.entropy_integrand(s_y, y_t, chi, g2, w),
        "H(X,Y)": est.entropy_integrand(s_xy, z_t, chi, g2, w),
        "H(X|Y)": est.entropy_integrand(s_x_given_y, x_t, chi, g2, w),
        "H(Y|X)": est.entropy_integrand(s_y_given_x, y_t, chi, g2, w),
    }


def exact_estimates(
    pair: GaussianPair,
    sde: SDE,
    n: int = 100_000,
    importance_sampling: bool = True,
    reference_std: float = 1.0,
    seed: int = 0,
    stratified: bool = True,
) -> dict[str, est.Estimate]:
    """All four MI forms and the five entropies from closed-form scores, by Monte Carlo over (x_0, t, eps).

    Returns estimates keyed "MINDE-C", "MINDE-C(sigma)", "MINDE-J", "MINDE-J(sigma)", "KL(joint||product)"
    and "H(X)", "H(Y)", "H(X,Y)", "H(X|Y)", "H(Y|X)" (entropies = reference cross-entropy - KL, eq. (H)).
    """
    gen = torch.Generator().manual_seed(seed)
    x0, y0 = (torch.as_tensor(a) for a in pair.sample(n, seed))
    t, w = sde.sample_time(n, importance_sampling, gen, stratified=stratified)
    noise = torch.randn(n, x0.shape[1] + y0.shape[1], generator=gen, dtype=torch.float64)
    terms = exact_integrands(pair, sde, x0, y0, t, w, noise, reference_std)
    cross = {"X": x0, "Y": y0, "X,Y": torch.cat([x0, y0], dim=1)}
    out = {}
    for key, v in terms.items():
        if key.startswith("H("):
            var = key[2:-1].split("|")[0]
            v = est.gaussian_reference_cross_entropy(cross[var], reference_std) - v
        out[key] = est.Estimate.from_samples(v)
    return out


def exact_time_profile(
    pair: GaussianPair, sde: SDE, times: object, n: int = 20_000, reference_std: float = 1.0, seed: int = 0
) -> dict[str, np.ndarray]:
    """For each t in ``times``, the Monte-Carlo mean over n samples of every integrand without time weight
    (e.g. 1/2 g^2 E||s_{X|Y} - s_X||^2 for MINDE-C): the exact curves whose area is the MI / KL."""
    gen = torch.Generator().manual_seed(seed)
    x0, y0 = (torch.as_tensor(a) for a in pair.sample(n, seed))
    out: dict[str, list[float]] = {}
    for tv in np.asarray(times, dtype=np.float64).reshape(-1):
        t = torch.full((n, 1), float(tv), dtype=torch.float64)
        noise = torch.randn(n, x0.shape[1] + y0.shape[1], generator=gen, dtype=torch.float64)
        for k, v in exact_integrands(pair, sde, x0, y0, t, torch.ones_like(t), noise, reference_std).items():
            out.setdefault(k, []).append(float(v.mean()))
    return {k: np.asarray(v) for k, v in out.items()}
