"""Denoising score matching for the multi-time score network: plain PyTorch, Adam, EMA.

The loss (docs/paper.md §5, after the authors' code) is the noise-prediction error on the
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
from collections.abc import Callable, Sequence
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
    "train_score_networks",
    "TrainingDiverged",
    "Plateau",
    "torch_threads",
    "resolve_device",
    "PRECISIONS",
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


#: Arithmetic of the network during training: float32, or bfloat16 autocast (float32 master weights and optimiser).
PRECISIONS: tuple[str, ...] = ("float32", "bfloat16")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when available, else CPU.  An unknown or unavailable device raises ``ValueError``."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"unknown device {device!r} ({exc}); use 'auto', 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r} was asked for, but this torch build sees no CUDA GPU "
                         f"(torch {torch.__version__}); use device='auto' or 'cpu'")  # fmt: skip
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device={str(device)!r}: only {torch.cuda.device_count()} CUDA device(s) present")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device {str(device)!r} is not supported: use 'auto', 'cpu' or 'cuda'")
    return dev


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
        self.extra: dict[float, EMA] = {}  # further averages kept by train_score_networks(extra_ema_decays=...)
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
    monitor: list[tuple[int, list[float | None]]] = field(default_factory=list)  # the adaptive budget's checks
    cooldown_start: int | None = None  # one network; train_score_networks records member_* (one entry per member)
    stop_rule: str = "fixed"  # "fixed" (the step budget), or the adaptive budget's "plateau" / "cap"
    steps_done: int = 0  # steps run (stacked members: by the last member to stop)
    member_steps_done: list[int] = field(default_factory=list)
    member_cooldown_start: list[int | None] = field(default_factory=list)
    member_stop_rule: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Plateau:
    """The adaptive budget (beyond the paper; ``MINDE(budget="adaptive")``): train at a constant learning rate until
    the running MI estimate of every member stops moving, then cool down, with ``steps`` as the cap.

    Every ``every`` steps each member's EMA network estimates MI on a fixed subset of its training rows with fixed
    (t, eps) draws (common random numbers, so the change between checks is the network's).  A member has plateaued
    when ``patience`` consecutive checks each moved less than ``tolerance`` nats (or ``relative`` times the estimate,
    whichever is larger), after ``min_steps``.  Then its learning rate decays linearly to 0 over ``cooldown`` times
    the steps done so far (at least ``every``), and it stops.  If the cap would come first, the cool-down starts at
    ``steps / (1 + cooldown)`` so that it ends at the cap.

    ``stop="each"`` (from version 0.2.1): every stacked member follows the rule on its own and leaves the stack when
    its cool-down ends (its Adam state and averages go with it), so the remaining members' steps get cheaper and a
    member's model is the one it would be if trained alone.  ``stop="together"`` (version 0.2.0's rule): the stack
    cools down when all members have plateaued, and every member trains as long as the slowest.
    """

    every: int = 2000
    tolerance: float = 0.01
    relative: float = 0.01
    patience: int = 2
    min_steps: int = 6000
    cooldown: float = 0.25
    stop: str = "each"

    def __post_init__(self) -> None:
        if self.stop not in ("each", "together"):
            raise ValueError(f"stop must be 'each' or 'together', got {self.stop!r}")
        if self.every < 1 or self.patience < 1 or self.min_steps < 0 or self.cooldown < 0:
            raise ValueError(f"need every >= 1, patience >= 1, min_steps >= 0 and cooldown >= 0, got {self}")

    def cooldown_end(self, step: int, cap: int) -> int:
        """The last step of a cool-down that starts after ``step``."""
        return min(cap, step + max(self.every, int(round(self.cooldown * step))))

    def plateaued(self, history: Sequence[float]) -> bool:
        if len(history) <= self.patience:
            return False
        recent = history[-(self.patience + 1) :]
        return all(abs(b - a) < max(self.tolerance, self.relative * abs(b)) for a, b in zip(recent[:-1], recent[1:], strict=True))


def _trivial_loss(variant: str, dim_x: int, dim_y: int) -> float:
    """The denoising loss of the network that predicts eps_hat = 0 (the zero-initialised one), averaged over the
    variant's role mix: the level a trained network must fall below, and the yardstick of divergence."""
    roles, probs = ROLE_MIX[variant]
    d = dim_x + dim_y
    total = 0.0
    for (rx, ry), p in zip(roles, probs, strict=True):
        n_diff = dim_x * (rx == Role.DIFFUSED) + dim_y * (ry == Role.DIFFUSED)
        total += p * (1.0 + (d - n_diff) / d)
    return total


def denoising_loss(
    net: ScoreNetwork,
    sde: SDE,
    x0: Tensor,
    y0: Tensor,
    roles: Tensor,
    importance_sampling: bool,
    generator: torch.Generator | Sequence[torch.Generator],
    precision: str = "float32",
) -> Tensor:
    """Denoising score-matching loss for per-sample roles (an (n, 2) tensor of Role values), one value per member.

    Single network: x0 (n, dx), y0 (n, dy), one generator; returns a scalar.  Stacked members: x0 (K, n, dx),
    y0 (K, n, dy), roles (K, n, 2) and one generator per member (member k's times and noise come from its own
    generator, as if it were trained alone); returns the K per-member losses.  ``precision="bfloat16"`` runs the
    network under bfloat16 autocast (the loss is computed in float32).
    """
    stacked = x0.ndim == 3
    gens = list(generator) if stacked else [generator]
    n, d = x0.shape[-2], x0.shape[-1] + y0.shape[-1]
    draws = [(sde.sample_time(n, importance_sampling, g, device=x0.device)[0],
              torch.randn(n, d, generator=g, device=x0.device, dtype=x0.dtype)) for g in gens]  # fmt: skip
    t = torch.stack([a for a, _ in draws]) if stacked else draws[0][0]
    noise = torch.stack([b for _, b in draws]) if stacked else draws[0][1]
    inp, times, diffused = inputs_for_roles(sde, x0, y0, t, noise, roles)
    with torch.autocast(x0.device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
        eps_hat = net(inp, times.to(x0.dtype))
    eps_hat = eps_hat.to(x0.dtype)
    mask = diffused.to(x0.dtype)
    n_diff = mask.sum(dim=-1)
    weight = 1.0 + (d - n_diff) / d
    per_sample = ((eps_hat - noise) ** 2 * mask).sum(dim=-1) / n_diff
    return (weight * per_sample).mean(dim=-1)


class TrainingDiverged(FloatingPointError):
    """The denoising loss became NaN/inf or exploded: the estimate would be meaningless."""


def train_score_networks(
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
    seeds: Sequence[int] = (0,),
    progress: bool = True,
    lr_schedule: str = "constant",
    log_every: int = 100,
    callback: Callable[[int, nn.Module], object] | None = None,
    callback_every: int = 0,
    names: Sequence[str] | None = None,
    precision: str = "float32",
    extra_ema_decays: Sequence[float] = (),
    plateau: Plateau | None = None,
    monitor: Callable[[int, dict[int, ScoreNetwork]], dict[int, float]] | None = None,
) -> tuple[EMA, TrainingLog]:
    """Train the ``net.members`` stacked networks of ``net`` in place, member k on (x[k], y[k]) (tensors of shape
    (K, n, dx) and (K, n, dy), already on the device) with its own seed ``seeds[k]``, for ``steps`` Adam steps.

    Every step draws, for each member from its own generator and in this order, the batch rows, the roles, the
    times and the noise; the members' losses are summed, so each member's gradient is that of its own loss and
    Adam (element-wise) updates each member as if it were trained alone.  ``steps``, ``batch_size``, ``lr`` and
    the schedule are shared.  Returns the EMA of the weights (``ema.module`` for evaluation) and a
    ``TrainingLog`` whose ``losses`` hold one list of K member losses per logged step.

    Divergence raises ``TrainingDiverged`` naming the member: a NaN/inf loss, a mean loss (over ``log_every``
    steps) above 3x that of the
    network that predicts zero noise (at the start of training every loss is below it), or a final loss no better
    than it.
    ``callback(step, ema_module)`` is called every ``callback_every`` steps (e.g. to track the estimate).
    ``extra_ema_decays``: further moving averages kept alongside (for the EMA ablation), in ``ema.extra[decay]``;
    the raw weights are ``net`` itself.
    ``plateau`` with ``monitor(step, {member: its EMA network}) -> {member: running MI}``: the adaptive budget
    (``Plateau``), ``steps`` the cap and ``lr_schedule`` ignored; the log records ``monitor`` (step, one value per
    member, None for those no longer checked) and, per member, where its cool-down started, why, and the steps it
    trained (``member_*``; a member stopped early has None in ``losses`` after its last step).
    """
    if variant not in ROLE_MIX:
        raise ValueError(f"unknown variant {variant!r}: choose one of {sorted(ROLE_MIX)}")
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown lr_schedule {lr_schedule!r}: choose one of {sorted(LR_SCHEDULES)}")
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if (plateau is None) != (monitor is None):
        raise ValueError("the adaptive budget needs both a Plateau rule and a monitor")
    k = net.members
    if x.ndim != 3 or y.ndim != 3 or x.shape[0] != k or y.shape[0] != k or x.shape[1] != y.shape[1]:
        raise ValueError(f"need x (K, n, dx) and y (K, n, dy) for K={k} members, got {tuple(x.shape)} and {tuple(y.shape)}")
    seeds = [int(s) for s in seeds]
    if len(seeds) != k:
        raise ValueError(f"need one seed per member: {k} members, {len(seeds)} seeds")
    names = list(names) if names is not None else [f"member {m} (seed {s})" for m, s in enumerate(seeds)]
    schedule = LR_SCHEDULES[lr_schedule]
    device = x.device
    gens = [torch.Generator(device=device).manual_seed(s) for s in seeds]
    roles, probs = ROLE_MIX[variant]
    # the role pairs repeated in proportion to their probabilities (quarters), so a role is one uniform draw
    repeated = [pair for pair, p in zip(roles, probs, strict=True) for _ in range(round(4 * p))]
    role_table = torch.tensor([[int(a), int(b)] for a, b in repeated], device=device)
    ema = EMA(net, ema_decay)
    ema.extra = {float(d): EMA(net, float(d)) for d in extra_ema_decays}
    full = _Stack(net, torch.optim.Adam(net.parameters(), lr=lr, fused=True), [ema, *ema.extra.values()], list(range(k)))
    work = full  # the members still training (a smaller stack once the adaptive budget has stopped some)
    log = TrainingLog()
    n = x.shape[1]
    trivial = _trivial_loss(variant, x.shape[2], y.shape[2])
    running, count = torch.zeros(k, device=device), torch.zeros(k, device=device)  # each member's loss window
    start = time.perf_counter()
    bar = tqdm(total=steps, disable=not progress, desc=f"MINDE-{variant.upper()} x{k}", mininterval=1.0, leave=False)
    # per member: the last step (the cap, or the end of its cool-down), where its cool-down started, and why
    end, cool_start, rule = [steps] * k, [None] * k, ["fixed" if plateau is None else "cap"] * k
    cooldown_from = steps / (1 + plateau.cooldown) if plateau is not None else math.inf
    history: list[list[float]] = [[] for _ in range(k)]
    net.train()
    step = 0
    while work.members:
        step += 1
        idx, r = [], []
        for m in work.members:
            idx.append(torch.randint(n, (batch_size,), generator=gens[m], device=device))
            r.append(role_table[torch.randint(len(role_table), (batch_size,), generator=gens[m], device=device)])
        rows = torch.stack(idx)
        losses = denoising_loss(work.net, sde, x[work.gather, rows], y[work.gather, rows], torch.stack(r),
                                importance_sampling, [gens[m] for m in work.members], precision)  # fmt: skip
        work.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        scale = None
        if plateau is not None:  # each member's cool-down: its own learning-rate factor
            factors = [1.0 if cool_start[m] is None else max(0.0, (end[m] - step + 1) / (end[m] - cool_start[m] + 1))
                       for m in work.members]  # fmt: skip
            if len(set(factors)) == 1:
                work.optimizer.param_groups[0]["lr"] = lr * factors[0]
            else:  # Adam's step is linear in lr: scaling member m's update by its factor is Adam at lr * factor
                work.optimizer.param_groups[0]["lr"] = lr
                scale = torch.tensor(factors, device=device, dtype=x.dtype)
        elif lr_schedule != "constant":
            work.optimizer.param_groups[0]["lr"] = lr * schedule((step - 1) / steps)
        before = [p.detach().clone() for p in work.params] if scale is not None else None
        work.optimizer.step()
        if before is not None:
            with torch.no_grad():
                for p, b in zip(work.params, before, strict=True):
                    p.copy_(torch.lerp(b, p, scale.view(-1, *([1] * (p.ndim - 1)))))
        for avg in work.averages:
            avg.update()
        running[work.index] += losses.detach().reshape(-1)
        count[work.index] += 1
        bar.update(1)
        finishing = [m for m in work.members if step == end[m]]
        logged = work.members if step % log_every == 0 else finishing  # a member logs as it would alone
        if logged:
            mean = (running / count).tolist()
            _check_divergence([mean[m] for m in logged], trivial, step, [end[m] for m in logged], lr,
                              [names[m] for m in logged])  # fmt: skip
            log.steps.append(step)
            log.losses.append([mean[m] if m in logged else None for m in range(k)])
            bar.set_postfix(loss=f"{sum(mean[m] for m in logged) / len(logged):.4f}", refresh=False)
            running[logged], count[logged] = 0.0, 0.0
        checked = [m for m in work.members if cool_start[m] is None]
        if plateau is not None and checked and (step % plateau.every == 0 or step >= cooldown_from):
            module = work.averages[0].module
            values = monitor(step, {m: module.member(work.members.index(m)) if module.members > 1 else module
                                    for m in checked})  # fmt: skip
            log.monitor.append((step, [float(values[m]) if m in checked else None for m in range(k)]))
            for m in checked:
                history[m].append(float(values[m]))
            settled = {m: step >= plateau.min_steps and plateau.plateaued(history[m]) for m in checked}
            if plateau.stop == "together":
                settled = dict.fromkeys(checked, all(settled.values()))
            for m in checked:
                if settled[m] or step >= cooldown_from:
                    cool_start[m], end[m], rule[m] = step, plateau.cooldown_end(step, steps), "plateau" if settled[m] else "cap"
            bar.total = max(end)
        if finishing:
            log.member_steps_done += [0] * (k - len(log.member_steps_done))
            for m in finishing:
                log.member_steps_done[m] = step
            work = work.without(finishing, full)
        if callback is not None and callback_every and (step % callback_every == 0 or not work.members):
            work.write_back(full)
            log.callbacks.append((step, callback(step, ema.module)))
    work.write_back(full)
    for big, small in zip(full.averages, work.averages, strict=True):
        big.updates = small.updates  # the steps of the member trained longest
    bar.close()
    log.seconds = time.perf_counter() - start
    log.steps_done = step
    log.member_cooldown_start, log.member_stop_rule = cool_start, rule
    if len(set(rule)) == 1 and len(set(cool_start)) == 1:
        log.cooldown_start, log.stop_rule = cool_start[0], rule[0]
    else:
        log.stop_rule = "per member"  # see member_stop_rule and member_cooldown_start
    return ema, log


class _Stack:
    """The members still training: their stacked network, its Adam optimiser and moving averages, and which of the
    original members they are.  ``without`` drops finished members, carrying the others' Adam state and averages."""

    def __init__(self, net: ScoreNetwork, optimizer: torch.optim.Optimizer, averages: list[EMA], members: list[int]) -> None:
        self.net, self.optimizer, self.averages, self.members = net, optimizer, averages, members
        self.params = list(net.parameters())
        self.index = torch.as_tensor(members, dtype=torch.long, device=self.params[0].device)
        self.gather = self.index.unsqueeze(1)  # x[gather, rows]: each member's batch rows of its own data

    @torch.no_grad()
    def write_back(self, full: _Stack) -> None:
        """Copy these members' weights and averages into the full stack (a no-op while it is the full stack, and
        once no member is left)."""
        if self is full or not self.members:
            return
        for dst, src in zip(full.params, self.params, strict=True):
            dst[self.index] = src
        for big, small in zip(full.averages, self.averages, strict=True):
            for dst, src in zip(big.module.parameters(), small.module.parameters(), strict=True):
                dst[self.index] = src

    @torch.no_grad()
    def without(self, finished: list[int], full: _Stack) -> _Stack:
        self.write_back(full)
        keep = [i for i, m in enumerate(self.members) if m not in finished]
        if not keep:
            return _Stack(self.net, self.optimizer, self.averages, [])
        pick = torch.as_tensor(keep, device=self.index.device)
        net = self.net.select(keep).train()
        optimizer = torch.optim.Adam(net.parameters(), lr=self.optimizer.param_groups[0]["lr"], fused=True)
        for old, new in zip(self.params, net.parameters(), strict=True):
            state = self.optimizer.state[old]
            optimizer.state[new] = {"step": state["step"].clone(), "exp_avg": state["exp_avg"][pick].clone(),
                                    "exp_avg_sq": state["exp_avg_sq"][pick].clone()}  # fmt: skip
        averages = []
        for avg in self.averages:
            small = EMA(net, avg.decay, avg.warmup)
            small.updates = avg.updates
            for dst, src in zip(small.module.parameters(), avg.module.parameters(), strict=True):
                dst.copy_(src[pick])
            averages.append(small)
        return _Stack(net, optimizer, averages, [self.members[i] for i in keep])


def _check_divergence(mean_loss: list[float], trivial: float, step: int, ends: list[int], lr: float, names: list[str]) -> None:
    for name, loss, steps in zip(names, mean_loss, ends, strict=True):
        problem = None
        if not math.isfinite(loss):
            problem = f"the loss became {loss}"
        elif loss > 3 * trivial:
            problem = f"the loss exploded to {loss:.3g} (predicting zero noise gives {trivial:.3g})"
        elif step == steps and loss >= trivial:
            problem = f"the final loss {loss:.3g} is no better than predicting zero noise ({trivial:.3g})"
        if problem:
            raise TrainingDiverged(
                f"training diverged for {name} at step {step} of {steps}: {problem}; "
                f"lower the learning rate (lr={lr:g}) or check the data"
            )


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
    """``train_score_networks`` for one network (``members=1``) on x (n, dx), y (n, dy): the losses in the log are
    plain floats.  ``lr_schedule``: "constant" (the paper) or "cosine" (decay from ``lr`` to 0 over the run)."""
    if net.members != 1:
        raise ValueError(f"train_score_network trains one network; this one stacks {net.members} (use train_score_networks)")
    ema, log = train_score_networks(net, sde, x.unsqueeze(0), y.unsqueeze(0), variant, steps, batch_size, lr, ema_decay,
                                    importance_sampling, [seed], progress, lr_schedule, log_every, callback, callback_every,
                                    names=[f"seed {seed}"])  # fmt: skip
    log.losses = [v[0] for v in log.losses]
    return ema, log
