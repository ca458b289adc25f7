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
