"""Diagnostics of MINDE for the tutorial notebooks (01-04): what each small-t rule integrates, a trained model's
integrands against those of exact scores on the very same draws, and a model followed as it trains or as sigma varies.

* :func:`small_t_contributions`: from an integrand known on a log-t grid, what the rules "hold", "authors" and
  "exact" of ``SDE.integration_points`` integrate over (0, t_eps] (docs/paper.md §6), hence the share of an estimate
  that comes from t < t_eps.
* :func:`exact_score_comparison` and :func:`learned_time_profile`: for a model trained on a Gaussian pair, its
  integrands and those of the closed-form scores (``minde.gaussian``) evaluated on the same held-out rows, times and
  noise (common random numbers), so that the learned-score error of every form and entropy is measured with the
  data and Monte-Carlo noise cancelled.
* :func:`fit_tracked`: fit a model and follow both MI forms on the held-out split as it trains; :func:`settling_step`:
  when such an estimate stops moving;
* :func:`mi_versus_sigma` and :func:`exact_mi_versus_sigma`: the sigma form for several reference stds s, from one
  trained model or from the exact scores of a Gaussian pair.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import Tensor

from . import forms as est
from .estimator import MINDE, VARIANTS, MIResult
from .gaussian import GaussianPair, exact_estimates, exact_integrands
from .sde import SDE, make_sde

__all__ = [
    "small_t_contributions", "standardized_pair", "exact_score_comparison", "learned_time_profile", "settling_step",
    "fit_tracked", "mi_versus_sigma", "exact_mi_versus_sigma",
]  # fmt: skip

#: The integrand keys of ``MINDE.integrands`` per variant, and the matching keys of ``minde.gaussian.exact_integrands``
#: (for "H(...)" both are the KL-to-reference part of the entropy, eq. (H)).
_EXACT_KEYS = {
    "c": {"mi": "MINDE-C", "mi_sigma": "MINDE-C(sigma)", "H(X)": "H(X)", "H(X|Y)": "H(X|Y)"},
    "j": {"mi": "MINDE-J", "mi_sigma": "MINDE-J(sigma)", "H(X,Y)": "H(X,Y)", "H(X|Y)": "H(X|Y)", "H(Y|X)": "H(Y|X)"},
}


def small_t_contributions(sde: SDE, times: object, values: object) -> dict[str, float]:
    """What each ``small_t`` rule integrates over (0, t_eps], in expectation, for an integrand f known on a grid.

    ``times``: increasing times with ``times[0] < t_eps <= times[-1]`` (a log grid, e.g. ``np.geomspace(1e-8, 1, 81)``);
    ``values``: f at those times (an unweighted integrand, 1/2 g^2 E||Delta s||^2: ``MINDE.time_profile`` or
    ``minde.gaussian.exact_time_profile``).  Returns, in nats:

    * "hold": t_eps f(t_eps), the held value times the length of (0, t_eps];
    * "authors": Int_0^t_eps f(t) q(t_eps)/q(t) dt with q ∝ g^2/sigma_t^2: the weight Z sigma_t^2/g_t^2 of their code
      against the density held at q(t_eps) (a factor of about t/t_eps near 0);
    * "exact": Int_0^t_eps f(t) dt, the exact weight (version 0.1), with f held at f(times[0]) below times[0]: for a
      learned integrand, which grows like 1/t, it diverges and this is a lower bound;
    * "per_decade_at_min": ln(10) t f(t) at t = times[0], what "exact" gains per decade further down (constant for a
      1/t integrand: the divergence is logarithmic).

    Integrals are trapezoidal on the grid (exact for an integrand linear in t between grid points), with t_eps added
    to it and f there interpolated linearly in log t.  Above t_eps
    every rule integrates f itself, so an estimate's expectation is Int_{t_eps}^T f dt plus its rule's entry, and
    ``entry / estimate`` is the share of the estimate that comes from t < t_eps.
    """
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    f = np.asarray(values, dtype=np.float64).reshape(-1)
    te = sde.t_eps
    if t.shape != f.shape or t.size < 2 or not np.all(np.diff(t) > 0) or not (0 < t[0] < te <= t[-1]):
        raise ValueError(f"need increasing times from below t_eps = {te:g} to at least t_eps, and one value per time")
    log_t = np.log(t)
    below = np.r_[log_t[log_t < math.log(te)], math.log(te)]
    tb, fb = np.exp(below), np.interp(below, log_t, f)
    tt = torch.as_tensor(tb, dtype=torch.float64)
    q = (sde.g2(tt) / sde.sigma(tt) ** 2).numpy()
    ratio = q[-1] / q  # q(t_eps) / q(t): the authors' weight relative to the exact one
    area = lambda y: float(np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(tb)))  # noqa: E731  (trapezoid in t)
    head = t[0] * f[0]  # Int_0^{t_0} with f held at f(t_0)
    return {
        "hold": te * float(fb[-1]),
        "authors": area(fb * ratio) + 0.5 * head * ratio[0],  # the factor grows about linearly from 0 at t = 0
        "exact": area(fb) + head,
        "per_decade_at_min": math.log(10) * head,
    }


def standardized_pair(estimator: MINDE, pair: GaussianPair) -> GaussianPair:
    """The Gaussian pair as the fitted ``estimator`` sees it: each column divided by the standard deviation its
    ``Standardizer`` fitted on the training rows (covariance D Sigma D, D = diag(1 / std)).  The fitted means, of order
    1/sqrt(n) for a zero-mean pair, are neglected."""
    if estimator.preprocess != "standardize":
        raise ValueError(f"exact scores need preprocess='standardize', this model uses {estimator.preprocess!r}")
    estimator._check_fitted()
    scale = 1.0 / np.r_[estimator._x_std.std, estimator._y_std.std]
    if scale.shape[0] != pair.cov.shape[0] or estimator.net.dim_x != pair.dim_x:
        raise ValueError(f"the model was fitted on dim_x={estimator.net.dim_x}, dim_y={estimator.net.dim_y}; "
                         f"the pair has dim_x={pair.dim_x}, dim_y={pair.dim_y}")  # fmt: skip
    return GaussianPair(scale[:, None] * pair.cov * scale[None, :], pair.dim_x)


@contextmanager
def _extended_integrands(estimator: MINDE, pair: GaussianPair | None, squares: bool) -> Iterator[dict[str, str]]:
    """Within the block, the integrands the estimator computes come with, for ``pair``: "exact <key>" (the same
    integrand with the closed-form scores of ``pair``, standardised, at the same rows, times and noise) and
    "learned - exact <key>"; with ``squares``, "<key>^2" for every key (so that a mean gives a standard error)."""
    spair = standardized_pair(estimator, pair) if pair is not None else None
    keys = _EXACT_KEYS[estimator.variant]
    learned_only = estimator._batch_integrands

    def extended(x0: Tensor, y0: Tensor, t: Tensor, w: Tensor, noise: Tensor, sigmas=()) -> dict[str, Tensor]:
        out = learned_only(x0, y0, t, w, noise, sigmas)
        if spair is not None:
            exact = exact_integrands(spair, estimator.sde, x0.double(), y0.double(), t, w, noise.double(), estimator.sigma)
            for key, name in keys.items():
                out[f"exact {key}"] = exact[name]
                out[f"learned - exact {key}"] = out[key] - exact[name]
        if squares:
            out |= {f"{k}^2": v.square() for k, v in out.items()}
        return out

    estimator._batch_integrands = extended  # an instance attribute shadows the method for this block only
    try:
        yield keys
    finally:
        del estimator._batch_integrands


def exact_score_comparison(
    estimator: MINDE, pair: GaussianPair, x: object | None = None, y: object | None = None, seed: int | None = None,
    small_t: str | None = None,
) -> dict[str, dict[str, est.Estimate]]:  # fmt: skip
    """A trained model's estimate of each quantity against the same estimate with the exact scores of the Gaussian
    ``pair`` it was trained on, on the same evaluation rows, times and noise (``MINDE.mutual_information``'s draws
    for this ``seed`` and ``small_t`` rule).

    Returns ``{key: {"learned": Estimate, "exact": Estimate, "learned - exact": Estimate}}`` for the keys of
    ``MINDE.integrands``: "mi" and "mi_sigma" (nats of MI) and the entropies' KL-to-reference terms "H(X)", "H(X|Y)"
    (MINDE-C) or "H(X,Y)", "H(X|Y)", "H(Y|X)" (MINDE-J).  An entropy is its reference cross-entropy minus that KL term
    (eq. (H)), so its learned-score error is minus the "learned - exact" of its KL term, and the paired difference
    has the data and Monte-Carlo noise removed: what is left is the error of the learned scores."""
    with _extended_integrands(estimator, pair, squares=False) as keys:
        _, _, terms = estimator._integrands_for(x, y, seed, small_t=small_t)
    return {key: {part: est.Estimate.from_samples(terms[name]) for part, name in
                  (("learned", key), ("exact", f"exact {key}"), ("learned - exact", f"learned - exact {key}"))}
            for key in keys}  # fmt: skip


def learned_time_profile(
    estimator: MINDE, times: object, pair: GaussianPair | None = None, n: int = 4000, seed: int | None = None
) -> dict[str, np.ndarray]:
    """``MINDE.time_profile`` (the unweighted integrands at fixed t, averaged over ``n`` held-out rows) with the
    standard error of every mean ("<key> stderr"), and, given the Gaussian ``pair`` the model was trained on, the
    exact-score integrands on the same rows and noise ("exact <key>") and the paired difference ("learned - exact
    <key>"), each with its standard error."""
    with _extended_integrands(estimator, pair, squares=True):
        prof = estimator.time_profile(times, n=n, seed=seed)
    rows = min(n, estimator._data(None, None)[0].shape[0])
    out = {k: v for k, v in prof.items() if not k.endswith("^2")}
    for k in list(out):
        var = np.clip(prof[f"{k}^2"] - out[k] ** 2, 0.0, None) * rows / max(rows - 1, 1)
        out[f"{k} stderr"] = np.sqrt(var / rows)
    return out


def settling_step(steps: object, values: object, tol: float, reference: float | None = None) -> int:
    """The first step from which every later value stays within ``tol`` of ``reference`` (default: the last value):
    when an estimate followed during training (:func:`fit_tracked`) settles."""
    s, v = np.asarray(steps).reshape(-1), np.asarray(values, dtype=np.float64).reshape(-1)
    if s.shape != v.shape or s.size == 0:
        raise ValueError("need one value per step")
    ref = float(v[-1]) if reference is None else float(reference)
    outside = np.nonzero(np.abs(v - ref) > tol)[0]
    return int(s[0] if outside.size == 0 else s[min(outside[-1] + 1, s.size - 1)])


# --- following and sweeping a model (notebooks 03-04) ----------------------------------------------


def fit_tracked(
    estimator: MINDE, x: object, y: object, every: int = 1000, mc_repeats: int | None = None
) -> dict[str, np.ndarray]:
    """Fit ``estimator`` on (x, y) in place and follow both MI forms on the held-out split as it trains.

    Every ``every`` Adam steps (and at the last step) the EMA network is evaluated with
    ``mutual_information()``, using ``mc_repeats`` Monte-Carlo repeats (default: the estimator's own; fewer
    make tracking cheap).  Tracking draws from its own generator, so the trained network is the same as
    with a plain ``fit``.  Returns arrays keyed "step", "mi", "mi_stderr", "mi_sigma", "mi_sigma_stderr".
    """
    if every < 1:
        raise ValueError(f"every must be a positive number of steps, got {every}")

    def record(step: int, est_: MINDE) -> MIResult:
        saved = est_.mc_repeats
        est_.mc_repeats = saved if mc_repeats is None else int(mc_repeats)
        try:
            return est_.mutual_information()
        finally:
            est_.mc_repeats = saved

    estimator.fit(x, y, callback=record, callback_every=every)
    steps, results = zip(*estimator.log.callbacks, strict=True)
    out = {"step": np.asarray(steps)}
    for key in ("mi", "mi_stderr", "mi_sigma", "mi_sigma_stderr"):
        out[key] = np.asarray([getattr(r, key) for r in results])
    return out


def mi_versus_sigma(
    estimator: MINDE, sigmas: object, x: object | None = None, y: object | None = None, seed: int | None = None
) -> dict[str, np.ndarray]:
    """The sigma-form MI of one trained model for several reference standard deviations s.

    The reference N(0, s^2 I) enters only at estimation time (through chi_t = alpha_t^2 s^2 + sigma_t^2 in the
    entropy integrands; training never sees it), so the network is evaluated once, on one set of (t, eps) draws,
    and the sigma form computed for every s (``MINDE.mutual_information_by_sigma``).  (x, y): the evaluation
    data (default: the held-out split kept by ``fit``).
    Returns arrays keyed "sigma", "mi_sigma", "mi_sigma_stderr", and "mi" (the inside form, which ignores s).
    """
    sig = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    if sig.size == 0 or not np.all(sig > 0):
        raise ValueError(f"sigmas must be positive, got {sig}")
    rows = list(estimator.mutual_information_by_sigma([float(s) for s in sig], x, y, seed=seed).values())
    return {
        "sigma": sig,
        "mi_sigma": np.asarray([r.mi_sigma for r in rows]),
        "mi_sigma_stderr": np.asarray([r.mi_sigma_stderr for r in rows]),
        "mi": np.asarray([r.mi for r in rows]),
    }


def exact_mi_versus_sigma(
    pair: GaussianPair, sde: SDE | str, sigmas: object, variant: str = "c", n: int = 200_000, seed: int = 0
) -> dict[str, np.ndarray]:
    """``mi_versus_sigma`` with the exact scores of a ``minde.gaussian.GaussianPair`` instead of a network:
    the sigma form of ``variant`` for each reference std s (closed-form scores, n Monte-Carlo draws of
    (x_0, t, eps) under importance sampling; the same draws for every s).  Same keys as ``mi_versus_sigma``."""
    variant = str(variant).lower()
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}: choose 'c' or 'j'")
    sig = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    if sig.size == 0 or not np.all(sig > 0):
        raise ValueError(f"sigmas must be positive, got {sig}")
    name, sde = VARIANTS[variant], make_sde(sde)
    rows = [exact_estimates(pair, sde, n=n, reference_std=float(s), seed=seed) for s in sig]
    return {
        "sigma": sig,
        "mi_sigma": np.asarray([r[f"{name}(sigma)"].value for r in rows]),
        "mi_sigma_stderr": np.asarray([r[f"{name}(sigma)"].stderr for r in rows]),
        "mi": np.asarray([r[name].value for r in rows]),
    }
