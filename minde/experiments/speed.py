"""How fast this machine trains MINDE: milliseconds per model-step, so that CPU time can be compared across machines.

The CPU-seconds a result records depend on the machine as much as on the work.  On this project's cloud machines
(two cores of an AMD EPYC, one torch thread per model) the same stacked training step has cost from 1.1 to 1.8 ms per
model on different days, so a saving measured against a grid run on another day can be the machine's.  The grid
therefore measures, just before it trains each group of MINDE models, the CPU time per model-step of one fixed
workload (:data:`CALIBRATION`: eight stacked 1 x 1 MINDE-C networks of the ``cpu`` protocol, the grid's most common
group) and records it with the results (``machine_speed``).  A cell's CPU time at a reference speed is then
``cpu_seconds * reference_ms / ms_per_model_step`` (:func:`at_reference_speed`).

The calibration is taken in the same process and thread setting as the training it precedes, so it sees the same
contention from the other core; it costs ~2 s per group (~1 % of a grid) and is not counted in the cells' time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: The calibration workload: the grid's 8-model group of 1 x 1 MINDE-C networks under the ``cpu`` protocol (width
#: 64, batch 256, cosine schedule from lr 2e-3, importance-sampled t), on random data, one torch thread.
CALIBRATION: dict = {"dim": 1, "variant": "c", "members": 8, "batch": 256, "lr": 2e-3, "lr_schedule": "cosine",
                     "steps": 150, "warmup": 30, "threads": 1}  # fmt: skip


def step_milliseconds(
    dim: int,
    variant: str = "c",
    steps: int = 2000,
    batch: int = 128,
    members: int = 1,
    precision: str = "float32",
    threads: int = 1,
    warmup: int = 200,
    lr: float = 1e-3,
    lr_schedule: str = "constant",
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Milliseconds per optimiser step of ``members`` stacked ``dim`` x ``dim`` networks of the default width
    (divide by ``members`` for one model's share), timed by ``clock`` after ``warmup`` steps on random data.
    Draws its data, weights and batches from fixed seeds of its own: the caller's random state is untouched."""
    import torch

    from ..score_network import ScoreNetwork
    from ..sde import VPSDE
    from ..training import torch_threads, train_score_networks

    if steps < 1 or members < 1 or dim < 1:
        raise ValueError(f"need steps, members and dim of at least 1, got {steps}, {members}, {dim}")
    with torch.random.fork_rng(devices=[]), torch_threads(threads):
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(members, 100_000, dim, generator=gen)
        y = torch.randn(members, 100_000, dim, generator=gen)
        seeds = list(range(members))
        kw = dict(batch_size=batch, lr=lr, lr_schedule=lr_schedule, seeds=seeds, progress=False, precision=precision)
        net = ScoreNetwork(dim, dim, members=members, seeds=seeds)
        if warmup:
            train_score_networks(net, VPSDE(), x, y, variant, steps=warmup, **kw)
        start = clock()
        train_score_networks(net, VPSDE(), x, y, variant, steps=steps, **kw)
        return (clock() - start) / steps * 1e3


def machine_speed() -> dict:
    """The calibration (:data:`CALIBRATION`): CPU milliseconds per model-step of the grid's 8-model 1 x 1 MINDE-C
    group on this machine now, with the workload it measured."""
    c = CALIBRATION
    ms = step_milliseconds(c["dim"], c["variant"], c["steps"], c["batch"], c["members"], threads=c["threads"],
                           warmup=c["warmup"], lr=c["lr"], lr_schedule=c["lr_schedule"], clock=time.process_time)  # fmt: skip
    return {"ms_per_model_step": ms / c["members"], "workload": dict(c), "clock": "process CPU time"}


def at_reference_speed(cpu_seconds, ms_per_model_step, reference_ms: float):
    """CPU time rescaled to a machine whose calibration reads ``reference_ms``: what the same work would have cost
    there (``cpu_seconds * reference_ms / ms_per_model_step``).  Takes scalars or arrays (e.g. a results table's
    columns); in an array an unknown speed (NaN) gives NaN, a speed that is not positive (or a scalar NaN) an error."""
    import numpy as np

    if isinstance(ms_per_model_step, (list, tuple)):
        ms_per_model_step = np.asarray(ms_per_model_step, dtype=float)
    if isinstance(cpu_seconds, (list, tuple)):
        cpu_seconds = np.asarray(cpu_seconds, dtype=float)
    ms = np.asarray(ms_per_model_step, dtype=float)
    if not (reference_ms > 0) or np.any(ms[~np.isnan(ms)] <= 0) or (ms.ndim == 0 and np.isnan(ms)):
        raise ValueError(f"speeds must be positive, got {ms_per_model_step} and {reference_ms} ms per model-step")
    return cpu_seconds * reference_ms / ms_per_model_step


def speed_from_results(cells: list[dict]) -> float | None:
    """The calibration read off a grid run before results recorded one: the CPU time per model-step of its own
    group that *is* the calibration workload (8 stacked 1 x 1 MINDE-C models of the ``cpu`` protocol with no
    setting changed, trained together to the end of their fixed budget), or None if the grid has no such group.
    Several such groups (one per seed) give their median."""
    import statistics

    rates = {}
    for c in cells:
        together = c.get("trained_together") or {}
        fixed = not c.get("settings") and c.get("fit_info", {}).get("stop_rule", "fixed") == "fixed"
        if (c.get("estimator") == "MINDE-C" and c.get("protocol") == "cpu" and c.get("dim_x") == 1 and c.get("dim_y") == 1
                and together.get("models") == CALIBRATION["members"] and fixed and together.get("cpu_seconds")):  # fmt: skip
            rates[tuple(together["cells"])] = together["cpu_seconds"] * 1e3 / (together["models"] * c["steps"])
    return statistics.median(rates.values()) if rates else None
