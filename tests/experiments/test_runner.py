"""Fault injection for the one runner (``minde.experiments.runner``, driven through ``python -m minde.experiments``): SIGKILL,
broken result files, concurrent runners, and the checks that refuse a bad grid before any cell runs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from minde.experiments import grid as ex
from minde.experiments import runner

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "minde.experiments"]


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


GRID = ["--protocol", "smoke", "--tasks", "1v1-normal-0.75,1v1-additive-0.1,1v1-additive-0.75", "--estimators", "MINDE-C",
        "--seeds", "0-1", "--set", "steps=1500", "--group-size", "1", "--no-progress"]  # fmt: skip


def test_sigkill_leaves_no_worker_and_the_rerun_completes_only_the_missing_cells(tmp_path):
    root = tmp_path / "results"
    args = [*CLI, "run", "--experiment", "kill", "--results-dir", str(root), "--jobs", "2", *GRID]
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    workers: list[int] = []
    while time.time() < deadline and not list(root.rglob("seed*.json")):
        workers = sorted(set(workers) | set(_children(proc.pid)))
        time.sleep(0.2)
    assert list(root.rglob("seed*.json")), "no cell finished in time"
    workers = sorted(set(workers) | set(_children(proc.pid)))
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(2.0)
    assert not [w for w in workers if _running(w)], "worker processes outlived the killed runner"
    finished = {p: p.stat().st_mtime_ns for p in root.rglob("seed*.json")}
    time.sleep(0.5)  # let any (wrongly) surviving worker write, so that the check below would see it
    assert {p: p.stat().st_mtime_ns for p in root.rglob("seed*.json")} == finished
    done = cli("run", "--experiment", "kill", "--results-dir", str(root), "--jobs", "2", *GRID)
    assert done.returncode == 0, done.stderr
    after = {p: p.stat().st_mtime_ns for p in root.rglob("seed*.json")}
    assert len(after) == 6
    assert all(after[p] == t for p, t in finished.items()), "a finished cell was recomputed"
    assert not list(root.rglob("*.claim")) and not list(root.rglob(".*.tmp*"))


def test_truncated_and_empty_results_are_reported_and_recomputed(tmp_path, capsys):
    cells = ex.make_grid(["1v1-normal-0.75", "1v1-additive-0.1", "1v1-additive-0.75"], ["CCA"], [0], "smoke")
    ex.run_grid(cells, tmp_path, progress=False)
    truncated, empty = cells[0].path(tmp_path), cells[1].path(tmp_path)
    truncated.write_text(truncated.read_text()[:40])
    empty.write_text("")
    with pytest.raises(runner.ResultError, match="seed0.json"):
        ex.load_results(tmp_path)  # the loader names the file it could not read
    with pytest.raises(runner.ResultError, match=f"{truncated}.*not valid JSON"):
        runner.read_result(truncated)
    redone = ex.run_grid(cells, tmp_path, progress=False)
    assert len(redone) == 2
    err = capsys.readouterr().err
    assert str(truncated) in err and "not valid JSON" in err and str(empty) in err and "is empty" in err
    assert len(ex.load_results(tmp_path)) == 3
    keyless = cells[2].path(tmp_path)
    keyless.write_text(json.dumps({"task": "x"}))
    assert len(ex.run_grid(cells, tmp_path, progress=False)) == 1


def test_two_concurrent_runners_share_one_grid(tmp_path):
    root = tmp_path / "results"
    with_progress = [a for a in GRID if a != "--no-progress"]  # each computed cell prints a "| GT " line
    args = [*CLI, "run", "--experiment", "shared", "--results-dir", str(root), "--jobs", "1", *with_progress]
    procs = [subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=400)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    computed = [line for out in outs for line in out.splitlines() if "| GT " in line]
    assert len(computed) == 6, "a cell was computed by both runners (or by neither)"
    assert all(sum("| GT " in line for line in out.splitlines()) > 0 for out in outs), "one runner did all the work"
    assert len(list(root.rglob("seed*.json"))) == 6 and not list(root.rglob("*.claim"))


def test_a_stale_claim_of_a_dead_runner_is_taken_over(tmp_path):
    cell = ex.make_grid(["1v1-normal-0.75"], ["CCA"], [0], "smoke")[0]
    claim = cell.path(tmp_path).with_name("seed0.json.claim")
    claim.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    claim.write_text(json.dumps({"pid": int(dead.stdout), "host": os.uname().nodename}))
    assert len(ex.run_grid([cell], tmp_path, progress=False, group_size=1)) == 1
    assert not claim.exists()


def test_write_json_atomic_is_strict_json_and_stale_temp_files_go(tmp_path):
    path = tmp_path / "a" / "r.json"
    runner.write_json_atomic(path, {"x": float("nan"), "y": [1.0, float("inf")], "z": 2})
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"x": None, "y": [1.0, None], "z": 2}
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = path.with_name(f".r.json.tmp{int(dead.stdout)}")
    live = path.with_name(f".r.json.tmp{os.getpid()}")
    stale.write_text("{")
    live.write_text("{")
    assert runner.clean_stale_temp_files(tmp_path) == [stale]
    assert live.exists() and not stale.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "foo=1"], "setting 'foo' applies to none of MINDE-C"),
        (["--set", "step=10"], "did you mean steps"),
        (["--set", "steps=-1"], "steps must be at least 1"),
        (["--set", "sde=foo"], "unknown SDE 'foo'"),
        (["--set", "seed=3"], "set by the runner"),
        (["--n-samples", "-5"], "n_samples must be an integer of at least 100"),
        (["--seeds", "a-b"], "cannot read --seeds 'a-b'"),
        (["--seeds", "3-1"], "cannot read --seeds '3-1'"),
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--max-memory", "0"], "max_memory_gb must be a positive number of GB"),
        (["--experiment", "../x"], "must be a plain folder name"),
        (["--tasks", "1v1-normal"], "unknown task id '1v1-normal'"),
    ],
)
def test_a_bad_grid_is_one_line_and_exit_2_before_any_cell(tmp_path, args, message):
    flags = {"--experiment": "bad", "--tasks": "1v1-normal-0.75", "--estimators": "MINDE-C", "--protocol": "smoke"}
    flags |= dict(zip(args[::2], args[1::2], strict=True))
    out = cli("run", "--results-dir", str(tmp_path), *(a for pair in flags.items() for a in pair))
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr
    assert not list(tmp_path.rglob("*.json"))


def test_settings_go_only_to_the_estimators_that_take_them():
    cells = ex.make_grid(["1v1-normal-0.75"], ["MINDE-C", "KSG"], [0], "smoke", settings={"steps": 500})
    tags = {c.estimator: c.tag for c in cells}
    assert tags == {"MINDE-C": "+steps=500", "KSG": ""}
    with pytest.raises(ValueError, match="the grid is empty"):
        ex.make_grid([], ["KSG"], [0], "smoke")


def test_summary_and_run_need_an_experiment_that_exists_and_explicit_tasks(tmp_path):
    out = cli("summary", "--experiment", "nothing-here", "--results-dir", str(tmp_path))
    assert out.returncode == 2 and "no experiment 'nothing-here'" in out.stderr and len(out.stderr.splitlines()) == 1
    out = cli("run", "--experiment", "x", "--results-dir", str(tmp_path))
    assert out.returncode == 2 and "--tasks" in out.stderr and "Traceback" not in out.stderr


def test_a_setting_whose_value_is_a_dict_runs_in_groups(tmp_path):
    """``--set "sde_kwargs={'t_eps': 1e-4}"``: the cell is not hashable, the runner keys it by path."""
    cells = ex.make_grid(["1v1-normal-0.75", "1v1-additive-0.1"], ["MINDE-C"], [0], "smoke",
                         settings={"sde_kwargs": {"t_eps": 1e-4}, "steps": 50})  # fmt: skip
    assert cells[0].tag == "+sde_kwargs=t_eps0.0001+steps=50"
    payloads = ex.run_grid(cells, tmp_path, progress=False)
    assert len(payloads) == 2 and payloads[0]["params"]["sde_kwargs"]["t_eps"] == 1e-4


# --- failures: a worker that dies, an allocation over the memory limit ----------------------------------
class _Cell:
    """The least a cell is for the runner (module level: spawned workers unpickle it)."""

    required_keys = ("value",)

    def __init__(self, name: str) -> None:
        self.name = name

    def path(self, root: Path) -> Path:
        return root / f"{self.name}.json"

    def label(self) -> str:
        return self.name


def _write(cells, root):
    return [runner.write_cell_result(c.path(root), {"value": 1}) for c in cells]


def _allocate_8gb(cells, root):
    # with two workers, "fine" runs beside this one: wait for its result, so that the test does not depend on which
    # of the two a loaded machine schedules first (the runner stops at the first failure)
    deadline = time.monotonic() + 60
    while not _Cell("fine").path(root).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    np.ones(8 * 10**9, dtype=np.uint8)  # more than any limit these tests set
    return _write(cells, root)


def _write_commit(cells, root):
    return [runner.write_cell_result(c.path(root), {"git_commit": runner.git_commit()}) for c in cells]


@pytest.mark.parametrize("jobs", [1, 2])
def test_cells_record_the_commit_their_run_started_from(monkeypatch, tmp_path, jobs):
    # HEAD moves while the grid runs (a commit made meanwhile): the cells still name the code that computed them;
    # a spawned worker has no monkeypatch, so it can only know the start's commit from its runner
    heads = iter(["commit-at-start", "commit-made-later"])
    monkeypatch.setattr(runner, "_head_commit", lambda: next(heads))
    units = [runner.Unit(_write_commit, [_Cell("a"), _Cell("b")])]
    assert {p["git_commit"] for p in runner.run_units(units, tmp_path, jobs=jobs, progress=False)} == {"commit-at-start"}
    assert runner.git_commit() == "commit-made-later"  # outside a run: HEAD now


def _die(cells, root):
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer does


def _vm_gb() -> float:
    kb = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmSize:"))
    return int(kb.split()[1]) / 1e6


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_allocation_over_the_memory_limit_names_the_cell_and_keeps_the_finished_ones(tmp_path, jobs):
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    limit = _vm_gb() + 3.0 if jobs == 1 else 4.0  # this process's address space, or a fresh worker's, plus room
    units = [runner.Unit(_write, [_Cell("fine")], cost=2.0), runner.Unit(_allocate_8gb, [_Cell("greedy")], cost=1.0)]
    with pytest.raises(runner.CellFailed, match=r"greedy: out of memory under the [\d.]+ GB address-space limit"):
        runner.run_units(units, tmp_path, jobs=jobs, progress=False, max_memory_gb=limit)
    assert resource.getrlimit(resource.RLIMIT_AS) == before  # jobs=1 limited this process only while computing
    assert runner.is_finished(_Cell("fine"), tmp_path) and not _Cell("greedy").path(tmp_path).exists()
    assert not list(tmp_path.glob("*.claim"))
    assert runner.run_units(units[:1], tmp_path, progress=False) == []  # the finished cell is kept


def test_a_worker_that_dies_names_its_cells_and_releases_them(tmp_path):
    units = [runner.Unit(_die, [_Cell("killed"), _Cell("with-it")])]
    with pytest.raises(runner.CellFailed, match="killed, with-it: the worker process died"):
        runner.run_units(units, tmp_path, jobs=2, progress=False)
    assert not list(tmp_path.glob("*.claim")) and not list(tmp_path.glob("*.json"))
    assert len(runner.run_units([runner.Unit(_write, units[0].cells)], tmp_path, jobs=2, progress=False)) == 2


@pytest.mark.parametrize("module", ["grid", "consistency"])
def test_a_failed_cell_is_one_line_and_exit_1(monkeypatch, capsys, tmp_path, module):
    from minde.experiments import consistency as cs

    def fail(*args, **kwargs):
        raise runner.CellFailed("x: the worker process died")

    mod = ex if module == "grid" else cs
    monkeypatch.setattr(mod, "run_grid", fail)
    argv = (["run", "--experiment", "e", "--protocol", "smoke", "--tasks", "1v1-normal-0.75", "--estimators", "CCA"]
            if module == "grid" else ["run", "--protocol", "smoke", "--tests", "a", "--rows", "4", "--estimators", "NWJ",
                                      "--seeds", "0"])  # fmt: skip
    assert mod.main([*argv, "--results-dir", str(tmp_path), "--max-memory", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "x: the worker process died" in err[0] and "rerun the same command to retry" in err[0]
