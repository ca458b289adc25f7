"""The experiment runner: cells, atomic JSON results, resuming, summaries, clear errors, executors."""

import csv
import json

import pytest

from minde.benchmark.tasks import get_task
from minde.experiments import grid as ex


@pytest.fixture
def grid():
    return ex.make_grid(["1v1-normal-0.75"], ["MINDE-C", "CCA"], [0, 1], "smoke")


def test_make_grid_normalises_and_checks_names(grid):
    assert len(grid) == 4
    assert {c.estimator for c in grid} == {"MINDE-C", "CCA"}
    assert ex.make_grid(["1v1-normal-0.75"], ["minde-j"], [0], "SMOKE")[0].estimator == "MINDE-J"
    with pytest.raises(ValueError, match="unknown estimator 'MIND-C'.*MINDE-C"):
        ex.make_grid(["1v1-normal-0.75"], ["MIND-C"], [0], "smoke")
    with pytest.raises(ValueError, match="unknown protocol 'fast'"):
        ex.make_grid(["1v1-normal-0.75"], ["CCA"], [0], "fast")
    with pytest.raises(ValueError, match="unknown task id '1v1-normal'.*1v1-normal-0.75"):
        ex.make_grid(["1v1-normal"], ["CCA"], [0], "smoke")


def test_run_resume_and_summary(grid, tmp_path):
    results = ex.run_grid(grid, tmp_path, jobs=1, progress=False)
    assert len(results) == 4
    cell = grid[0]
    payload = json.loads(cell.path(tmp_path).read_text())
    for key in ("task", "estimator", "seed", "gt", "estimates", "seconds", "params", "git_commit", "machine", "minde_version"):
        assert key in payload
    assert set(payload["estimates"]) == {"MINDE-C", "MINDE-C(sigma)"}
    # the sigma sweep reuses the cell's (t, eps) draws: at the default s = 1 it is the reported sigma-form estimate
    sweep = payload["sigma_sweep"]
    assert sweep["sigma"] == list(ex.SIGMA_SWEEP) and len(sweep["mi_sigma"]) == len(ex.SIGMA_SWEEP)
    assert sweep["mi_sigma"][ex.SIGMA_SWEEP.index(1.0)] == payload["estimates"]["MINDE-C(sigma)"]["estimate"]
    assert len(set(sweep["mi_sigma"])) == len(ex.SIGMA_SWEEP)  # s does change the sigma form
    assert payload["gt"] == pytest.approx(0.41334, abs=1e-4)
    # a second run finds every cell finished and does nothing
    before = cell.path(tmp_path).stat().st_mtime_ns
    assert ex.run_grid(grid, tmp_path, jobs=1, progress=False) == []
    assert cell.path(tmp_path).stat().st_mtime_ns == before
    rows = list(csv.DictReader(ex.summarize(tmp_path).open()))
    assert len(rows) == 6  # two MINDE rows per model, one CCA row
    assert {"task", "estimator", "seed", "estimate", "gt", "abs_error", "seconds"} <= set(rows[0])
    assert {r["estimator"] for r in rows} == {"MINDE-C", "MINDE-C(sigma)", "CCA"}
    assert not list(tmp_path.rglob("*.tmp*"))


def test_same_seed_same_numbers(tmp_path):
    cell = ex.make_grid(["multinormal-dense-2-2-0.5"], ["MINDE-J"], [3], "smoke")[0]
    a = ex.run_cell(cell, tmp_path / "a")["estimates"]
    b = ex.run_cell(cell, tmp_path / "b")["estimates"]
    assert a == b


def test_settings_name_the_variant(tmp_path):
    cell = ex.make_grid(["1v1-normal-0.75"], ["MINDE-C"], [0], "smoke", settings={"sde": "ve"})[0]
    payload = ex.run_cell(cell, tmp_path)
    assert set(payload["estimates"]) == {"MINDE-C+sde=ve", "MINDE-C(sigma)+sde=ve"}
    assert payload["params"]["sde"] == "ve"


def test_settings_reach_constructors_that_pass_keywords_on():
    """MINE's constructor takes **kwargs for the shared training loop: --set must reach them, not drop them."""
    assert {"monitor_rows", "lr", "max_steps", "smoothing_alpha"} <= ex.accepted_settings("MINE")
    assert "seed" not in ex.accepted_settings("MINE")  # the runner's own
    cells = ex.make_grid(["1v1-normal-0.75"], ["MINE", "InfoNCE", "CCA"], [0], "smoke", settings={"monitor_rows": 50})
    got = {c.estimator: dict(c.settings) for c in cells}
    assert got == {"MINE": {"monitor_rows": 50}, "InfoNCE": {"monitor_rows": 50}, "CCA": {}}


def test_parallel_workers_and_submitit_local(tmp_path):
    cells = ex.make_grid(["1v1-normal-0.75", "1v1-additive-0.1"], ["CCA"], [0], "smoke")
    assert len(ex.run_grid(cells, tmp_path / "pool", jobs=2, progress=False)) == 2
    pytest.importorskip("submitit")
    assert len(ex.run_grid(cells, tmp_path / "submitit", executor="submitit-local", progress=False)) == 2
    assert ex.load_results(tmp_path / "pool")[0]["estimates"] == ex.load_results(tmp_path / "submitit")[0]["estimates"]


def test_cli_reports_unknown_names(capsys):
    assert ex.main(["run", "--experiment", "x", "--tasks", "1v1-normal-0.75", "--estimators", "KSGG"]) == 2
    err = capsys.readouterr().err
    assert "unknown estimator 'KSGG'; did you mean KSG?" in err and len(err.strip().splitlines()) == 1


def test_named_task_sets():
    from minde.benchmark.tasks import FIGURE1_MI, get_task

    assert len(ex.task_set("all")) == 40
    fig1 = ex.task_set("figure1")
    assert len(fig1) == 3 * len(FIGURE1_MI)
    assert sorted({round(get_task(t).mutual_information, 6) for t in fig1}) == sorted(FIGURE1_MI)
    coarse = ex.task_set("figure1-coarse")
    assert set(coarse) < set(fig1) and sorted({get_task(t).mutual_information for t in coarse}) == pytest.approx([1, 3, 5])
    heavy = ex.task_set("heavy-tails")
    assert len(heavy) == 11 and all(get_task(t).id.split("-")[0] in ("student", "asinh") for t in heavy)
    assert sum(t.startswith("asinh") for t in heavy) == 4
    cells = ex.make_grid(fig1[:2], ["CCA"], [0], "smoke")
    assert [c.task for c in cells] == fig1[:2]
    with pytest.raises(ValueError, match="unknown task set 'figure2'"):
        ex.task_set("figure2")


def test_cpu_protocol_gives_minde_j_more_steps_above_ten_dimensions():
    cpu = ex.PROTOCOLS["cpu"]
    assert cpu.minde_kwargs(10, "j")["steps"] == cpu.minde_kwargs(50, "c")["steps"] == 40_000
    assert cpu.minde_kwargs(11, "j")["steps"] == 80_000
    assert cpu.minde_kwargs(11, "j")["batch_size"] == cpu.minde_kwargs(11, "c")["batch_size"] == 256


def test_cells_of_gives_the_grid_back_and_refuses_cells_whose_protocol_changed(tmp_path):
    """`replicate` reruns the cells behind an experiment; a cell the protocol would now train differently (here:
    its recorded steps edited, as when the protocol gave MINDE-J more steps) is named, not silently rerun."""
    import json

    from minde.experiments import grid as ex

    cells = ex.make_grid(["1v1-normal-0.75"], ["MINDE-C", "KSG"], [0, 1], "smoke")
    ex.run_grid(cells, tmp_path / "x", progress=False)
    assert set(ex.cells_of(tmp_path / "x")) == set(cells)
    path = next(c for c in cells if c.is_minde).path(tmp_path / "x")
    payload = json.loads(path.read_text())
    payload["params"]["steps"] += 1
    path.write_text(json.dumps(payload))
    with pytest.raises(ValueError, match=r"1 cell\(s\) would not be the same run again.*steps was \d+, now \d+"):
        ex.cells_of(tmp_path / "x")


def test_reevaluate_gives_the_committed_estimates_back(tmp_path):
    """Re-reading a kept network (same held-out rows, same evaluation seed) reproduces the estimates of the run, under
    the names of its settings."""
    cells = ex.make_grid(["1v1-normal-0.75"], ["MINDE-C"], [0], "smoke", settings={"steps": 120})
    ex.run_grid(cells, tmp_path / "x", progress=False)
    (again,) = ex.reevaluate(tmp_path / "x", tmp_path / "y", progress=False)
    first = ex.load_results(tmp_path / "x")[0]
    assert set(again["estimates"]) == {"MINDE-C+steps=120", "MINDE-C(sigma)+steps=120"}
    assert {k: v["estimate"] for k, v in again["estimates"].items()} == {k: v["estimate"] for k, v in first["estimates"].items()}


def test_units_stack_every_seed_and_task_of_one_shape_and_put_the_dearest_first():
    one = ["1v1-normal-0.75", "1v1-bimodal-0.75"]
    cells = ex.make_grid(one + ["multinormal-dense-25-25-0.5"], ["MINDE-C", "MINDE-J", "CCA"], [0, 1, 2], "cpu")
    units = ex.units_for(cells, group_size=27)
    minde = [u for u in units if u.cells[0].is_minde]
    # one stack per variant and shape, holding all its seeds and tasks; every baseline cell alone
    assert sorted(len(u.cells) for u in minde) == [3, 3, 6, 6]
    assert all(len({ex._stack_key(c) for c in u.cells}) == 1 for u in minde)
    assert {(c.task, c.seed) for u in minde if len(u.cells) == 6 for c in u.cells} == {(t, s) for t in one for s in range(3)}
    assert sum(len(u.cells) for u in units) == len(cells) and sum(not u.cells[0].is_minde for u in units) == 9
    # the 25 x 25 stacks cost more per model than the 1 x 1 ones (about three times per step), MINDE-J's most (80k steps)
    cost = {(u.cells[0].estimator, get_task(u.cells[0].task).dim_x): u.cost / len(u.cells) for u in minde}
    assert cost[("MINDE-J", 25)] > cost[("MINDE-C", 25)] > 2.5 * cost[("MINDE-C", 1)]
    assert cost[("MINDE-C", 1)] == cost[("MINDE-J", 1)]
    # a smaller group size splits a shape's models in order: full groups first
    assert sorted(len(u.cells) for u in ex.units_for(cells, group_size=4) if u.cells[0].is_minde) == [2, 2, 3, 3, 4, 4]


def test_seeds_of_one_task_trained_together_give_the_numbers_they_give_alone(tmp_path):
    cells = ex.make_grid(["1v1-normal-0.75"], ["MINDE-C"], [0, 1], "smoke")
    together = ex.run_grid(cells, tmp_path / "together", jobs=1, progress=False, group_size=2)
    alone = ex.run_grid(cells, tmp_path / "alone", jobs=1, progress=False, group_size=1)
    assert [p["trained_together"]["models"] for p in together] == [2, 2]
    by_seed = {p["seed"]: p for p in alone}
    for p in together:
        for name, est in p["estimates"].items():
            assert est["estimate"] == pytest.approx(by_seed[p["seed"]]["estimates"][name]["estimate"], abs=1e-4)
    assert together[0]["estimates"] != together[1]["estimates"]  # two seeds, two models
