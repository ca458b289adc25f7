"""Notebook conventions, and papermill's parameter injection (nbval re-executes the notebooks with their
defaults in `make test`; this checks that other parameters can be passed)."""

from pathlib import Path

import nbformat
import papermill as pm
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_conventions(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[1].metadata.get("tags", []), "the parameters cell must follow the imports cell"
    params = pm.inspect_notebook(str(path))
    assert params and all(p["inferred_type_name"] != "None" for p in params.values()), "parameters must be typed"
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

    from minde.experiments import DEFAULT_RESULTS

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
