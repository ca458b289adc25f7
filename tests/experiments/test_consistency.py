"""MNIST self-consistency tests (minde.experiments.consistency): data of the three tests, pairing, verdicts, runner."""

import csv
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from minde.experiments import consistency as cs
from minde.experiments.mnist import load_mnist
from minde.plotting.consistency import YLIMS, plot_consistency, plot_examples


@pytest.fixture(scope="module")
def images():
    return load_mnist().images


@pytest.fixture(scope="module")
def model():
    return cs.load_autoencoder()


@pytest.fixture(scope="module")
def codes(model, images):
    return cs._Codes(model, images[::20])  # 500 digits, every class


# --- arguments -------------------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors(codes):
    with pytest.raises(ValueError, match="unknown test 'd'"):
        cs.make_grid(["d"], [4], ["MINDE-C"], [0], "smoke")
    with pytest.raises(ValueError, match=r"r must be in 0..28, got 29"):
        cs.make_grid(["a"], [29], ["MINDE-C"], [0], "smoke")
    with pytest.raises(ValueError, match=r"r must be in 0..28, got -1"):
        cs.make_grid(["a"], [-1], ["MINDE-C"], [0], "smoke")
    with pytest.raises(ValueError, match="unknown estimator 'MINDE-X'"):
        cs.make_grid(["a"], [4], ["MINDE-X"], [0], "smoke")
    with pytest.raises(ValueError, match="unknown protocol 'fast'"):
        cs.make_grid(["a"], [4], ["MINDE-C"], [0], "fast")
    with pytest.raises(ValueError, match=r"test b needs rows in 1..25"):
        cs.make_grid(["b"], [26, 28], ["MINDE-C"], [0], "smoke")
    with pytest.raises(ValueError, match=r"test c needs rows in 1..28"):
        cs.make_grid(["c"], [0], ["MINDE-C"], [0], "smoke")
    with pytest.raises(ValueError, match="at least one"):
        cs.make_grid(["a"], [4], [], [0], "smoke")
    with pytest.raises(ValueError, match=r"r must be in 1..25, got 26"):
        cs.cell_data("b", 26, codes, 0, 100)
    with pytest.raises(ValueError, match="r must be an integer"):
        cs.cell_data("a", 4.0, codes, 0, 100)
    with pytest.raises(ValueError, match="n_test must be in"):
        cs.split_indices(10, 10, 0)
    with pytest.raises(ValueError, match="cannot read rows"):
        cs._parse_ints("0,four", "rows")
    assert cs.main(["run", "--tests", "a,z", "--protocol", "smoke"]) == 2  # one line on stderr, exit status 2
    assert cs._parse_ints("0-28:4", "rows") == list(cs.ROWS)
    assert cs._parse_ints("0-2", "seeds") == [0, 1, 2]


def test_grid_adds_the_denominators():
    cells = cs.make_grid(["c"], [8], ["nwj"], [0, 1], "SMOKE")
    assert {(c.test, c.r, c.estimator, c.protocol) for c in cells} == {("c", 8, "NWJ", "smoke"), ("a", 8, "NWJ", "smoke")}
    assert len(cells) == 4
    cells = cs.make_grid(["a", "b"], [0, 4, 28], ["MINDE-C"], [0], "smoke")
    assert sorted((c.test, c.r) for c in cells) == [("a", 0), ("a", 4), ("a", 28), ("b", 4)]  # b: 0, 28 are not valid
    assert {(c.test, c.r) for c in cs.make_grid(["a"], [4], ["MINDE-C"], [0], "smoke")} == {("a", 4), ("a", 28)}


# --- the data of the three tests -------------------------------------------------------------------
def test_cell_data_shapes(codes):
    n, n_test = len(codes.images), 100
    a = cs.cell_data("a", 8, codes, 0, n_test)["num"]
    assert a["x_train"].shape == (n - n_test, 16) and a["y_test"].shape == (n_test, 16)
    b = cs.cell_data("b", 8, codes, 0, n_test)
    assert b["num"]["y_train"].shape == (n - n_test, 32) and b["den"]["y_train"].shape == (n - n_test, 16)
    np.testing.assert_array_equal(b["num"]["y_train"][:, :16], b["den"]["y_train"])  # [B_{r+k}, B_r], den B_{r+k}
    np.testing.assert_array_equal(b["num"]["y_test"][:, 16:], a["y_test"])  # ... and B_r is test a's y
    np.testing.assert_array_equal(b["num"]["x_train"], a["x_train"])
    c = cs.cell_data("c", 8, codes, 0, n_test)["num"]
    assert c["x_train"].shape == (n - n_test, 32) and c["y_test"].shape == (n_test, 32)
    np.testing.assert_array_equal(c["x_train"][:, :16], a["x_train"])  # A1 half is test a's data: same denominator rows
    np.testing.assert_array_equal(c["y_test"][:, :16], a["y_test"])
    # B_0 inside [B_{r+k}, B_0] is constant and dropped; with B_0 alone nothing is left
    b1 = cs.cell_data("b", 1, codes, 0, n_test)["num"]
    kept, dropped = cs._drop_constant(b1, "train")
    assert kept["y_train"].shape[1] + dropped == 32
    a0 = cs.cell_data("a", 0, codes, 0, n_test)["num"]
    assert cs._drop_constant(a0, "all")[0]["y_train"].shape[1] == 0


def test_pairing_is_independent(images):
    labels = load_mnist().labels
    train, test = cs.split_indices(len(labels), 2000, seed=1)
    assert len(test) == 2000 and len(np.union1d(train, test)) == len(labels) and not np.intersect1d(train, test).size
    p_train, p_test = cs.pair_within(train, test, seed=1)
    for idx, partner in ((train, p_train), (test, p_test)):
        assert not np.any(partner == idx)  # never paired with itself
        assert np.array_equal(np.sort(partner), np.sort(idx))  # each image once as A2, within its own split
    # independent labels agree with probability sum_k p_k^2 (~0.1); a pairing by class would give ~1
    expected = float((np.bincount(labels) / len(labels)) @ (np.bincount(labels) / len(labels)))
    agree = float(np.mean(labels[train] == labels[p_train]))
    assert abs(agree - expected) < 0.02
    assert not np.array_equal(cs.pair_within(train, test, seed=2)[0], p_train)
    assert np.array_equal(cs.pair_within(train, test, seed=1)[0], p_train)
    with pytest.raises(ValueError, match="n >= 2"):
        cs.derangement(1, np.random.default_rng(0))


# --- verdicts --------------------------------------------------------------------------------------
ROWS = np.arange(0, 29, 4)


def test_check_monotone():
    good = [0.0, 0.2, 0.5, 0.7, 0.85, 0.93, 0.97, 1.0]
    assert cs.check_monotone(ROWS, good).passed
    dip = [0.0, 0.2, 0.5, 0.7, 0.55, 0.93, 0.97, 1.0]  # a drop of 0.15
    assert not cs.check_monotone(ROWS, dip).passed
    assert "drop of 0.15 from r=12 to r=16" in cs.check_monotone(ROWS, dip).detail
    assert cs.check_monotone(ROWS, dip, se=np.full(8, 0.1)).passed  # within 2 combined standard errors (0.28)
    assert cs.check_monotone(ROWS, [0.0, 0.2, 0.5, 0.7, 0.67, 0.93, 0.97, 1.0]).passed  # within the 0.05 tolerance
    low = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1.0]
    v = cs.check_monotone(ROWS, low)
    assert not v.passed and "0.60 < 0.9 at r=24" in v.detail
    assert not cs.check_monotone(ROWS, [0.0, 0.2, 0.5, 1.3, 1.3, 1.3, 1.3, 1.3]).passed  # above I(A; A)
    assert cs.check_monotone(ROWS[::-1], good[::-1]).passed  # order of the rows does not matter
    with pytest.raises(ValueError, match="same non-zero length"):
        cs.check_monotone(ROWS, good[:-1])
    with pytest.raises(ValueError, match="NaN"):
        cs.check_monotone(ROWS, [np.nan] * 8)


def test_check_band():
    rows = ROWS[1:]
    assert cs.check_band(rows, [1.02, 0.95, 1.08, 1.0, 0.97, 1.01, 1.0], 1.0, 0.1).passed
    v = cs.check_band(rows, [1.02, 0.95, 1.25, 1.0, 0.97, 1.01, 1.0], 1.0, 0.1)
    assert not v.passed and "r = 12" in v.detail and "1.25" in v.detail
    assert cs.check_band(rows, [1.9, 2.1, 2.15, 1.85, 2.0, 2.0, 1.95], 2.0, 0.2).passed
    assert not cs.check_band(rows, [1.0, 1.1, 1.0, 1.05, 1.0, 1.0, 1.0], 2.0, 0.2).passed  # InfoNCE-like saturation
    with pytest.raises(ValueError, match="band must be positive"):
        cs.check_band(rows, [1.0] * 7, 1.0, 0.0)


def test_evaluate_on_synthetic_curves():
    rows = []
    for r, good, bad in zip(ROWS, [0.0, 0.2, 0.5, 0.7, 0.85, 0.93, 0.97, 1.0], [0.0, 0.6, 0.3, 0.7, 0.6, 0.6, 0.6, 1.0],
                            strict=True):  # fmt: skip
        rows += [{"test": "a", "estimator": "good", "r": r, "mean": good, "sd": 0.0, "se": 0.0, "seeds": 3},
                 {"test": "a", "estimator": "bad", "r": r, "mean": bad, "sd": 0.0, "se": 0.0, "seeds": 3}]  # fmt: skip
        if r:
            rows += [{"test": "c", "estimator": "good", "r": r, "mean": 2.05, "sd": 0.0, "se": 0.0, "seeds": 3},
                     {"test": "c", "estimator": "bad", "r": r, "mean": 1.0, "sd": 0.0, "se": 0.0, "seeds": 3}]  # fmt: skip
    verdicts = cs.evaluate(pd.DataFrame(rows)).set_index(["test", "estimator"])["passed"].to_dict()
    assert verdicts == {("a", "good"): True, ("a", "bad"): False, ("c", "good"): True, ("c", "bad"): False}


# --- the runner ------------------------------------------------------------------------------------
def test_runner_writes_resumes_and_summarises(tmp_path):
    cells = cs.make_grid(["a", "b", "c"], [0, 4, 28], ["MINDE-C", "NWJ"], [0], "smoke")
    assert len(cells) == 2 * 6  # a0 a4 a28 b4 c4 c28
    results = cs.run_grid(cells, tmp_path, progress=False)
    assert len(results) == len(cells)
    payload = json.loads(cells[0].path(tmp_path).read_text())
    for key in ("test", "estimator", "r", "seed", "protocol", "fits", "seconds", "cpu_seconds", "autoencoder",
                "mnist_source", "minde_version", "git_commit", "machine", "finished", "quantities"):  # fmt: skip
        assert key in payload, key
    assert payload["autoencoder"]["sha256"] == cs.AUTOENCODER_SHA256
    a0 = json.loads(cs.Cell(0, "a", 0, "MINDE-C", "smoke").path(tmp_path).read_text())
    assert a0["fits"]["num"]["exact"] and a0["fits"]["num"]["estimates"]["MINDE-C"]["estimate"] == 0.0
    b4 = json.loads(cs.Cell(0, "b", 4, "MINDE-C", "smoke").path(tmp_path).read_text())
    assert b4["k"] == cs.K and set(b4["fits"]) == {"num", "den"} and b4["fits"]["num"]["dim_y"] == 32
    curve = b4["fits"]["num"]["loss_curve"]
    assert len(curve["step"]) == len(curve["heldout"]) == len(curve["train"]) == 10  # held-out loss tracked
    # resume: nothing left to do, files untouched; a different protocol in the same folder is refused
    stamp = cells[0].path(tmp_path).stat().st_mtime_ns
    assert cs.run_grid(cells, tmp_path, progress=False) == []
    assert cells[0].path(tmp_path).stat().st_mtime_ns == stamp
    with pytest.raises(ValueError, match="protocol 'smoke', not 'cpu'"):
        cs.run_grid([cs.Cell(0, "a", 4, "NWJ", "cpu")], tmp_path, progress=False)
    assert not list(tmp_path.rglob("*.tmp*"))
    # ratios: a is divided by its own r = 28 cell, c by a at the same r, b by its own denominator
    table = cs.ratio_table(cs.load_results(tmp_path))
    get = table.set_index(["test", "estimator", "r"])["ratio"]
    assert get[("a", "MINDE-C", 28)] == 1.0 and get[("a", "NWJ", 0)] == 0.0
    assert get[("c", "NWJ", 4)] == pytest.approx(
        table.query("test == 'c' and estimator == 'NWJ' and r == 4")["numerator"].item()
        / table.query("test == 'a' and estimator == 'NWJ' and r == 4")["numerator"].item())
    assert get[("b", "MINDE-C", 4)] == pytest.approx(b4["ratio"]["MINDE-C"]["estimate"])
    assert {"MINDE-C", "MINDE-C(sigma)", "NWJ"} == set(table["estimator"])
    rows = list(csv.DictReader(cs.summarize(tmp_path).open()))
    assert len(rows) == len(table) and set(rows[0]) == set(cs.RATIO_COLUMNS)
    verdicts = cs.evaluate(cs.curves(table))
    assert set(verdicts["test"]) == {"a", "b", "c"} and verdicts["passed"].dtype == bool


def test_same_seed_same_numbers_also_in_worker_processes(tmp_path):
    cell = cs.Cell(1, "a", 12, "MINDE-J", "smoke")
    first = cs.run_cell(cell, tmp_path / "x")["fits"]["num"]["estimates"]
    again = cs.run_cell(cell, tmp_path / "y")["fits"]["num"]["estimates"]
    assert first == again
    pooled = cs.run_grid([cell, cs.Cell(1, "a", 8, "NWJ", "smoke")], tmp_path / "pool", jobs=2, progress=False)
    assert len(pooled) == 2
    assert next(p for p in pooled if p["estimator"] == "MINDE-J")["fits"]["num"]["estimates"] == first


def test_cells_trained_together_are_the_cells_trained_alone(tmp_path):
    """MINDE cells of one test run as one unit (their fits of one shape stacked, `fit_many`): each cell's estimates,
    loss curve and checkpoint are those of the cell run alone, up to float rounding; the unit's time is shared out."""
    cells = [cs.Cell(0, "b", 4, "MINDE-C", "smoke"), cs.Cell(1, "b", 4, "MINDE-C", "smoke"),
             cs.Cell(0, "b", 8, "MINDE-C", "smoke")]  # fmt: skip
    units = cs.units_for(cells + [cs.Cell(0, "b", 4, "NWJ", "smoke")], group_size=2)
    assert sorted(len(u.cells) for u in units) == [1, 1, 2]  # MINDE-C in groups of <= 2, the baseline alone
    together = cs.run_cells(cells, tmp_path / "together")
    for cell, grouped in zip(cells, together, strict=True):
        alone = cs.run_cell(cell, tmp_path / "alone")
        assert grouped["trained_together"]["cells"] == [c.label() for c in cells]
        for role in ("num", "den"):
            g, a = grouped["fits"][role], alone["fits"][role]
            for name, value in a["estimates"].items():
                assert g["estimates"][name]["estimate"] == pytest.approx(value["estimate"], abs=1e-4), (cell, role, name)
            assert g["loss_curve"]["step"] == a["loss_curve"]["step"]
            np.testing.assert_allclose(g["loss_curve"]["heldout"], a["loss_curve"]["heldout"], rtol=1e-4)
            assert (tmp_path / "together" / "_models" / g["checkpoint"]).is_file()
    assert sum(p["cpu_seconds"] for p in together) == pytest.approx(together[0]["trained_together"]["cpu_seconds"])
    with pytest.raises(ValueError, match="one estimator and protocol"):
        cs.run_cells([cells[0], cs.Cell(0, "b", 4, "MINDE-J", "smoke")], tmp_path / "mixed")


def test_per_row_protocol_uses_one_autoencoder_per_crop_level(images, tmp_path):
    """The authors' representation: codes of B_r from the autoencoder trained on B_r alone; test b's numerator
    with A duplicated; each cell records the hash of every autoencoder it read."""
    from minde.experiments import autoencoder as ae

    folder = tmp_path / "per-row"
    recipe = ae.PER_ROW_RECIPE | {"steps": 30}
    shas = ae.train_per_row(images[:500], [4, 7, 28], folder, recipe=recipe)
    assert sorted(shas) == [4, 7, 28] and ae.train_per_row(images[:500], [4], folder, recipe=recipe) == {4: shas[4]}
    assert list(ae.train_per_row(images[:500], [28, 4, 28], folder, recipe=recipe)) == [28, 4]  # the order given
    model = ae.load_per_row(7, folder)
    assert model.info["rows"] == 7 and "B_7" in model.info["truncation"] and model.info["optimizer"] == "Adam with amsgrad"
    with pytest.raises(FileNotFoundError, match="autoencoders-per-row"):
        ae.load_per_row(5, folder)
    codes = cs._PerRowCodes(images[::20], folder)
    assert not np.allclose(codes(7), cs.encode(ae.load_per_row(28, folder), images[::20], 7))  # its own encoder
    assert (codes(0) == 0).all()
    d = cs.cell_data("b", 4, codes, 0, 100, duplicate_a=True)
    assert d["num"]["x_train"].shape[1] == 32 and (d["num"]["x_train"][:, :16] == d["num"]["x_train"][:, 16:]).all()
    assert d["den"]["x_train"].shape[1] == 16
    payload = cs.run_cell(cs.Cell(0, "b", 4, "MINDE-C", "smoke-per-row"), tmp_path / "res", autoencoder=folder)
    assert payload["encoders"] == "per-row" and payload["quantities"]["num"] == "I([A, A]; [B_7, B_4])"
    assert payload["autoencoder"]["sha256"] == {str(r): shas[r] for r in (4, 7, 28)}
    assert payload["fits"]["num"]["dim_x"] == 32


def test_duplicate_a_protocol_duplicates_a_on_the_shared_autoencoder(tmp_path, monkeypatch):
    """cpu-duplicate-a separates the two differences of the authors' representation: the shared codes, with test
    b's numerator as their code computes it; the other protocols keep the duplication tied to the encoders."""
    assert not cs.PROTOCOLS["cpu"].duplicates_a and cs.PROTOCOLS["cpu-per-row"].duplicates_a
    dup = cs.PROTOCOLS["cpu-duplicate-a"]
    assert dup.duplicates_a and dup.encoders == "shared"
    assert replace(dup, name="x", encoders="shared", duplicate_a=None, description="") == replace(
        cs.PROTOCOLS["cpu"], name="x", description="")  # nothing else differs from cpu
    monkeypatch.setitem(cs.PROTOCOLS, "smoke-dup", replace(cs.PROTOCOLS["smoke"], name="smoke-dup", duplicate_a=True))
    payload = cs.run_cell(cs.Cell(0, "b", 4, "MINDE-C", "smoke-dup"), tmp_path / "res")
    assert payload["quantities"]["num"] == "I([A, A]; [B_7, B_4])" and payload["fits"]["num"]["dim_x"] == 32
    assert payload["fits"]["den"]["dim_x"] == 16 and payload["encoders"] == "shared"


def test_figures_draw(model, images):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [{"test": t, "estimator": e, "r": r, "mean": m, "sd": 0.1, "se": 0.05, "seeds": 3}
            for t in cs.TESTS for e in ("MINDE-C", "NWJ") for r, m in ((4, 0.5), (16, 9.0), (24, -3.0))]  # fmt: skip
    fig = plot_consistency(pd.DataFrame(rows))
    assert len(fig.axes) == 3 and fig.axes[0].get_ylim() == YLIMS["a"]
    plt.close(fig)
    fig = plot_examples(images[:2], rows=(0, 14, 28), model=model)
    assert len(fig.axes) == 2 * 2 * 3
    plt.close(fig)
