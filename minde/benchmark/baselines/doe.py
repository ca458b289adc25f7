"""Difference of entropies (DoE, McAllester & Stratos 2020): I(X; Y) ~ H_q(Y) - H_q(Y | X) with learned densities q."""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import Tensor, nn
from tqdm import tqdm

from ...training import TrainingDiverged, resolve_device, torch_threads
from ...validation import check_float, check_int
from ._common import _n_test, _not_fitted, _prepare

__all__ = ["DoE", "factorised_gaussian_error"]


def _neg_log_density(y: Tensor, mu: Tensor, log_scale: Tensor, pdf: str) -> Tensor:
    """-log q(y), summed over coordinates, for a factorised Gaussian (log_scale = log variance) or logistic
    (log_scale = log s; -log q = z + 2 log(1 + e^{-z}) + log s with z = (y - mu)/s) density."""
    if pdf == "gauss":
        return 0.5 * ((y - mu) ** 2 * torch.exp(-log_scale) + log_scale + math.log(2 * math.pi)).sum(dim=1)
    z = (y - mu) * torch.exp(-log_scale)
    return (z + 2.0 * nn.functional.softplus(-z) + log_scale).sum(dim=1)


def factorised_gaussian_error(covariance: np.ndarray, dim_x: int) -> float:
    """The error (nats) of DoE with the best *factorised* Gaussian densities q(y) and q(y | x) on a Gaussian pair
    whose joint covariance of (x, y) is ``covariance`` (x first, ``dim_x`` coordinates): with per-coordinate variances
    the estimate is 1/2 sum_i log(Sigma_Y,ii / Sigma_Y|X,ii) and the truth 1/2 log(det Sigma_Y / det Sigma_Y|X), so the
    error is the total correlation TC(Y) - TC(Y | X), with TC(Z) = 1/2 (sum_i log Sigma_Z,ii - log det Sigma_Z).  It
    is the bias of the model family, which no amount of training removes; zero when Y's coordinates are uncorrelated
    both marginally and given X."""
    cov = np.asarray(covariance, dtype=np.float64)
    dx = check_int("dim_x", dim_x, 1)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or not dx < cov.shape[0]:
        raise ValueError(f"covariance must be square with more than dim_x = {dx} rows, got shape {cov.shape}")
    sxx, sxy, syy = cov[:dx, :dx], cov[:dx, dx:], cov[dx:, dx:]
    cond = syy - sxy.T @ np.linalg.solve(sxx, sxy)  # Sigma_Y|X

    def total_correlation(s: np.ndarray) -> float:
        sign, logdet = np.linalg.slogdet(s)
        if sign <= 0:
            raise ValueError("covariance is not positive definite")
        return 0.5 * (float(np.log(np.diag(s)).sum()) - logdet)

    return total_correlation(syy) - total_correlation(cond)


class _DoEModel(nn.Module):
    """q(y): factorised density with free location / log-scale; q(y | x): the same family with location and
    log-scale from a tanh MLP of x (``layers`` hidden layers of width ``hidden``), as in Stratos' ``doe.py``."""

    def __init__(self, dim_x: int, dim_y: int, hidden: int, layers: int, pdf: str) -> None:
        super().__init__()
        self.pdf, self.dim_y = pdf, dim_y
        self.mu = nn.Parameter(torch.zeros(dim_y))
        self.log_scale = nn.Parameter(torch.zeros(dim_y))
        mods: list[nn.Module] = []
        width = dim_x
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), nn.Tanh()]
            width = hidden
        mods.append(nn.Linear(width, 2 * dim_y))
        self.cond = nn.Sequential(*mods)

    def forward(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """Per-sample cross-entropy terms -log q(y) and -log q(y | x), shape (n,) each."""
        mu_c, ls_c = self.cond(x).split(self.dim_y, dim=1)
        return _neg_log_density(y, self.mu, self.log_scale, self.pdf), _neg_log_density(y, mu_c, ls_c, self.pdf)


class DoE:
    """Difference of entropies (McAllester & Stratos, AISTATS 2020):

        I(X; Y) = H(Y) - H(Y | X) ~ H_q(Y) - H_q(Y | X),

    each entropy replaced by the cross-entropy of a learned density (an upper bound on it): q(y) a factorised
    Gaussian or logistic with free parameters, q(y | x) the same family with location and scale from a tanh MLP
    of x. Both are fitted by minimising the sum of the two cross-entropies on the training split; the estimate is
    their difference on the held-out split. It is a difference of two upper bounds, hence neither a lower nor an
    upper bound on I.

    Defaults follow the MINDE authors' runs (``src/baseline/eval_doe.py``, Stratos' ``doe.py``): 2 hidden layers of
    width 64 / 128 / 256 for dim_x <= 10 / <= 50 / larger, Adam lr 1e-2, gradient-norm clipping at 1, batch 128,
    3000 steps, 50k train + 10k test samples (test_fraction 1/6), data standardised. Their training loop never
    resets the gradients between steps; this one does.

    pdf: "gauss" (table name ``DoE``) or "logistic" (``DoE (logistic)``).
    """

    def __init__(
        self,
        pdf: str = "gauss",
        *,
        hidden: int | None = None,
        layers: int = 2,
        lr: float = 1e-2,
        batch_size: int = 128,
        steps: int = 3000,
        clip: float | None = 1.0,
        test_fraction: float = 1 / 6,
        seed: int = 0,
        device: str = "auto",
        threads: int | None = 1,
        progress: bool = False,
    ) -> None:
        pdf = {"gaussian": "gauss", "normal": "gauss"}.get(str(pdf).lower(), str(pdf).lower())
        if pdf not in ("gauss", "logistic"):
            raise ValueError(f"unknown pdf {pdf!r}: choose 'gauss' or 'logistic'")
        hidden = None if hidden is None else check_int("hidden", hidden, 1)
        layers = check_int("layers", layers, 0)
        lr = check_float("lr", lr, 0.0)
        batch_size = check_int("batch_size", batch_size, 1)
        steps = check_int("steps", steps, 1)
        clip = None if clip is None else check_float("clip", clip, 0.0)
        test_fraction = check_float("test_fraction", test_fraction, 0.0, 1.0)
        seed = check_int("seed", seed, 0)
        self.pdf = pdf
        self.hidden, self.layers = hidden, int(layers)
        self.lr, self.batch_size, self.steps, self.clip = float(lr), int(batch_size), int(steps), clip
        self.test_fraction, self.seed = float(test_fraction), int(seed)
        self.device = resolve_device(device)
        self.threads, self.progress = threads, progress
        self.model: _DoEModel | None = None
        self.entropies: dict[str, float] = {}
        self.fit_info: dict = {}
        self._value: float | None = None

    @property
    def name(self) -> str:
        return "DoE" if self.pdf == "gauss" else "DoE (logistic)"

    def __repr__(self) -> str:
        args = f"pdf={self.pdf!r}, hidden={self.hidden!r}, layers={self.layers}, lr={self.lr}, steps={self.steps}"
        return f"DoE({args}, seed={self.seed})"

    def fit(self, x: object, y: object) -> DoE:
        """Standardise, split, fit q(y) and q(y | x) on the training split, evaluate both on the test split."""
        xs, ys = _prepare(x, y, min_samples=4)
        n, dx, dy = xs.shape[0], xs.shape[1], ys.shape[1]
        n_test = _n_test(self.test_fraction, n)
        n_train = n - n_test
        if n_test < 1 or n_train < self.batch_size:
            raise ValueError(
                f"too few samples: {n} rows give {n_train} training rows (fewer than one batch of {self.batch_size}) "
                f"and {n_test} test rows; lower batch_size or give more data"
            )
        hidden = self.hidden or (64 if dx <= 10 else 128 if dx <= 50 else 256)
        perm = np.random.default_rng(self.seed).permutation(n)
        dev = self.device
        x_tr, y_tr, x_te, y_te = (
            torch.as_tensor(a, dtype=torch.float32, device=dev)
            for a in (xs[perm[:n_train]], ys[perm[:n_train]], xs[perm[n_train:]], ys[perm[n_train:]])
        )
        t0 = time.perf_counter()
        with torch_threads(self.threads if dev.type == "cpu" else None):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                model = _DoEModel(dx, dy, hidden, self.layers, self.pdf)
            model = model.to(dev).train()
            gen = torch.Generator().manual_seed(self.seed + 1)
            opt = torch.optim.Adam(model.parameters(), lr=self.lr)
            order, pos = torch.randperm(n_train, generator=gen), 0
            for _ in tqdm(range(self.steps), disable=not self.progress, desc=self.name, mininterval=1.0, leave=False):
                if pos + self.batch_size > n_train:  # epochs of shuffled full batches (drop_last)
                    order, pos = torch.randperm(n_train, generator=gen), 0
                idx = order[pos : pos + self.batch_size].to(dev)
                pos += self.batch_size
                h_y, h_y_x = model(x_tr[idx], y_tr[idx])
                loss = h_y.mean() + h_y_x.mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if self.clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), self.clip)
                opt.step()
            model.eval()
            with torch.no_grad():
                h_y, h_y_x = (h.double().mean().item() for h in model(x_te, y_te))
        if not (math.isfinite(h_y) and math.isfinite(h_y_x)):
            raise TrainingDiverged(f"DoE training diverged: held-out cross-entropies {h_y}, {h_y_x}; lower lr (lr={self.lr:g})")
        self.model = model
        # cross-entropies in the units of the standardised data (MI is invariant to the standardisation)
        self.entropies = {"H(Y)": h_y, "H(Y|X)": h_y_x}
        self._value = h_y - h_y_x
        self.fit_info = {
            "pdf": self.pdf,
            "hidden": hidden,
            "layers": self.layers,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "steps": self.steps,
            "n_train": n_train,
            "n_test": n_test,
            "dim_x": dx,
            "dim_y": dy,
            "train_seconds": time.perf_counter() - t0,
            "device": str(dev),
            "seed": self.seed,
        }
        return self

    def estimate(self) -> float:
        """MI in nats: H_q(Y) - H_q(Y | X) on the held-out split."""
        if self._value is None:
            raise _not_fitted(self)
        return self._value
