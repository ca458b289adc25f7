"""The MINDE estimator object: fit a score network on (x, y), then read off MI and entropies.

    >>> from minde import MINDE
    >>> est = MINDE(variant="c").fit(x, y)        # x: (n, dx), y: (n, dy), numpy or torch
    >>> est.estimate()                             # MI in nats on the held-out split, difference-inside form
    >>> est.mutual_information()                   # both forms with their standard errors

``fit_many`` trains several models of one shape together (stacked networks, batched matrix products): the grid
runner uses it for the seeds of one task and the tasks of one shape; each model is the one ``fit`` would train.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor

from . import _deprecated, persistence
from . import forms as est
from .persistence import CHECKPOINT_FORMAT
from .score_network import Role, ScoreNetwork, network_inputs
from .sde import SDE, SMALL_T_RULES, make_sde
from .training import (
    LR_SCHEDULES,
    PRECISIONS,
    Plateau,
    TrainingLog,
    resolve_device,
    torch_threads,
    train_score_networks,
)
from .validation import RankGaussianizer, Standardizer, check_float, check_int, check_pair

__all__ = ["MINDE", "MIResult", "fit_many", "CHECKPOINT_FORMAT"]

VARIANTS = {"c": "MINDE-C", "j": "MINDE-J"}
#: Per-column preprocessing fitted on the training rows: "standardize" (the paper) or "rank_gauss" (opt-in,
#: ``minde.validation.RankGaussianizer``: MI-preserving Gaussianisation of each marginal).
PREPROCESS = {"standardize": Standardizer, "rank_gauss": RankGaussianizer}
#: Training budgets: a fixed number of steps (the paper), or the adaptive rule of ``minde.training.Plateau``.
BUDGETS = ("fixed", "adaptive")
#: The times of each run of this many evaluation points are stratified on their own (``SDE.integration_points``):
#: runs are independent given the data, which makes the Monte-Carlo standard error estimable without bias.
STRATUM_BLOCK = 512


@dataclass(frozen=True)
class MIResult:
    """Both estimator forms of one trained model, in nats, with their standard errors.

    ``mi_stderr`` / ``mi_sigma_stderr``: total standard error (evaluation data and (t, eps) draws; data points are
    the independent units).  ``mi_mc_stderr`` / ``mi_sigma_mc_stderr``: the part from the (t, eps) draws alone, with
    the data fixed: what re-evaluating with another ``seed`` changes (estimated from the ``mc_repeats`` repeats).
    Neither includes the training variability of the network (refit with other seeds: ``minde.intervals.intervals``).
    """

    variant: str
    mi: float  # difference inside the norm (MINDE-C / MINDE-J)
    mi_stderr: float
    mi_sigma: float  # difference outside the norm, via entropies (MINDE-C(sigma) / MINDE-J(sigma))
    mi_sigma_stderr: float
    n_samples: int
    mc_repeats: int
    mi_mc_stderr: float = float("nan")
    mi_sigma_mc_stderr: float = float("nan")
    small_t: str = "hold"

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)

    def named(self) -> dict[str, float]:
        """{'MINDE-C': ..., 'MINDE-C(sigma)': ...} (or the J names)."""
        name = VARIANTS[self.variant]
        return {name: self.mi, f"{name}(sigma)": self.mi_sigma}

    def interval(self, level: float = 0.95, form: str = "inside", form_gap: bool = False) -> tuple[float, float]:
        """Normal ``level`` interval from the total standard error, for the "inside" form (the default) or the "sigma"
        form.  It does not include training variability (refit with other seeds and use ``minde.intervals.intervals``).
        ``form_gap=True`` adds, in quadrature, the disagreement |mi - mi_sigma| of the two forms, which vanishes with
        exact scores: a proxy for the bias of the learned ones (notebook 09)."""
        from scipy.stats import norm

        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level}")
        if form not in ("inside", "sigma"):
            raise ValueError(f"unknown form {form!r}: choose 'inside' or 'sigma'")
        value, se = (self.mi, self.mi_stderr) if form == "inside" else (self.mi_sigma, self.mi_sigma_stderr)
        half = float(norm.ppf(0.5 + level / 2)) * se
        if form_gap:
            half = float(np.hypot(half, self.mi - self.mi_sigma))
        return value - half, value + half


class MINDE:
    """Mutual Information Neural Diffusion Estimation (Franzese, Bounoua, Michiardi, ICLR 2024).

    Parameters
    ----------
    variant: "c" (conditional diffusion: s_X and s_{X|Y}) or "j" (joint diffusion: s_XY, s_{X|Y}, s_{Y|X}).
    sde: "vp" (paper default, beta in [0.1, 20]) or "ve"; ``sde_kwargs`` are passed to it.
    importance_sampling: draw t from q ∝ g^2/sigma_t^2 for training and estimation (paper default).
    sigma: standard deviation s of the Gaussian reference of the sigma-forms.
    steps, batch_size, lr, ema_decay: Adam training budget (the authors: ~290k-390k steps, batch 128-256).
    lr_schedule: "constant" (the paper) or "cosine" (decay to 0; opt-in, see benchmarks/accuracy.py).
    width, n_blocks: the score network (width from the dimension when None).
    test_fraction: share of the data ``fit`` holds out for ``estimate()``; 0 estimates on the training data.
    preprocess: "standardize" (each column to mean 0, variance 1: the paper) or "rank_gauss" (opt-in: each column
        through its empirical CDF to a standard normal; leaves MI unchanged, tames heavy tails; MI only, no entropies).
    mc_repeats: times each data point is paired with a fresh (t, eps) when estimating (>= 2 gives ``mc_stderr``).
    small_t: how the time integral treats (0, t_eps] (``SDE.integration_points``): "hold" (default: the integrand
        held at its t_eps value, finite variance for any network), "authors" (their Z-weighting), "exact" (the
        divergent exact weight of version 0.1, for comparison only).
    precision: "float32" or "bfloat16" (autocast of the network during training on CPUs with bf16 units; opt-in).
    budget: "fixed" (``steps`` Adam steps: the paper) or "adaptive" (opt-in: constant ``lr`` until the running MI
        estimate of the model stops moving, then a linear cool-down; ``steps`` is the cap; ``minde.training.Plateau``,
        whose fields ``plateau_kwargs`` may override; ``lr_schedule`` is then ignored).
    ema_ablation: further networks kept for the EMA ablation (evaluate them with ``using``): "raw" (the last
        weights, no average) and/or other EMA decays, e.g. ("raw", 0.9999).  Estimates use the EMA(ema_decay) network.
    seed: every random choice (split, initialisation, batches, times, noise) flows from it.
    device: "auto" (CUDA when present), "cpu", "cuda", ...
    threads: torch CPU threads used during fit/estimate (1 is fastest for these small networks; None = leave).
    """

    def __init__(
        self,
        variant: str = "c",
        sde: str = "vp",
        importance_sampling: bool = True,
        sigma: float = 1.0,
        steps: int = 20_000,
        batch_size: int = 128,
        lr: float = 1e-3,
        ema_decay: float = 0.999,
        lr_schedule: str = "constant",
        width: int | None = None,
        n_blocks: int = 0,
        test_fraction: float = 0.1,
        mc_repeats: int = 10,
        seed: int = 0,
        device: str = "auto",
        threads: int | None = 1,
        progress: bool = False,
        sde_kwargs: dict | None = None,
        preprocess: str = "standardize",
        small_t: str = "hold",
        precision: str = "float32",
        ema_ablation: tuple = (),
        budget: str = "fixed",
        plateau_kwargs: dict | None = None,
    ) -> None:
        variant = str(variant).lower()
        choices = {
            "variant": (variant, VARIANTS), "preprocess": (preprocess, PREPROCESS), "lr_schedule": (lr_schedule, LR_SCHEDULES),
            "small_t": (small_t, SMALL_T_RULES), "precision": (precision, PRECISIONS), "budget": (budget, BUDGETS),
        }  # fmt: skip
        for key, (value, allowed) in choices.items():
            if value not in allowed:
                raise ValueError(f"unknown {key} {value!r}: choose one of {', '.join(map(repr, allowed))}")
        if not isinstance(importance_sampling, (bool, np.bool_)):
            raise ValueError(f"importance_sampling must be True or False, got {importance_sampling!r}")
        self.sde: SDE = make_sde(sde, **(sde_kwargs or {}))
        self.variant = variant
        self.importance_sampling = bool(importance_sampling)
        self.sigma = check_float("sigma", sigma, 0.0)
        self.steps = check_int("steps", steps, 1)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.lr = check_float("lr", lr, 0.0)
        self.ema_decay = check_float("ema_decay", ema_decay, 0.0, 1.0, low_open=False)
        self.lr_schedule = lr_schedule
        self.preprocess = preprocess
        self.width = None if width is None else check_int("width", width, 1)
        self.n_blocks = check_int("n_blocks", n_blocks, 0)
        self.test_fraction = check_float("test_fraction", test_fraction, 0.0, 1.0, low_open=False)
        self.mc_repeats = check_int("mc_repeats", mc_repeats, 1)
        self.seed = check_int("seed", seed, 0)
        self.small_t, self.precision = small_t, precision
        self.ema_ablation = tuple("raw" if str(v) == "raw" else check_float("ema_ablation decay", v, 0.0, 1.0)
                                  for v in ema_ablation)  # fmt: skip
        self.alternatives: dict[str, ScoreNetwork] = {}
        self.budget = budget
        try:
            self.plateau = Plateau(**(plateau_kwargs or {})) if budget == "adaptive" else None
        except TypeError as exc:
            raise ValueError(f"plateau_kwargs: {exc}; fields are {', '.join(Plateau.__dataclass_fields__)}") from None
        self.plateau_kwargs = dict(plateau_kwargs or {})
        self.device = resolve_device(device)
        self.threads = None if threads is None else check_int("threads", threads, 1)
        self.progress = bool(progress)
        self.net: ScoreNetwork | None = None
        self.log: TrainingLog | None = None
        self._x_std: Standardizer | RankGaussianizer | None = None
        self._y_std: Standardizer | RankGaussianizer | None = None
        self._test: tuple[Tensor, Tensor] | None = None
        self.fit_info: dict = {}

    # --- configuration ---------------------------------------------------------------------------
    def config(self) -> dict:
        """Plain-type configuration (what ``save`` stores and ``MINDE(**config)`` rebuilds)."""
        return {
            "variant": self.variant,
            "sde": self.sde.config()["name"],
            "sde_kwargs": {k: v for k, v in self.sde.config().items() if k != "name"},
            "importance_sampling": self.importance_sampling,
            "sigma": self.sigma,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "ema_decay": self.ema_decay,
            "lr_schedule": self.lr_schedule,
            "width": self.width,
            "n_blocks": self.n_blocks,
            "test_fraction": self.test_fraction,
            "mc_repeats": self.mc_repeats,
            "seed": self.seed,
            "preprocess": self.preprocess,
            "small_t": self.small_t,
            "precision": self.precision,
            "ema_ablation": list(self.ema_ablation),
            "budget": self.budget,
            "plateau_kwargs": self.plateau_kwargs,
        }

    def training_config(self) -> dict:
        """What models must share to be trained together by ``fit_many``: the configuration less the seed and the
        evaluation-only settings."""
        evaluation_only = ("seed", "sigma", "mc_repeats", "small_t")
        return {k: v for k, v in self.config().items() if k not in evaluation_only} | {"device": str(self.device)}

    @property
    def name(self) -> str:
        return VARIANTS[self.variant]

    @contextlib.contextmanager
    def using(self, network: str):
        """Evaluate with another network kept by ``ema_ablation`` ("raw", or "ema<decay>" e.g. "ema0.9999")."""
        self._check_fitted()
        if network not in self.alternatives:
            raise ValueError(f"no network {network!r} kept: have {', '.join(self.alternatives) or 'none'} "
                             "(train with ema_ablation=...)")  # fmt: skip
        live, self.net = self.net, self.alternatives[network]
        try:
            yield self
        finally:
            self.net = live

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"MINDE({args})"

    # --- fitting ---------------------------------------------------------------------------------
    def _tensor(self, a: np.ndarray) -> Tensor:
        return torch.as_tensor(a, dtype=torch.float32, device=self.device)

    def _prepare(self, x: object, y: object) -> tuple[Tensor, Tensor]:
        """Validate (x, y), hold out ``test_fraction`` of the rows, fit the preprocessing on the training rows; keep
        the held-out split; return the training tensors."""
        xa, ya = check_pair(x, y, min_samples=2)
        n = xa.shape[0]
        n_test = int(round(self.test_fraction * n))
        n_train = n - n_test
        if n_train < self.batch_size:
            raise ValueError(
                f"too few samples: {n_train} training rows (of {n}, test_fraction={self.test_fraction}) "
                f"is fewer than one batch of {self.batch_size}; lower batch_size or give more data"
            )
        perm = np.random.default_rng(self.seed).permutation(n)
        train_idx, test_idx = perm[:n_train], perm[n_train:]
        self._x_std = PREPROCESS[self.preprocess].fit(xa[train_idx], "x")
        self._y_std = PREPROCESS[self.preprocess].fit(ya[train_idx], "y")
        xs, ys = self._x_std(xa), self._y_std(ya)
        x_tr, y_tr = self._tensor(xs[train_idx]), self._tensor(ys[train_idx])
        self._test = (self._tensor(xs[test_idx]), self._tensor(ys[test_idx])) if n_test else (x_tr, y_tr)
        self.fit_info = {"n_train": n_train, "n_test": n_test, "dim_x": xa.shape[1], "dim_y": ya.shape[1]}
        return x_tr, y_tr

    def fit(self, x: object, y: object, callback=None, callback_every: int = 0) -> MINDE:
        """Standardise, hold out ``test_fraction`` of the rows, and train the score network.

        ``callback(step, estimator)`` is called every ``callback_every`` steps with the estimator's EMA
        network in place (e.g. ``lambda step, e: e.mutual_information()`` to follow the estimate).
        """
        fit_many([self], [(x, y)], callback=callback, callback_every=callback_every)
        return self

    # --- estimation ------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if self.net is None:
            raise RuntimeError("this MINDE estimator is not fitted yet: call .fit(x, y) first")

    def _data(self, x: object | None, y: object | None) -> tuple[Tensor, Tensor]:
        self._check_fitted()
        if x is None and y is None:
            if self._test is None:
                raise ValueError("this model was saved without its held-out data: pass x and y to evaluate it")
            return self._test
        if x is None or y is None:
            raise ValueError("give both x and y, or neither (to use the held-out split kept by fit)")
        xa, ya = check_pair(x, y, min_samples=2)
        if xa.shape[1] != self.net.dim_x or ya.shape[1] != self.net.dim_y:
            raise ValueError(
                f"shape mismatch: the model was fitted on dim_x={self.net.dim_x}, dim_y={self.net.dim_y}, "
                f"got {xa.shape[1]} and {ya.shape[1]}"
            )
        return self._tensor(self._x_std(xa)), self._tensor(self._y_std(ya))

    @torch.no_grad()
    def _scores(self, x0: Tensor, y0: Tensor, t: Tensor, noise: Tensor) -> dict[str, Tensor]:
        """The variant's scores at (x_t, y_t) from one draw of t and eps, float64: s = -eps_hat / sigma_t."""
        dx = x0.shape[1]
        sig = self.sde.sigma(t)

        def score(rx: Role, ry: Role, cols: slice) -> Tensor:
            inp, times, _ = network_inputs(self.sde, x0, y0, t, noise, rx, ry)
            return -self.net(inp, times.to(x0.dtype)).to(torch.float64)[:, cols] / sig

        D, C, M = Role.DIFFUSED, Role.CLEAN, Role.MARGINAL
        if self.variant == "c":
            return {"marg": score(D, M, slice(0, dx)), "cond_x": score(D, C, slice(0, dx))}
        return {"joint": score(D, D, slice(None)), "cond_x": score(D, C, slice(0, dx)), "cond_y": score(C, D, slice(dx, None))}

    @torch.no_grad()
    def _batch_integrands(
        self, x0: Tensor, y0: Tensor, t: Tensor, w: Tensor, noise: Tensor, sigmas: Sequence[float] = ()
    ) -> dict[str, Tensor]:
        """Per-sample integrands for one batch at times t (n, 1) with time weights w (n, 1): both MI forms and the
        entropy KL terms for the reference std ``self.sigma``, and the sigma form for each s in ``sigmas``
        (keys ``"mi_sigma@<s>"``; the network is evaluated once for all of them)."""
        dx = x0.shape[1]
        g2 = self.sde.g2(t)
        z_t = self.sde.perturb(torch.cat([x0, y0], 1).to(torch.float64), t, noise.to(torch.float64))
        x_t, y_t = z_t[:, :dx], z_t[:, dx:]
        s = self._scores(x0, y0, t, noise)
        out: dict[str, Tensor] = {}
        for ref in [self.sigma, *sigmas]:
            chi = self.sde.chi(t, ref)
            if self.variant == "c":
                mi_sigma = est.minde_c_sigma(s["cond_x"], s["marg"], x_t, chi, g2, w)
            else:
                mi_sigma = est.minde_j_sigma(s["joint"], s["cond_x"], s["cond_y"], x_t, y_t, chi, g2, w)
            if not out:  # the estimator's own reference: both forms and the entropy terms
                chi0 = chi
                out["mi_sigma"] = mi_sigma
            else:
                out[f"mi_sigma@{ref:g}"] = mi_sigma
        if self.variant == "c":
            out["mi"] = est.minde_c(s["cond_x"], s["marg"], g2, w)
            out["H(X)"] = est.entropy_integrand(s["marg"], x_t, chi0, g2, w)
            out["H(X|Y)"] = est.entropy_integrand(s["cond_x"], x_t, chi0, g2, w)
        else:
            out["mi"] = est.minde_j(s["joint"], s["cond_x"], s["cond_y"], g2, w)
            out["H(X,Y)"] = est.entropy_integrand(s["joint"], z_t, chi0, g2, w)
            out["H(X|Y)"] = est.entropy_integrand(s["cond_x"], x_t, chi0, g2, w)
            out["H(Y|X)"] = est.entropy_integrand(s["cond_y"], y_t, chi0, g2, w)
        return out

    def _noise(self, m: int, d: int, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
        return torch.randn(m, d, generator=generator, device=self.device, dtype=dtype)

    @torch.no_grad()
    def integrands(
        self, x: Tensor, y: Tensor, generator: torch.Generator, batch: int = 16 * STRATUM_BLOCK, sigmas: Sequence[float] = (),
        small_t: str | None = None, importance_sampling: bool | None = None,
    ) -> dict[str, Tensor]:  # fmt: skip
        """Per-sample, per-repeat integrands (shape (n, mc_repeats)) of both MI forms and of the KL terms
        of every entropy the variant supports, on standardised tensors.  Each repeat pairs every data
        point with a fresh (t, eps); t is stratified within each run of ``STRATUM_BLOCK`` points (unbiased, lower
        variance, and independent runs for the Monte-Carlo error).
        ``small_t`` and ``importance_sampling`` override the estimator's own for this evaluation only (e.g. uniform
        t at evaluation on a network trained with importance-sampled t)."""
        self._check_fitted()
        rule = self.small_t if small_t is None else small_t
        is_ = self.importance_sampling if importance_sampling is None else bool(importance_sampling)
        self.net.eval()
        d = x.shape[1] + y.shape[1]
        repeats: list[dict[str, Tensor]] = []
        for _ in range(self.mc_repeats):
            parts: dict[str, list[Tensor]] = {}
            for start in range(0, x.shape[0], batch):
                x0, y0 = x[start : start + batch], y[start : start + batch]
                t, w = self.sde.integration_points(x0.shape[0], is_, generator, x.device, stratified=True, small_t=rule,
                                                   block=STRATUM_BLOCK)  # fmt: skip
                terms = self._batch_integrands(x0, y0, t, w, self._noise(x0.shape[0], d, generator, x.dtype), sigmas)
                for k, v in terms.items():
                    parts.setdefault(k, []).append(v)
            repeats.append({k: torch.cat(v) for k, v in parts.items()})
        out = {k: torch.stack([r[k] for r in repeats], dim=1) for k in repeats[0]}
        for k, v in out.items():
            if not torch.isfinite(v).all():
                raise FloatingPointError(f"the {k} integrand is not finite: the network outputs NaN/inf (was training stable?)")
        return out

    @torch.no_grad()
    def time_profile(
        self, times: object, x: object | None = None, y: object | None = None, n: int = 4000, seed: int | None = None
    ) -> dict[str, np.ndarray]:
        """The integrands over t, without time weights: for each t in ``times``, the mean over ``n`` data
        points of 1/2 g(t)^2 ||score difference||^2 for each form (the curve whose area is the MI), and of
        the entropy KL terms.  Returns arrays of shape (len(times),) keyed as in ``integrands``."""
        xt, yt = self._data(x, y)
        xt, yt = xt[:n], yt[:n]
        gen = torch.Generator(device=self.device).manual_seed(self.seed + 2 if seed is None else seed)
        out: dict[str, list[float]] = {}
        with torch_threads(self.threads if self.device.type == "cpu" else None):
            for tv in np.asarray(times, dtype=np.float64).reshape(-1):
                t = torch.full((xt.shape[0], 1), float(tv), dtype=torch.float64, device=self.device)
                noise = self._noise(xt.shape[0], xt.shape[1] + yt.shape[1], gen, xt.dtype)
                terms = self._batch_integrands(xt, yt, t, torch.ones_like(t), noise)
                for k, v in terms.items():
                    out.setdefault(k, []).append(float(v.mean()))
        return {k: np.asarray(v) for k, v in out.items()}

    def _integrands_for(
        self, x: object | None, y: object | None, seed: int | None, **kwargs: object
    ) -> tuple[Tensor, Tensor, dict]:
        xt, yt = self._data(x, y)
        seed = self.seed + 1 if seed is None else check_int("seed", seed, 0)
        gen = torch.Generator(device=self.device).manual_seed(seed)
        with torch_threads(self.threads if self.device.type == "cpu" else None):
            return xt, yt, self.integrands(xt, yt, gen, **kwargs)

    def _result(self, terms: dict[str, Tensor], key_sigma: str, n: int, rule: str) -> MIResult:
        mi = est.Estimate.from_samples(terms["mi"], block=STRATUM_BLOCK)
        mi_s = est.Estimate.from_samples(terms[key_sigma], block=STRATUM_BLOCK)
        return MIResult(self.variant, mi.value, mi.stderr, mi_s.value, mi_s.stderr, n, self.mc_repeats,
                        mi.mc_stderr, mi_s.mc_stderr, rule)  # fmt: skip

    def mutual_information(
        self, x: object | None = None, y: object | None = None, seed: int | None = None,
        small_t: str | None = None, importance_sampling: bool | None = None,
    ) -> MIResult:  # fmt: skip
        """MI (nats) in both forms, with standard errors, on (x, y) or on the held-out split.  ``seed`` fixes the
        evaluation draws (default: the model's seed + 1); ``small_t`` and ``importance_sampling`` override the
        estimator's own for this evaluation (``SDE.integration_points``)."""
        xt, _, terms = self._integrands_for(x, y, seed, small_t=small_t, importance_sampling=importance_sampling)
        return self._result(terms, "mi_sigma", xt.shape[0], self.small_t if small_t is None else small_t)

    def mutual_information_by_sigma(
        self, sigmas: Sequence[float], x: object | None = None, y: object | None = None, seed: int | None = None,
        small_t: str | None = None, importance_sampling: bool | None = None,
    ) -> dict[float, MIResult]:  # fmt: skip
        """``mutual_information`` for several reference stds s of the sigma form, from one evaluation of the network
        (the same (t, eps) draws for every s): {s: MIResult}.  The inside form does not depend on s."""
        sig = [check_float("sigma", s, 0.0) for s in sigmas]
        if not sig:
            raise ValueError("give at least one reference std")
        xt, _, terms = self._integrands_for(x, y, seed, sigmas=sig, small_t=small_t, importance_sampling=importance_sampling)
        rule = self.small_t if small_t is None else small_t
        return {s: self._result(terms, f"mi_sigma@{s:g}", xt.shape[0], rule) for s in sig}

    def estimate(self, x: object | None = None, y: object | None = None, seed: int | None = None) -> float:
        """MI in nats in the variant's main form (difference inside the norm)."""
        return self.mutual_information(x, y, seed).mi

    def entropy(
        self, x: object | None = None, y: object | None = None, seed: int | None = None, small_t: str | None = None
    ) -> dict[str, est.Estimate]:
        """Differential entropies (nats, in the units of the original data) that the variant's scores give.

        MINDE-C: H(X), H(X|Y).  MINDE-J: H(X,Y), H(X|Y), H(Y|X), and H(X) = H(X,Y) - H(Y|X),
        H(Y) = H(X,Y) - H(X|Y).  Each is N/2 log(2 pi s^2) + E||X_0||^2/(2 s^2) - KL to the reference (eq. H),
        shifted by the log-Jacobian of the standardisation.  ``small_t`` overrides the estimator's rule for this call.
        """
        if self.preprocess != "standardize":
            raise ValueError(
                f"entropies need preprocess='standardize' (this model uses {self.preprocess!r}, which changes "
                "differential entropies but not mutual information)"
            )
        xt, yt, terms = self._integrands_for(x, y, seed, small_t=small_t)
        cross = {
            "X": est.gaussian_reference_cross_entropy(xt, self.sigma),
            "Y": est.gaussian_reference_cross_entropy(yt, self.sigma),
            "X,Y": est.gaussian_reference_cross_entropy(torch.cat([xt, yt], 1), self.sigma),
        }
        jac = {"X": self._x_std.log_jacobian, "Y": self._y_std.log_jacobian}
        jac["X,Y"] = jac["X"] + jac["Y"]
        per_sample = {}
        for key, kl in terms.items():
            if key.startswith("H("):
                var = key[2:-1].split("|")[0]
                per_sample[key] = (cross[var].unsqueeze(1) - kl, jac[var])
        if self.variant == "j":
            # H(X) = H(X,Y) - H(Y|X), H(Y) = H(X,Y) - H(X|Y): differences taken sample by sample, so the
            # standard error accounts for the terms sharing their Monte-Carlo draws
            (hxy, jxy), (hyx, jy), (hxgy, jx) = per_sample["H(X,Y)"], per_sample["H(Y|X)"], per_sample["H(X|Y)"]
            per_sample["H(X)"] = (hxy - hyx, jxy - jy)
            per_sample["H(Y)"] = (hxy - hxgy, jxy - jx)
        return {key: est.Estimate.from_samples(v, offset=j, block=STRATUM_BLOCK) for key, (v, j) in per_sample.items()}

    def null_estimates(self, x: object, y: object, shuffles: int = 3, seed: int = 0) -> list[MIResult]:
        """The estimator's answer when there is nothing to find: ``shuffles`` fresh models with this configuration,
        each trained and evaluated on (x, y) with the rows of y randomly permuted (same marginals, no dependence),
        trained together (``fit_many``).  The inside forms are non-negative and biased upward on independent data,
        so an estimate is distinguishable from zero only when it clears these.  Costs ``shuffles`` trainings."""
        shuffles = check_int("shuffles", shuffles, 1)
        xa, ya = check_pair(x, y, min_samples=2)
        rng = np.random.default_rng(check_int("seed", seed, 0))
        models = [MINDE(**(self.config() | {"seed": self.seed + 1000 + i}), device=str(self.device), threads=self.threads)
                  for i in range(shuffles)]  # fmt: skip
        fit_many(models, [(xa, ya[rng.permutation(len(ya))]) for _ in models])
        return [m.mutual_information() for m in models]

    # --- persistence (minde.persistence) ----------------------------------------------------------
    def save(self, path: str | os.PathLike, include_data: bool = True) -> None:
        """Save config, preprocessing, weights (plain state_dict) and, with ``include_data``, the held-out split,
        atomically, with a format version and a SHA-256 of the content that ``load`` checks."""
        self._check_fitted()
        persistence.save(self, path, include_data)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "auto") -> MINDE:
        """Load a model saved by ``save`` (``weights_only=True``: no code is unpickled).

        A missing, empty, corrupt or foreign file, a checkpoint of another format version, or one whose content
        was edited (its configuration no longer matches its weights) raises ``ValueError`` naming the file."""
        return persistence.load(cls, path, device)


# --- several models trained together ---------------------------------------------------------------


def fit_many(
    estimators: Sequence[MINDE],
    data: Sequence[tuple[object, object]],
    callback=None,
    callback_every: int = 0,
    names: Sequence[str] | None = None,
) -> list[MINDE]:
    """Fit ``estimators[k]`` on ``data[k]``, all at once: their networks are stacked (``ScoreNetwork(members=K)``)
    and trained in batched matrix products (``train_score_networks``).

    The estimators must share their training configuration (``MINDE.training_config``: everything but the seed and
    the evaluation settings) and their data its shape (dimensions and number of training rows).  Each model draws
    its split, initial weights, batches, times and noise from its own seed, as ``fit`` alone would: stacking
    changes the speed, not the models (up to float rounding in the batched products).  Returns the estimators,
    fitted in place.  ``names`` label the members in error messages (e.g. the task of each).  ``callback(step,
    estimator)``, as in ``MINDE.fit``, is called for each member in turn, with that member's EMA network in place.
    """
    estimators = list(estimators)
    if not estimators or len(estimators) != len(data):
        raise ValueError(f"need one (x, y) per estimator, got {len(estimators)} estimators and {len(data)} datasets")
    lead = estimators[0]
    configs = [e.training_config() for e in estimators]
    for e, c in zip(estimators[1:], configs[1:], strict=True):
        if c != configs[0]:
            diff = sorted(k for k in c if c[k] != configs[0].get(k))
            raise ValueError(f"fit_many trains models of one configuration; {e!r} differs in {', '.join(diff)}")
    tensors = [e._prepare(x, y) for e, (x, y) in zip(estimators, data, strict=True)]
    shapes = {(tuple(a.shape), tuple(b.shape)) for a, b in tensors}
    if len(shapes) > 1:
        raise ValueError(f"fit_many needs data of one shape (rows, dim_x, dim_y) for every model, got {sorted(shapes)}")
    dim_x, dim_y = tensors[0][0].shape[1], tensors[0][1].shape[1]
    seeds = [e.seed for e in estimators]
    names = list(names) if names is not None else [f"{e.name} (seed {e.seed})" for e in estimators]
    with torch_threads(lead.threads if lead.device.type == "cpu" else None):
        with torch.random.fork_rng(devices=[]):
            net = ScoreNetwork(dim_x, dim_y, lead.width, lead.n_blocks, members=len(estimators), seeds=seeds).to(lead.device)
        cb = None
        if callback is not None:

            def cb(step: int, ema_module: torch.nn.Module) -> object:
                out = []
                for m, e in enumerate(estimators):  # each member with its own EMA network in place
                    live, e.net = e.net, (ema_module.member(m) if len(estimators) > 1 else ema_module)
                    try:
                        out.append(callback(step, e))
                    finally:
                        e.net = live
                return out if len(estimators) > 1 else out[0]

        monitor = _plateau_monitor(estimators, tensors) if lead.budget == "adaptive" else None
        t0 = time.perf_counter()
        ema, log = train_score_networks(
            net, lead.sde, torch.stack([a for a, _ in tensors]), torch.stack([b for _, b in tensors]), lead.variant,
            lead.steps, lead.batch_size, lead.lr, lead.ema_decay, lead.importance_sampling, seeds, lead.progress,
            lead.lr_schedule, callback=cb, callback_every=callback_every, names=names, precision=lead.precision,
            extra_ema_decays=[v for v in lead.ema_ablation if v != "raw"], plateau=lead.plateau, monitor=monitor,
        )  # fmt: skip
        seconds = time.perf_counter() - t0
    k = len(estimators)
    for m, e in enumerate(estimators):
        e.net = ema.module.member(m).eval().requires_grad_(False) if k > 1 else ema.module
        kept = {f"ema{d:g}": avg.module for d, avg in ema.extra.items()} | ({"raw": net} if "raw" in e.ema_ablation else {})
        e.alternatives = {name: (mod.member(m) if k > 1 else mod).eval().requires_grad_(False) for name, mod in kept.items()}
        logged = [(st, v[m]) for st, v in zip(log.steps, log.losses, strict=True) if v[m] is not None]
        done = log.member_steps_done[m]
        share = done / sum(log.member_steps_done)  # the group's time, shared by steps trained
        e.log = TrainingLog(steps=[st for st, _ in logged], losses=[v for _, v in logged], seconds=log.seconds * share,
                            callbacks=log.callbacks, monitor=[(st, [v[m]]) for st, v in log.monitor if v[m] is not None],
                            cooldown_start=log.member_cooldown_start[m], stop_rule=log.member_stop_rule[m],
                            steps_done=done)  # fmt: skip
        e.fit_info |= {
            "width": e.net.width,
            "parameters": sum(p.numel() for p in e.net.parameters()),
            "train_seconds": seconds * share,
            "trained_together": k,
            "steps_done": done,
            "stop_rule": e.log.stop_rule,
            "cooldown_start": e.log.cooldown_start,
            "plateau": asdict(e.plateau) if e.plateau is not None else None,  # the adaptive rule in full
            "monitor": [[st, v[0]] for st, v in e.log.monitor],  # the adaptive budget's checks: (step, running MI)
            "final_loss": e.log.losses[-1] if e.log.losses else float("nan"),
            "device": str(e.device),
            "threads": e.threads,
            "torch": str(torch.__version__),
            "machine": platform.platform(),
            "cpu_count": os.cpu_count(),
        }
    return estimators


def _plateau_monitor(estimators: list[MINDE], tensors: list[tuple[Tensor, Tensor]], rows: int = 2000):
    """The adaptive budget's monitor: each member's inside-form MI on a fixed subset of its training rows, with the
    same (t, eps) draws at every check (one repeat), from the member's EMA network."""
    subsets = []
    for e, (x, y) in zip(estimators, tensors, strict=True):
        pick = torch.as_tensor(np.random.default_rng([e.seed, 17]).permutation(x.shape[0])[:rows], device=x.device)
        subsets.append((x[pick], y[pick]))

    def monitor(step: int, networks: dict[int, ScoreNetwork]) -> dict[int, float]:
        values = {}
        for m, member_net in networks.items():
            e, (xs, ys) = estimators[m], subsets[m]
            live, saved, e.net = e.net, e.mc_repeats, member_net
            e.mc_repeats = 1
            try:
                gen = torch.Generator(device=xs.device).manual_seed(e.seed + 17)
                values[m] = float(e.integrands(xs, ys, gen)["mi"].mean())
            finally:
                e.net, e.mc_repeats = live, saved
        return values

    return monitor


#: The tutorial helpers of notebooks 03-04, now in :mod:`minde.diagnostics` (found there, with a warning).
__getattr__ = _deprecated.forward(__name__, dict.fromkeys(("fit_tracked", "mi_versus_sigma", "exact_mi_versus_sigma"),
                                                         "minde.diagnostics"))  # fmt: skip
