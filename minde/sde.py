"""Forward SDEs: the variance-preserving (VP) and variance-exploding (VE) diffusions.

Both are linear SDEs ``dX_t = f(t) X_t dt + g(t) dW_t`` whose transition kernel is Gaussian,

    X_t | X_0 ~ N(alpha_t X_0, sigma_t^2 I),

so everything MINDE needs follows from three functions of time: ``alpha(t)``, ``sigma(t)`` and ``g2(t)``
(docs/paper.md §2; time sampling: §6).  Time sampling lives here too, because the importance density of t is a
property of the SDE:

    q(t)  ∝  g(t)^2 / sigma_t^2  =  d/dt log(sigma_t^2 / alpha_t^2)                      (*)

(the identity (*) holds for any linear SDE: ``(sigma^2)' = 2 f sigma^2 + g^2`` and ``alpha' = f alpha``).
With the log noise-to-signal ratio ``lam(t) = log(sigma_t^2 / alpha_t^2)`` the cumulative distribution of q
is ``lam(t) - lam(t_eps)`` above a truncation point ``t_eps`` (q is held constant below it, as in Huang et
al. 2021 and the authors' code), so q is sampled exactly by inverting ``lam``.  For the VP-SDE with
beta in [0.1, 20] and t_eps = 1e-3 the normaliser is Z = 20.2559.
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod

import torch
from torch import Tensor

__all__ = ["SDE", "VPSDE", "VESDE", "make_sde", "SMALL_T_RULES"]

#: How an estimator's time integral treats (0, t_eps] (``SDE.integration_points``).
SMALL_T_RULES: tuple[str, ...] = ("hold", "authors", "exact")


class SDE(ABC):
    """A linear forward SDE on [0, T] with Gaussian transition kernel ``N(alpha_t x_0, sigma_t^2 I)``.

    Subclasses implement ``alpha``, ``sigma``, ``g2``, the log noise-to-signal ratio ``log_nsr`` and its
    inverse; the base class derives sampling of x_t, the Gaussian-reference variance chi_t and the two
    ways of drawing t (uniform, or importance sampling with q(t) ∝ g^2 / sigma_t^2).
    """

    name: str = "sde"

    def __init__(self, T: float = 1.0, t_eps: float = 1e-3, uniform_eps: float = 1e-5) -> None:
        if not 0 < t_eps < T:
            raise ValueError(f"t_eps must lie in (0, T={T}), got {t_eps}")
        if not 0 <= uniform_eps < T:
            raise ValueError(f"uniform_eps must lie in [0, T={T}), got {uniform_eps}")
        self.T = float(T)
        self.t_eps = float(t_eps)
        self.uniform_eps = float(uniform_eps)

    # --- the three functions that define the SDE -------------------------------------------------
    @abstractmethod
    def alpha(self, t: Tensor) -> Tensor:
        """Mean coefficient of the kernel: E[X_t | X_0] = alpha_t X_0."""

    @abstractmethod
    def sigma(self, t: Tensor) -> Tensor:
        """Standard deviation of the kernel, sigma_t."""

    @abstractmethod
    def g2(self, t: Tensor) -> Tensor:
        """Squared diffusion coefficient g(t)^2."""

    @abstractmethod
    def log_nsr(self, t: Tensor) -> Tensor:
        """lam(t) = log(sigma_t^2 / alpha_t^2), an antiderivative of g(t)^2 / sigma_t^2 (eq. (*))."""

    @abstractmethod
    def log_nsr_inverse(self, lam: Tensor) -> Tensor:
        """The time t at which log(sigma_t^2 / alpha_t^2) = lam."""

    @abstractmethod
    def config(self) -> dict[str, float | str]:
        """Plain-type description from which ``make_sde`` rebuilds this SDE."""

    # --- derived quantities ---------------------------------------------------------------------
    def perturb(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """x_t = alpha_t x_0 + sigma_t eps: a draw of X_t | X_0 = x_0 (t has shape (n, 1) or broadcasts)."""
        return self.alpha(t) * x0 + self.sigma(t) * noise

    def chi(self, t: Tensor, reference_std: float = 1.0) -> Tensor:
        """Variance of the diffused reference N(0, s^2 I) at time t: chi_t = alpha_t^2 s^2 + sigma_t^2.

        Its score is ``-x / chi_t``; it is the reference of the entropy and sigma-form estimators.
        """
        return self.alpha(t) ** 2 * reference_std**2 + self.sigma(t) ** 2

    def input_scale(self, t: Tensor) -> Tensor:
        """1 / sqrt(chi_t(1)): keeps the network's input of unit scale (identically 1 for the VP-SDE)."""
        return torch.rsqrt(self.chi(t, 1.0))

    # --- time sampling --------------------------------------------------------------------------
    @functools.cached_property
    def _importance_constants(self) -> tuple[float, float, float]:
        """(q at t_eps, log_nsr(t_eps), Z), computed once."""
        te = torch.tensor(self.t_eps, dtype=torch.float64)
        q_eps = float(self.g2(te) / self.sigma(te) ** 2)
        lam_eps = float(self.log_nsr(te))
        z = q_eps * self.t_eps + float(self.log_nsr(torch.tensor(self.T, dtype=torch.float64))) - lam_eps
        return q_eps, lam_eps, z

    @property
    def importance_normaliser(self) -> float:
        """Z = Int_0^T q(t) dt for the truncated importance density (20.2559 for the default VP-SDE)."""
        return self._importance_constants[2]

    def importance_density(self, t: Tensor) -> Tensor:
        """Normalised q(t) = g^2/sigma_t^2 / Z, held at its t_eps value below t_eps."""
        tc = torch.as_tensor(t, dtype=torch.float64).clamp(min=self.t_eps)
        return self.g2(tc) / (self.sigma(tc) ** 2 * self.importance_normaliser)

    def importance_inverse_cdf(self, u: Tensor) -> Tensor:
        """Analytic inverse CDF of q: maps u ~ U(0, 1) to t ~ q (float64)."""
        q_eps, lam_eps, z = self._importance_constants
        low_mass = q_eps * self.t_eps
        m = torch.as_tensor(u, dtype=torch.float64) * z
        t = torch.where(m < low_mass, m / q_eps, self.log_nsr_inverse(m - low_mass + lam_eps))
        return t.clamp(0.0, self.T)

    def sample_time(
        self,
        n: int,
        importance_sampling: bool,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
        stratified: bool = False,
        block: int | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Draw n times and their weights w(t) = 1 / density, so that Int_0^T f dt ≈ mean(w f).

        ``importance_sampling=True``: t ~ q (inverse CDF); otherwise t ~ U(uniform_eps, T) with w = T - eps.
        ``stratified=True`` puts one uniform draw in each of n equal strata of (0, 1), randomly permuted:
        each t is still marginally distributed as above (the estimate stays unbiased) but the time
        integral's Monte-Carlo variance drops.  Returns float64 tensors of shape (n, 1).
        """
        u = _uniforms(n, generator, device, stratified, block)
        if importance_sampling:
            t = self.importance_inverse_cdf(u)
            return t, 1.0 / self.importance_density(t)
        span = self.T - self.uniform_eps
        return self.uniform_eps + span * u, torch.full_like(u, span)

    def integration_points(
        self,
        n: int,
        importance_sampling: bool,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
        stratified: bool = True,
        small_t: str = "hold",
        block: int | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Times and weights (t, w) for the Monte-Carlo time integral of an estimator: Int_0^T f dt ≈ mean(w f(t)).

        ``small_t`` says what happens on (0, t_eps], where a *learned* integrand 1/2 g^2 ||eps_diff||^2 / sigma_t^2
        grows like 1/t (the network's noise difference does not vanish exactly as t -> 0), so that its integral
        diverges and an estimator that weights draws there by 1/q(t) has no finite mean:

        * ``"hold"`` (default): the integrand is held at its value at t_eps below t_eps, i.e. the estimator
          integrates t_eps f(t_eps) + Int_{t_eps}^T f dt.  Draws below t_eps are evaluated at t = t_eps, with the
          weight of where they were drawn, so every weighted draw is bounded and the variance finite for any
          network.  With exact scores f is smooth at 0 and the change is O(t_eps^2 f'): measured on common random
          numbers (notebook 01, §11), at most 1.0e-4 nats at moderate MI (rho = 0.75 and two 2-D Gaussians) and
          0.0014-0.0019 nats at I = 3.1 (rho = 0.999, VP-SDE; the authors' weighting: up to -0.025).  Uniform
          sampling (``importance_sampling=False``) then integrates the same function over t ~ U(0, T), so the two
          samplers differ in variance only.
        * ``"authors"``: the authors' code, Z * 1/2 ||eps_diff||^2 for every t drawn from q, i.e. the weight
          Z sigma_t^2 / g_t^2 at every t (bounded too; below t_eps it under-weights the exact integrand by about
          t / t_eps); uniform t ~ U(t_eps, T).
        * ``"exact"``: the exact weight 1/q(t) of the held-constant density (version 0.1 of this package); uniform
          t ~ U(uniform_eps, T).  Unbiased for exact scores, infinite variance for learned ones: kept only to show
          what it did.

        ``stratified`` and ``block`` as in ``sample_time`` (``block``: stratify each run of that many draws on its own).
        Returns float64 tensors of shape (n, 1).
        """
        if small_t not in SMALL_T_RULES:
            raise ValueError(f"unknown small_t rule {small_t!r}: choose one of {', '.join(SMALL_T_RULES)}")
        if small_t == "exact":
            return self.sample_time(n, importance_sampling, generator, device, stratified, block)
        u = _uniforms(n, generator, device, stratified, block)
        if importance_sampling:
            t = self.importance_inverse_cdf(u)
            if small_t == "hold":
                return t.clamp(min=self.t_eps), 1.0 / self.importance_density(t)
            return t, self.importance_normaliser * self.sigma(t) ** 2 / self.g2(t)
        if small_t == "hold":
            return (self.T * u).clamp(min=self.t_eps), torch.full_like(u, self.T)
        span = self.T - self.t_eps
        return self.t_eps + span * u, torch.full_like(u, span)


def _uniforms(
    n: int, generator: torch.Generator | None, device: torch.device | str, stratified: bool, block: int | None = None
) -> Tensor:
    """n draws of U(0, 1), shape (n, 1), float64.  ``stratified``: one draw in each of n equal strata, randomly
    permuted; with ``block``, each run of ``block`` consecutive draws is stratified on its own (so that blocks are
    independent, and the Monte-Carlo error can be estimated from them)."""
    u = torch.rand(n, 1, generator=generator, device=device, dtype=torch.float64)
    if not stratified:
        return u
    size = n if block is None else int(block)
    parts = []
    for start in range(0, n, size):
        m = min(size, n - start)
        strata = torch.randperm(m, generator=generator, device=device).to(torch.float64).reshape(m, 1)
        parts.append((strata + u[start : start + m]) / m)
    return torch.cat(parts)


class VPSDE(SDE):
    """Variance-preserving SDE: dX = -1/2 beta(t) X dt + sqrt(beta(t)) dW, beta linear in t.

    alpha_t = exp(-B(t)/2), sigma_t^2 = 1 - exp(-B(t)), B(t) = Int_0^t beta = t^2 (b1 - b0)/2 + t b0,
    g(t)^2 = beta(t).  Defaults beta_min = 0.1, beta_max = 20, T = 1 (docs/paper.md §2).
    """

    name = "vp"

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0, T: float = 1.0, t_eps: float = 1e-3) -> None:
        super().__init__(T=T, t_eps=t_eps)
        if not 0 < beta_min < beta_max:
            raise ValueError(f"need 0 < beta_min < beta_max, got {beta_min}, {beta_max}")
        self.beta_min = float(beta_min)
        self.beta_max = float(beta_max)

    def beta(self, t: Tensor) -> Tensor:
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def integrated_beta(self, t: Tensor) -> Tensor:
        """B(t) = Int_0^t beta(s) ds."""
        return 0.5 * t**2 * (self.beta_max - self.beta_min) + t * self.beta_min

    def alpha(self, t: Tensor) -> Tensor:
        return torch.exp(-0.5 * self.integrated_beta(t))

    def sigma(self, t: Tensor) -> Tensor:
        return torch.sqrt(-torch.expm1(-self.integrated_beta(t)))

    def g2(self, t: Tensor) -> Tensor:
        return self.beta(t)

    def log_nsr(self, t: Tensor) -> Tensor:
        # sigma^2 / alpha^2 = exp(B) - 1
        return torch.log(torch.expm1(self.integrated_beta(t)))

    def log_nsr_inverse(self, lam: Tensor) -> Tensor:
        B = torch.nn.functional.softplus(lam)  # log(1 + e^lam)
        a, b = self.beta_max - self.beta_min, self.beta_min
        return (torch.sqrt(b * b + 2.0 * a * B) - b) / a

    def config(self) -> dict[str, float | str]:
        return {"name": self.name, "beta_min": self.beta_min, "beta_max": self.beta_max, "T": self.T, "t_eps": self.t_eps}


class VESDE(SDE):
    """Variance-exploding SDE: dX = sqrt(d sigma(t)^2 / dt) dW, sigma(t) = sigma_min (sigma_max/sigma_min)^t.

    Exact kernel: alpha_t = 1, sigma_t^2 = sigma(t)^2 - sigma_min^2 (so X_0 is noiseless),
    g(t)^2 = 2 sigma(t)^2 log(sigma_max / sigma_min).  sigma_max should exceed the data's spread so that
    the end-point KL term that MINDE drops is small.  It grows with the dimension and the dependence: with the
    defaults, for the 1x1 Gaussian with rho = 0.75 it is 1e-4 nats (MINDE-C) and 2e-4 (MINDE-J), but for the
    benchmark's dense 50x50 Gaussian (``GaussianPair.dense(50, 50, 0.5)``) 0.0049 (MINDE-C) and 0.0097 nats
    (MINDE-J), against 0.0005 and 0.0011 under the default VP-SDE (``minde.gaussian.end_point_terms``;
    ``tests/test_sde.py`` checks these numbers).
    """

    name = "ve"

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 50.0, T: float = 1.0, t_eps: float = 1e-3) -> None:
        super().__init__(T=T, t_eps=t_eps)
        if not 0 < sigma_min < sigma_max:
            raise ValueError(f"need 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
        self.sigma_min = float(sigma_min)
        self.sigma_max = float(sigma_max)
        self._log_ratio = math.log(self.sigma_max / self.sigma_min)

    def noise_level(self, t: Tensor) -> Tensor:
        """sigma(t) = sigma_min (sigma_max / sigma_min)^t."""
        return self.sigma_min * torch.exp(t * self._log_ratio)

    def alpha(self, t: Tensor) -> Tensor:
        return torch.ones_like(t)

    def sigma(self, t: Tensor) -> Tensor:
        return self.sigma_min * torch.sqrt(torch.expm1(2.0 * t * self._log_ratio))

    def g2(self, t: Tensor) -> Tensor:
        return 2.0 * self.noise_level(t) ** 2 * self._log_ratio

    def log_nsr(self, t: Tensor) -> Tensor:
        return 2.0 * math.log(self.sigma_min) + torch.log(torch.expm1(2.0 * t * self._log_ratio))

    def log_nsr_inverse(self, lam: Tensor) -> Tensor:
        return torch.log1p(torch.exp(lam - 2.0 * math.log(self.sigma_min))) / (2.0 * self._log_ratio)

    def config(self) -> dict[str, float | str]:
        return {"name": self.name, "sigma_min": self.sigma_min, "sigma_max": self.sigma_max, "T": self.T, "t_eps": self.t_eps}


def make_sde(sde: str | dict | SDE = "vp", **kwargs: float) -> SDE:
    """Build an SDE from its name ("vp" / "ve"), from a ``config()`` dict, or pass an SDE through."""
    if isinstance(sde, SDE):
        return sde
    if isinstance(sde, dict):
        kwargs = {k: v for k, v in sde.items() if k != "name"} | kwargs
        sde = str(sde.get("name", "vp"))
    classes = {"vp": VPSDE, "ve": VESDE}
    key = str(sde).lower()
    if key not in classes:
        raise ValueError(f"unknown SDE {sde!r}: choose one of {sorted(classes)}")
    return classes[key](**kwargs)
