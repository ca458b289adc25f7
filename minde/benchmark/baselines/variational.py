"""Neural variational estimators: MINE, InfoNCE, NWJ and DV, lower bounds on I(X; Y) maximised over a critic f(x, y).

One training loop (``_NeuralBaseline``: split, Adam, held-out bound every ``test_every`` steps, early stopping, the
best held-out value as the estimate) and one class per bound, which defines its training objective and test value.
The configurations (``neural_config``) are ``benchmark-mi``'s defaults and the MINDE authors' larger runs; their
provenance is in :mod:`minde.benchmark.baselines`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor, nn
from tqdm import tqdm

from ...training import TrainingDiverged, resolve_device, torch_threads
from ...validation import check_int
from ._common import _n_test, _not_fitted, _prepare

__all__ = [
    "DV",
    "InfoNCE",
    "MINE",
    "NWJ",
    "NeuralConfig",
    "neural_config",
    "CONFIG_NAMES",
    "JointCritic",
    "SeparableCritic",
    "CRITICS",
    "infonce_bound",
    "dv_bound",
    "nwj_bound",
]


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
    monitor_rows: int | None = None  # test rows of the running evaluation (None: all; see _NeuralBaseline.fit)


CONFIG_NAMES = ("bmi", "minde")


def neural_config(name: str, dim_x: int, dim_y: int) -> NeuralConfig:
    """The named configuration for data of these dimensions.

    ``"bmi"``: ``benchmark-mi`` 0.1.x defaults (hidden (16, 8), lr 0.1, batch 256, <= 10 000 steps, test every 250,
    patience 2, 50/50 split). ``"minde"``: what the MINDE authors ran (``eval_baselines.py``): hidden (w, w, 8) with
    w = 32 for dim_x <= 10, 128 for dim_x <= 50, 256 beyond; lr 1e-3 (2e-3 beyond 50); batch 256; 200 000 steps;
    test every 250; a 10k test set out of 110k samples (test_fraction 1/11). Their code keys the width on dim_x
    alone (dim_y <= dim_x in every benchmark task). Both evaluate the bound on every test row (``monitor_rows``
    None); a smaller ``monitor_rows`` is an opt-in shortcut for the pairwise bounds (see ``_NeuralBaseline.fit``).
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
            h = layer(torch.relu_(h))  # in place: h is always a fresh intermediate (one m x n x width buffer fewer)
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

#: Elements of the largest m x n x width intermediate of one block of a pairwise evaluation (``_blocks``).  On the
#: CPU, 2^24 float32 (64 MiB) is above glibc's largest mmap threshold (32 MiB), so every full block's intermediates
#: are mapped and handed back to the system when freed.  Blocks of 2^22 (16 MiB) came from the heap instead, and the
#: ~3 300 blocks of a 10 000-row evaluation at width 128 fragmented it: 5 GB resident at block 3 259 (caught by
#: py-spy), 21.6 GB once on the 50 x 50 task, where the kernel killed the process.
PAIR_BLOCK_ELEMENTS = {"cpu": 2**24, "cuda": 2**26}


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
    hidden_layers, lr, batch_size, max_steps, test_every, patience, test_fraction, monitor_rows: override the config.
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
        monitor_rows: int | None = None,
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
            "monitor_rows": None if monitor_rows is None else check_int("monitor_rows", monitor_rows, minimum=2),
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
            "monitor_rows": cfg.monitor_rows is None or cfg.monitor_rows >= 2,
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
        budget = PAIR_BLOCK_ELEMENTS["cuda" if x.device.type == "cuda" else "cpu"]
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

        With ``monitor_rows`` m smaller than the test split, the running evaluation uses a fixed random m of the test
        rows (the pairwise bounds cost O(m^2): 1 000 of 10 000 rows is 100 times cheaper), the critic of the best
        running value is kept, and ``estimate()`` is that critic's bound on the whole test split
        (``fit_info["monitor_best"]`` keeps the running value it was chosen by).
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
        monitor = cfg.monitor_rows is not None and cfg.monitor_rows < n_test
        if monitor:
            rows = np.sort(np.random.default_rng([self.seed, 2]).choice(n_test, cfg.monitor_rows, replace=False))
            x_mon, y_mon = x_te[rows], y_te[rows]
        else:
            x_mon, y_mon = x_te, y_te
        best_state: dict[str, Tensor] | None = None
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
                        test = self._test_value(critic, x_mon, y_mon, gen)
                    self.history.append((step, test))
                    if test > best:  # NaN never counts as an improvement
                        best, since_best, best_step = test, 0, step
                        if monitor:
                            best_state = {k: v.detach().clone() for k, v in critic.state_dict().items()}
                    else:
                        since_best += 1
                    bar.set_postfix(train=f"{float(value):.3f}", test=f"{test:.3f}", refresh=False)
                    if since_best >= cfg.patience:
                        stopped_early = True
                        break
        if not math.isfinite(best) or best < _LOWEST_CREDIBLE:
            raise TrainingDiverged(f"{self.name} training diverged: the best held-out bound was {best:.3g} nats (MI >= 0, "
                                   f"an untrained critic gives about 0); lower the learning rate (lr={cfg.lr:g})")  # fmt: skip
        monitor_best = best
        if monitor:
            critic.load_state_dict(best_state)
            with torch.no_grad(), torch_threads(self.threads if dev.type == "cpu" else None):
                best = self._test_value(critic.eval(), x_te, y_te, gen)
            if not math.isfinite(best):
                raise TrainingDiverged(f"{self.name}: the best critic's bound on the whole test split is {best}; "
                                       f"lower the learning rate (lr={cfg.lr:g})")  # fmt: skip
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
            "monitor_rows": cfg.monitor_rows if monitor else n_test,
            "monitor_best": monitor_best,
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
