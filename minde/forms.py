"""MINDE's forms: the four MI estimators and the entropy as pure functions of score values.

Every function returns the per-sample *integrand* ``w(t) * f(t, x_t)`` whose mean over draws of
(x_0, t, x_t) is the estimate; ``Estimate.from_samples`` turns it into a value with its Monte-Carlo
standard error.  Because they take score values, they can be fed exact (closed-form) scores as well
as a network's.  Notation of docs/paper.md §3-4: ``g2 = g(t)^2``; ``weight = 1 / density of t``
(``Z / q`` under importance sampling, ``T - eps`` under uniform sampling); ``chi = alpha_t^2 s^2 + sigma_t^2``.

    KL(p^A || p^B) = 1/2 Int_0^T g^2 E_{rho^A_t} ||s^A_t - s^B_t||^2 dt (+ end-point term)        (KL)
    H(p)  = N/2 log(2 pi s^2) + E||X_0||^2 / (2 s^2) - 1/2 Int g^2 E||s_t + X_t / chi_t||^2 dt     (H)
    MINDE-C        I = 1/2 Int g^2 E||s_{X|Y} - s_X||^2 dt                                       (C)
    MINDE-C(sigma) I = H(X) - H(X|Y)                                                              (C-sigma)
    MINDE-J        I = 1/2 Int g^2 E||s_XY - [s_{X|Y}, s_{Y|X}]||^2 dt                            (J)
    MINDE-J(sigma) I = H(X, Y) - H(X|Y) - H(Y|X)                                                  (J-sigma)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "Estimate",
    "kl_integrand",
    "entropy_integrand",
    "gaussian_reference_cross_entropy",
    "minde_c",
    "minde_c_sigma",
    "minde_j",
    "minde_j_sigma",
]


@dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo estimate (nats) with its standard errors.

    ``stderr`` is the total standard error: what a fresh draw of the evaluation data *and* of the (t, eps) draws
    would change (data points are the independent units).  ``mc_stderr`` is the part that comes from the (t, eps)
    draws alone, with the data held fixed: the spread of ``mutual_information(seed=...)`` over evaluation seeds.
    It is estimated from the independent repeats of each data point (NaN with a single repeat).
    """

    value: float
    stderr: float
    mc_stderr: float = float("nan")

    @classmethod
    def from_samples(cls, samples: Tensor, offset: float = 0.0, block: int | None = None) -> Estimate:
        """Mean and standard errors of per-sample values.

        A 2-D input (n data points, r repeats of t and noise) is first averaged over repeats for ``stderr``, so it
        treats the data points, not the repeats, as the independent units.  ``mc_stderr`` needs r >= 2: with
        ``block`` (the times of each run of ``block`` consecutive points stratified on their own, so that runs are
        independent given the data) it is sqrt(sum_b w_b^2 Var_j(m_bj) / r), m_bj the mean of block b in repeat j
        and w_b its share of the points, an unbiased estimate with (blocks x (r - 1)) degrees of freedom; without
        it, the pooled spread of each point's repeats, sqrt(mean_i Var_j(s_ij) / (n r)), which ignores the
        (negative) correlation that stratified times induce between points and so errs on the large side.
        """
        s = samples.detach().to(torch.float64)
        mc = float("nan")
        if s.ndim == 2:
            n, r = s.shape
            if r > 1 and block is not None:
                var = 0.0
                for start in range(0, n, block):
                    m = s[start : start + block].mean(dim=0)  # (r,) block means
                    var += (min(block, n - start) / n) ** 2 * float(m.var(unbiased=True)) / r
                mc = math.sqrt(var)
            elif r > 1:
                mc = float((s.var(dim=1, unbiased=True).mean() / s.numel()).sqrt())
            s = s.mean(dim=1)
        s = s.reshape(-1)
        n = s.numel()
        stderr = float(s.std(unbiased=True) / math.sqrt(n)) if n > 1 else float("nan")
        return cls(float(s.mean()) + offset, stderr, mc)

    def __sub__(self, other: Estimate) -> Estimate:
        mc = math.hypot(self.mc_stderr, other.mc_stderr)
        return Estimate(self.value - other.value, math.hypot(self.stderr, other.stderr), mc)

    def __format__(self, spec: str) -> str:
        spec = spec or ".4f"
        return f"{self.value:{spec}} ± {self.stderr:{spec}}"


def _sq_norm(v: Tensor) -> Tensor:
    return v.to(torch.float64).pow(2).sum(dim=-1)


def kl_integrand(score_a: Tensor, score_b: Tensor, g2: Tensor, weight: Tensor) -> Tensor:
    """w * 1/2 g^2 ||s^A - s^B||^2 with x_t ~ rho^A_t: its mean is KL(p^A || p^B), eq. (KL)."""
    return (weight * g2).reshape(-1) * 0.5 * _sq_norm(score_a - score_b)


def entropy_integrand(score: Tensor, x_t: Tensor, chi: Tensor, g2: Tensor, weight: Tensor) -> Tensor:
    """w * 1/2 g^2 ||s_t(x_t) + x_t / chi_t||^2: the KL from p to the reference N(0, s^2 I), eq. (H)."""
    return kl_integrand(score, -x_t / chi, g2, weight)


def gaussian_reference_cross_entropy(x0: Tensor, reference_std: float = 1.0) -> Tensor:
    """Per-sample -log N(x_0; 0, s^2 I) = N/2 log(2 pi s^2) + ||x_0||^2 / (2 s^2): H = mean(this) - KL."""
    d = x0.shape[-1]
    return 0.5 * d * math.log(2 * math.pi * reference_std**2) + _sq_norm(x0) / (2 * reference_std**2)


def minde_c(score_cond: Tensor, score_marg: Tensor, g2: Tensor, weight: Tensor) -> Tensor:
    """MINDE-C, difference inside the norm, eq. (C): KL(p_{X|Y} || p_X) averaged over Y."""
    return kl_integrand(score_cond, score_marg, g2, weight)


def minde_c_sigma(
    score_cond: Tensor, score_marg: Tensor, x_t: Tensor, chi: Tensor, g2: Tensor, weight: Tensor
) -> Tensor:
    """MINDE-C(sigma), difference outside the norm, eq. (C-sigma): H(X) - H(X|Y).

    The reference terms N/2 log(2 pi s^2) + E||X_0||^2/(2 s^2) are common to both entropies and cancel.
    """
    return entropy_integrand(score_cond, x_t, chi, g2, weight) - entropy_integrand(score_marg, x_t, chi, g2, weight)


def minde_j(score_joint: Tensor, score_cond_x: Tensor, score_cond_y: Tensor, g2: Tensor, weight: Tensor) -> Tensor:
    """MINDE-J, difference inside the norm, eq. (J), as computed in the authors' code."""
    return kl_integrand(score_joint, torch.cat([score_cond_x, score_cond_y], dim=-1), g2, weight)


def minde_j_sigma(
    score_joint: Tensor,
    score_cond_x: Tensor,
    score_cond_y: Tensor,
    x_t: Tensor,
    y_t: Tensor,
    chi: Tensor,
    g2: Tensor,
    weight: Tensor,
) -> Tensor:
    """MINDE-J(sigma), eq. (J-sigma): H(X, Y) - H(X|Y) - H(Y|X), reference terms cancelling."""
    joint = entropy_integrand(score_joint, torch.cat([x_t, y_t], dim=-1), chi, g2, weight)
    return entropy_integrand(score_cond_x, x_t, chi, g2, weight) + entropy_integrand(score_cond_y, y_t, chi, g2, weight) - joint
