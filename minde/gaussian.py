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

from . import forms as est
from .sde import SDE

__all__ = [
    "GaussianPair",
    "exact_integrands",
    "exact_estimates",
    "exact_time_profile",
    "gaussian_kl",
    "DiffusedGaussians",
    "diffused_pair",
    "end_point_terms",
    "time_integration_errors",
    "exact_integrand_curves",
    "exact_samples",
    "compare_small_t_rules",
    "girsanov_path_check",
    "novikov_exponent",
    "GaussianMixture",
]


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


def exact_samples(
    pair: GaussianPair,
    sde: SDE,
    n: int = 100_000,
    importance_sampling: bool = True,
    reference_std: float = 1.0,
    seed: int = 0,
    stratified: bool = True,
    small_t: str = "hold",
) -> tuple[dict[str, Tensor], Tensor]:
    """The per-sample values whose means ``exact_estimates`` reports, and the time each sample was drawn at.

    Returns ``(values, t)``: ``values[key]`` is (n,) float64 (the weighted integrand w(t) f for the MI forms; the
    reference cross-entropy minus it for the entropies, eq. (H)); ``t`` is (n,), the time as drawn by
    ``SDE.integration_points`` (under the "hold" rule a draw below t_eps is evaluated at t = t_eps, so ``t <=
    sde.t_eps`` marks the draws below t_eps under every rule).  The same ``seed`` gives the same data, uniforms and
    noise under every ``small_t`` rule (common random numbers, so two rules can be compared sample by sample)."""
    gen = torch.Generator().manual_seed(seed)
    x0, y0 = (torch.as_tensor(a) for a in pair.sample(n, seed))
    t, w = sde.integration_points(n, importance_sampling, gen, stratified=stratified, small_t=small_t)
    noise = torch.randn(n, x0.shape[1] + y0.shape[1], generator=gen, dtype=torch.float64)
    terms = exact_integrands(pair, sde, x0, y0, t, w, noise, reference_std)
    cross = {"X": x0, "Y": y0, "X,Y": torch.cat([x0, y0], dim=1)}
    out = {}
    for key, v in terms.items():
        if key.startswith("H("):
            var = key[2:-1].split("|")[0]
            v = est.gaussian_reference_cross_entropy(cross[var], reference_std) - v
        out[key] = v
    return out, t.reshape(-1)


def exact_estimates(
    pair: GaussianPair,
    sde: SDE,
    n: int = 100_000,
    importance_sampling: bool = True,
    reference_std: float = 1.0,
    seed: int = 0,
    stratified: bool = True,
    small_t: str = "hold",
) -> dict[str, est.Estimate]:
    """All four MI forms and the five entropies from closed-form scores, by Monte Carlo over (x_0, t, eps).

    ``small_t``: the treatment of (0, t_eps] (``SDE.integration_points``), the same rule as ``MINDE``'s.

    Returns estimates keyed "MINDE-C", "MINDE-C(sigma)", "MINDE-J", "MINDE-J(sigma)", "KL(joint||product)"
    and "H(X)", "H(Y)", "H(X,Y)", "H(X|Y)", "H(Y|X)" (entropies = reference cross-entropy - KL, eq. (H)).
    """
    values, _ = exact_samples(pair, sde, n, importance_sampling, reference_std, seed, stratified, small_t)
    return {key: est.Estimate.from_samples(v) for key, v in values.items()}


def compare_small_t_rules(samples: dict[str, tuple[Tensor, Tensor]], t_eps: float) -> list[dict[str, float | str]]:
    """One Monte-Carlo estimate under several small-t rules, drawn with common random numbers.

    ``samples[rule] = (values, t)``: the per-sample weighted integrands and their times (``exact_samples``,
    ``DiffusedGaussians.integrand_samples(..., return_times=True)``), from the same seed for every rule.  Returns
    one record per rule: "rule", "value", "stderr", "minus_exact" and "minus_exact_stderr" (the paired difference
    from the "exact" rule, sample by sample, which is far more precise than the difference of two estimates) and
    "share_below" (the share of the estimate contributed by the draws at or below ``t_eps``).  The rules differ only
    on (0, t_eps] (``SDE.integration_points``), so the paired difference is the cost of each rule there."""
    if "exact" not in samples:
        raise ValueError(f"compare_small_t_rules needs the 'exact' rule among {sorted(samples)}")
    ref = samples["exact"][0].reshape(-1)
    rows: list[dict[str, float | str]] = []
    for rule, (v, t) in samples.items():
        v, t = v.reshape(-1), t.reshape(-1)
        if v.shape != ref.shape or t.shape != v.shape:
            raise ValueError(f"rule {rule!r}: {v.numel()} values and {t.numel()} times, the 'exact' rule has {ref.numel()}")
        e, d = est.Estimate.from_samples(v), est.Estimate.from_samples(v - ref)
        below = float((v * (t <= t_eps * (1 + 1e-12))).sum() / v.sum())
        rows.append({"rule": rule, "value": e.value, "stderr": e.stderr, "minus_exact": d.value,
                     "minus_exact_stderr": d.stderr, "share_below": below})  # fmt: skip
    return rows


def exact_time_profile(
    pair: GaussianPair, sde: SDE, times: object, n: int = 20_000, reference_std: float = 1.0, seed: int = 0,
    with_stderr: bool = False,
) -> dict[str, np.ndarray]:  # fmt: skip
    """For each t in ``times``, the Monte-Carlo mean over n samples of every integrand without time weight
    (e.g. 1/2 g^2 E||s_{X|Y} - s_X||^2 for MINDE-C): the exact curves whose area is the MI / KL.  With
    ``with_stderr`` the standard error of each mean is returned too, under "<key> stderr"."""
    gen = torch.Generator().manual_seed(seed)
    x0, y0 = (torch.as_tensor(a) for a in pair.sample(n, seed))
    out: dict[str, list[float]] = {}
    for tv in np.asarray(times, dtype=np.float64).reshape(-1):
        t = torch.full((n, 1), float(tv), dtype=torch.float64)
        noise = torch.randn(n, x0.shape[1] + y0.shape[1], generator=gen, dtype=torch.float64)
        for k, v in exact_integrands(pair, sde, x0, y0, t, torch.ones_like(t), noise, reference_std).items():
            out.setdefault(k, []).append(float(v.mean()))
            if with_stderr:
                out.setdefault(f"{k} stderr", []).append(float(v.std() / math.sqrt(n)))
    return {k: np.asarray(v) for k, v in out.items()}


# --- two diffused Gaussians: the KL identity with every term in closed form -------------------------


def gaussian_kl(mean_a: object, cov_a: object, mean_b: object, cov_b: object) -> float:
    """Closed-form KL(N(m_a, C_a) || N(m_b, C_b)) in nats."""
    ma, mb = np.asarray(mean_a, dtype=np.float64), np.asarray(mean_b, dtype=np.float64)
    ca, cb = np.asarray(cov_a, dtype=np.float64), np.asarray(cov_b, dtype=np.float64)
    d = ma.shape[0]
    pb = np.linalg.inv(cb)
    dm = mb - ma
    return 0.5 * (np.trace(pb @ ca) + dm @ pb @ dm - d + np.linalg.slogdet(cb)[1] - np.linalg.slogdet(ca)[1])


@dataclass
class DiffusedGaussians:
    """Two Gaussians p^A = N(m_A, C_A), p^B = N(m_B, C_B) diffused by the same linear SDE.

    Their time-t marginals stay Gaussian, rho^X_t = N(alpha_t m_X, alpha_t^2 C_X + sigma_t^2 I), with scores
    s^X_t(x) = -(alpha_t^2 C_X + sigma_t^2 I)^{-1} (x - alpha_t m_X).  So every term of the KL identity

        KL(p^A || p^B) = 1/2 Int_0^T g^2 E_{rho^A_t} ||s^A_t - s^B_t||^2 dt + KL(rho^A_T || rho^B_T)

    is available in closed form: ``kl()`` (left side), ``integrand(sde, t)`` (the time integrand, its
    expectation over x_t computed exactly) and ``kl_at(sde, t)`` (the end-point term at T = t).
    ``estimate`` is the Monte-Carlo version MINDE uses (draws of x_0, t and the noise).
    """

    mean_a: np.ndarray
    cov_a: np.ndarray
    mean_b: np.ndarray
    cov_b: np.ndarray

    def __post_init__(self) -> None:
        self.mean_a = np.asarray(self.mean_a, dtype=np.float64).reshape(-1)
        self.mean_b = np.asarray(self.mean_b, dtype=np.float64).reshape(-1)
        self.cov_a = np.asarray(self.cov_a, dtype=np.float64)
        self.cov_b = np.asarray(self.cov_b, dtype=np.float64)
        d = self.mean_a.shape[0]
        if self.mean_b.shape != (d,) or self.cov_a.shape != (d, d) or self.cov_b.shape != (d, d):
            raise ValueError("means must have shape (d,) and covariances (d, d) with the same d")
        np.linalg.cholesky(self.cov_a)
        np.linalg.cholesky(self.cov_b)

    @classmethod
    def joint_vs_product(cls, pair: GaussianPair) -> DiffusedGaussians:
        """p^A = p_XY, p^B = p_X p_Y: KL(p^A || p^B) = I(X; Y), and the end-point term is I(X_T; Y_T)."""
        d, dx = pair.cov.shape[0], pair.dim_x
        prod = np.zeros_like(pair.cov)
        prod[:dx, :dx], prod[dx:, dx:] = pair.cov[:dx, :dx], pair.cov[dx:, dx:]
        return cls(np.zeros(d), pair.cov, np.zeros(d), prod)

    @property
    def dim(self) -> int:
        return self.mean_a.shape[0]

    def kl(self) -> float:
        """KL(p^A || p^B), the left-hand side of the identity."""
        return gaussian_kl(self.mean_a, self.cov_a, self.mean_b, self.cov_b)

    def _moments(self, sde: SDE, t: object) -> tuple[Tensor, ...]:
        """alpha, sigma, g2 (k,) and the diffused means (k, d) and covariances (k, d, d) of A and B."""
        t = torch.as_tensor(np.asarray(t, dtype=np.float64).reshape(-1))
        alpha, sigma = sde.alpha(t), sde.sigma(t)
        eye = torch.eye(self.dim, dtype=torch.float64)
        out = [alpha, sigma, sde.g2(t)]
        for m, c in ((self.mean_a, self.cov_a), (self.mean_b, self.cov_b)):
            out.append(alpha[:, None] * torch.as_tensor(m))
            out.append(alpha[:, None, None] ** 2 * torch.as_tensor(c) + sigma[:, None, None] ** 2 * eye)
        return tuple(out)

    def diffused(self, sde: SDE, t: float) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """((mean, covariance) of rho^A_t, (mean, covariance) of rho^B_t) at one time t."""
        _, _, _, ma, ca, mb, cb = self._moments(sde, [t])
        return (ma[0].numpy(), ca[0].numpy()), (mb[0].numpy(), cb[0].numpy())

    def kl_at(self, sde: SDE, t: object) -> np.ndarray:
        """KL(rho^A_t || rho^B_t) for each t: at t = T, the end-point term that MINDE drops."""
        _, _, _, ma, ca, mb, cb = self._moments(sde, t)
        return np.array([gaussian_kl(*(a.numpy() for a in args)) for args in zip(ma, ca, mb, cb, strict=True)])

    def integrand(self, sde: SDE, t: object) -> np.ndarray:
        """1/2 g(t)^2 E_{rho^A_t} ||s^A_t - s^B_t||^2 for each t, the expectation over x_t in closed form.

        With s^A - s^B = (P_B - P_A)(x - m_A) + P_B (m_A - m_B) (P = inverse covariances at time t),
        E||s^A - s^B||^2 = tr(M C_A M^T) + ||P_B (m_A - m_B)||^2 with M = P_B - P_A.
        """
        _, _, g2, ma, ca, mb, cb = self._moments(sde, t)
        pa, pb = torch.linalg.inv(ca), torch.linalg.inv(cb)
        m = pb - pa
        trace = torch.einsum("kij,kjl,kil->k", m, ca, m)
        shift = (pb @ (ma - mb).unsqueeze(-1)).squeeze(-1).pow(2).sum(-1)
        return (0.5 * g2 * (trace + shift)).numpy()

    def score_a(self, x_t: Tensor, alpha: Tensor, sigma: Tensor) -> Tensor:
        return _score(x_t, torch.as_tensor(self.mean_a), torch.as_tensor(self.cov_a), alpha, sigma)

    def score_b(self, x_t: Tensor, alpha: Tensor, sigma: Tensor) -> Tensor:
        return _score(x_t, torch.as_tensor(self.mean_b), torch.as_tensor(self.cov_b), alpha, sigma)

    def sample_a(self, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).multivariate_normal(self.mean_a, self.cov_a, size=n)

    def integrand_samples(
        self, sde: SDE, n: int, importance_sampling: bool = True, seed: int = 0, stratified: bool = False,
        small_t: str = "hold", return_times: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Per-sample Monte-Carlo integrands w(t) 1/2 g^2 ||s^A_t(x_t) - s^B_t(x_t)||^2, x_0 ~ p^A, x_t ~ kernel
        (times and weights from ``SDE.integration_points`` with the ``small_t`` rule); with ``return_times`` also
        the (n,) times the samples were evaluated at (as in ``exact_samples``)."""
        gen = torch.Generator().manual_seed(seed)
        x0 = torch.as_tensor(self.sample_a(n, seed))
        t, w = sde.integration_points(n, importance_sampling, gen, stratified=stratified, small_t=small_t)
        noise = torch.randn(n, self.dim, generator=gen, dtype=torch.float64)
        x_t = sde.perturb(x0, t, noise)
        alpha, sigma = sde.alpha(t), sde.sigma(t)
        values = est.kl_integrand(self.score_a(x_t, alpha, sigma), self.score_b(x_t, alpha, sigma), sde.g2(t), w)
        return (values, t.reshape(-1)) if return_times else values

    def estimate(
        self, sde: SDE, n: int, importance_sampling: bool = True, seed: int = 0, stratified: bool = False,
        small_t: str = "hold",
    ) -> est.Estimate:
        """Monte-Carlo estimate of 1/2 Int_0^T g^2 E||s^A - s^B||^2 dt (the identity without its end-point term)."""
        return est.Estimate.from_samples(self.integrand_samples(sde, n, importance_sampling, seed, stratified, small_t))


def _drift_coefficient(sde: SDE, t: float) -> float:
    """f(t) of dX = f(t) X dt + g(t) dW: -beta(t)/2 for the VP-SDE, 0 for the VE-SDE (docs/paper.md §2)."""
    from .sde import VESDE, VPSDE

    if isinstance(sde, VPSDE):
        return -0.5 * float(sde.beta(torch.tensor(t, dtype=torch.float64)))
    if isinstance(sde, VESDE):
        return 0.0
    raise ValueError(f"no drift coefficient known for {type(sde).__name__}")


def girsanov_path_check(
    target: DiffusedGaussians, sde: SDE, n_paths: int = 20_000, n_steps: int = 1000, seed: int = 0, keep_paths: int = 20
) -> dict[str, np.ndarray | float]:
    """Euler-Maruyama check of Girsanov's formula on the time reversals of two diffused Gaussians (notebook 01,
    §5.2; the formula (G): §3).

    Both reversed processes (Anderson) run on u in [0, T] (t = T - u) with the same g and the drifts
    b^X_u(x) = -f(t) x + g(t)^2 s^X_t(x), X in {A, B}.  ``n_paths`` paths of A's reversal are simulated from
    X_0 ~ rho^A_T (exact) with ``n_steps`` Euler steps x_{k+1} = x_k + b^A h + g sqrt(h) xi_k, and along each path
    the log-likelihood ratio of the discretised path under A's and B's dynamics is accumulated: the log ratio of the
    Gaussian Euler transition densities,

        log N(x_{k+1}; x_k + b^A h, g^2 h) / N(x_{k+1}; x_k + b^B h, g^2 h)
            = [ (b^A - b^B) . dx  -  1/2 (|b^A|^2 - |b^B|^2) h ] / g^2,

    which is the Ito sum of Girsanov's log dP^A/dP^B = Int (b^A - b^B)/g^2 . dX - 1/2 Int (|b^A|^2 - |b^B|^2)/g^2 du.
    Its mean over paths should be 1/2 Int_0^T g^2 E_{rho^A_t} ||s^A_t - s^B_t||^2 dt (closed form,
    ``DiffusedGaussians.integrand``): KL(p^A || p^B) minus the end-point term.

    Returns "u" (n_steps + 1,), "llr_mean" and "llr_stderr" (the running mean over paths of the accumulated log
    ratio at each u, and its standard error), "predicted" (the closed-form integral of the integrand over
    [T - u, T]), "end_mean" and "end_cov" (of the final points, which should be m_A and C_A), "paths" (the first
    ``keep_paths`` paths, (n_steps + 1, keep_paths, d)), and "rho_mean", "rho_std" (the mean and the std of each
    coordinate of rho^A_{T-u}, the law the paths should follow at every u).
    """
    if n_paths < 2 or n_steps < 1:
        raise ValueError(f"need n_paths >= 2 and n_steps >= 1, got {n_paths}, {n_steps}")
    rng = np.random.default_rng(seed)
    T, d = sde.T, target.dim
    u = np.linspace(0.0, T, n_steps + 1)
    h = T / n_steps
    tt = T - u
    alpha, sigma, g2, ma, ca, mb, cb = (a.numpy() for a in target._moments(sde, tt))
    prec_a, prec_b = np.linalg.inv(ca), np.linalg.inv(cb)
    x = ma[0] + rng.standard_normal((n_paths, d)) @ np.linalg.cholesky(ca[0]).T  # X_0 ~ rho^A_T
    llr = np.zeros(n_paths)
    llr_mean, llr_se = np.zeros(n_steps + 1), np.zeros(n_steps + 1)
    kept = np.empty((n_steps + 1, min(keep_paths, n_paths), d))
    kept[0] = x[: kept.shape[1]]
    for k in range(n_steps):
        f = _drift_coefficient(sde, float(tt[k]))
        b_a = -f * x + g2[k] * -(x - ma[k]) @ prec_a[k].T
        b_b = -f * x + g2[k] * -(x - mb[k]) @ prec_b[k].T
        dx = b_a * h + np.sqrt(g2[k] * h) * rng.standard_normal((n_paths, d))
        diff = b_a - b_b
        llr += ((diff * dx).sum(1) - 0.5 * ((b_a**2).sum(1) - (b_b**2).sum(1)) * h) / g2[k]
        x = x + dx
        llr_mean[k + 1], llr_se[k + 1] = llr.mean(), llr.std(ddof=1) / np.sqrt(n_paths)
        kept[k + 1] = x[: kept.shape[1]]
    f_t = target.integrand(sde, tt)  # the integrand at t = T - u, on the same grid
    predicted = np.concatenate([[0.0], np.cumsum(0.5 * (f_t[1:] + f_t[:-1]) * h)])
    return {
        "u": u, "llr_mean": llr_mean, "llr_stderr": llr_se, "predicted": predicted, "end_mean": x.mean(0),
        "end_cov": np.cov(x.T).reshape(d, d), "paths": kept, "rho_std": np.sqrt(np.diagonal(ca, axis1=1, axis2=2)),
        "rho_mean": ma,
    }  # fmt: skip


def novikov_exponent(target: DiffusedGaussians, sde: SDE, n_grid: int = 200) -> float:
    """Whether Novikov's condition holds for the reversed diffusions of ``target`` (notebook 01, §3): it asks for
    E exp(1/2 Int_0^T |b^A - b^B|^2 / g^2 du) < infinity under A's path law, with b^A - b^B = g^2 (s^A_t - s^B_t).

    For Gaussians s^A_t - s^B_t = K_t x + c_t with K_t = P^B_t - P^A_t (P: the diffused precision matrices), so the
    exponent is a quadratic form z' M z + linear terms in the Gaussian path z = (X_{t_1}, ..., X_{t_n}) (covariance
    S: Cov(X_t, X_s) = alpha_t / alpha_s Cov(X_s) for t >= s, the forward path law, which is also the reversed one's),
    M = blockdiag(h g_k^2 K_k' K_k / 2) on a midpoint grid of ``n_grid`` steps h.  Its exponential moment is finite
    if and only if the largest eigenvalue of 2 S^(1/2) M S^(1/2) is below 1; that eigenvalue is returned: below 1,
    Novikov's condition holds; at or above 1, it fails (the expectation is infinite).
    """
    if n_grid < 2:
        raise ValueError(f"n_grid must be at least 2, got {n_grid}")
    h = sde.T / n_grid
    t = (np.arange(n_grid) + 0.5) * h
    alpha, _, g2, _, ca, _, cb = (a.numpy() for a in target._moments(sde, t))
    d = target.dim
    cov = np.empty((n_grid * d, n_grid * d))
    quad = np.zeros_like(cov)
    k_t = np.linalg.inv(cb) - np.linalg.inv(ca)
    for i in range(n_grid):
        for j in range(i + 1):  # t_i >= t_j
            block = alpha[i] / alpha[j] * ca[j]
            cov[i * d : (i + 1) * d, j * d : (j + 1) * d] = block
            cov[j * d : (j + 1) * d, i * d : (i + 1) * d] = block.T
        quad[i * d : (i + 1) * d, i * d : (i + 1) * d] = 0.5 * h * g2[i] * k_t[i].T @ k_t[i]
    root = np.linalg.cholesky(cov)
    return float(2.0 * np.linalg.eigvalsh(root.T @ quad @ root).max())


def diffused_pair(pair: GaussianPair, alpha_x: float, sigma_x: float, alpha_y: float, sigma_y: float) -> GaussianPair:
    """The Gaussian pair (alpha_x X + sigma_x eps, alpha_y Y + sigma_y eps') with independent noises.

    ``(1, 0)`` leaves a variable clean.  E.g. ``diffused_pair(p, a_T, s_T, 1, 0).mutual_information()`` is
    I(X_T; Y_0), the end-point term that MINDE-C and MINDE-C(sigma) drop.
    """
    dx = pair.dim_x
    a = np.r_[np.full(dx, alpha_x), np.full(pair.dim_y, alpha_y)]
    s2 = np.r_[np.full(dx, sigma_x**2), np.full(pair.dim_y, sigma_y**2)]
    return GaussianPair(a[:, None] * pair.cov * a[None, :] + np.diag(s2), dx)


def end_point_terms(pair: GaussianPair, sde: SDE, t: float | None = None) -> dict[str, float]:
    """The end-point terms at the horizon T that each MI form drops, in closed form for a Gaussian pair (nats).

    MINDE-C and MINDE-C(sigma): I(X_T; Y_0).  KL(joint||product): I(X_T; Y_T).
    MINDE-J and MINDE-J(sigma): I(X_T; Y_0) + I(X_0; Y_T) - I(X_T; Y_T) (see notebook 01 for the derivation).
    Each form's score integral over [0, T] equals I(X; Y) minus its term.  ``t`` evaluates the terms at
    another horizon than ``sde.T`` (the SDEs' schedules do not depend on T, which only truncates them).
    """
    T = torch.tensor(sde.T if t is None else t, dtype=torch.float64)
    a, s = float(sde.alpha(T)), float(sde.sigma(T))
    i_x = diffused_pair(pair, a, s, 1.0, 0.0).mutual_information()
    i_y = diffused_pair(pair, 1.0, 0.0, a, s).mutual_information()
    i_xy = diffused_pair(pair, a, s, a, s).mutual_information()
    j = i_x + i_y - i_xy
    return {"MINDE-C": i_x, "MINDE-C(sigma)": i_x, "MINDE-J": j, "MINDE-J(sigma)": j, "KL(joint||product)": i_xy}


# --- Gaussian mixtures: exact scores of a multimodal toy distribution at every t --------------------


@dataclass
class GaussianMixture:
    """p(z) = sum_k w_k N(z; m_k, C_k) in R^d, and its diffused versions.

    Under a kernel N(alpha_t z_0, sigma_t^2 I) the time-t marginal is again a mixture,
    rho_t(z) = sum_k w_k N(z; alpha_t m_k, alpha_t^2 C_k + sigma_t^2 I), so its score is exact:

        s_t(z) = sum_k r_k(z) [-(alpha_t^2 C_k + sigma_t^2 I)^{-1} (z - alpha_t m_k)],

    with responsibilities r_k(z) = w_k N_k(z) / rho_t(z).  ``toy2d()`` is the 2-D example of notebook 02.
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=np.float64).reshape(-1)
        self.means = np.asarray(self.means, dtype=np.float64)
        self.covs = np.asarray(self.covs, dtype=np.float64)
        k = self.weights.shape[0]
        if self.means.ndim != 2 or self.means.shape[0] != k or self.covs.shape != (k, self.dim, self.dim):
            raise ValueError("need weights (K,), means (K, d) and covs (K, d, d)")
        if np.any(self.weights <= 0):
            raise ValueError("mixture weights must be positive")
        self.weights = self.weights / self.weights.sum()
        for c in self.covs:
            np.linalg.cholesky(c)

    @classmethod
    def toy2d(cls) -> GaussianMixture:
        """Three elongated components on a bent line: X and Y are dependent, unimodal in neither, about unit scale."""
        rot = lambda a: np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])  # noqa: E731
        base = np.diag([0.30, 0.06])
        angles = [np.pi / 4, -np.pi / 6, np.pi / 4]
        covs = np.stack([rot(a) @ base @ rot(a).T for a in angles])
        means = np.array([[-1.1, -0.9], [0.0, 0.4], [1.1, -0.3]])
        return cls(np.array([0.35, 0.3, 0.35]), means, covs)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def n_components(self) -> int:
        return self.weights.shape[0]

    def mean(self) -> np.ndarray:
        return self.weights @ self.means

    def covariance(self) -> np.ndarray:
        mu = self.mean()
        dm = self.means - mu
        return np.einsum("k,kij->ij", self.weights, self.covs) + np.einsum("k,ki,kj->ij", self.weights, dm, dm)

    def permute(self, order: list[int]) -> GaussianMixture:
        """The same distribution with coordinates reordered, e.g. ``[1, 0]`` swaps X and Y in 2-D."""
        idx = np.asarray(order)
        return GaussianMixture(self.weights, self.means[:, idx], self.covs[:, idx][:, :, idx])

    def marginal(self, dims: list[int] | slice) -> GaussianMixture:
        """The mixture of the coordinates ``dims`` (a marginal of a Gaussian mixture is a Gaussian mixture)."""
        idx = np.arange(self.dim)[dims]
        return GaussianMixture(self.weights, self.means[:, idx], self.covs[:, idx][:, :, idx])

    def sample(self, n: int, seed: int) -> np.ndarray:
        """n draws (n, d) from the mixture."""
        rng = np.random.default_rng(seed)
        comp = rng.choice(self.n_components, size=n, p=self.weights)
        chol = np.linalg.cholesky(self.covs)
        eps = rng.standard_normal((n, self.dim))
        return self.means[comp] + np.einsum("nij,nj->ni", chol[comp], eps)

    def _conditional_components(self, y0: Tensor, dim_x: int) -> tuple[Tensor, Tensor, Tensor]:
        """Components of p(x | y = y0), x = the first dim_x coordinates: per-sample log-weights (n, K),
        means (n, K, dx) and the (shared) covariances (K, dx, dx)."""
        y0 = torch.as_tensor(y0, dtype=torch.float64)
        m, c = torch.as_tensor(self.means), torch.as_tensor(self.covs)
        mx, my = m[:, :dim_x], m[:, dim_x:]
        cxx, cxy, cyy = c[:, :dim_x, :dim_x], c[:, :dim_x, dim_x:], c[:, dim_x:, dim_x:]
        gain = cxy @ torch.linalg.inv(cyy)  # (K, dx, dy)
        resid = y0[:, None, :] - my  # (n, K, dy)
        means = mx + torch.einsum("kij,nkj->nki", gain, resid)
        covs = cxx - gain @ cxy.transpose(-1, -2)
        log_w = _gaussian_log_density(resid, cyy) + torch.log(torch.as_tensor(self.weights))
        return torch.log_softmax(log_w, dim=-1), means, covs

    def log_prob(self, z: object, alpha: object = 1.0, sigma: object = 0.0) -> Tensor:
        """log rho_t(z) of the diffused mixture (alpha = 1, sigma = 0: the mixture itself); (n,) float64."""
        log_w = torch.log(torch.as_tensor(self.weights))
        return _diffused_mixture(z, log_w, torch.as_tensor(self.means), torch.as_tensor(self.covs), alpha, sigma)[0]

    def score(self, z: object, alpha: object = 1.0, sigma: object = 0.0) -> Tensor:
        """grad_z log rho_t(z), exact; alpha and sigma are scalars or per-sample (n,) / (n, 1) tensors."""
        log_w = torch.log(torch.as_tensor(self.weights))
        return _diffused_mixture(z, log_w, torch.as_tensor(self.means), torch.as_tensor(self.covs), alpha, sigma)[1]

    def conditional_log_prob(self, x_t: object, y0: object, dim_x: int, alpha: object = 1.0, sigma: object = 0.0) -> Tensor:
        """log rho_t(x_t | Y_0 = y0): X (the first dim_x coordinates) diffused, Y clean; (n,) float64."""
        log_w, means, covs = self._conditional_components(torch.as_tensor(y0), dim_x)
        return _diffused_mixture(x_t, log_w, means, covs, alpha, sigma)[0]

    def conditional_score(self, x_t: object, y0: object, dim_x: int, alpha: object = 1.0, sigma: object = 0.0) -> Tensor:
        """s_{X|Y}(x_t | y0) = grad log rho_t(x_t | Y_0 = y0), exact: the score MINDE-C and MINDE-J condition on.

        Given Y_0 = y0 the mixture of X is again a Gaussian mixture (re-weighted components with conditional
        means and covariances), which is then diffused like any mixture.  For the score of Y given a clean X,
        reorder the coordinates first (``permute([1, 0])`` in 2-D).
        """
        log_w, means, covs = self._conditional_components(torch.as_tensor(y0), dim_x)
        return _diffused_mixture(x_t, log_w, means, covs, alpha, sigma)[1]

    def exact_scores(self, sde: SDE, z0: Tensor, t: Tensor, noise: Tensor, dim_x: int) -> dict[str, Tensor]:
        """Diffuse z0 = [x0, y0] to z_t = alpha_t z0 + sigma_t noise (t: (n, 1)) and return z_t with the exact
        scores a multi-time score network learns: "joint" s_XY(x_t, y_t), "X|Y" s_{X|Y}(x_t | y0) and
        "Y|X" s_{Y|X}(y_t | x0) (X = the first dim_x coordinates)."""
        z0 = torch.as_tensor(z0, dtype=torch.float64)
        t = torch.as_tensor(t, dtype=torch.float64)
        alpha, sigma = sde.alpha(t), sde.sigma(t)
        z_t = sde.perturb(z0, t, torch.as_tensor(noise, dtype=torch.float64))
        x0, y0, x_t, y_t = z0[:, :dim_x], z0[:, dim_x:], z_t[:, :dim_x], z_t[:, dim_x:]
        swapped = self.permute(list(range(dim_x, self.dim)) + list(range(dim_x)))
        return {
            "z_t": z_t,
            "joint": self.score(z_t, alpha, sigma),
            "X|Y": self.conditional_score(x_t, y0, dim_x, alpha, sigma),
            "Y|X": swapped.conditional_score(y_t, x0, self.dim - dim_x, alpha, sigma),
        }

    def mutual_information(self, dim_x: int, n: int = 200_000, seed: int = 0) -> est.Estimate:
        """I(X; Y) = E log p(x, y) / (p(x) p(y)) by Monte Carlo over n draws (X = first dim_x coordinates)."""
        z = torch.as_tensor(self.sample(n, seed))
        px, py = self.marginal(slice(0, dim_x)), self.marginal(slice(dim_x, None))
        return est.Estimate.from_samples(self.log_prob(z) - px.log_prob(z[:, :dim_x]) - py.log_prob(z[:, dim_x:]))


def _gaussian_log_density(resid: Tensor, cov: Tensor) -> Tensor:
    """log N(resid; 0, cov) for resid (..., d) and cov broadcastable to (..., d, d)."""
    chol = torch.linalg.cholesky(cov)
    sol = torch.cholesky_solve(resid.unsqueeze(-1), chol).squeeze(-1)
    logdet = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    return -0.5 * ((resid * sol).sum(-1) + logdet + resid.shape[-1] * math.log(2 * math.pi))


def _diffused_mixture(
    z: object, log_w: Tensor, means: Tensor, covs: Tensor, alpha: object, sigma: object
) -> tuple[Tensor, Tensor]:
    """log density (n,) and score (n, d) at z of sum_k w_k N(alpha m_k, alpha^2 C_k + sigma^2 I).

    log_w: (K,) or per-sample (n, K); means: (K, d) or (n, K, d); covs: (K, d, d); alpha, sigma: scalars or (n,)."""
    z = torch.as_tensor(z, dtype=torch.float64)
    n, d = z.shape
    alpha = torch.as_tensor(alpha, dtype=torch.float64).reshape(-1, 1, 1).expand(n, 1, 1)
    sigma = torch.as_tensor(sigma, dtype=torch.float64).reshape(-1, 1, 1).expand(n, 1, 1)
    eye = torch.eye(d, dtype=torch.float64)
    cov_t = alpha[..., None] ** 2 * covs + sigma[..., None] ** 2 * eye  # (n, K, d, d)
    resid = z[:, None, :] - alpha * means  # (n, K, d)
    chol = torch.linalg.cholesky(cov_t)
    sol = torch.cholesky_solve(resid.unsqueeze(-1), chol).squeeze(-1)  # C_t^{-1} (z - alpha m)
    logdet = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    log_comp = log_w - 0.5 * ((resid * sol).sum(-1) + logdet + d * math.log(2 * math.pi))  # (n, K)
    resp = torch.softmax(log_comp, dim=-1)
    return torch.logsumexp(log_comp, dim=-1), -(resp.unsqueeze(-1) * sol).sum(dim=1)


def time_integration_errors(
    target: DiffusedGaussians, sde: SDE, n_times: list[int], n_repeats: int = 200, seed: int = 0
) -> list[dict[str, float | int | str]]:
    """How fast each way of integrating over t converges, with the expectation over x_t done exactly.

    For each number of time points K: the trapezoid rule on a uniform grid of [0, T] (deterministic), and
    Monte Carlo with K draws of t (uniform, importance-sampled, and importance-sampled + stratified),
    whose root-mean-square error over ``n_repeats`` repeats is reported.  The target is
    Int_0^T 1/2 g^2 E||s^A - s^B||^2 dt = KL(p^A || p^B) - KL(rho^A_T || rho^B_T).
    Returns records {"method", "K", "error"} (absolute error in nats).
    """
    exact = target.kl() - float(target.kl_at(sde, [sde.T])[0])
    gen = torch.Generator().manual_seed(seed)
    out: list[dict[str, float | int | str]] = []
    for k in n_times:
        grid = np.linspace(0.0, sde.T, k)
        trapezoid = np.trapezoid(target.integrand(sde, grid), grid)
        out.append({"method": "trapezoid, uniform grid", "K": k, "error": abs(trapezoid - exact)})
        for method, is_, strat in (
            ("Monte Carlo, uniform t", False, False),
            ("Monte Carlo, importance-sampled t", True, False),
            ("Monte Carlo, importance-sampled + stratified t", True, True),
        ):
            if strat:
                draws = [sde.integration_points(k, is_, gen, stratified=True) for _ in range(n_repeats)]
                t, w = torch.cat([d[0] for d in draws]), torch.cat([d[1] for d in draws])
            else:
                t, w = sde.integration_points(k * n_repeats, is_, gen, stratified=False)
            vals = (target.integrand(sde, t.numpy()) * w.numpy().reshape(-1)).reshape(n_repeats, k).mean(axis=1)
            out.append({"method": method, "K": k, "error": float(np.sqrt(np.mean((vals - exact) ** 2)))})
    return out


def exact_integrand_curves(pair: GaussianPair, sde: SDE, times: object, h: float = 1e-5) -> dict[str, np.ndarray]:
    """Each MI form's time integrand 1/2 g^2 E||...||^2 at ``times``, exactly, as -d/dt of its end-point term.

    The integral of a form over [0, T] is I(X; Y) minus its end-point term at T (``end_point_terms``), so
    its integrand is minus the derivative of that term; a central difference with step min(h, t/100) evaluates
    it (a relative step below t = 100 h, so that ``times`` may go down to 1e-8).  ``times`` must lie in (0, T].
    Keys as in ``end_point_terms``.
    """
    out: dict[str, list[float]] = {}
    for t in np.asarray(times, dtype=np.float64).reshape(-1):
        if not t > 0:
            raise ValueError(f"exact_integrand_curves needs times > 0, got {t}")
        step = min(h, t / 100)
        hi, lo = end_point_terms(pair, sde, t + step), end_point_terms(pair, sde, t - step)
        for k in hi:
            out.setdefault(k, []).append(-(hi[k] - lo[k]) / (2 * step))
    return {k: np.asarray(v) for k, v in out.items()}
