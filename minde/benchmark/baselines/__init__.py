"""Baseline mutual-information estimators of the paper's benchmark table, with the ``MINDE`` interface.

    >>> from minde.benchmark.baselines import InfoNCE, KSG, CCA
    >>> InfoNCE().fit(x, y).estimate()            # MI in nats; x: (n, dx), y: (n, dy), numpy or torch
    >>> KSG(k=(5, 10)).fit(x, y).estimate()

Every estimator standardises each column of x and y (MI is invariant to it), takes numpy or torch input
of shape (n, d) or (n,), validates it with ``minde.validation.check_pair`` (``ValueError`` for shape
mismatch, NaN/inf, too few samples), and is deterministic given ``seed``.

Table names (``BASELINES`` maps them to classes): ``MINE``, ``InfoNCE``, ``NWJ``, ``DV`` (neural variational
bounds, defaults of the ``benchmark-mi`` package, Czyz et al. 2023), ``DoE`` (difference of entropies,
McAllester & Stratos 2020, as run by the MINDE authors), ``KSG`` (Kraskov et al. 2004, estimator 1) and
``CCA`` (Gaussian closed form).

Facts taken from the sources (the code here is written from scratch in PyTorch / numpy / scipy):

- ``benchmark-mi`` (github.com/cbg-ethz/bmi, ``src/bmi/estimators/neural``): joint critic, an MLP with ReLU on
  the concatenation [x, y], hidden (16, 8); Adam lr 0.1; batches of 256 drawn without replacement; at most
  10 000 steps; data standardised, then split 50/50 into train/test; every 250 steps the bound is evaluated on
  the whole test split (all n_test^2 pairs for InfoNCE/NWJ/DV, one random pairing for MINE); training stops
  once two evaluations in a row fail to beat the best one; the best test value is returned. MINE smooths the
  denominator of its gradient with alpha = 0.9 (weight of the running value).
- MINDE authors (github.com/MustaphaBounoua/minde, ``src/baseline/eval_baselines.py``): the same estimators with
  hidden (w, w, 8), w = 32 / 128 / 256 for dim_x <= 10 / <= 50 / larger, lr 1e-3 (2e-3 for the largest),
  200 000 steps, 100k train + 10k test samples (``config="minde"``). Their ``doe.py`` / ``eval_doe.py`` give DoE.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import digamma
from torch import Tensor, nn
from tqdm import tqdm

from ...training import TrainingDiverged, resolve_device, torch_threads
from ...validation import Standardizer, check_float, check_int, check_pair

__all__ = [
    "BASELINES",
    "CCA",
    "DV",
    "DoE",
    "InfoNCE",
    "KSG",
    "MINE",
    "NWJ",
    "NeuralConfig",
    "neural_config",
    "infonce_bound",
    "dv_bound",
    "nwj_bound",
    "ksg_mi",
    "gaussian_mi_from_covariance",
]


def _prepare(x: object, y: object, min_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate (``check_pair``) and standardise each column (population std, as sklearn's StandardScaler)."""
    xa, ya = check_pair(x, y, min_samples=min_samples)
    return Standardizer.fit(xa, "x")(xa), Standardizer.fit(ya, "y")(ya)


def _n_test(fraction: float, n: int) -> int:
    """Size of the test split: ceil(fraction * n), as sklearn's train_test_split (float noise ignored)."""
    return math.ceil(fraction * n - 1e-9)


def _not_fitted(obj: object) -> RuntimeError:
    return RuntimeError(f"this {type(obj).__name__} estimator is not fitted yet: call .fit(x, y) first")


# =====================================================================================================
# Neural variational estimators: MINE, InfoNCE, NWJ, DV
# =====================================================================================================


@dataclass(frozen=True)
class NeuralConfig:
    """Training configuration of a variational estimator (see ``neural_config``)."""

    hidden_layers: tuple[int, ...]
    lr: float
    batch_size: int
    max_steps: int
    test_every: int
    patience: int  # stop after this many evaluations in a row without a new best
    test_fraction: float


CONFIG_NAMES = ("bmi", "minde")


def neural_config(name: str, dim_x: int, dim_y: int) -> NeuralConfig:
    """The named configuration for data of these dimensions.

    ``"bmi"``: ``benchmark-mi`` 0.1.x defaults (hidden (16, 8), lr 0.1, batch 256, <= 10 000 steps, test every 250,
    patience 2, 50/50 split). ``"minde"``: what the MINDE authors ran (``eval_baselines.py``): hidden (w, w, 8) with
    w = 32 for dim_x <= 10, 128 for dim_x <= 50, 256 beyond; lr 1e-3 (2e-3 beyond 50); batch 256; 200 000 steps;
    test every 250; a 10k test set out of 110k samples (test_fraction 1/11). Their code keys the width on dim_x
    alone (dim_y <= dim_x in every benchmark task).
    """
    key = str(name).lower()
    if key == "bmi":
        return NeuralConfig((16, 8), 0.1, 256, 10_000, 250, 2, 0.5)
    if key == "minde":
        if dim_x <= 10:
            width, lr = 32, 1e-3
        elif dim_x <= 50:
            width, lr = 128, 1e-3
        else:
            width, lr = 256, 2e-3
        return NeuralConfig((width, width, 8), lr, 256, 200_000, 250, 2, 1 / 11)
    raise ValueError(f"unknown config {name!r}: choose one of {list(CONFIG_NAMES)}")


class JointCritic(nn.Module):
    """f(x, y) = MLP([x, y]): Linear layers with ReLU in between, scalar output (``benchmark-mi``'s critic).

    ``pair_scores`` evaluates all m x n pairs without materialising the concatenations: the first layer is
    split as W [x, y] + b = W_x x + (W_y y + b), so only the hidden activations are m x n x width.
    """

    def __init__(self, dim_x: int, dim_y: int, hidden_layers: Sequence[int]) -> None:
        super().__init__()
        sizes = [dim_x + dim_y, *hidden_layers, 1]
        self.dim_x = dim_x
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.max_width = max(sizes[1:])

    def _head(self, h: Tensor) -> Tensor:
        for layer in self.layers[1:]:
            h = layer(torch.relu(h))
        return h[..., 0]

    def _first(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        w, b = self.layers[0].weight, self.layers[0].bias
        return x @ w[:, : self.dim_x].T + b, y @ w[:, self.dim_x :].T

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Scores of the aligned pairs (x_i, y_i): shape (n,)."""
        a, b = self._first(x, y)
        return self._head(a + b)

    def pair_scores(self, x: Tensor, y: Tensor) -> Tensor:
        """Scores of all pairs (x_i, y_j): shape (m, n)."""
        a, b = self._first(x, y)
        return self._head(a[:, None, :] + b[None, :, :])


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        if i:
            mods.append(nn.ReLU())
        mods.append(nn.Linear(a, b))
    return nn.Sequential(*mods)


class SeparableCritic(nn.Module):
    """f(x, y) = g(x) . h(y) with g, h ReLU MLPs whose last hidden size is the embedding dimension."""

    def __init__(self, dim_x: int, dim_y: int, hidden_layers: Sequence[int]) -> None:
        super().__init__()
        if not hidden_layers:
            raise ValueError("a separable critic needs at least one hidden layer (its size is the embedding dimension)")
        self.g = _mlp([dim_x, *hidden_layers])
        self.h = _mlp([dim_y, *hidden_layers])
        self.max_width = 1  # pair_scores is a matrix product: no m x n x width intermediate

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return (self.g(x) * self.h(y)).sum(dim=1)

    def pair_scores(self, x: Tensor, y: Tensor) -> Tensor:
        return self.g(x) @ self.h(y).T


CRITICS = {"joint": JointCritic, "separable": SeparableCritic}


def _logmeanexp_offdiag(scores: Tensor) -> Tensor:
    """log of the mean of exp(S_ij) over i != j, for a square score matrix S."""
    n = scores.shape[0]
    masked = scores.masked_fill(torch.eye(n, dtype=torch.bool, device=scores.device), float("-inf"))
    return torch.logsumexp(masked.flatten(), 0) - math.log(n * (n - 1))


def infonce_bound(scores: Tensor) -> Tensor:
    """InfoNCE / CPC (van den Oord et al. 2018): I >= E[ f(x_i, y_i) - log (1/n) sum_j exp f(x_i, y_j) ].

    ``scores[i, j] = f(x_i, y_j)``; the bound cannot exceed log n.
    """
    return (scores.diagonal() - torch.logsumexp(scores, dim=1)).mean() + math.log(scores.shape[0])


def dv_bound(scores: Tensor) -> Tensor:
    """Donsker-Varadhan: I >= E_P[f] - log E_{P_X P_Y}[exp f], the product expectation over the pairs i != j."""
    return scores.diagonal().mean() - _logmeanexp_offdiag(scores)


def nwj_bound(scores: Tensor) -> Tensor:
    """NWJ / f-GAN KL (Nguyen, Wainwright & Jordan 2010): I >= E_P[f] - e^{-1} E_{P_X P_Y}[exp f] (pairs i != j)."""
    return scores.diagonal().mean() - torch.exp(_logmeanexp_offdiag(scores) - 1.0)


#: A variational lower bound whose best held-out value stays below this (nats) comes from a broken critic.
_LOWEST_CREDIBLE = -1.0


class _NeuralBaseline:
    """Shared training loop of the variational estimators (see the module docstring for its provenance).

    Parameters
    ----------
    config: "bmi" (``benchmark-mi`` defaults) or "minde" (the MINDE authors' larger runs); see ``neural_config``.
    hidden_layers, lr, batch_size, max_steps, test_every, patience, test_fraction: override the config.
    critic: "joint" (MLP on [x, y], as ``benchmark-mi``) or "separable" (g(x) . h(y)).
    seed: the split, the initialisation and every batch flow from it (same seed, same number).
    device: "auto" (CUDA when available), "cpu", "cuda", ...
    threads: torch CPU threads during ``fit`` (None leaves torch's setting alone).
    progress: show a tqdm bar.
    """

    name = "?"

    def __init__(
        self,
        config: str = "bmi",
        *,
        hidden_layers: Sequence[int] | None = None,
        lr: float | None = None,
        batch_size: int | None = None,
        max_steps: int | None = None,
        test_every: int | None = None,
        patience: int | None = None,
        test_fraction: float | None = None,
        critic: str = "joint",
        seed: int = 0,
        device: str = "auto",
        threads: int | None = 1,
        progress: bool = False,
    ) -> None:
        neural_config(config, 1, 1)  # unknown names fail here, not at fit time
        if critic not in CRITICS:
            raise ValueError(f"unknown critic {critic!r}: choose one of {sorted(CRITICS)}")
        self.config = str(config).lower()
        self.overrides = {
            "hidden_layers": None if hidden_layers is None else tuple(int(h) for h in hidden_layers),
            "lr": None if lr is None else float(lr),
            "batch_size": None if batch_size is None else int(batch_size),
            "max_steps": None if max_steps is None else int(max_steps),
            "test_every": None if test_every is None else int(test_every),
            "patience": None if patience is None else int(patience),
            "test_fraction": None if test_fraction is None else float(test_fraction),
        }
        self._resolve(1, 1)  # validate the overrides now
        self.critic_kind = critic
        self.seed = int(seed)
        self.device = resolve_device(device)
        self.threads = threads
        self.progress = progress
        self.critic: nn.Module | None = None
        self.history: list[tuple[int, float]] = []
        self.fit_info: dict = {}
        self._value: float | None = None

    def _resolve(self, dim_x: int, dim_y: int) -> NeuralConfig:
        base = neural_config(self.config, dim_x, dim_y)
        cfg = NeuralConfig(**{k: (v if self.overrides.get(k) is None else self.overrides[k]) for k, v in asdict(base).items()})
        checks = {
            "hidden_layers": all(h >= 1 for h in cfg.hidden_layers),
            "lr": cfg.lr > 0,
            "batch_size": cfg.batch_size >= 2,
            "max_steps": cfg.max_steps >= 1,
            "test_every": cfg.test_every >= 1,
            "patience": cfg.patience >= 1,
            "test_fraction": 0 < cfg.test_fraction < 1,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid parameter(s): {', '.join(f'{k}={getattr(cfg, k)!r}' for k in bad)}")
        return cfg

    def __repr__(self) -> str:
        given = {k: v for k, v in self.overrides.items() if v is not None}
        args = ", ".join([repr(self.config), *(f"{k}={v!r}" for k, v in given.items()), f"seed={self.seed}"])
        return f"{type(self).__name__}({args})"

    # --- the bound: subclasses define the training objective and the test value -------------------
    def _train_objective(
        self, critic: nn.Module, x: Tensor, y: Tensor, idx: Tensor, gen: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        """(loss to minimise, value of the bound on the batch ``idx`` of the training set (x, y))."""
        raise NotImplementedError

    def _test_value(self, critic: nn.Module, x: Tensor, y: Tensor, gen: torch.Generator) -> float:
        raise NotImplementedError

    def _reset_state(self) -> None:
        """Per-fit state of the objective (MINE's moving average)."""

    # --- pairwise evaluation in row blocks (bounded memory) -----------------------------------------
    def _blocks(self, critic: nn.Module, x: Tensor, y: Tensor) -> Iterator[tuple[int, Tensor]]:
        budget = 2**26 if x.device.type == "cuda" else 2**22  # elements of the largest m x n x width intermediate
        rows = max(1, budget // (y.shape[0] * critic.max_width))
        for start in range(0, x.shape[0], rows):
            yield start, critic.pair_scores(x[start : start + rows], y).double()

    def _offdiag_lme(self, critic: nn.Module, x: Tensor, y: Tensor) -> Tensor:
        """log mean_{i != j} exp f(x_i, y_j) over a whole (test) sample."""
        m = x.shape[0]
        parts = []
        for start, s in self._blocks(critic, x, y):
            r = torch.arange(s.shape[0], device=s.device)
            s[r, start + r] = float("-inf")
            parts.append(torch.logsumexp(s.flatten(), 0))
        return torch.logsumexp(torch.stack(parts), 0) - math.log(m * (m - 1))

    # --- fit / estimate ----------------------------------------------------------------------------
    def fit(self, x: object, y: object) -> _NeuralBaseline:
        """Standardise (all rows, before the split, as ``benchmark-mi``), split train/test, train the critic.

        The bound is evaluated on the test split every ``test_every`` steps (and at the last step if no evaluation
        happened before); training stops after ``patience`` evaluations in a row without a new best, and
        ``estimate()`` returns the best test value (``history`` keeps all of them).
        """
        xs, ys = _prepare(x, y, min_samples=4)
        n, dx, dy = xs.shape[0], xs.shape[1], ys.shape[1]
        cfg = self._resolve(dx, dy)
        n_test = _n_test(cfg.test_fraction, n)
        n_train = n - n_test
        if n_test < 2 or n_train < cfg.batch_size:
            raise ValueError(
                f"too few samples: {n} rows give {n_train} training rows (fewer than one batch of {cfg.batch_size}) "
                f"and {n_test} test rows (need at least 2); lower batch_size or give more data"
            )
        perm = np.random.default_rng(self.seed).permutation(n)
        dev = self.device

        def tensor(a: np.ndarray) -> Tensor:
            return torch.as_tensor(a, dtype=torch.float32, device=dev)

        x_tr, y_tr = tensor(xs[perm[:n_train]]), tensor(ys[perm[:n_train]])
        x_te, y_te = tensor(xs[perm[n_train:]]), tensor(ys[perm[n_train:]])
        self.history = []
        self._reset_state()
        t0 = time.perf_counter()
        with torch_threads(self.threads if dev.type == "cpu" else None):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                critic = CRITICS[self.critic_kind](dx, dy, cfg.hidden_layers)
            critic = critic.to(dev)
            gen = torch.Generator().manual_seed(self.seed + 1)  # CPU: batches and MINE's test pairing
            opt = torch.optim.Adam(critic.parameters(), lr=cfg.lr)
            best, since_best, best_step, stopped_early = float("-inf"), 0, 0, False
            bar = tqdm(range(1, cfg.max_steps + 1), disable=not self.progress, desc=self.name, mininterval=1.0, leave=False)
            step = 0
            for step in bar:
                idx = torch.randperm(n_train, generator=gen)[: cfg.batch_size].to(dev)
                critic.train()
                loss, value = self._train_objective(critic, x_tr, y_tr, idx, gen)
                if not torch.isfinite(loss):
                    raise TrainingDiverged(f"{self.name} training diverged at step {step}: the loss became {loss.item()}; "
                                           f"lower the learning rate (lr={cfg.lr:g})")  # fmt: skip
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                last = step == cfg.max_steps and not self.history
                if step % cfg.test_every == 0 or last:
                    critic.eval()
                    with torch.no_grad():
                        test = self._test_value(critic, x_te, y_te, gen)
                    self.history.append((step, test))
                    if test > best:  # NaN never counts as an improvement
                        best, since_best, best_step = test, 0, step
                    else:
                        since_best += 1
                    bar.set_postfix(train=f"{float(value):.3f}", test=f"{test:.3f}", refresh=False)
                    if since_best >= cfg.patience:
                        stopped_early = True
                        break
        if not math.isfinite(best) or best < _LOWEST_CREDIBLE:
            raise TrainingDiverged(f"{self.name} training diverged: the best held-out bound was {best:.3g} nats (MI >= 0, "
                                   f"an untrained critic gives about 0); lower the learning rate (lr={cfg.lr:g})")  # fmt: skip
        with torch.no_grad():
            scores = critic.eval().pair_scores(x_te[:64], y_te[:64]).double()
        if not float(scores.std()) > 1e-6 * (1.0 + float(scores.abs().mean())):
            raise TrainingDiverged(f"{self.name} training failed: the critic's output is constant (a dead network: its "
                                   f"bound is 0 whatever the data); lower the learning rate (lr={cfg.lr:g})")  # fmt: skip
        self.critic = critic.eval()
        self._value = best
        self.fit_info = {
            "config": self.config,
            **asdict(cfg),
            "critic": self.critic_kind,
            "n_train": n_train,
            "n_test": n_test,
            "dim_x": dx,
            "dim_y": dy,
            "steps": step,
            "best_step": best_step,
            "stopped_early": stopped_early,
            "train_seconds": time.perf_counter() - t0,
            "device": str(dev),
            "seed": self.seed,
        }
        return self

    def estimate(self) -> float:
        """MI in nats: the best value of the bound on the test split seen during training."""
        if self._value is None:
            raise _not_fitted(self)
        return self._value


class InfoNCE(_NeuralBaseline):
    """InfoNCE (van den Oord et al. 2018; Poole et al. 2019):

        I(X; Y) >= E[ f(x_i, y_i) - log (1/n) sum_j exp f(x_i, y_j) ]   (at most log n).

    Trained on batches (n = batch size), evaluated on all pairs of the test split (n = n_test), as ``benchmark-mi``.
    """

    name = "InfoNCE"

    def _train_objective(self, critic, x, y, idx, gen):
        value = infonce_bound(critic.pair_scores(x[idx], y[idx]))
        return -value, value.detach()

    @torch.no_grad()
    def _test_value(self, critic, x, y, gen):
        positive = critic(x, y).double().mean()
        lse_rows = torch.cat([torch.logsumexp(s, dim=1) for _, s in self._blocks(critic, x, y)])
        return float(positive - lse_rows.mean() + math.log(x.shape[0]))


class DV(_NeuralBaseline):
    """Donsker-Varadhan bound (Donsker & Varadhan 1983; Belghazi et al. 2018):

        I(X; Y) = sup_f E_{P_XY}[f] - log E_{P_X P_Y}[exp f],

    the product expectation over the off-diagonal pairs (x_i, y_j), i != j, of the batch / test split.
    """

    name = "DV"

    def _train_objective(self, critic, x, y, idx, gen):
        value = dv_bound(critic.pair_scores(x[idx], y[idx]))
        return -value, value.detach()

    @torch.no_grad()
    def _test_value(self, critic, x, y, gen):
        return float(critic(x, y).double().mean() - self._offdiag_lme(critic, x, y))


class NWJ(_NeuralBaseline):
    """NWJ bound (Nguyen, Wainwright & Jordan 2010; the f-GAN KL bound, Nowozin et al. 2016):

        I(X; Y) >= E_{P_XY}[f] - e^{-1} E_{P_X P_Y}[exp f],

    the product expectation over the off-diagonal pairs (x_i, y_j), i != j, of the batch / test split.
    """

    name = "NWJ"

    def _train_objective(self, critic, x, y, idx, gen):
        value = nwj_bound(critic.pair_scores(x[idx], y[idx]))
        return -value, value.detach()

    @torch.no_grad()
    def _test_value(self, critic, x, y, gen):
        return float(critic(x, y).double().mean() - torch.exp(self._offdiag_lme(critic, x, y) - 1.0))


class MINE(_NeuralBaseline):
    """MINE (Belghazi et al. 2018): the Donsker-Varadhan value E_P[T] - log E_{P_X P_Y}[exp T] with the
    bias-corrected gradient of their eq. (12): the denominator E[exp T] of grad log E[exp T] is replaced by an
    exponential moving average over batches,

        log m_t = logaddexp(log(alpha) + log m_{t-1}, log(1 - alpha) + log mean_batch exp T),

    so the step follows grad E_P[T] - grad mean_batch(exp T) / m_t. Each batch pairs x_i with y_i (joint) and with
    y_{u_i}, u an independent draw of batch indices (product of marginals), as ``benchmark-mi``. ``smoothing_alpha``
    (0.9 there) is the weight of the running value. The test value pairs the test x with one random permutation
    of the test y. The moving average starts at the first batch's value (no smoothing on the first step).
    """

    name = "MINE"

    def __init__(self, config: str = "bmi", *, smoothing_alpha: float = 0.9, **kwargs) -> None:
        if not 0.0 < smoothing_alpha < 1.0:
            raise ValueError(f"smoothing_alpha must be in (0, 1), got {smoothing_alpha}")
        self.smoothing_alpha = float(smoothing_alpha)
        super().__init__(config, **kwargs)
        self._log_ma: Tensor | None = None

    def _reset_state(self) -> None:
        self._log_ma = None

    def _train_objective(self, critic, x, y, idx, gen):
        b = idx.shape[0]
        # x_i is paired with its own y_i and with the y of an independent draw of training rows
        unpaired = torch.randperm(x.shape[0], generator=gen)[:b].to(x.device)
        t_joint = critic(x[idx], y[idx])
        t_marg = critic(x[idx], y[unpaired])
        lme = torch.logsumexp(t_marg, 0) - math.log(b)
        batch = lme.detach()
        a = self.smoothing_alpha
        if self._log_ma is None:
            self._log_ma = batch
        else:
            self._log_ma = torch.logaddexp(math.log(a) + self._log_ma, math.log(1.0 - a) + batch)
        correction = torch.exp(batch - self._log_ma)
        loss = -t_joint.mean() + correction * lme
        return loss, (t_joint.mean() - lme).detach()

    @torch.no_grad()
    def _test_value(self, critic, x, y, gen):
        m = x.shape[0]
        perm = torch.randperm(m, generator=gen).to(x.device)
        t_joint = critic(x, y).double()
        t_marg = critic(x, y[perm]).double()
        return float(t_joint.mean() - (torch.logsumexp(t_marg, 0) - math.log(m)))


# =====================================================================================================
# Difference of entropies (DoE)
# =====================================================================================================


def _neg_log_density(y: Tensor, mu: Tensor, log_scale: Tensor, pdf: str) -> Tensor:
    """-log q(y), summed over coordinates, for a factorised Gaussian (log_scale = log variance) or logistic
    (log_scale = log s; -log q = z + 2 log(1 + e^{-z}) + log s with z = (y - mu)/s) density."""
    if pdf == "gauss":
        return 0.5 * ((y - mu) ** 2 * torch.exp(-log_scale) + log_scale + math.log(2 * math.pi)).sum(dim=1)
    z = (y - mu) * torch.exp(-log_scale)
    return (z + 2.0 * nn.functional.softplus(-z) + log_scale).sum(dim=1)


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


# =====================================================================================================
# KSG (Kraskov, Stoegbauer & Grassberger 2004, estimator 1)
# =====================================================================================================

# Relative margin for "strictly closer than eps": counts use radius eps * (1 - _STRICT); it excludes the
# neighbours at exactly eps (ties included) and absorbs last-bit differences between distance computations.
_STRICT = 1e-12
_KD_MAX_DIM = 12  # dim_x + dim_y up to which k-d trees beat blockwise brute force (measured, n = 10 000)


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between matching rows (broadcasting), computed from the differences."""
    return np.sqrt(((a - b) ** 2).sum(axis=-1))


def _joint_radii_kdtree(x: np.ndarray, y: np.ndarray, ks: Sequence[int], workers: int) -> np.ndarray:
    """eps[i, a] = distance from point i to its ks[a]-th nearest other point in the metric
    max(||x_i - x_j||, ||y_i - y_j||) (exact), with k-d trees."""
    n = x.shape[0]
    z = np.hstack([x, y])
    ks = np.asarray(ks)
    if x.shape[1] == 1 and y.shape[1] == 1:  # the metric is the Chebyshev one on R^2
        d, _ = cKDTree(z).query(z, k=list(ks + 1), p=np.inf, workers=workers)
        return d.reshape(n, len(ks))
    # Euclidean distance e on [x, y] satisfies m <= e <= sqrt(2) m for m = max(||dx||, ||dy||): take the K Euclidean
    # nearest neighbours as candidates; the k-th smallest m among them is exact once e_K >= sqrt(2) * that value.
    tree = cKDTree(z)
    eps = np.empty((n, len(ks)))
    todo = np.arange(n)
    k_cand = min(n, 4 * (int(ks.max()) + 1))
    while todo.size:
        rows = max(1, 2**21 // (k_cand * max(x.shape[1], y.shape[1])))
        left = []
        for s in range(0, todo.size, rows):
            pts = todo[s : s + rows]
            e, idx = tree.query(z[pts], k=k_cand, workers=workers)
            e, idx = e.reshape(len(pts), k_cand), idx.reshape(len(pts), k_cand)
            m = np.maximum(_dist(x[idx], x[pts, None, :]), _dist(y[idx], y[pts, None, :]))
            kth = np.partition(m, ks, axis=1)[:, ks]  # order statistics counting the point itself (m = 0)
            ok = np.full(len(pts), k_cand == n) | (e[:, -1] >= math.sqrt(2) * kth[:, -1] * (1 + 1e-9))
            eps[pts[ok]] = kth[ok]
            left.append(pts[~ok])
        todo = np.concatenate(left)
        k_cand = min(n, 4 * k_cand)
    return eps


def _ksg_counts_kdtree(x: np.ndarray, y: np.ndarray, eps: np.ndarray, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """n_x[i, a] = #{j != i: ||x_i - x_j|| < eps[i, a]}, likewise n_y, by ball counts in each marginal."""
    tx, ty = cKDTree(x), cKDTree(y)
    r = eps * (1.0 - _STRICT)
    nx = np.stack([tx.query_ball_point(x, r[:, a], return_length=True, workers=workers) for a in range(eps.shape[1])], 1)
    ny = np.stack([ty.query_ball_point(y, r[:, a], return_length=True, workers=workers) for a in range(eps.shape[1])], 1)
    return nx - 1, ny - 1


def _ksg_blockwise(x: np.ndarray, y: np.ndarray, ks: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radii and marginal counts by blockwise brute force, for high dimensions (where k-d trees scan everything).

    Squared distances come from the Gram identity ||a||^2 + ||b||^2 - 2 a.b (one matrix product per block), whose
    rounding error for row i is at most delta_i = 64 (d + 2) u (||a_i||^2 + max_j ||a_j||^2) (u the unit roundoff;
    the classical bound has (d + 2) u); every comparison that margin leaves undecided is redone with distances
    computed from the differences, so the result is the exact one.
    """
    n, dx, dy = x.shape[0], x.shape[1], y.shape[1]
    ks = np.asarray(ks)
    u = np.finfo(np.float64).eps
    sx, sy = (x * x).sum(1), (y * y).sum(1)
    delta_x = 64 * (dx + 2) * u * (sx + sx.max())
    delta_y = 64 * (dy + 2) * u * (sy + sy.max())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    eps = np.empty((n, len(ks)))
    nx = np.empty((n, len(ks)), dtype=np.int64)
    ny = np.empty((n, len(ks)), dtype=np.int64)
    rows = max(1, 2**21 // n)
    for s in range(0, n, rows):
        sl = slice(s, min(n, s + rows))
        c = sl.stop - sl.start
        gx = sx[sl, None] + sx[None, :] - 2.0 * (xt[sl] @ xt.T).numpy()
        gy = sy[sl, None] + sy[None, :] - 2.0 * (yt[sl] @ yt.T).numpy()
        g = np.maximum(gx, gy)  # squared joint distance, within max(delta_x, delta_y) of the exact one
        # radii: every j with exact m_ij <= eps_i has g_ij <= (k-th smallest g_i) + 2 delta_i, so the exact
        # order statistics over those candidates are the exact ones
        kth = np.partition(g, ks, axis=1)[:, ks]
        slack = 2.0 * np.maximum(delta_x[sl], delta_y[sl])
        cand_r, cand_c = np.nonzero(g <= (kth[:, -1] + slack)[:, None])
        m = np.maximum(_dist(x[sl][cand_r], x[cand_c]), _dist(y[sl][cand_r], y[cand_c]))
        order = np.lexsort((m, cand_r))
        start = np.concatenate([[0], np.cumsum(np.bincount(cand_r, minlength=c))[:-1]])
        eps[sl] = m[order][start[:, None] + ks[None, :]]
        # counts: sure inside from the margin, the undecided pairs from exact distances
        for a in range(len(ks)):
            r = eps[sl, a] * (1.0 - _STRICT)
            t = r * r
            for gm, delta, data, out in ((gx, delta_x[sl], x, nx), (gy, delta_y[sl], y, ny)):
                band = delta + 4 * u * t
                inside = np.count_nonzero(gm < (t - band)[:, None], axis=1)
                ur, uc = np.nonzero(np.abs(gm - t[:, None]) <= band[:, None])
                hit = _dist(data[sl][ur], data[uc]) <= r[ur]
                out[sl, a] = inside + np.bincount(ur[hit], minlength=c) - 1
    return eps, nx, ny


def ksg_mi(x: np.ndarray, y: np.ndarray, ks: Sequence[int] = (5, 10), method: str = "auto", workers: int = 1) -> dict[int, float]:
    """KSG estimator 1 (Kraskov et al. 2004, eq. 8) for each k, on arrays used as given (no standardisation):

        I = psi(k) + psi(N) - < psi(n_x + 1) + psi(n_y + 1) >,

    eps_i the distance to the k-th neighbour in the metric max(||x_i - x_j||_2, ||y_i - y_j||_2), n_x(i) the number
    of j != i with ||x_i - x_j||_2 < eps_i (strictly), likewise n_y. Not clipped at 0.

    method: "kdtree" (scipy cKDTree queries, fast in low dimension), "brute" (blockwise exact brute force, fast in
    high dimension), or "auto" (k-d trees up to dim_x + dim_y = 12). Both give the same counts.
    """
    ks = sorted({int(k) for k in ks})
    n = x.shape[0]
    if method == "auto":
        method = "kdtree" if x.shape[1] + y.shape[1] <= _KD_MAX_DIM else "brute"
    if method == "kdtree":
        eps = _joint_radii_kdtree(x, y, ks, workers)
        if (eps <= 0).any():
            raise _duplicates_error(eps, ks)
        nx, ny = _ksg_counts_kdtree(x, y, eps, workers)
    elif method == "brute":
        with torch_threads(workers):
            eps, nx, ny = _ksg_blockwise(x, y, ks)
        if (eps <= 0).any():
            raise _duplicates_error(eps, ks)
    else:
        raise ValueError(f"unknown method {method!r}: choose 'auto', 'kdtree' or 'brute'")
    mean_psi = (digamma(nx + 1) + digamma(ny + 1)).mean(axis=0)
    return {k: float(digamma(k) + digamma(n) - mean_psi[a]) for a, k in enumerate(ks)}


def _duplicates_error(eps: np.ndarray, ks: Sequence[int]) -> ValueError:
    bad = int((eps <= 0).any(axis=1).sum())
    return ValueError(
        f"KSG is undefined here: for {bad} point(s) the k-th neighbour (k up to {max(ks)}) is at distance 0 "
        "(repeated rows); add a little noise or lower k"
    )


class KSG:
    """Kraskov-Stoegbauer-Grassberger estimator 1 (Phys. Rev. E 69, 066138, 2004, eq. 8):

        I(X; Y) = psi(k) + psi(N) - < psi(n_x + 1) + psi(n_y + 1) >,

    with eps_i the distance from point i to its k-th nearest neighbour in the joint space under
    max(||x_i - x_j||, ||y_i - y_j||) (Euclidean in each variable, as ``benchmark-mi``), and n_x(i), n_y(i) the
    numbers of other points strictly within eps_i in each marginal. As ``benchmark-mi``'s KSGEnsembleFirstEstimator:
    columns standardised, each k's estimate clipped at 0, the estimate the mean over ``k`` (default (5, 10)).

    method / workers: see ``ksg_mi`` (k-d trees in low dimension, exact blockwise brute force in high dimension;
    ``workers`` threads for the tree queries and the matrix products).

    Ties: a marginal distance within a relative 1e-12 of eps_i counts as equal to it (not inside), so gridded /
    rounded data give counts that do not depend on last-bit rounding; a brute-force ``<`` on floats can differ
    there. Repeated rows that make some eps_i = 0 raise ``ValueError``.
    """

    name = "KSG"

    def __init__(self, k: int | Sequence[int] = (5, 10), *, clip: bool = True, method: str = "auto", workers: int = 1) -> None:
        ks = [k] if isinstance(k, (int, np.integer)) else list(k)
        if not ks or any(int(v) != v or v < 1 for v in ks):
            raise ValueError(f"k must be a positive integer or a non-empty sequence of them, got {k!r}")
        if method not in ("auto", "kdtree", "brute"):
            raise ValueError(f"unknown method {method!r}: choose 'auto', 'kdtree' or 'brute'")
        self.k = tuple(sorted({int(v) for v in ks}))
        self.clip, self.method, self.workers = bool(clip), method, int(workers)
        self.per_k_raw: dict[int, float] = {}
        self.per_k: dict[int, float] = {}
        self.fit_info: dict = {}

    def __repr__(self) -> str:
        return f"KSG(k={self.k}, clip={self.clip}, method={self.method!r})"

    def fit(self, x: object, y: object) -> KSG:
        xs, ys = _prepare(x, y, min_samples=max(self.k) + 1)
        t0 = time.perf_counter()
        self.per_k_raw = ksg_mi(xs, ys, self.k, self.method, self.workers)
        self.per_k = {k: max(0.0, v) if self.clip else v for k, v in self.per_k_raw.items()}
        dim = xs.shape[1] + ys.shape[1]
        self.fit_info = {
            "n": xs.shape[0],
            "dim_x": xs.shape[1],
            "dim_y": ys.shape[1],
            "method": self.method if self.method != "auto" else ("kdtree" if dim <= _KD_MAX_DIM else "brute"),
            "seconds": time.perf_counter() - t0,
        }
        return self

    def estimate(self) -> float:
        """MI in nats: the mean over k of the (clipped) per-k estimates."""
        if not self.per_k:
            raise _not_fitted(self)
        return float(np.mean(list(self.per_k.values())))


# =====================================================================================================
# CCA (Gaussian closed form)
# =====================================================================================================


def gaussian_mi_from_covariance(cov: np.ndarray, dim_x: int) -> float:
    """MI of a Gaussian with joint covariance ``cov`` (X the first dim_x coordinates):
    1/2 [log det S_xx + log det S_yy - log det S]."""
    cov = np.asarray(cov, dtype=np.float64)
    ld = [np.linalg.slogdet(c)[1] for c in (cov[:dim_x, :dim_x], cov[dim_x:, dim_x:], cov)]
    return float(0.5 * (ld[0] + ld[1] - ld[2]))


def _orthonormal_basis(a: np.ndarray) -> np.ndarray:
    """Orthonormal basis (n, r) of the column space of the centred a (rank-revealing SVD)."""
    u, s, _ = np.linalg.svd(a, full_matrices=False)
    keep = s > s[0] * max(a.shape) * np.finfo(np.float64).eps
    return u[:, keep]


class CCA:
    """Gaussian mutual information from canonical correlations (closed form, no hyperparameters):

        I(X; Y) = -1/2 sum_i log(1 - rho_i^2),

    rho_i the sample canonical correlations of x and y (the singular values of Q_x^T Q_y for orthonormal bases of
    the centred data). Exact for Gaussian (X, Y); for other distributions, the MI of the Gaussian with the same
    covariance. Equal to 1/2 [log det S_xx + log det S_yy - log det S] on the sample covariance S when that is
    invertible. ``benchmark-mi`` fits sklearn's iterative CCA and correlates the components, which converges to
    the same canonical correlations.
    """

    name = "CCA"

    def __init__(self) -> None:
        self.canonical_correlations: np.ndarray | None = None
        self.fit_info: dict = {}
        self._value: float | None = None

    def __repr__(self) -> str:
        return "CCA()"

    def fit(self, x: object, y: object) -> CCA:
        xa, ya = check_pair(x, y, min_samples=3)
        n = xa.shape[0]
        if n < xa.shape[1] + ya.shape[1] + 2:
            raise ValueError(
                f"too few samples for CCA: {n} rows for {xa.shape[1]} + {ya.shape[1]} dimensions "
                f"(need at least dim_x + dim_y + 2 = {xa.shape[1] + ya.shape[1] + 2})"
            )
        xs, ys = Standardizer.fit(xa, "x")(xa), Standardizer.fit(ya, "y")(ya)  # also rejects constant columns
        qx, qy = _orthonormal_basis(xs - xs.mean(0)), _orthonormal_basis(ys - ys.mean(0))
        rho = np.clip(np.linalg.svd(qx.T @ qy, compute_uv=False), 0.0, 1.0)
        self.canonical_correlations = rho
        self.fit_info = {"n": n, "dim_x": xa.shape[1], "dim_y": ya.shape[1]}
        with np.errstate(divide="ignore"):
            self._value = float(-0.5 * np.log1p(-(rho**2)).sum())
        return self

    def estimate(self) -> float:
        """MI in nats (inf when some canonical correlation is 1)."""
        if self._value is None:
            raise _not_fitted(self)
        return self._value


BASELINES: dict[str, type] = {"MINE": MINE, "InfoNCE": InfoNCE, "NWJ": NWJ, "DV": DV, "DoE": DoE, "KSG": KSG, "CCA": CCA}
"""Table name -> estimator class (``DoE`` is the Gaussian variant; ``DoE(pdf="logistic")`` the other)."""
