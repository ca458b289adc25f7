"""Notebook conventions, and papermill's parameter injection (nbval re-executes the notebooks with their
defaults in `make test`; this checks that other parameters can be passed)."""

import ast
import itertools
from pathlib import Path

import nbformat
import papermill as pm
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_conventions(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[1].metadata.get("tags", []), "the parameters cell must follow the imports cell"
    params = pm.inspect_notebook(str(path))
    assert params and all(p["inferred_type_name"] != "None" for p in params.values()), "parameters must be typed"
    # papermill skips a line it cannot parse (e.g. one with two "="), which breaks -p and the book's rerun box
    from minde.experiments.notebooks import parse_parameters

    assigned = parse_parameters(code[1].source)
    assert list(params) == list(assigned), "papermill must see every parameter the cell assigns"
    assert all(ast.literal_eval(params[k]["default"]) == v for k, v in assigned.items()), "papermill misreads a default"
    assert not [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert any(c.source.startswith("# NBVAL_CHECK_OUTPUT") for c in code), "headline numbers must be checked by nbval"
    assert any("save_figure(" in c.source for c in code)


def test_papermill_overrides_a_parameter(tmp_path, monkeypatch):
    """Run notebook 01 (no training) with fewer Monte-Carlo samples, figures redirected to a temp folder."""
    monkeypatch.setenv("MINDE_FIGURES", str(tmp_path / "figures"))
    src = NOTEBOOKS[0]
    out = tmp_path / src.name
    pm.execute_notebook(str(src), str(out), parameters={"n_samples": 20_000, "n_repeats": 20}, cwd=str(src.parent),
                        kernel_name="python3", progress_bar=False)  # fmt: skip
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "n_samples = 20000" in injected[0].source
    assert "(n=20000)" in "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert (tmp_path / "figures" / "01_two_gaussians.png").exists()


RERUNS = {  # notebook -> parameters of a smoke rerun through the runner (seconds of CPU)
    "05_benchmark_table": {"rerun": True, "rerun_experiment": "rerun-ci-05"},
    "06_growing_mi": {"rerun": True, "rerun_mi": [1.0], "rerun_experiment": "rerun-ci-06"},
    "08_ablations": {"rerun": True, "rerun_settings": [{"sde": "ve"}], "rerun_experiment": "rerun-ci-08"},
    "09_beyond_the_paper": {"rerun": True, "rerun_experiment": "rerun-ci-09"},
}


@pytest.mark.parametrize("stem", sorted(RERUNS))
def test_notebook_reruns_part_of_its_grid(stem, tmp_path, monkeypatch):
    """The cached notebooks are validated by nbval; this runs each paper notebook's `rerun` path at the smoke
    protocol (fresh results folders under data/results/rerun-ci-*, removed afterwards)."""
    import shutil

    from minde.experiments.grid import DEFAULT_RESULTS

    src = next(p for p in NOTEBOOKS if p.stem == stem)
    params = RERUNS[stem]
    for f in DEFAULT_RESULTS.glob(params["rerun_experiment"] + "*"):
        shutil.rmtree(f)
    monkeypatch.setenv("MINDE_FIGURES", str(tmp_path / "figures"))
    try:
        pm.execute_notebook(str(src), str(tmp_path / src.name), parameters=params, cwd=str(src.parent), kernel_name="python3",
                            progress_bar=False)  # fmt: skip
        written = list(DEFAULT_RESULTS.glob(params["rerun_experiment"] + "*/**/seed0.json"))
        assert written, "the rerun wrote no results"
        assert all(json_ok(p) for p in written)
        assert list((tmp_path / "figures").glob(f"{stem[:2]}_*.png"))
    finally:
        for f in DEFAULT_RESULTS.glob(params["rerun_experiment"] + "*"):
            shutil.rmtree(f)


def json_ok(path: Path) -> bool:
    import json

    payload = json.loads(path.read_text())
    return payload["protocol"] == "smoke" and all(abs(e["estimate"]) < 1e3 for e in payload["estimates"].values())


# --- reruns that lose nothing (minde.notebooks) ---------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
NB05 = REPO / "notebooks" / "05_benchmark_table.ipynb"


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative path -> digest)."""
    import hashlib

    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file()}  # fmt: skip


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """Run folders under a temp dir; figures not redirected (so a run that wrote to figures/ would be seen)."""
    monkeypatch.setenv("MINDE_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv("MINDE_FIGURES", raising=False)
    return tmp_path / "runs"


def test_parse_parameters_reads_annotated_and_plain_assignments():
    from minde.experiments.notebooks import parse_parameters

    src = 'steps: int = 15_000  # comment\nname = "a"\nxs: list = [1, {"k": 2.5}]\nf = some_call()\nprint(1)\n'
    assert parse_parameters(src) == {"steps": 15000, "name": "a", "xs": [1, {"k": 2.5}], "f": "some_call()"}


def test_run_folder_names_are_readable_sorted_and_distinct(monkeypatch, tmp_path):
    from minde.experiments.notebooks import run_folder

    monkeypatch.setenv("MINDE_RUNS", str(tmp_path))
    assert run_folder("notebooks/03_minde_c.ipynb", {"steps": 50000, "seed": 1}) == tmp_path / "03_minde_c-seed=1-steps=50000"
    a = run_folder("05_benchmark_table", {"experiments": ["minde-cpu", "baselines-5k"]})
    b = run_folder("05_benchmark_table", {"experiments": ["minde-cpu,baselines-5k"]})
    assert a.name.startswith("05_benchmark_table-experiments=minde-cpu_baselines-5k-") and a != b  # hashed: lossy slugs
    long = run_folder("08_ablations", {f"p{i}": "x" * 20 for i in range(5)})
    assert len(long.name) <= len("08_ablations-") + 60


def test_kernel_overrides_compares_the_injected_cell_with_the_parameters_cell(monkeypatch):
    import IPython

    from minde.experiments import notebooks

    class Shell:
        class history_manager:  # noqa: N801 - mimics IPython's attribute
            input_hist_raw = ["", "import x", "steps: int = 10\nseed: int = 0", "# Parameters\nsteps = 10\nseed = 3\n", "f()"]

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell)
    assert notebooks.kernel_overrides() == {"seed": 3}  # steps = 10 is the default
    Shell.history_manager.input_hist_raw = ["", "steps: int = 10", "# Parameters\nstep = 5\n"]
    with pytest.raises(ValueError, match="did you mean steps"):
        notebooks.kernel_overrides()
    Shell.history_manager.input_hist_raw = ["", "steps: int = 10", "f()"]  # no injected cell: the defaults
    assert notebooks.kernel_overrides() == {}


def test_pin_volatile_drops_timestamps_and_merges_printed_chunks():
    from minde.experiments.notebooks import pin_volatile

    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"start_time": "t0", "end_time": "t1", "duration": 1.0, "parameters": {}, "version": "2"}
    out = nbformat.v4.new_output
    outputs = [out("stream", name="stdout", text="a\n"), out("stream", name="stdout", text=["b\n", "c\n"]),
               out("stream", name="stderr", text="w\n"), out("display_data", data={"text/plain": "x"}),
               out("stream", name="stdout", text="d\n")]  # fmt: skip
    nb.cells = [nbformat.v4.new_code_cell("1", metadata={"execution": {"iopub.status.busy": "t"}, "papermill": {"duration": 1},
                                                         "tags": ["parameters"]}, outputs=outputs)]  # fmt: skip
    pin_volatile(nb, REPO / "notebooks" / "x.ipynb", REPO / "notebooks" / "x.ipynb")
    assert nb.metadata["papermill"] == {"parameters": {}, "version": "2", "input_path": "notebooks/x.ipynb",
                                        "output_path": "notebooks/x.ipynb"}  # fmt: skip
    assert nb.cells[0].metadata == {"tags": ["parameters"]}
    assert [(o.output_type, o.get("name"), o.get("text")) for o in nb.cells[0].outputs] == [
        ("stream", "stdout", "a\nb\nc\n"), ("stream", "stderr", "w\n"), ("display_data", None, None), ("stream", "stdout", "d\n")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_have_no_volatile_metadata(path):
    """What `make figures` writes must not change from one run to the next (no timestamps, no durations)."""
    nb = nbformat.read(path, as_version=4)
    assert not {"start_time", "end_time", "duration"} & set(nb.metadata.get("papermill", {}))
    assert not [c for c in nb.cells if {"execution", "papermill"} & set(c.metadata)]
    for c in (c for c in nb.cells if c.cell_type == "code"):
        kinds = [(o.output_type, o.get("name")) for o in c.outputs]
        assert not [a for a, b in itertools.pairwise(kinds) if a == b and a[0] == "stream"], "printed chunks not merged"
    assert not [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])], "committed runs use the defaults"
    # papermill gives every cell a `tags` list; a cell added by hand without one would change on the next run
    assert [c.get("id") for c in nb.cells if "tags" not in c.metadata] == [], "cells without papermill's tags list"


@pytest.mark.parametrize(("notebook", "typo", "hint"), [("05_benchmark_table", "treshold", "threshold"),
                                                        ("03_minde_c", "step", "steps")])  # fmt: skip
def test_mistyped_parameter_is_an_error_before_anything_runs(notebook, typo, hint, runs_dir, capsys):
    from minde.experiments.notebooks import main

    path = REPO / "notebooks" / f"{notebook}.ipynb"
    before = path.read_bytes()
    assert main([str(path), "-p", typo, "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"did you mean {hint}?" in err and "its parameters:" in err
    assert path.read_bytes() == before and not runs_dir.exists()


def test_wrongly_typed_parameter_is_an_error(runs_dir, capsys):
    from minde.experiments.notebooks import main

    assert main([str(NB05), "-p", "threshold", "abc"]) == 2
    assert "threshold expects float" in capsys.readouterr().err


def test_failing_rerun_leaves_the_notebook_and_figures_byte_identical(runs_dir, capsys):
    """A bad value fails inside the notebook: one line naming the cell and the cause, nothing written."""
    from minde.experiments.notebooks import main

    before, figures = NB05.read_bytes(), snapshot(REPO / "figures")
    assert main([str(NB05), "-p", "experiments", "['no-such-experiment']"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    n_code = sum(c.cell_type == "code" for c in nbformat.read(NB05, 4).cells)
    assert f"code cell 3 of {n_code} ('if rerun:') failed: FileNotFoundError: no such experiment 'no-such-experiment'" in err
    assert "(have: " in err and "minde-cpu" in err and "nothing written" in err
    assert NB05.read_bytes() == before and snapshot(REPO / "figures") == figures
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_failing_run_in_place_keeps_the_previous_notebook(tmp_path, monkeypatch, capsys):
    """The temporary-file path: a copy of notebook 05 whose *default* fails is left byte-identical."""
    from minde.experiments.notebooks import main

    monkeypatch.setenv("MINDE_FIGURES", str(tmp_path / "figures"))
    nb = nbformat.read(NB05, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params.source = params.source.replace('["minde-cpu", "baselines-10k"]', '["no-such-experiment"]', 1)
    copy = tmp_path / NB05.name
    nbformat.write(nb, copy)
    before = copy.read_bytes()
    assert main([str(copy)]) == 1
    err = capsys.readouterr().err
    assert "no such experiment 'no-such-experiment'" in err and "left unchanged" in err
    assert copy.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [NB05.name]  # no temporary file left, no figure saved


def test_rerun_with_other_parameters_writes_to_its_own_run_folder(runs_dir, capsys):
    from minde.experiments.notebooks import main

    committed = {"notebooks": snapshot(REPO / "notebooks"), "figures": snapshot(REPO / "figures")}
    assert main([str(NB05), "-p", "threshold", "0.2"]) == 0
    assert {"notebooks": snapshot(REPO / "notebooks"), "figures": snapshot(REPO / "figures")} == committed
    run = runs_dir / "05_benchmark_table-threshold=0.2"
    assert f"-> {run / NB05.name}" in capsys.readouterr().out
    out = nbformat.read(run / NB05.name, as_version=4)
    injected = [c for c in out.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "threshold = 0.2" in injected[0].source
    assert out.metadata.papermill["parameters"] == {"threshold": 0.2} and "start_time" not in out.metadata.papermill
    saved = {p.name for p in (run / "figures").iterdir()}
    assert {"05_benchmark_table.png", "05_benchmark_table.csv", "05_families.pdf"} <= saved


def test_plain_papermill_with_other_parameters_leaves_figures_untouched(runs_dir, tmp_path):
    """The kernel itself sees the injected parameters: figures go to the run folder without minde.notebooks."""
    figures = snapshot(REPO / "figures")
    pm.execute_notebook(str(NB05), str(tmp_path / "out.ipynb"), parameters={"saturation": 1.0}, cwd=str(NB05.parent),
                        kernel_name="python3", progress_bar=False)  # fmt: skip
    assert snapshot(REPO / "figures") == figures
    assert (runs_dir / "05_benchmark_table-saturation=1.0" / "figures" / "05_benchmark_table.png").exists()
    with pytest.raises(pm.PapermillExecutionError, match="did you mean threshold"):  # plain papermill only warns
        pm.execute_notebook(str(NB05), str(tmp_path / "typo.ipynb"), parameters={"treshold": 0.2}, cwd=str(NB05.parent),
                            kernel_name="python3", progress_bar=False)  # fmt: skip
    assert snapshot(REPO / "figures") == figures


def test_check_helpers_tie_prose_to_computed_numbers(capsys):
    from minde.experiments.notebooks import check, check_range, stated_tolerance

    assert stated_tolerance("0.253") == pytest.approx(5e-4) and stated_tolerance("20") == 0.5
    assert stated_tolerance("1.5e-3") == pytest.approx(5e-5)
    assert check(0.25296, "0.253", "median t") == pytest.approx(0.25296)
    assert "checked: median t" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="half of the draws.*text states 0.03"):
        check(0.253, "0.03", "half of the draws")
    with pytest.raises(AssertionError):
        check(float("nan"), "0.1", "nan")
    assert check(0.41, 0.4, "about 0.4", tol=0.05) == 0.41
    with pytest.raises(ValueError, match="as text"):
        check(0.41, 0.4, "no tolerance")
    assert check_range(0.004, "below 0.01", high=0.01) == 0.004
    with pytest.raises(AssertionError, match=">= 10"):
        check_range(3.0, "at least ten times", low=10)
    with pytest.raises(ValueError, match="not a number"):
        stated_tolerance("about 3")


def test_check_report_mode_lists_every_mismatch_without_stopping(capsys, monkeypatch):
    from minde.experiments.notebooks import CHECKS_ENV, check, check_range

    monkeypatch.setenv(CHECKS_ENV, "report")
    assert check(0.253, "0.03", "half of the draws") == 0.253
    assert check_range(3.0, "at least ten times", low=10) == 3.0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["MISMATCH half of the draws", "MISMATCH at least ten times"]
    monkeypatch.delenv(CHECKS_ENV)
    with pytest.raises(AssertionError, match="update the prose"):
        check(0.253, "0.03", "half of the draws")


def _resolve(dotted: str) -> bool:
    """True when `dotted` (``minde.a.b.c``) names a module, or an attribute reached from the longest importable
    module prefix."""
    import importlib
    import warnings

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


DOCUMENTS = NOTEBOOKS + [NOTEBOOKS[0].parents[1] / "README.md", *sorted((NOTEBOOKS[0].parents[1] / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_code_names_in_prose_exist(path):
    """Every backticked ``minde.x.y`` in a notebook's markdown, the README or docs/ names something that imports
    (the prose maps the paper's algorithms to functions; a rename must not leave it pointing at nothing)."""
    import re

    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    else:
        text = path.read_text()
    names = {m for m in re.findall(r"`{1,2}(minde(?:\.\w+)+)", text)}
    missing = sorted(n for n in names if not _resolve(n))
    assert not missing, f"{path.name} names {missing}"
