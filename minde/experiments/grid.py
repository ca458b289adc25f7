"""The benchmark runner: a resumable grid of (task x estimator x seed x settings)::

    python -m minde.experiments run --experiment baselines-5k --protocol cpu \\
        --tasks all --estimators CCA,KSG,InfoNCE --seeds 0-2 --n-samples 5000 --jobs 2
    python -m minde.experiments summary --experiment baselines-5k
    python -m minde.experiments reevaluate --experiment minde-cpu   # new estimator code, same trained networks
    python -m minde.experiments list      # tasks, estimators and protocols

Each finished cell is written atomically to ``data/results/<experiment>/<task>/<estimator><tag>/seed<k>.json``
with the estimate(s), ground truth, errors, wall and CPU time, all parameters, seed, package version, git commit
and machine; every trained MINDE network is kept in ``data/models/<experiment>/...`` (the same path, ``.pt``;
``models_dir``), so that ``reevaluate`` can re-read an experiment with changed estimator code in minutes.  Rerunning
the same command skips finished cells; the machinery that makes this safe (claims, no orphan workers, broken files recomputed) is
``minde.experiments.runner``.  MINDE cells of one shape (same estimator, settings, protocol, dimensions) are trained together,
``--group-size`` at a time (``minde.estimator.fit_many``): each model is the one it would be alone.
``summary.csv`` is rebuilt from the JSON files: one row per estimate (a MINDE model gives two, e.g. ``MINDE-C`` and
``MINDE-C(sigma)``).

Protocols fix the data sizes and training budgets: ``smoke`` (seconds, for CI), ``cpu`` (this 2-core machine,
hours for the full grid) and ``paper`` (the authors' camera-ready runs: 100k train / 10k test samples, 500 / 750
epochs, about 390k / 290k steps).
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .results import SUMMARY_COLUMNS, success_counts, summarize  # noqa: F401  (SUMMARY_COLUMNS: a name of this module)
from .runner import (
    DEFAULT_MODELS,
    DEFAULT_RESULTS,
    MAX_MEMORY_HELP,
    REPO,
    CellFailed,
    ResultError,
    Unit,
    _lookup,
    _Parser,
    _split,
    git_commit,
    is_finished,
    load_results,
    machine,
    models_dir,
    parse_seeds,
    read_result,
    run_units,
    stopped_early,
    write_cell_result,
    write_json_atomic,
)
from .speed import machine_speed

__all__ = [
    "PROTOCOLS", "Protocol", "Cell", "ESTIMATORS", "SIGMA_SWEEP", "TASK_SETS", "DEFAULT_RESULTS", "DEFAULT_MODELS",
    "task_set", "run_cell", "run_grid", "make_grid", "summarize", "reevaluate", "load_results", "write_json_atomic",
    "models_dir", "cells_of", "load_model", "main",
]  # fmt: skip



# --- protocols -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Protocol:
    """Data sizes and training budgets.  ``minde`` holds MINDE's keyword arguments and ``minde_variant`` per-variant
    overrides of them ({"j": {...}}); entries given as ``(small, large)`` pairs are chosen by dim_x + dim_y <= 10
    (the authors' split: dim_x <= 5 on these tasks); ``baselines`` holds the neural baselines' configuration."""

    name: str
    n_train: int
    n_test: int
    minde: dict = field(default_factory=dict)
    baselines: dict = field(default_factory=dict)
    description: str = ""
    minde_variant: dict = field(default_factory=dict)
    calibrate: bool = True  # each MINDE group records the machine's speed first (minde.experiments.speed; ~4 s)

    def minde_kwargs(self, dim: int, variant: str = "c") -> dict:
        """MINDE's keyword arguments for a task with dim_x + dim_y = ``dim`` and the variant "c" or "j"."""
        merged = self.minde | self.minde_variant.get(variant, {})
        return {k: (v[0] if dim <= 10 else v[1]) if isinstance(v, tuple) else v for k, v in merged.items()}


def _epochs_to_steps(epochs: int, n_train: int, batch: int) -> int:
    return int(round(epochs * n_train / batch))


PROTOCOLS: dict[str, Protocol] = {
    "smoke": Protocol(
        "smoke",
        n_train=2_000,
        n_test=1_000,
        minde={"steps": 300, "batch_size": 128, "lr": 1e-3, "mc_repeats": 2},
        baselines={"max_steps": 200},
        description="seconds per cell; checks the plumbing, not accuracy",
        calibrate=False,
    ),
    "cpu": Protocol(
        "cpu",
        n_train=100_000,
        n_test=10_000,
        minde={"steps": 40_000, "batch_size": 256, "lr": 2e-3, "lr_schedule": "cosine", "mc_repeats": 4},
        # MINDE-J learns a (dim_x + dim_y)-dimensional joint score besides the two conditional ones, and its inside
        # form adds their errors: above 10 dimensions it gets twice the steps (measured, version 0.2, seed 0: the
        # inside form over-estimates the dense 50 x 50 by +0.67 nats at 40k steps, +0.04 at 80k; notebook 08)
        minde_variant={"j": {"steps": (40_000, 80_000)}},
        baselines={},
        description="1/10-1/7 of the authors' steps per MINDE model; the 40x2x3 MINDE grid takes ~6 CPU-hours",
    ),
    "paper": Protocol(
        "paper",
        n_train=100_000,
        n_test=10_000,
        # the authors' camera-ready runs: 500 epochs of 100k at batch 128 (lr 1e-3) for dim_x <= 5, 750 epochs at
        # batch 256 (lr 2e-3) beyond (docs/paper.md §8)
        minde={"steps": (_epochs_to_steps(500, 100_000, 128), _epochs_to_steps(750, 100_000, 256)),
               "batch_size": (128, 256), "lr": (1e-3, 2e-3), "mc_repeats": 10},  # fmt: skip
        baselines={"config": "minde"},
        description="the authors' camera-ready protocol (~390k / ~290k steps); ~50 CPU-hours per variant for 40 tasks",
    ),
}


# --- estimators ------------------------------------------------------------------------------------
#: Keyword arguments the runner sets itself (a ``--set`` of them is refused).
_RUNNER_OWNED = {"variant", "seed", "progress", "device", "threads", "test_fraction"}


def _minde_factory(variant: str) -> Callable[..., object]:
    def build(protocol: Protocol, dim: int, seed: int, settings: dict) -> object:
        from ..estimator import MINDE

        kwargs = protocol.minde_kwargs(dim, variant) | {"test_fraction": 0.0, "seed": seed, "progress": False} | settings
        return MINDE(variant=variant, **kwargs)

    return build


def _baseline_factory(class_name: str) -> Callable[..., object]:
    def build(protocol: Protocol, dim: int, seed: int, settings: dict) -> object:
        from ..benchmark import baselines

        cls = getattr(baselines, class_name)
        params = inspect.signature(cls).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        defaults = protocol.baselines | {"seed": seed}
        return cls(**({k: v for k, v in defaults.items() if takes_any or k in params} | settings))

    return build


#: Estimator name (as in the results table) -> factory(protocol, dim, seed, settings).
ESTIMATORS: dict[str, Callable[..., object]] = {
    "MINDE-C": _minde_factory("c"),
    "MINDE-J": _minde_factory("j"),
    "MINE": _baseline_factory("MINE"),
    "InfoNCE": _baseline_factory("InfoNCE"),
    "NWJ": _baseline_factory("NWJ"),
    "DV": _baseline_factory("DV"),
    "DoE": _baseline_factory("DoE"),
    "KSG": _baseline_factory("KSG"),
    "CCA": _baseline_factory("CCA"),
}


def accepted_settings(estimator: str) -> set[str]:
    """The ``--set`` keys an estimator takes (its constructor's keywords, less those the runner sets)."""
    if estimator.startswith("MINDE"):
        from ..estimator import MINDE

        cls = MINDE
    else:
        from ..benchmark import baselines

        cls = getattr(baselines, estimator)
    names: set[str] = set()
    for klass in cls.__mro__:  # a constructor that passes **kwargs on takes its base class's keywords too (MINE)
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = list(inspect.signature(init).parameters.values())[1:]  # without self
        names |= {p.name for p in params if p.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)}
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            break
    return names - _RUNNER_OWNED


#: Reference standard deviations s of the sigma-form sweep recorded with every MINDE cell (the authors' ablation values).
SIGMA_SWEEP: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
#: The other small-t rules recorded with every MINDE cell, on the same network (``SDE.integration_points``).
OTHER_SMALL_T: tuple[str, ...] = ("exact", "authors")

#: Named task sets accepted by ``--tasks`` besides explicit ids.
TASK_SETS: dict[str, str] = {
    "all": "the 40 benchmark tasks",
    "figure1": "Figure 1: sparse 3x3 multinormal at MI in tasks.FIGURE1_MI, plain, half-cube and spiral",
    "figure1-coarse": "the Figure 1 grid at MI 1, 3 and 5 nats only (a first pass)",
    "heavy-tails": "the 11 Student-t tasks (7 plain, 4 asinh-transformed): the rank-Gaussianisation ablation",
}


def task_set(name: str) -> list[str]:
    """Task ids of a named set (see ``TASK_SETS``)."""
    from ..benchmark.tasks import figure1_tasks, list_tasks

    if name == "all":
        return list_tasks()
    if name in ("figure1", "figure1-coarse"):
        levels = (1.0, 3.0, 5.0) if name == "figure1-coarse" else None
        return [t.id for tasks in (figure1_tasks(levels) if levels else figure1_tasks()).values() for t in tasks]
    if name == "heavy-tails":
        return [t for t in list_tasks() if "student" in t]
    raise ValueError(f"unknown task set {name!r}: choose from {', '.join(TASK_SETS)}")


# --- cells -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One unit of work: one estimator on one task with one seed and settings."""

    task: str
    estimator: str
    seed: int
    protocol: str
    settings: tuple[tuple[str, object], ...] = ()
    n_samples: int | None = None  # overrides the protocol's total sample size (train + test, same ratio)

    required_keys = ("task", "estimator", "seed", "protocol", "gt", "estimates", "minde_version")

    @classmethod
    def from_result(cls, payload: dict) -> Cell:
        """The cell a result records (``n_samples`` only when its sample size is not the protocol's)."""
        p = PROTOCOLS[payload["protocol"]]
        total = payload["n_train"] + payload["n_test"]
        settings = tuple(sorted(payload.get("settings", {}).items()))
        n_samples = None if total == p.n_train + p.n_test else total
        return cls(payload["task"], payload["estimator"], payload["seed"], payload["protocol"], settings, n_samples)

    @property
    def tag(self) -> str:
        """Suffix naming the settings, e.g. '+sde=ve' (empty for defaults); characters other than letters, digits and
        ``._=,-`` are dropped ('+ema_ablation=raw,0.9999' for ``("raw", 0.9999)``)."""
        return "".join("+" + re.sub(r"[^A-Za-z0-9._=,-]", "", f"{k}={v}") for k, v in self.settings)

    def path(self, root: Path) -> Path:
        return Path(root) / self.task / f"{self.estimator}{self.tag}" / f"seed{self.seed}.json"

    def label(self) -> str:
        return f"{self.task} {self.estimator}{self.tag} seed {self.seed}"

    def sizes(self) -> tuple[int, int]:
        """(n_train, n_test) for MINDE; baselines get all n_train + n_test rows and split them themselves."""
        p = PROTOCOLS[self.protocol]
        if self.n_samples is None:
            return p.n_train, p.n_test
        n_test = max(1, int(round(self.n_samples * p.n_test / (p.n_train + p.n_test))))
        return self.n_samples - n_test, n_test

    @property
    def is_minde(self) -> bool:
        return self.estimator.startswith("MINDE")


def _checkpoint(cell: Cell) -> Path:
    """A cell's network, relative to its experiment's ``models_dir``."""
    return cell.path(Path(".")).with_suffix(".pt")


def _data(cell: Cell):
    from ..benchmark.tasks import get_task

    task = get_task(cell.task)
    n_train, n_test = cell.sizes()
    x, y = task.sample(n_train + n_test, seed=cell.seed)
    return task, x, y, n_train, n_test


def _build(cell: Cell, task) -> object:
    return ESTIMATORS[cell.estimator](PROTOCOLS[cell.protocol], task.dim_x + task.dim_y, cell.seed, dict(cell.settings))


def _minde_evaluation(cell: Cell, est, x_test, y_test, gt: float) -> dict:
    """Estimates of a trained MINDE model on the held-out rows: both forms (small-t rule "hold"), the sigma sweep
    from the same evaluation, and, on the same network, both forms under the other small-t rules, with uniform t at
    evaluation only, and with the other networks of an EMA ablation."""
    by_sigma = est.mutual_information_by_sigma(sorted(set(SIGMA_SWEEP) | {est.sigma}), x_test, y_test)
    res = by_sigma[est.sigma]

    def pair(r) -> dict:
        return {
            f"{cell.estimator}{cell.tag}": {"estimate": r.mi, "stderr": r.mi_stderr, "mc_stderr": r.mi_mc_stderr,
                                             "abs_error": abs(r.mi - gt)},
            f"{cell.estimator}(sigma){cell.tag}": {"estimate": r.mi_sigma, "stderr": r.mi_sigma_stderr,
                                                    "mc_stderr": r.mi_sigma_mc_stderr, "abs_error": abs(r.mi_sigma - gt)},
        }  # fmt: skip

    networks = {}
    for name in est.alternatives:  # the EMA ablation (MINDE(ema_ablation=...)): other weights of the same run
        with est.using(name):
            networks[name] = pair(est.mutual_information(x_test, y_test))
    return {
        "estimates": pair(res),
        **({"estimates_networks": networks} if networks else {}),
        "estimates_uniform_t": pair(est.mutual_information(x_test, y_test, importance_sampling=False)),
        "small_t": est.small_t,
        "estimates_small_t": {rule: pair(est.mutual_information(x_test, y_test, small_t=rule)) for rule in OTHER_SMALL_T},
        "sigma_sweep": {"sigma": list(SIGMA_SWEEP), "mi_sigma": [by_sigma[s].mi_sigma for s in SIGMA_SWEEP],
                        "mi_sigma_stderr": [by_sigma[s].mi_sigma_stderr for s in SIGMA_SWEEP]},  # fmt: skip
    }


def _provenance() -> dict:
    from .. import __version__

    return {"minde_version": __version__, "git_commit": git_commit(), "machine": machine(),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}  # fmt: skip


def _header(cell: Cell, task, n_train: int, n_test: int) -> dict:
    return {"task": cell.task, "estimator": cell.estimator, "seed": cell.seed, "protocol": cell.protocol,
            "settings": dict(cell.settings), "n_train": n_train, "n_test": n_test, "dim_x": task.dim_x,
            "dim_y": task.dim_y, "gt": float(task.mutual_information)}  # fmt: skip


def run_cells(cells: Sequence[Cell], root: Path) -> list[dict]:
    """Compute cells that train together: MINDE cells of one shape in one stacked fit, or one baseline cell.
    Writes each cell's JSON (and each MINDE network) and returns the payloads."""
    import torch

    torch.set_num_threads(1)
    if len(cells) > 1 or cells[0].is_minde:
        return _run_minde_group(list(cells), Path(root))
    cell = cells[0]
    task, x, y, n_train, n_test = _data(cell)
    est = _build(cell, task)
    start, cpu_start = time.perf_counter(), time.process_time()
    est.fit(x, y)  # baselines hold out their own split from what they are given: give them everything
    gt = float(task.mutual_information)
    value = float(est.estimate())
    payload = _header(cell, task, n_train, n_test) | {
        "estimates": {f"{cell.estimator}{cell.tag}": {"estimate": value, "stderr": None, "abs_error": abs(value - gt)}},
        "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu_start,
        "params": {k: v for k, v in vars(est).items() if not k.startswith("_") and isinstance(v, (int, float, str, bool, tuple))},
        "fit_info": getattr(est, "fit_info", {}),
    } | _provenance()  # fmt: skip
    return [write_cell_result(cell.path(root), payload)]


def _run_minde_group(cells: list[Cell], root: Path) -> list[dict]:
    from ..estimator import fit_many

    keys = {_stack_key(c) for c in cells}
    if len(keys) != 1:
        raise ValueError(f"cells of different shapes cannot train together: {sorted(map(str, keys))}")
    prepared = [_data(c) for c in cells]
    ests = [_build(c, p[0]) for c, p in zip(cells, prepared, strict=True)]
    calibrate = ests[0].device.type == "cpu" and PROTOCOLS[cells[0].protocol].calibrate
    speed = machine_speed() if calibrate else None  # before the clock starts: not counted in the cells' time
    start, cpu_start = time.perf_counter(), time.process_time()
    fit_many(ests, [(x[:n_tr], y[:n_tr]) for _, x, y, n_tr, _ in prepared], names=[c.label() for c in cells])
    train_seconds, train_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    payloads = []
    total_steps = sum(e.log.steps_done for e in ests)  # the group's time, shared by steps trained (the adaptive
    for cell, est, (task, x, y, n_train, n_test) in zip(cells, ests, prepared, strict=True):  # budget stops some early)
        t0, c0 = time.perf_counter(), time.process_time()
        share = est.log.steps_done / total_steps
        evaluation = _minde_evaluation(cell, est, x[n_train:], y[n_train:], float(task.mutual_information))
        ckpt = models_dir(root) / _checkpoint(cell)
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        est.save(ckpt, include_data=False)
        payload = _header(cell, task, n_train, n_test) | evaluation | {
            "seconds": train_seconds * share + time.perf_counter() - t0,
            "cpu_seconds": train_cpu * share + time.process_time() - c0,
            "trained_together": {"models": len(cells), "cells": [c.label() for c in cells], "seconds": train_seconds,
                                 "cpu_seconds": train_cpu},
            "params": est.config(), "steps": est.log.steps_done, "fit_info": est.fit_info,
            "loss_curve": [est.log.steps, est.log.losses], "checkpoint": str(_checkpoint(cell)),
            **({"budget_monitor": [[s, v[0]] for s, v in est.log.monitor]} if est.log.monitor else {}),
            **({"machine_speed": speed} if speed is not None else {}),  # the calibration (minde.experiments.speed)
        } | _provenance()  # fmt: skip
        payloads.append(write_cell_result(cell.path(root), payload))
    return payloads


def run_cell(cell: Cell, root: Path) -> dict:
    """Compute one cell (alone) and write its JSON; returns the payload."""
    return run_cells([cell], root)[0]


def _stack_key(cell: Cell) -> tuple:
    from ..benchmark.tasks import get_task

    task = get_task(cell.task)
    settings = json.dumps(dict(cell.settings), sort_keys=True, default=str)  # values may be dicts (unhashable)
    return (cell.estimator, cell.protocol, settings, cell.n_samples, task.dim_x, task.dim_y)


def _minde_config(cell: Cell) -> dict:
    """The MINDE keyword arguments the cell's protocol gives it (dimension- and variant-dependent), its settings
    applied."""
    from ..benchmark.tasks import get_task

    task = get_task(cell.task)
    return PROTOCOLS[cell.protocol].minde_kwargs(task.dim_x + task.dim_y, cell.estimator[-1].lower()) | dict(cell.settings)


def _cost(cell: Cell) -> float:
    """Relative cost of a cell (its training steps times a per-step factor of its dimension): the largest units go
    first.  The factor follows the stacked step's CPU time per model measured on the project's 2-core machines
    (batch 256, one thread, >= 3 models stacked): ~1.5 ms up to 5 x 5, ~4 ms at 25 x 25, ~12 ms at 50 x 50."""
    from ..benchmark.tasks import get_task

    if not cell.is_minde:
        return 1.0
    task = get_task(cell.task)
    return float(_minde_config(cell).get("steps", 20_000)) * (1.0 + ((task.dim_x + task.dim_y) / 35.0) ** 2)


def units_for(cells: Sequence[Cell], group_size: int = 8) -> list[Unit]:
    """The cells as units of work: MINDE cells of one shape in groups of up to ``group_size`` (trained together),
    every baseline cell alone."""
    groups: dict[tuple, list[Cell]] = {}
    units = []
    for c in cells:
        if c.is_minde and group_size > 1:
            groups.setdefault(_stack_key(c), []).append(c)
        else:
            units.append(Unit(run_cells, [c], cost=_cost(c)))
    for members in groups.values():
        for i in range(0, len(members), group_size):
            chunk = members[i : i + group_size]
            units.append(Unit(run_cells, chunk, cost=sum(_cost(c) for c in chunk)))
    return units


# --- grids -----------------------------------------------------------------------------------------
def _check_settings(settings: dict, names: list[str], protocol: str, dims: set[int]) -> dict[str, dict]:
    """Per estimator, the settings that apply to it; every setting must apply to at least one, and every value is
    checked by building each estimator once per task dimension (a clear ValueError before any cell runs)."""
    accepted = {e: accepted_settings(e) for e in names}
    known = set().union(*accepted.values())
    for key in settings:
        if key in _RUNNER_OWNED:
            raise ValueError(f"--set {key}=... is set by the runner itself, not per grid")
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known settings: {', '.join(sorted(known))}"
            raise ValueError(f"setting {key!r} applies to none of {', '.join(names)}{hint}")
    per = {e: {k: v for k, v in settings.items() if k in accepted[e]} for e in names}
    for e in names:
        for dim in sorted(dims):
            try:
                ESTIMATORS[e](PROTOCOLS[protocol], dim, 0, per[e])
            except (ValueError, TypeError) as exc:
                shown = ", ".join(f"{k}={v!r}" for k, v in per[e].items()) or "the protocol's defaults"
                raise ValueError(f"{e} with {shown}: {exc}") from None
    return per


def make_grid(
    tasks: Iterable[str],
    estimators: Iterable[str],
    seeds: Iterable[int],
    protocol: str,
    settings: dict | None = None,
    n_samples: int | None = None,
) -> list[Cell]:
    """All cells of tasks x estimators x seeds, every name and setting checked before anything runs.  A setting is
    passed (and named in the results) only to the estimators that take it."""
    from ..benchmark.tasks import get_task, list_tasks

    protocol = _lookup(protocol, PROTOCOLS, "protocol")
    known = set(list_tasks())
    task_ids = [t if t in known else get_task(t).id for t in tasks]  # get_task: a clear error with close matches
    names = [_lookup(e, ESTIMATORS, "estimator") for e in estimators]
    seeds = list(seeds)
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
    if bad:
        raise ValueError(f"seeds must be non-negative integers, got {bad}")
    if n_samples is not None:
        if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 100:
            raise ValueError(f"n_samples must be an integer of at least 100, got {n_samples!r}")
    if not (task_ids and names and seeds):
        raise ValueError("the grid is empty: give at least one task, one estimator and one seed")
    dims = {get_task(t).dim_x + get_task(t).dim_y for t in task_ids}
    per = _check_settings(dict(settings or {}), names, protocol, dims)
    items = {e: tuple(sorted(per[e].items())) for e in names}
    return [Cell(t, e, int(s), protocol, items[e], n_samples) for t in task_ids for e in names for s in seeds]


def _report(cell: Cell, payload: dict) -> str:
    shown = ", ".join(f"{k} {v['estimate']:.3f}" if v["estimate"] is not None else f"{k} n/a"
                      for k, v in payload["estimates"].items())  # fmt: skip
    return f"{cell.task} | {shown} | GT {payload['gt']:.3f} | {payload['cpu_seconds']:.0f} CPU-s"


def run_grid(
    cells: list[Cell],
    root: Path,
    jobs: int = 1,
    executor: str = "local",
    progress: bool = True,
    slurm: dict | None = None,
    group_size: int = 8,
    max_memory_gb: float | None = None,
) -> list[dict]:
    """Run the unfinished cells (``minde.experiments.runner.run_units``); returns the payloads computed by this call."""
    if not cells:
        raise ValueError("the grid is empty: no cells to run")
    return run_units(units_for(cells, group_size), Path(root), jobs=jobs, executor=executor, progress=progress,
                     report=_report if progress else None, slurm=slurm, max_memory_gb=max_memory_gb)  # fmt: skip


# --- the cells of an existing experiment -----------------------------------------------------------
def cells_of(root: Path, estimators: Iterable[str] | None = None, seeds: Iterable[int] | None = None) -> list[Cell]:
    """The cells behind the results in ``root`` (task, estimator, seed, protocol, settings, sample size), optionally
    only those of some estimators and seeds: to run the same grid again on other code (``replicate``).  A ValueError
    names the MINDE cells whose protocol now gives another training configuration (e.g. more steps) than the one
    their result recorded: replicating them would not rerun the same cells."""
    wanted_e = None if estimators is None else {_lookup(e, ESTIMATORS, "estimator") for e in estimators}
    wanted_s = None if seeds is None else set(seeds)
    cells, drift = [], []
    for payload in load_results(root):
        if wanted_e is not None and payload["estimator"] not in wanted_e:
            continue
        if wanted_s is not None and payload["seed"] not in wanted_s:
            continue
        cell = Cell.from_result(payload)
        if cell.is_minde:
            drift.extend(_protocol_drift(cell, payload))
        cells.append(cell)
    if drift:
        raise ValueError(f"{len(drift)} cell(s) would not be the same run again, because the protocol changed since "
                         f"they ran: {'; '.join(drift[:3])}{' ...' if len(drift) > 3 else ''}; run them with "
                         "`run --set KEY=VALUE` instead")  # fmt: skip
    return cells


def _protocol_drift(cell: Cell, payload: dict) -> list[str]:
    """How the training configuration the protocol now gives ``cell`` differs from the one its result recorded
    (``params``): one "task estimator seed: key was X, now Y" line per key."""
    now = _minde_config(cell)
    then = payload.get("params") or {}
    return [f"{cell.label()}: {key} was {then[key]!r}, now {value!r}" for key, value in now.items()
            if key in then and isinstance(value, int | float | str) and then[key] != value]  # fmt: skip


# --- re-evaluation from checkpoints ----------------------------------------------------------------
def load_model(root: Path, payload: dict):
    """The trained MINDE network of a result (``payload`` from the experiment in ``root``) with its held-out data,
    re-drawn from the task and seed exactly as the run drew them: (estimator, x_test, y_test)."""
    from ..benchmark.tasks import get_task
    from ..estimator import MINDE

    if not payload.get("checkpoint"):
        raise ValueError(f"{payload['task']} {payload['estimator']} seed {payload['seed']}: no checkpoint recorded")
    ckpt = models_dir(Path(root)) / payload["checkpoint"]
    if not ckpt.exists():
        raise ValueError(f"checkpoint {ckpt} is missing (networks are kept outside git: rerun the cell to recreate it)")
    task = get_task(payload["task"])
    x, y = task.sample(payload["n_train"] + payload["n_test"], seed=payload["seed"])
    n = payload["n_train"]
    return MINDE.load(ckpt), x[n:], y[n:]


def reevaluate(root: Path, output: Path | None = None, progress: bool = True) -> list[dict]:
    """Re-read every MINDE cell of the experiment in ``root`` from its kept network, with the current estimator
    code: the data are re-drawn from the task and seed, the estimates recomputed, training information kept.  Writes
    to ``output`` (default: in place).  Returns the new payloads; cells without a checkpoint are listed and skipped."""
    from tqdm import tqdm

    from ..benchmark.tasks import get_task
    from ..estimator import MINDE

    root = Path(root)
    output = root if output is None else Path(output)
    paths = sorted(root.rglob("seed*.json"))
    if not paths:
        raise ValueError(f"no results under {root}")
    out, missing = [], []
    for path in tqdm(paths, disable=not progress, desc="re-evaluating"):
        payload = read_result(path, Cell.required_keys)
        if not payload["estimator"].startswith("MINDE"):
            continue
        ckpt = models_dir(root) / payload["checkpoint"] if payload.get("checkpoint") else None
        if ckpt is None or not ckpt.exists():
            missing.append(str(path.relative_to(root)))
            continue
        cell = Cell.from_result(payload)  # names the estimates

        task = get_task(payload["task"])
        x, y = task.sample(payload["n_train"] + payload["n_test"], seed=payload["seed"])
        est = MINDE.load(ckpt)
        n = payload["n_train"]
        new = payload | _minde_evaluation(cell, est, x[n:], y[n:], float(task.mutual_information))
        new["reevaluated"] = _provenance() | {"from": os.path.relpath(path, REPO)}
        write_json_atomic(output / path.relative_to(root), new)
        out.append(new)
    if missing:
        print(f"{len(missing)} MINDE cell(s) have no checkpoint and were skipped, e.g. {missing[0]}", file=sys.stderr)
    summarize(output)
    return out


# --- summaries (summary.csv: minde.experiments.results.summarize) ----------------------------------------
def _print_table(root: Path) -> None:
    """Per estimator: tasks solved (mean over seeds within 0.1 nats), mean |error|, results, CPU-hours."""
    import pandas as pd

    df = pd.read_csv(root / "summary.csv")
    if df.empty:
        return
    table = success_counts(df)
    cpu = df.groupby("estimator")["cpu_seconds"].sum() / 3600
    table["cpu_hours"] = table["estimator"].map(cpu).round(2)
    print(table.round(3).to_string(index=False))


# --- command line ----------------------------------------------------------------------------------
def _parse_settings(pairs: list[str]) -> dict:
    import ast

    out = {}
    for p in pairs:
        if "=" not in p:
            raise ValueError(f"--set expects KEY=VALUE, got {p!r}")
        k, v = p.split("=", 1)
        try:
            out[k.strip()] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            out[k.strip()] = v
    return out


def _experiment_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", name or ""):
        raise ValueError(f"--experiment {name!r} must be a plain folder name (letters, digits, . _ + -), not a path")
    return name


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m minde.experiments", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run (or resume) a grid")
    run.add_argument("--experiment", required=True, help="results go to <results-dir>/<experiment>/")
    run.add_argument("--protocol", default="cpu", help=f"one of {', '.join(PROTOCOLS)}")
    run.add_argument("--tasks", required=True, help=f"comma-separated task ids, or a named set: {', '.join(TASK_SETS)}")
    run.add_argument("--estimators", required=True, help=f"comma-separated, from {', '.join(ESTIMATORS)}")
    run.add_argument("--seeds", default="0", help="comma-separated seeds, or a range like 0-2")
    run.add_argument("--n-samples", type=int, default=None, help="override the protocol's total sample size (train + test)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="estimator setting (named in the results)")
    run.add_argument("--jobs", type=int, default=1, help="parallel worker processes (one torch thread each)")
    run.add_argument("--group-size", type=int, default=8, help="MINDE models of one shape trained together (1: one at a time)")
    run.add_argument("--max-memory", type=float, default=None, metavar="GB", help=MAX_MEMORY_HELP)
    run.add_argument("--executor", default="local", choices=["local", "submitit-local", "slurm"])
    run.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    run.add_argument("--no-progress", action="store_true")
    summ = sub.add_parser("summary", help="rebuild summary.csv from the JSON files and print the per-estimator table")
    summ.add_argument("--experiment", required=True)
    summ.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    reev = sub.add_parser("reevaluate", help="recompute the MINDE estimates of an experiment from its kept networks")
    reev.add_argument("--experiment", required=True)
    reev.add_argument("--output-experiment", default=None, help="write there instead of in place")
    reev.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    rep = sub.add_parser("replicate", help="run the cells of an existing experiment again, into another results folder")
    rep.add_argument("--experiment", required=True)
    rep.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    rep.add_argument("--into", type=Path, required=True, help="results folder of the new run (e.g. data/results-next)")
    rep.add_argument("--estimators", default=None, help="only these estimators (default: all)")
    rep.add_argument("--seeds", default=None, help="only these seeds (default: all)")
    rep.add_argument("--jobs", type=int, default=1)
    rep.add_argument("--group-size", type=int, default=8)
    rep.add_argument("--no-progress", action="store_true")
    sub.add_parser("list", help="list tasks, estimators and protocols")
    args = parser.parse_args(argv)

    try:
        if args.command == "list":
            from ..benchmark.tasks import get_task, list_tasks

            print("protocols:")
            for p in PROTOCOLS.values():
                print(f"  {p.name:6s} n_train={p.n_train} n_test={p.n_test} {p.description}")
            print("estimators:", ", ".join(ESTIMATORS))
            print("task sets:", "; ".join(f"{k} ({v})" for k, v in TASK_SETS.items()))
            print("tasks:")
            for t in list_tasks():
                task = get_task(t)
                print(f"  {t:55s} {task.dim_x}x{task.dim_y}  GT {task.mutual_information:.4f}")
            return 0
        root = args.results_dir / _experiment_name(args.experiment)
        if args.command in ("summary", "reevaluate", "replicate") and not root.is_dir():
            have = sorted(p.name for p in args.results_dir.iterdir() if p.is_dir()) if args.results_dir.is_dir() else []
            close = difflib.get_close_matches(args.experiment, have, n=3)
            raise ValueError(f"no experiment {args.experiment!r} under {args.results_dir}"
                             + (f"; did you mean {', '.join(close)}?" if close else ""))  # fmt: skip
        if args.command == "summary":
            print(summarize(root))
            _print_table(root)
            return 0
        if args.command == "reevaluate":
            out = None if args.output_experiment is None else args.results_dir / _experiment_name(args.output_experiment)
            reevaluate(root, out)
            _print_table(out or root)
            return 0
        if args.jobs < 1:
            raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
        if args.command == "replicate":
            cells = cells_of(root, None if args.estimators is None else _split(args.estimators),
                             None if args.seeds is None else parse_seeds(args.seeds))  # fmt: skip
            target = args.into / args.experiment
            print(f"{len(cells)} cells of {root} -> {target}", flush=True)
            run_grid(cells, target, jobs=args.jobs, progress=not args.no_progress, group_size=args.group_size)
            print(summarize(target))
            _print_table(target)
            return 0
        if args.group_size < 1:
            raise ValueError(f"--group-size must be at least 1, got {args.group_size}")
        tasks = task_set(args.tasks) if args.tasks in TASK_SETS else _split(args.tasks)
        cells = make_grid(tasks, _split(args.estimators), parse_seeds(args.seeds), args.protocol,
                          _parse_settings(args.set), args.n_samples)  # fmt: skip
        done = sum(is_finished(c, root, quiet=True) for c in cells)
        print(f"{len(cells)} cells ({done} finished) -> {root}", flush=True)
        run_grid(cells, root, jobs=args.jobs, executor=args.executor, progress=not args.no_progress,
                 group_size=args.group_size, max_memory_gb=args.max_memory)  # fmt: skip
        print(summarize(root))
        _print_table(root)
        return 0
    except (ValueError, ResultError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except (CellFailed, KeyboardInterrupt) as exc:
        return stopped_early(parser.prog, exc)


if __name__ == "__main__":
    sys.exit(main())
