"""The one runner behind every grid (the benchmark's and the MNIST tests'): resumable, claim-based, kill-safe.

A grid is a list of *units*; a unit computes one or more *cells* (several when the models of a unit are trained
together, ``minde.estimator.fit_many``) and writes each cell's JSON result itself.  This module knows nothing of
what a cell computes; it guarantees, for any cell type:

* **finished means readable**: a cell is finished when its JSON parses and holds the keys the cell requires; a
  truncated, empty or key-less file is reported by path, moved aside (``<name>.broken``) and recomputed;
* **atomic results**: ``write_json_atomic`` writes a temp file, fsyncs it, renames it over the target and fsyncs the
  folder; NaN and inf are written as ``null`` (strict JSON); stale temp files of dead processes are removed;
* **claims**: before a cell is computed, its ``<name>.claim`` file is created exclusively (pid, host, time) and kept
  fresh by a heartbeat; concurrent runners (local, or on Slurm through submitit) skip claimed cells and wait for
  them, so every cell is computed once; a claim whose process is dead (same host) or whose heartbeat stopped
  (``STALE_SECONDS``) is taken over;
* **no orphans**: worker processes watch their parent and exit at once when it dies (SIGKILL included), and check
  it again before writing a result, so a killed run leaves no process behind and a rerun never duplicates a cell;
* **failures named**: a worker that dies (the kernel's out-of-memory killer, a signal) or, under ``max_memory_gb``
  (an address-space limit per worker), an allocation that fails ends the run with ``CellFailed`` naming the cells
  it was computing; the finished cells are kept and a rerun retries the rest.

It also holds what both grids' command lines share: where results and networks go (``DEFAULT_RESULTS``,
``models_dir``), names looked up with close matches, ``--seeds`` parsed, and one-line argparse errors.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Protocol

import numpy as np

__all__ = [
    "REPO", "CellLike", "Unit", "ResultError", "CellFailed", "write_json_atomic", "read_result", "is_finished", "load_results",
    "claim", "release", "run_units", "git_commit", "machine", "clean_stale_temp_files", "write_cell_result",
    "parent_alive", "MAX_MEMORY_HELP", "DEFAULT_RESULTS", "DEFAULT_MODELS", "models_dir", "parse_seeds",
]  # fmt: skip

REPO = Path(__file__).resolve().parents[2]
#: Where the grids write their results, and keep their trained networks (``models_dir``).
DEFAULT_RESULTS = REPO / "data" / "results"
DEFAULT_MODELS = REPO / "data" / "models"
#: A claim not refreshed for this long is abandoned (its runner died on another host, or hung).
STALE_SECONDS = 15 * 60
#: How often a runner refreshes the claims of the cells it is computing.
HEARTBEAT_SECONDS = 60
#: The help of both grids' ``--max-memory`` option.
MAX_MEMORY_HELP = ("address-space limit of each worker process, in GB: a cell that needs more fails at once, named, "
                   "instead of growing until the kernel's out-of-memory killer ends a process")  # fmt: skip


class CellLike(Protocol):
    """What the runner needs of a cell: where its result goes, which keys a finished result holds, a label."""

    required_keys: tuple[str, ...]

    def path(self, root: Path) -> Path: ...

    def label(self) -> str: ...


class Unit:
    """Cells computed by one call ``fn(cells, root, *args)`` (in a worker process), which writes each cell's JSON
    and returns the payloads.  ``cost`` orders the work (largest first)."""

    def __init__(self, fn: Callable[..., list[dict]], cells: Sequence[CellLike], args: tuple = (), cost: float = 1.0):
        self.fn, self.cells, self.args, self.cost = fn, list(cells), tuple(args), float(cost)

    def with_cells(self, cells: Sequence[CellLike]) -> Unit:
        return Unit(self.fn, cells, self.args, self.cost * len(cells) / max(1, len(self.cells)))


class ResultError(ValueError):
    """A result file that cannot be used, named in the message."""


class CellFailed(RuntimeError):
    """The cells of a unit could not be computed: its worker died, or ran out of memory (named in the message)."""


def stopped_early(prog: str, exc: CellFailed | KeyboardInterrupt) -> int:
    """What a grid's command line says when a run ends before its last cell: one line on stderr naming why, and the
    exit status (1: a cell failed, ``CellFailed``; 130: interrupted).  The finished cells are kept either way."""
    if isinstance(exc, CellFailed):
        print(f"{prog}: error: {exc}; finished cells are kept, rerun the same command to retry", file=sys.stderr)
        return 1
    print(f"{prog}: interrupted; finished cells are kept, rerun the same command to continue", file=sys.stderr)
    return 130


def _labels(cells: Sequence[CellLike]) -> str:
    shown = ", ".join(c.label() for c in cells[:3])
    return shown + (f" and {len(cells) - 3} more" if len(cells) > 3 else "")


# --- results on disk ---------------------------------------------------------------------------------
def _strict(obj: object) -> object:
    """NaN/inf -> None, numpy scalars -> Python, recursively (json.dumps(allow_nan=False) then accepts it)."""
    if isinstance(obj, dict):
        return {str(k): _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.ndarray):
        return _strict(obj.tolist())
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    return str(obj)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json_atomic(path: Path, payload: dict) -> None:
    """Write ``payload`` as strict JSON to ``path``: temp file, fsync, rename, fsync of the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    text = json.dumps(_strict(payload), indent=1, allow_nan=False)
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def read_result(path: Path, required: Iterable[str] = ()) -> dict:
    """The JSON object in ``path``; ``ResultError`` naming the file when it is missing, empty, not JSON, not an
    object, or lacks a ``required`` key."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ResultError(f"cannot read result {path}: {exc.strerror or exc}") from None
    if not text.strip():
        raise ResultError(f"result {path} is empty")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultError(f"result {path} is not valid JSON ({exc.msg} at line {exc.lineno}): truncated?") from None
    if not isinstance(payload, dict):
        raise ResultError(f"result {path} holds a {type(payload).__name__}, not a JSON object")
    missing = [k for k in required if k not in payload]
    if missing:
        raise ResultError(f"result {path} lacks the key(s) {', '.join(missing)}")
    return payload


def is_finished(cell: CellLike, root: Path, quiet: bool = False) -> bool:
    """True if the cell's result is readable and complete; a broken one is reported, moved aside and False."""
    path = cell.path(root)
    if not path.exists():
        return False
    try:
        read_result(path, cell.required_keys)
        return True
    except ResultError as exc:
        aside = path.with_name(path.name + ".broken")
        try:
            os.replace(path, aside)
        except OSError:
            pass
        if not quiet:
            print(f"{exc}; moved to {aside.name} and recomputing", file=sys.stderr, flush=True)
        return False


def load_results(root: Path, pattern: str = "seed*.json") -> list[dict]:
    """Every result JSON under ``root`` (sorted by path); a broken file raises ``ResultError`` naming it."""
    return [read_result(p) for p in sorted(Path(root).rglob(pattern))]


def clean_stale_temp_files(root: Path) -> list[Path]:
    """Remove ``.<name>.tmp<pid>`` files under ``root`` whose writing process is no longer alive on this host."""
    removed = []
    for p in Path(root).rglob(".*.tmp*"):
        pid = p.name.rsplit(".tmp", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


# --- claims ------------------------------------------------------------------------------------------
def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim_path(cell: CellLike, root: Path) -> Path:
    p = cell.path(root)
    return p.with_name(p.name + ".claim")


def _stale(path: Path) -> bool:
    try:
        info = json.loads(path.read_text() or "{}")
        age = time.time() - path.stat().st_mtime
    except (OSError, json.JSONDecodeError):
        return True  # unreadable, or removed meanwhile
    if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int) and not _alive(info["pid"]):
        return True
    return age > STALE_SECONDS


def claim(cell: CellLike, root: Path) -> bool:
    """Create the cell's claim file exclusively (taking over a stale one); False if another live runner holds it."""
    path = _claim_path(cell, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if not _stale(path):
                return False
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, "w") as fh:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "claimed": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, fh)
        return True
    return False


def release(cell: CellLike, root: Path) -> None:
    try:
        _claim_path(cell, root).unlink()
    except FileNotFoundError:
        pass


def _claimed_by_other(cell: CellLike, root: Path) -> bool:
    path = _claim_path(cell, root)
    return path.exists() and not _stale(path)


class _Heartbeat:
    """Refresh the claim files of the cells in flight every ``HEARTBEAT_SECONDS`` (a daemon thread).  Cells are kept
    by their claim path, so a cell need not be hashable."""

    def __init__(self, root: Path) -> None:
        self.root, self.claims, self._stop = root, {}, threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def cells(self) -> list[CellLike]:
        with self._lock:
            return list(self.claims.values())

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            with self._lock:
                paths = list(self.claims)
            for p in paths:
                try:
                    os.utime(p)
                except OSError:
                    pass

    def add(self, cells: Iterable[CellLike]) -> None:
        with self._lock:
            self.claims.update({_claim_path(c, self.root): c for c in cells})

    def remove(self, cells: Iterable[CellLike]) -> None:
        with self._lock:
            for c in cells:
                self.claims.pop(_claim_path(c, self.root), None)

    def stop(self) -> None:
        self._stop.set()


# --- workers -----------------------------------------------------------------------------------------
_PARENT: int | None = None


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)  # the runner is gone (killed): stop at once, write nothing
        time.sleep(0.25)


def _limit_memory(max_memory_gb: float | None) -> tuple[int, int]:
    """Set this process's address-space limit (RLIMIT_AS) to ``max_memory_gb``; returns the limits it replaced."""
    previous = resource.getrlimit(resource.RLIMIT_AS)
    if max_memory_gb is not None:
        soft = int(max_memory_gb * 1e9)
        if previous[1] != resource.RLIM_INFINITY:
            soft = min(soft, previous[1])
        resource.setrlimit(resource.RLIMIT_AS, (soft, previous[1]))
    return previous


def _worker_init(parent: int, max_memory_gb: float | None = None) -> None:
    """Worker start-up: one torch thread, the memory limit, and a watchdog that ends the worker when its parent dies."""
    global _PARENT
    _PARENT = parent
    _limit_memory(max_memory_gb)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the runner, which terminates the workers
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def parent_alive() -> bool:
    """False in a worker whose runner has died (checked before a result is written)."""
    return _PARENT is None or os.getppid() == _PARENT


def write_cell_result(path: Path, payload: dict) -> dict:
    """``write_json_atomic`` for a cell's result, from a unit's function; returns the payload as written (strict
    JSON types: NaN is None).  A worker whose runner died exits instead (the rerun that follows computes the cell;
    writing it too would duplicate it)."""
    if not parent_alive():
        os._exit(1)
    write_json_atomic(path, payload)
    return _strict(payload)


def _out_of_memory(exc: BaseException) -> bool:
    """numpy's MemoryError, or torch's failed CPU allocation (a RuntimeError) or CUDA out-of-memory error."""
    text = str(exc)
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and (
        "can't allocate memory" in text or "out of memory" in text.lower()))  # fmt: skip


def _compute(fn: Callable[..., list[dict]], cells: list, root: Path, args: tuple) -> list[dict]:
    """``fn(cells, root, *args)``, an allocation failure turned into ``CellFailed`` naming the cells and the limit."""
    try:
        return fn(cells, root, *args)
    except (MemoryError, RuntimeError) as exc:
        if not _out_of_memory(exc):
            raise
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        limit = "" if soft == resource.RLIM_INFINITY else f" under the {soft / 1e9:g} GB address-space limit"
        raise CellFailed(f"{_labels(cells)}: out of memory{limit} ({str(exc).splitlines()[0][:160]})") from None


def _run_unit(fn: Callable[..., list[dict]], cells: list, root: str, args: tuple, commit: str | None = None) -> list[dict]:
    """A unit in a worker process (pool or submitit): one torch thread, the run's commit as its provenance."""
    import torch

    global _RUN_COMMIT
    _RUN_COMMIT = commit
    torch.set_num_threads(1)
    return _compute(fn, cells, Path(root), args)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --- the grid loop -----------------------------------------------------------------------------------
def run_units(
    units: Sequence[Unit],
    root: Path,
    jobs: int = 1,
    executor: str = "local",
    progress: bool = True,
    report: Callable[[CellLike, dict], str] | None = None,
    slurm: dict | None = None,
    poll_seconds: float = 2.0,
    max_memory_gb: float | None = None,
) -> list[dict]:
    """Run every unfinished cell of ``units`` and return the payloads computed here.

    Cells already finished are skipped; cells claimed by another live runner are waited for (and computed here if
    their claim goes stale).  ``jobs`` worker processes (one torch thread each; ``jobs=1`` computes in this
    process), or ``executor="submitit-local"`` / ``"slurm"`` through submitit.  ``report(cell, payload)`` gives the
    line printed for each finished cell.  SIGTERM acts like Ctrl-C: workers are terminated, finished cells kept.
    ``max_memory_gb`` caps each worker's address space (with ``jobs=1``, this process's while it computes): a cell
    that needs more raises ``CellFailed`` at once instead of growing until the kernel kills a process.  A worker that
    dies raises ``CellFailed`` too, naming its cells.
    """
    from tqdm import tqdm

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_files(root)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if max_memory_gb is not None and not (math.isfinite(max_memory_gb) and max_memory_gb > 0):
        raise ValueError(f"max_memory_gb must be a positive number of GB, got {max_memory_gb}")
    cells = [c for u in units for c in u.cells]
    finished = {id(c) for c in cells if is_finished(c, root)}
    pending = [u.with_cells([c for c in u.cells if id(c) not in finished]) for u in units]
    pending = sorted((u for u in pending if u.cells), key=lambda u: -u.cost)
    bar = tqdm(total=len(cells), initial=len(finished), disable=not progress, desc="cells", dynamic_ncols=True)
    results: list[dict] = []
    heartbeat = _Heartbeat(root)

    def done(unit: Unit, payloads: list[dict]) -> None:
        heartbeat.remove(unit.cells)
        for cell, payload in zip(unit.cells, payloads, strict=True):
            release(cell, root)
            results.append(payload)
            if report is not None:
                bar.write(report(cell, payload))
            bar.update(1)

    def take(unit: Unit) -> tuple[Unit | None, Unit | None]:
        """Claim what can be claimed: (unit to run now, unit of cells held by others)."""
        mine, theirs = [], []
        for c in unit.cells:
            if is_finished(c, root, quiet=True):
                bar.update(1)
            elif claim(c, root):
                if is_finished(c, root, quiet=True):  # finished between the two checks
                    release(c, root)
                    bar.update(1)
                else:
                    mine.append(c)
            else:
                theirs.append(c)
        heartbeat.add(mine)
        return (unit.with_cells(mine) if mine else None), (unit.with_cells(theirs) if theirs else None)

    global _RUN_COMMIT
    outer_commit, commit = _RUN_COMMIT, git_commit()  # a run inside a run (a notebook's rerun) keeps the outer one's
    _RUN_COMMIT = commit
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if main_thread else None
    pool = None
    limits = _limit_memory(max_memory_gb) if executor == "local" and jobs == 1 else None
    try:
        if executor in ("submitit-local", "slurm"):
            _run_submitit(pending, root, executor, slurm, take, done, poll_seconds, commit)
        elif executor != "local":
            raise ValueError(f"unknown executor {executor!r}: choose local, submitit-local or slurm")
        elif jobs == 1:
            queue = list(pending)
            while queue:
                waiting = []
                for unit in queue:
                    mine, theirs = take(unit)
                    if mine is not None:
                        try:
                            done(mine, _compute(mine.fn, mine.cells, root, mine.args))
                        except BaseException:
                            for c in mine.cells:
                                release(c, root)
                            raise
                    if theirs is not None:
                        waiting.append(theirs)
                queue = _wait_for_others(waiting, root, poll_seconds)
        else:
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_init,
                                       initargs=(os.getpid(), max_memory_gb))  # fmt: skip
            queue, futures = list(pending), {}
            while queue or futures:
                waiting = []
                while queue and len(futures) < 2 * jobs:  # keep the pool busy, claim only what is about to run
                    mine, theirs = take(queue.pop(0))
                    if mine is not None:
                        futures[pool.submit(_run_unit, mine.fn, mine.cells, str(root), mine.args, commit)] = mine
                    if theirs is not None:
                        waiting.append(theirs)
                if futures:
                    finished_now, _ = wait(list(futures), return_when=FIRST_COMPLETED, timeout=poll_seconds)
                    for fut in finished_now:
                        unit = futures.pop(fut)
                        try:
                            payloads = fut.result()
                        except BaseException as exc:
                            for c in unit.cells:
                                release(c, root)
                            if isinstance(exc, BrokenProcessPool):
                                raise CellFailed(f"{_labels(unit.cells)}: the worker process died (killed by a signal; "
                                                 "the kernel's out-of-memory killer if `dmesg` says so)") from None
                            raise
                        done(unit, payloads)
                queue.extend(_wait_for_others(waiting, root, poll_seconds if not futures and not queue else 0.0))
    except BaseException:
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
        raise
    finally:
        if limits is not None:
            resource.setrlimit(resource.RLIMIT_AS, limits)
        heartbeat.stop()
        for c in heartbeat.cells:
            release(c, root)
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        _RUN_COMMIT = outer_commit
        bar.close()
    if pool is not None:
        pool.shutdown()
    return results


def _wait_for_others(waiting: list[Unit], root: Path, poll_seconds: float) -> list[Unit]:
    """Units whose cells other runners held: those cells finished meanwhile are dropped; the rest are returned for
    another try (after ``poll_seconds`` when nothing else is left to do)."""
    if not waiting:
        return []
    if poll_seconds:
        time.sleep(poll_seconds)
    out = []
    for unit in waiting:
        left = [c for c in unit.cells if not is_finished(c, root, quiet=True)]
        if left:
            out.append(unit.with_cells(left))
    return out


def _run_submitit(pending, root, executor, slurm, take, done, poll_seconds, commit) -> None:
    try:
        import submitit
    except ImportError:
        raise ValueError(f"executor {executor!r} needs submitit: pip install submitit") from None
    folder = root / "_submitit"
    ex = submitit.LocalExecutor(folder=folder) if executor == "submitit-local" else submitit.AutoExecutor(folder=folder)
    params = dict(slurm or {})
    ex.update_parameters(timeout_min=int(params.pop("timeout_min", 600)), **params)
    queue = list(pending)
    while queue:
        jobs_, waiting = [], []
        for unit in queue:
            mine, theirs = take(unit)
            if mine is not None:
                jobs_.append((mine, ex.submit(_run_unit, mine.fn, mine.cells, str(root), mine.args, commit)))
            if theirs is not None:
                waiting.append(theirs)
        for unit, job in jobs_:
            done(unit, job.result())
        queue = _wait_for_others(waiting, root, poll_seconds)


# --- provenance --------------------------------------------------------------------------------------
_RUN_COMMIT: str | None = None  # the commit the running ``run_units`` started from (its workers are given it)


def git_commit() -> str:
    """The commit of the code that computes: while ``run_units`` runs (in it and in its workers), the repository's
    HEAD when that run started, so that a commit made while a long grid runs is not recorded for cells computed by
    the code loaded before it; otherwise HEAD now.  With ``-dirty`` when tracked files had changed ("unknown"
    outside git)."""
    return _RUN_COMMIT if _RUN_COMMIT is not None else _head_commit()


def _head_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                               text=True, timeout=10).stdout.strip()  # fmt: skip
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine() -> dict:
    """Host, platform, CPU count and library versions of this process."""
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


# --- shared by the grids (the benchmark's and the MNIST tests') -------------------------------------------
def models_dir(root: Path) -> Path:
    """Where the networks of the experiment in ``root`` are kept: for ``<base>/results*/<experiment>`` the sibling
    ``<base>/models*/<experiment>`` (``data/results/minde-cpu`` -> ``data/models/minde-cpu``), else
    ``<root>/_models``."""
    root = Path(root)
    base = root.parent
    if base.name.startswith("results"):
        return base.with_name("models" + base.name[len("results"):]) / root.name
    return root / "_models"


def _lookup(name: str, choices: Iterable[str], what: str) -> str:
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if str(name).lower() in lowered:
        return lowered[str(name).lower()]
    close = difflib.get_close_matches(str(name), choices, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; choose from {', '.join(choices)}"
    raise ValueError(f"unknown {what} {name!r}{hint}")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _split(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def parse_seeds(text: str) -> list[int]:
    """'0', '0,3,5' or '0-2' -> seeds; anything else is a ValueError that shows the accepted forms."""
    text = str(text).strip()
    try:
        if re.fullmatch(r"\d+-\d+", text):
            lo, hi = (int(s) for s in text.split("-"))
            if hi < lo:
                raise ValueError
            return list(range(lo, hi + 1))
        seeds = [int(s) for s in _split(text)]
        if not seeds or any(s < 0 for s in seeds):
            raise ValueError
        return seeds
    except ValueError:
        raise ValueError(f"cannot read --seeds {text!r}: use 0, 0,3,5 or 0-2 (non-negative integers)") from None
