"""The MINDE estimator object: fit a score network on (x, y), then read off MI and entropies.

    >>> from minde import MINDE
    >>> est = MINDE(variant="c").fit(x, y)        # x: (n, dx), y: (n, dy), numpy or torch
    >>> est.estimate()                             # MI in nats on the held-out split, difference-inside form
    >>> est.mutual_information()                   # both forms with Monte-Carlo standard errors
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor

from . import estimators as est
from .gaussian import GaussianPair, exact_estimates
from .score_network import Role, ScoreNetwork, network_inputs
from .sde import SDE, make_sde
from .training import LR_SCHEDULES, TrainingLog, resolve_device, torch_threads, train_score_network
from .validation import RankGaussianizer, Standardizer, check_pair

__all__ = ["MINDE", "MIResult", "fit_tracked", "mi_versus_sigma", "exact_mi_versus_sigma"]

VARIANTS = {"c": "MINDE-C", "j": "MINDE-J"}
#: Per-column preprocessing fitted on the training rows: "standardize" (the paper) or "rank_gauss" (opt-in,
#: ``minde.validation.RankGaussianizer``: MI-preserving Gaussianisation of each marginal).
PREPROCESS = {"standardize": Standardizer, "rank_gauss": RankGaussianizer}


@dataclass(frozen=True)
class MIResult:
    """Both estimator forms of one trained model, in nats, with Monte-Carlo standard errors."""

    variant: str
    mi: float  # difference inside the norm (MINDE-C / MINDE-J)
    mi_stderr: float
    mi_sigma: float  # difference outside the norm, via entropies (MINDE-C(sigma) / MINDE-J(sigma))
    mi_sigma_stderr: float
    n_samples: int
    mc_repeats: int

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)

    def named(self) -> dict[str, float]:
        """{'MINDE-C': ..., 'MINDE-C(sigma)': ...} (or the J names)."""
        name = VARIANTS[self.variant]
        return {name: self.mi, f"{name}(sigma)": self.mi_sigma}

    def interval(self, level: float = 0.95, form: str = "inside", form_gap: bool = False) -> tuple[float, float]:
        """Normal ``level`` interval for the Monte-Carlo error of the time integral, for the "inside" form (the
        default) or the "sigma" form.  It does not include training variability (refit with other seeds and use
        ``minde.results.intervals``).  ``form_gap=True`` adds, in quadrature, the disagreement |mi - mi_sigma| of the
        two forms, which vanishes with exact scores: a proxy for the bias of the learned ones (notebook 09)."""
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
    steps, batch_size, lr, ema_decay: Adam training budget (the authors: ~200k steps, batch 128, lr 1e-3).
    lr_schedule: "constant" (the paper) or "cosine" (decay to 0; opt-in, see benchmarks/accuracy.py).
    width, n_blocks: the score network (width from the dimension when None).
    test_fraction: share of the data ``fit`` holds out for ``estimate()``; 0 estimates on the training data.
    preprocess: "standardize" (each column to mean 0, variance 1: the paper) or "rank_gauss" (opt-in: each column
        through its empirical CDF to a standard normal; leaves MI unchanged, tames heavy tails; MI only, no entropies).
    mc_repeats: times each data point is paired with a fresh (t, eps) when estimating.
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
    ) -> None:
        variant = str(variant).lower()
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}: choose 'c' (conditional) or 'j' (joint)")
        if preprocess not in PREPROCESS:
            raise ValueError(f"unknown preprocess {preprocess!r}: choose one of {sorted(PREPROCESS)}")
        if lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"unknown lr_schedule {lr_schedule!r}: choose one of {sorted(LR_SCHEDULES)}")
        self.sde: SDE = make_sde(sde, **(sde_kwargs or {}))
        checks = {
            "sigma": (sigma, sigma > 0),
            "steps": (steps, int(steps) >= 1),
            "batch_size": (batch_size, int(batch_size) >= 1),
            "lr": (lr, lr > 0),
            "test_fraction": (test_fraction, 0 <= test_fraction < 1),
            "mc_repeats": (mc_repeats, int(mc_repeats) >= 1),
        }
        bad = [f"{k}={v!r}" for k, (v, ok) in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid parameter(s): {', '.join(bad)}")
        self.variant = variant
        self.importance_sampling = bool(importance_sampling)
        self.sigma = float(sigma)
        self.steps, self.batch_size, self.lr, self.ema_decay = int(steps), int(batch_size), float(lr), float(ema_decay)
        self.lr_schedule = lr_schedule
        self.preprocess = preprocess
        self.width, self.n_blocks = width, int(n_blocks)
        self.test_fraction, self.mc_repeats, self.seed = float(test_fraction), int(mc_repeats), int(seed)
        self.device = resolve_device(device)
        self.threads, self.progress = threads, progress
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
        }

    @property
    def name(self) -> str:
        return VARIANTS[self.variant]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"MINDE({args})"

    # --- fitting ---------------------------------------------------------------------------------
    def _tensor(self, a: np.ndarray) -> Tensor:
        return torch.as_tensor(a, dtype=torch.float32, device=self.device)

    def fit(self, x: object, y: object, callback=None, callback_every: int = 0) -> MINDE:
        """Standardise, hold out ``test_fraction`` of the rows, and train the score network.

        ``callback(step, estimator)`` is called every ``callback_every`` steps with the estimator's EMA
        network in place (e.g. ``lambda step, e: e.mutual_information()`` to follow the estimate).
        """
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

        with torch_threads(self.threads if self.device.type == "cpu" else None):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                self.net = ScoreNetwork(xa.shape[1], ya.shape[1], self.width, self.n_blocks).to(self.device)
            cb = None
            if callback is not None:

                def cb(step: int, ema_module: torch.nn.Module) -> object:
                    live, self.net = self.net, ema_module
                    try:
                        return callback(step, self)
                    finally:
                        self.net = live

            t0 = time.perf_counter()
            ema, self.log = train_score_network(
                self.net, self.sde, x_tr, y_tr, self.variant, self.steps, self.batch_size, self.lr,
                self.ema_decay, self.importance_sampling, self.seed, self.progress, self.lr_schedule,
                callback=cb, callback_every=callback_every,
            )  # fmt: skip
            self.net = ema.module
        self.fit_info = {
            "n_train": n_train,
            "n_test": n_test,
            "dim_x": xa.shape[1],
            "dim_y": ya.shape[1],
            "width": self.net.width,
            "parameters": sum(p.numel() for p in self.net.parameters()),
            "train_seconds": time.perf_counter() - t0,
            "final_loss": self.log.losses[-1] if self.log.losses else float("nan"),
            "device": str(self.device),
            "threads": self.threads,
            "torch": str(torch.__version__),
            "machine": platform.platform(),
            "cpu_count": os.cpu_count(),
        }
        return self

    # --- estimation ------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if self.net is None:
            raise RuntimeError("this MINDE estimator is not fitted yet: call .fit(x, y) first")

    def _data(self, x: object | None, y: object | None) -> tuple[Tensor, Tensor]:
        self._check_fitted()
        if x is None and y is None:
            assert self._test is not None
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
    def _eps(self, x0: Tensor, y0: Tensor, t: Tensor, noise: Tensor, rx: Role, ry: Role) -> Tensor:
        inp, times, _ = network_inputs(self.sde, x0, y0, t, noise, rx, ry)
        return self.net(inp, times.to(x0.dtype)).to(torch.float64)

    @torch.no_grad()
    def _batch_integrands(self, x0: Tensor, y0: Tensor, t: Tensor, w: Tensor, noise: Tensor) -> dict[str, Tensor]:
        """Per-sample integrands for one batch at times t (n, 1) with time weights w (n, 1)."""
        dx = x0.shape[1]
        sig, g2, chi = self.sde.sigma(t), self.sde.g2(t), self.sde.chi(t, self.sigma)
        z_t = self.sde.perturb(torch.cat([x0, y0], 1).to(torch.float64), t, noise.to(torch.float64))
        x_t, y_t = z_t[:, :dx], z_t[:, dx:]
        D, C, M = Role.DIFFUSED, Role.CLEAN, Role.MARGINAL
        if self.variant == "c":
            s_marg = -self._eps(x0, y0, t, noise, D, M)[:, :dx] / sig
            s_cond = -self._eps(x0, y0, t, noise, D, C)[:, :dx] / sig
            return {
                "mi": est.minde_c(s_cond, s_marg, g2, w),
                "mi_sigma": est.minde_c_sigma(s_cond, s_marg, x_t, chi, g2, w),
                "H(X)": est.entropy_integrand(s_marg, x_t, chi, g2, w),
                "H(X|Y)": est.entropy_integrand(s_cond, x_t, chi, g2, w),
            }
        s_joint = -self._eps(x0, y0, t, noise, D, D) / sig
        s_cx = -self._eps(x0, y0, t, noise, D, C)[:, :dx] / sig
        s_cy = -self._eps(x0, y0, t, noise, C, D)[:, dx:] / sig
        return {
            "mi": est.minde_j(s_joint, s_cx, s_cy, g2, w),
            "mi_sigma": est.minde_j_sigma(s_joint, s_cx, s_cy, x_t, y_t, chi, g2, w),
            "H(X,Y)": est.entropy_integrand(s_joint, z_t, chi, g2, w),
            "H(X|Y)": est.entropy_integrand(s_cx, x_t, chi, g2, w),
            "H(Y|X)": est.entropy_integrand(s_cy, y_t, chi, g2, w),
        }

    def _noise(self, m: int, d: int, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
        return torch.randn(m, d, generator=generator, device=self.device, dtype=dtype)

    @torch.no_grad()
    def integrands(self, x: Tensor, y: Tensor, generator: torch.Generator, batch: int = 8192) -> dict[str, Tensor]:
        """Per-sample, per-repeat integrands (shape (n, mc_repeats)) of both MI forms and of the KL terms
        of every entropy the variant supports, on standardised tensors.  Each repeat pairs every data
        point with a fresh (t, eps); t is stratified over the batch (unbiased, lower variance)."""
        self._check_fitted()
        self.net.eval()
        d = x.shape[1] + y.shape[1]
        repeats: list[dict[str, Tensor]] = []
        for _ in range(self.mc_repeats):
            parts: dict[str, list[Tensor]] = {}
            for start in range(0, x.shape[0], batch):
                x0, y0 = x[start : start + batch], y[start : start + batch]
                t, w = self.sde.sample_time(x0.shape[0], self.importance_sampling, generator, x.device, stratified=True)
                terms = self._batch_integrands(x0, y0, t, w, self._noise(x0.shape[0], d, generator, x.dtype))
                for k, v in terms.items():
                    parts.setdefault(k, []).append(v)
            repeats.append({k: torch.cat(v) for k, v in parts.items()})
        return {k: torch.stack([r[k] for r in repeats], dim=1) for k in repeats[0]}

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

    def _integrands_for(self, x: object | None, y: object | None, seed: int | None) -> tuple[Tensor, Tensor, dict]:
        xt, yt = self._data(x, y)
        gen = torch.Generator(device=self.device).manual_seed(self.seed + 1 if seed is None else seed)
        with torch_threads(self.threads if self.device.type == "cpu" else None):
            return xt, yt, self.integrands(xt, yt, gen)

    def mutual_information(self, x: object | None = None, y: object | None = None, seed: int | None = None) -> MIResult:
        """MI (nats) in both forms, with Monte-Carlo standard errors, on (x, y) or on the held-out split."""
        xt, _, terms = self._integrands_for(x, y, seed)
        mi, mi_s = est.Estimate.from_samples(terms["mi"]), est.Estimate.from_samples(terms["mi_sigma"])
        return MIResult(self.variant, mi.value, mi.stderr, mi_s.value, mi_s.stderr, xt.shape[0], self.mc_repeats)

    def estimate(self, x: object | None = None, y: object | None = None, seed: int | None = None) -> float:
        """MI in nats in the variant's main form (difference inside the norm)."""
        return self.mutual_information(x, y, seed).mi

    def entropy(self, x: object | None = None, y: object | None = None, seed: int | None = None) -> dict[str, est.Estimate]:
        """Differential entropies (nats, in the units of the original data) that the variant's scores give.

        MINDE-C: H(X), H(X|Y).  MINDE-J: H(X,Y), H(X|Y), H(Y|X), and H(X) = H(X,Y) - H(Y|X),
        H(Y) = H(X,Y) - H(X|Y).  Each is N/2 log(2 pi s^2) + E||X_0||^2/(2 s^2) - KL to the reference (eq. H),
        shifted by the log-Jacobian of the standardisation.
        """
        if self.preprocess != "standardize":
            raise ValueError(
                f"entropies need preprocess='standardize' (this model uses {self.preprocess!r}, which changes "
                "differential entropies but not mutual information)"
            )
        xt, yt, terms = self._integrands_for(x, y, seed)
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
        out = {key: est.Estimate.from_samples(v, offset=j) for key, (v, j) in per_sample.items()}
        return out

    # --- persistence -----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Save config, standardisation, weights (plain state_dict) and the held-out split, atomically."""
        self._check_fitted()
        state = {
            "config": self.config(),
            "state_dict": {k: v.detach().cpu() for k, v in self.net.state_dict().items()},
            "dims": [self.net.dim_x, self.net.dim_y],
            "x_standardizer": _preprocessor_state(self._x_std),
            "y_standardizer": _preprocessor_state(self._y_std),
            "test": [self._test[0].cpu(), self._test[1].cpu()],
            # plain built-in types only, so that load(weights_only=True) accepts them
            "fit_info": {k: v if type(v) in (int, float, str, bool, type(None)) else str(v) for k, v in self.fit_info.items()},
        }
        path = os.fspath(path)
        tmp = f"{path}.tmp{os.getpid()}"
        torch.save(state, tmp)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "auto") -> MINDE:
        """Load a model saved by ``save`` (``weights_only=True``: no code is unpickled)."""
        state = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
        obj = cls(**state["config"], device=device)
        dx, dy = state["dims"]
        obj.net = ScoreNetwork(dx, dy, obj.width, obj.n_blocks).to(obj.device)
        obj.net.load_state_dict(state["state_dict"])
        obj.net.eval().requires_grad_(False)
        obj._x_std = _preprocessor_from_state(state["x_standardizer"], obj.preprocess)
        obj._y_std = _preprocessor_from_state(state["y_standardizer"], obj.preprocess)
        obj._test = tuple(a.to(obj.device) for a in state["test"])
        obj.fit_info = state["fit_info"]
        return obj


def _preprocessor_state(p: Standardizer | RankGaussianizer) -> list:
    if isinstance(p, Standardizer):
        return [torch.as_tensor(p.mean), torch.as_tensor(p.std)]
    return [[torch.as_tensor(k) for k in p.knots], [torch.as_tensor(z) for z in p.z]]


def _preprocessor_from_state(state: list, kind: str) -> Standardizer | RankGaussianizer:
    if kind == "standardize":
        return Standardizer(*(a.numpy() for a in state))
    return RankGaussianizer([k.numpy() for k in state[0]], [z.numpy() for z in state[1]])


# --- tutorial helpers (notebooks 03-04) -----------------------------------------------------------


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
    entropy integrands; training never sees it), so the same network is evaluated with ``estimator.sigma = s``
    for each s, with the same (t, eps) draws; ``estimator.sigma`` is restored afterwards.  (x, y): the evaluation
    data (default: the held-out split kept by ``fit``).
    Returns arrays keyed "sigma", "mi_sigma", "mi_sigma_stderr", and "mi" (the inside form, which ignores s).
    """
    sig = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    if sig.size == 0 or not np.all(sig > 0):
        raise ValueError(f"sigmas must be positive, got {sig}")
    saved = estimator.sigma
    rows = []
    try:
        for s in sig:
            estimator.sigma = float(s)
            rows.append(estimator.mutual_information(x, y, seed=seed))
    finally:
        estimator.sigma = saved
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
