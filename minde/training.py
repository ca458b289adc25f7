"""Denoising score matching for the multi-time score network: plain PyTorch, Adam, EMA.

The loss (REFERENCE.md section 1, after the authors' code) is the noise-prediction error on the
diffused coordinates, averaged over them and weighted by ``1 + #non-diffused coords / #coords``.
Times are drawn from the importance density q(t) ∝ g^2/sigma_t^2 (or uniformly), so the eps-MSE is the
likelihood-weighted score-matching objective whose minimiser gives the scores MINDE integrates.

Roles are drawn per sample (the authors draw one per batch); the probabilities are theirs:
MINDE-C trains (X diffused, Y marginal) and (X diffused, Y clean) equally often; MINDE-J trains
(both diffused) half of the time and each conditional a quarter.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from tqdm import tqdm

from .score_network import Role, ScoreNetwork, inputs_for_roles
from .sde import SDE

__all__ = [
    "ROLE_MIX",
    "LR_SCHEDULES",
    "EMA",
    "TrainingLog",
    "denoising_loss",
    "train_score_network",
    "torch_threads",
    "resolve_device",
]

# (role of X, role of Y) and how often each is trained, per variant.
ROLE_MIX: dict[str, tuple[tuple[tuple[Role, Role], ...], tuple[float, ...]]] = {
    "c": (((Role.DIFFUSED, Role.MARGINAL), (Role.DIFFUSED, Role.CLEAN)), (0.5, 0.5)),
    "j": (((Role.DIFFUSED, Role.DIFFUSED), (Role.DIFFUSED, Role.CLEAN), (Role.CLEAN, Role.DIFFUSED)), (0.5, 0.25, 0.25)),
}


#: Learning-rate multipliers as a function of the fraction of training done.
LR_SCHEDULES: dict[str, Callable[[float], float]] = {
    "constant": lambda frac: 1.0,
    "cosine": lambda frac: 0.5 * (1.0 + math.cos(math.pi * frac)),
}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when available, else CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextmanager
def torch_threads(n: int | None):
    """Temporarily set torch's intra-op thread count (None leaves it alone).

    Small MLPs on a 2-core machine run several times faster with one thread than with two
    (``benchmarks/speed.py`` measures it), so training defaults to one.
    """
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


class EMA:
    """Exponential moving average of a network's parameters (decay 0.999 in the paper), used for evaluation.

    With ``warmup=True`` the decay after n updates is min(decay, (1 + n) / (10 + n)) (as in Song et al.'s
    score_sde): without it the untrained initial network keeps a weight 0.999^n in the average (61% after
    500 steps), which spoils short runs; after a few thousand steps the two coincide.
    """

    def __init__(self, net: nn.Module, decay: float = 0.999, warmup: bool = True) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.warmup = warmup
        self.updates = 0
        self.module = copy.deepcopy(net).eval().requires_grad_(False)
        self._src = [p for p in net.parameters()]
        self._dst = [p for p in self.module.parameters()]

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates)) if self.warmup else self.decay
        torch._foreach_lerp_(self._dst, self._src, 1.0 - decay)


@dataclass
class TrainingLog:
    """What happened during training: the loss every ``log_every`` steps, wall time, checkpoints."""

    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    callbacks: list[tuple[int, object]] = field(default_factory=list)


def denoising_loss(
    net: ScoreNetwork,
    sde: SDE,
    x0: Tensor,
    y0: Tensor,
    roles: Tensor,
    importance_sampling: bool,
    generator: torch.Generator,
) -> Tensor:
    """Per-batch denoising score-matching loss for per-sample roles (an (n, 2) tensor of Role values)."""
    n = x0.shape[0]
    t, _ = sde.sample_time(n, importance_sampling, generator, device=x0.device)
    noise = torch.randn(n, x0.shape[1] + y0.shape[1], generator=generator, device=x0.device, dtype=x0.dtype)
    inp, times, diffused = inputs_for_roles(sde, x0, y0, t, noise, roles)
    eps_hat = net(inp, times.to(x0.dtype))
    mask = diffused.to(x0.dtype)
    n_diff = mask.sum(dim=1)
    dim = mask.shape[1]
    weight = 1.0 + (dim - n_diff) / dim
    per_sample = ((eps_hat - noise) ** 2 * mask).sum(dim=1) / n_diff
    return (weight * per_sample).mean()


def train_score_network(
    net: ScoreNetwork,
    sde: SDE,
    x: Tensor,
    y: Tensor,
    variant: str,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    ema_decay: float = 0.999,
    importance_sampling: bool = True,
    seed: int = 0,
    progress: bool = True,
    lr_schedule: str = "constant",
    log_every: int = 100,
    callback: Callable[[int, nn.Module], object] | None = None,
    callback_every: int = 0,
) -> tuple[EMA, TrainingLog]:
    """Train ``net`` in place on (x, y) (tensors already on the device) for ``steps`` Adam steps.

    Returns the EMA of the weights (use ``ema.module`` for evaluation) and a ``TrainingLog``.
    ``callback(step, ema_module)`` is called every ``callback_every`` steps (e.g. to track the estimate).
    ``lr_schedule``: "constant" (the paper) or "cosine" (decay from ``lr`` to 0 over the run).
    """
    if variant not in ROLE_MIX:
        raise ValueError(f"unknown variant {variant!r}: choose one of {sorted(ROLE_MIX)}")
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown lr_schedule {lr_schedule!r}: choose one of {sorted(LR_SCHEDULES)}")
    schedule = LR_SCHEDULES[lr_schedule]
    device = x.device
    gen = torch.Generator(device=device).manual_seed(seed)
    roles, probs = ROLE_MIX[variant]
    # the role pairs repeated in proportion to their probabilities (quarters), so a role is one uniform draw
    repeated = [pair for pair, p in zip(roles, probs, strict=True) for _ in range(round(4 * p))]
    role_table = torch.tensor([[int(a), int(b)] for a, b in repeated], device=device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, fused=True)
    ema = EMA(net, ema_decay)
    log = TrainingLog()
    n = x.shape[0]
    running, count = torch.zeros((), device=device), 0
    start = time.perf_counter()
    bar = tqdm(range(1, steps + 1), disable=not progress, desc=f"MINDE-{variant.upper()}", mininterval=1.0, leave=False)
    net.train()
    for step in bar:
        idx = torch.randint(n, (batch_size,), generator=gen, device=device)
        r = role_table[torch.randint(len(role_table), (batch_size,), generator=gen, device=device)]
        loss = denoising_loss(net, sde, x[idx], y[idx], r, importance_sampling, gen)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if lr_schedule != "constant":
            optimizer.param_groups[0]["lr"] = lr * schedule((step - 1) / steps)
        optimizer.step()
        ema.update()
        running += loss.detach()
        count += 1
        if step % log_every == 0 or step == steps:
            mean_loss = float(running) / count
            if not math.isfinite(mean_loss):
                raise FloatingPointError(f"training diverged at step {step} (loss {mean_loss}); lower the learning rate")
            log.steps.append(step)
            log.losses.append(mean_loss)
            bar.set_postfix(loss=f"{mean_loss:.4f}", refresh=False)
            running, count = torch.zeros((), device=device), 0
        if callback is not None and callback_every and (step % callback_every == 0 or step == steps):
            log.callbacks.append((step, callback(step, ema.module)))
    log.seconds = time.perf_counter() - start
    return ema, log
