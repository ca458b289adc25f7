"""The experiment runner: a resumable grid of (task x estimator x seed x settings).

    python -m minde.experiments run --experiment baselines-5k --protocol cpu \\
        --tasks all --estimators CCA,KSG,InfoNCE --seeds 0,1,2 --n-samples 5000 --jobs 2
    python -m minde.experiments summary --experiment baselines-5k
    python -m minde.experiments list      # tasks, estimators and protocols

Each finished cell is written atomically (temp file, then rename) to
``data/results/<experiment>/<task>/<estimator><tag>/seed<k>.json`` with the estimate(s), ground truth,
errors, wall time, all parameters, seed, package version, git commit and machine.  Rerunning the same
command skips finished cells, so killing it loses at most the cells in progress.  ``summary.csv`` is
rebuilt from the JSON files: one row per estimate (a MINDE model gives two, e.g. ``MINDE-C`` and
``MINDE-C(sigma)``).

Protocols fix the data sizes and training budgets: ``smoke`` (seconds, for CI), ``cpu`` (this 2-core
machine, hours for the full grid) and ``paper`` (the authors': 100k train / 10k test samples, ~200k steps).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import inspect
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

__all__ = [
    "PROTOCOLS", "Protocol", "Cell", "ESTIMATORS", "SIGMA_SWEEP", "TASK_SETS",
    "task_set", "run_cell", "run_grid", "make_grid", "map_in_workers", "summarize", "main",
]  # fmt: skip

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = REPO / "data" / "results"


# --- protocols -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Protocol:
    """Data sizes and training budgets.  ``minde`` holds MINDE's keyword arguments and ``minde_variant`` per-variant
    overrides of them ({"j": {...}}); entries given as ``(small, large)`` pairs are chosen by dim_x + dim_y <= 10
    (the authors' split); ``baselines`` holds the neural baselines' configuration."""

    name: str
    n_train: int
    n_test: int
    minde: dict = field(default_factory=dict)
    baselines: dict = field(default_factory=dict)
    description: str = ""
    minde_variant: dict = field(default_factory=dict)

    def minde_kwargs(self, dim: int, variant: str = "c") -> dict:
        """MINDE's keyword arguments for a task with dim_x + dim_y = ``dim`` and the variant "c" or "j"."""
        merged = self.minde | self.minde_variant.get(variant, {})
        return {k: (v[0] if dim <= 10 else v[1]) if isinstance(v, tuple) else v for k, v in merged.items()}


PROTOCOLS: dict[str, Protocol] = {
    "smoke": Protocol(
        "smoke",
        n_train=2_000,
        n_test=1_000,
        minde={"steps": 300, "batch_size": 128, "lr": 1e-3, "mc_repeats": 1},
        baselines={"max_steps": 200},
        description="seconds per cell; checks the plumbing, not accuracy",
    ),
    "cpu": Protocol(
        "cpu",
        n_train=100_000,
        n_test=10_000,
        minde={"steps": 40_000, "batch_size": 256, "lr": 2e-3, "lr_schedule": "cosine", "mc_repeats": 4},
        # MINDE-J learns a (dim_x + dim_y)-dimensional joint score besides the two conditional ones, and its inside
        # form adds their errors: above 10 dimensions it gets twice the steps (measured on the dense 25 x 25:
        # +0.15 nats at 40k steps, +0.002 at 80k)
        minde_variant={"j": {"steps": (40_000, 80_000)}},
        baselines={},
        description="~1/15-1/5 of the authors' compute per MINDE model; the 40x2x3 MINDE grid takes ~6 h on 2 cores",
    ),
    "paper": Protocol(
        "paper",
        n_train=100_000,
        n_test=10_000,
        # the authors: 300 epochs of 100k at batch 128 (lr 1e-3) for dims <= 5, 500 epochs at batch 256 (lr 2e-3) beyond
        minde={"steps": (234_375, 195_313), "batch_size": (128, 256), "lr": (1e-3, 2e-3), "mc_repeats": 10},
        baselines={"config": "minde"},
        description="the authors' protocol (their run_minde.py); ~30 CPU-hours per variant for the 40 tasks",
    ),
}


# --- estimators ------------------------------------------------------------------------------------
def _minde_factory(variant: str) -> Callable[..., object]:
    def build(protocol: Protocol, dim: int, seed: int, settings: dict) -> object:
        from .estimator import MINDE

        kwargs = protocol.minde_kwargs(dim, variant) | {"test_fraction": 0.0, "seed": seed, "progress": False} | settings
        return MINDE(variant=variant, **kwargs)

    return build


def _baseline_factory(class_name: str) -> Callable[..., object]:
    def build(protocol: Protocol, dim: int, seed: int, settings: dict) -> object:
        from . import baselines

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


def _lookup(name: str, choices: Iterable[str], what: str) -> str:
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; choose from {', '.join(choices)}"
    raise ValueError(f"unknown {what} {name!r}{hint}")


#: Reference standard deviations s of the sigma-form sweep recorded with every MINDE cell (the authors' ablation values).
SIGMA_SWEEP: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

#: Named task sets accepted by ``--tasks`` besides explicit ids.
TASK_SETS: dict[str, str] = {
    "all": "the 40 benchmark tasks",
    "figure1": "Figure 1: sparse 3x3 multinormal at MI in tasks.FIGURE1_MI, plain, half-cube and spiral",
    "figure1-coarse": "the Figure 1 grid at MI 1, 3 and 5 nats only (a first pass)",
    "heavy-tails": "the 11 Student-t tasks (7 plain, 4 asinh-transformed): the rank-Gaussianisation ablation",
}


def task_set(name: str) -> list[str]:
    """Task ids of a named set (see ``TASK_SETS``)."""
    from .tasks import figure1_tasks, list_tasks

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

    @property
    def tag(self) -> str:
        """Suffix naming the settings, e.g. '+sde=ve' (empty for defaults)."""
        return "".join(f"+{k}={v}" for k, v in self.settings)

    def path(self, root: Path) -> Path:
        return root / self.task / f"{self.estimator}{self.tag}" / f"seed{self.seed}.json"

    def sizes(self) -> tuple[int, int]:
        """(n_train, n_test) for MINDE; baselines get all n_train + n_test rows and split them themselves."""
        p = PROTOCOLS[self.protocol]
        if self.n_samples is None:
            return p.n_train, p.n_test
        n_test = max(1, int(round(self.n_samples * p.n_test / (p.n_train + p.n_test))))
        return self.n_samples - n_test, n_test


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                               text=True, timeout=10).stdout.strip()  # fmt: skip
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _machine() -> dict:
    import torch

    return {
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def write_json_atomic(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(payload, indent=1, default=str))
    os.replace(tmp, path)


def run_cell(cell: Cell, root: Path) -> dict:
    """Sample the task's data, fit the estimator, estimate on the held-out part, write the JSON atomically."""
    import torch

    from . import __version__
    from .tasks import get_task

    torch.set_num_threads(1)
    task = get_task(cell.task)
    n_train, n_test = cell.sizes()
    x, y = task.sample(n_train + n_test, seed=cell.seed)
    settings = dict(cell.settings)
    est = ESTIMATORS[cell.estimator](PROTOCOLS[cell.protocol], task.dim_x + task.dim_y, cell.seed, settings)
    start = time.perf_counter()
    cpu_start = time.process_time()
    if cell.estimator.startswith("MINDE"):
        est.fit(x[:n_train], y[:n_train])
        res = est.mutual_information(x[n_train:], y[n_train:])
        estimates = {
            f"{cell.estimator}{cell.tag}": {"estimate": res.mi, "stderr": res.mi_stderr},
            f"{cell.estimator}(sigma){cell.tag}": {"estimate": res.mi_sigma, "stderr": res.mi_sigma_stderr},
        }
        params = est.config()
        from .estimator import mi_versus_sigma

        sweep = mi_versus_sigma(est, SIGMA_SWEEP, x[n_train:], y[n_train:])
        extra = {
            "steps": est.steps,
            "fit_info": est.fit_info,
            "loss_curve": [est.log.steps, est.log.losses],
            "sigma_sweep": {k: sweep[k].tolist() for k in ("sigma", "mi_sigma", "mi_sigma_stderr")},
        }
    else:
        # baselines hold out their own split from what they are given: give them everything
        est.fit(x, y)
        estimates = {f"{cell.estimator}{cell.tag}": {"estimate": float(est.estimate()), "stderr": None}}
        params = {k: v for k, v in vars(est).items() if not k.startswith("_") and isinstance(v, (int, float, str, bool, tuple))}
        extra = {"fit_info": getattr(est, "fit_info", {})}
    seconds = time.perf_counter() - start
    gt = float(task.mutual_information)
    for e in estimates.values():
        e["abs_error"] = abs(e["estimate"] - gt)
    payload = {
        "task": cell.task,
        "estimator": cell.estimator,
        "seed": cell.seed,
        "protocol": cell.protocol,
        "settings": settings,
        "n_train": n_train,
        "n_test": n_test,
        "dim_x": task.dim_x,
        "dim_y": task.dim_y,
        "gt": gt,
        "estimates": estimates,
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu_start,
        "params": params,
        **extra,
        "minde_version": __version__,
        "git_commit": _git_commit(),
        "machine": _machine(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json_atomic(cell.path(root), payload)
    return payload


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _run_cell_in_worker(cell: Cell, root: str) -> dict:
    return run_cell(cell, Path(root))


# --- grids -----------------------------------------------------------------------------------------
def make_grid(
    tasks: Iterable[str],
    estimators: Iterable[str],
    seeds: Iterable[int],
    protocol: str,
    settings: dict | None = None,
    n_samples: int | None = None,
) -> list[Cell]:
    """All cells of tasks x estimators x seeds (names are checked and normalised)."""
    from .tasks import list_tasks

    protocol = _lookup(protocol, PROTOCOLS, "protocol")
    known = list_tasks()
    task_ids = []
    for t in tasks:
        if t in known:
            task_ids.append(t)
        else:
            from .tasks import get_task

            task_ids.append(get_task(t).id)  # raises a clear error listing close matches
    names = [_lookup(e, ESTIMATORS, "estimator") for e in estimators]
    items = tuple(sorted((settings or {}).items()))
    return [Cell(t, e, int(s), protocol, items, n_samples) for t in task_ids for e in names for s in seeds]


def run_grid(
    cells: list[Cell],
    root: Path,
    jobs: int = 1,
    executor: str = "local",
    progress: bool = True,
    slurm: dict | None = None,
) -> list[dict]:
    """Run the unfinished cells; ``jobs`` worker processes (one torch thread each) or a submitit executor."""
    from tqdm import tqdm

    todo = [c for c in cells if not c.path(root).exists()]
    done = len(cells) - len(todo)
    results: list[dict] = []
    bar = tqdm(total=len(cells), initial=done, disable=not progress, desc="cells", dynamic_ncols=True)

    def report(cell: Cell, payload: dict) -> None:
        results.append(payload)
        shown = ", ".join(f"{k} {v['estimate']:.3f}" for k, v in payload["estimates"].items())
        bar.write(f"{cell.task} | {shown} | GT {payload['gt']:.3f} | {payload['seconds']:.0f}s")
        bar.update(1)

    if executor in ("submitit-local", "slurm"):
        import submitit

        folder = root / "_submitit"
        ex = submitit.LocalExecutor(folder=folder) if executor == "submitit-local" else submitit.AutoExecutor(folder=folder)
        ex.update_parameters(timeout_min=int((slurm or {}).get("timeout_min", 600)), **{k: v for k, v in (slurm or {}).items()
                                                                                          if k != "timeout_min"})  # fmt: skip
        submitted = [(c, ex.submit(_run_cell_in_worker, c, str(root))) for c in todo]
        for cell, job in submitted:
            report(cell, job.result())
    elif jobs <= 1:
        for cell in todo:
            report(cell, run_cell(cell, root))
    else:
        map_in_workers(_run_cell_in_worker, [(c, str(root)) for c in todo], jobs, lambda i, payload: report(todo[i], payload))
    bar.close()
    return results


def map_in_workers(fn: Callable[..., object], args: list[tuple], jobs: int, on_result: Callable[[int, object], None]) -> None:
    """Call ``fn(*args[i])`` for every i in ``jobs`` spawned worker processes, passing each result to
    ``on_result(i, result)`` as soon as it arrives (in completion order).

    ``kill`` (SIGTERM) of the calling process acts like Ctrl-C: the workers are terminated and the exception
    propagates, so work in progress is lost and finished work (which ``on_result`` or ``fn`` has saved) is kept.
    """
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"))
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if main_thread else None
    try:
        futures = {pool.submit(fn, *a): i for i, a in enumerate(args)}
        for fut in as_completed(futures):
            on_result(futures[fut], fut.result())
    except BaseException:
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    pool.shutdown()


# --- summaries -------------------------------------------------------------------------------------
SUMMARY_COLUMNS = [
    "task", "estimator", "seed", "estimate", "gt", "abs_error", "stderr", "seconds", "protocol", "n_train", "settings",
]  # fmt: skip


def load_results(root: Path) -> list[dict]:
    """Every cell's JSON under ``root`` (an experiment folder)."""
    return [json.loads(p.read_text()) for p in sorted(root.rglob("seed*.json"))]


def summarize(root: Path) -> Path:
    """Rebuild ``summary.csv`` (one row per estimate) from the JSON files; returns its path."""
    rows = []
    for r in load_results(root):
        for name, e in r["estimates"].items():
            rows.append({
                "task": r["task"], "estimator": name, "seed": r["seed"], "estimate": e["estimate"], "gt": r["gt"],
                "abs_error": e["abs_error"], "stderr": e.get("stderr"), "seconds": r["seconds"], "protocol": r["protocol"],
                "n_train": r["n_train"], "settings": json.dumps(r.get("settings", {}), sort_keys=True),
            })  # fmt: skip
    path = root / "summary.csv"
    tmp = path.with_name(f".summary.csv.tmp{os.getpid()}")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
    return path


# --- command line ----------------------------------------------------------------------------------
def _split(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def _parse_settings(pairs: list[str]) -> dict:
    import ast

    out = {}
    for p in pairs:
        if "=" not in p:
            raise ValueError(f"--set expects KEY=VALUE, got {p!r}")
        k, v = p.split("=", 1)
        try:
            out[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            out[k] = v
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minde.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run (or resume) a grid")
    run.add_argument("--experiment", required=True, help="results go to <results-dir>/<experiment>/")
    run.add_argument("--protocol", default="cpu", help=f"one of {', '.join(PROTOCOLS)}")
    run.add_argument("--tasks", default="all", help=f"comma-separated task ids, or a named set: {', '.join(TASK_SETS)}")
    run.add_argument("--estimators", default="MINDE-C,MINDE-J", help=f"comma-separated, from {', '.join(ESTIMATORS)}")
    run.add_argument("--seeds", default="0", help="comma-separated seeds, or a range like 0-2")
    run.add_argument("--n-samples", type=int, default=None, help="override the protocol's total sample size (train + test)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="estimator setting (named in the results)")
    run.add_argument("--jobs", type=int, default=1, help="parallel worker processes (one torch thread each)")
    run.add_argument("--executor", default="local", choices=["local", "submitit-local", "slurm"])
    run.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    run.add_argument("--no-progress", action="store_true")
    summ = sub.add_parser("summary", help="rebuild summary.csv from the JSON files")
    summ.add_argument("--experiment", required=True)
    summ.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    sub.add_parser("list", help="list tasks, estimators and protocols")
    args = parser.parse_args(argv)

    if args.command == "list":
        from .tasks import get_task, list_tasks

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
    root = args.results_dir / args.experiment
    if args.command == "summary":
        print(summarize(root))
        return 0
    try:
        tasks = task_set(args.tasks) if args.tasks in TASK_SETS else _split(args.tasks)
        if "-" in args.seeds and "," not in args.seeds:
            lo, hi = (int(s) for s in args.seeds.split("-"))
            seeds = list(range(lo, hi + 1))
        else:
            seeds = [int(s) for s in _split(args.seeds)]
        cells = make_grid(tasks, _split(args.estimators), seeds, args.protocol, _parse_settings(args.set), args.n_samples)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"{len(cells)} cells -> {root}")
    run_grid(cells, root, jobs=args.jobs, executor=args.executor, progress=not args.no_progress)
    print(summarize(root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
