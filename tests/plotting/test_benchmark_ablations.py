"""Smoke tests of the paper figures (notebooks 05-09) on tiny synthetic frames."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from minde.plotting import save_figure  # noqa: E402
from minde.plotting.ablations import (  # noqa: E402
    plot_evaluation_spread,
    plot_paired_errors,
    plot_setting_errors,
    plot_sigma_ablation,
    plot_training_length,
)
from minde.plotting.benchmark import plot_benchmark_table, plot_family_counts, plot_growing_mi  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _per_task() -> pd.DataFrame:
    # E solves a (error 0.05), misses b (error -0.3), has no result on c; F solves both it covers
    return pd.DataFrame({"task": ["a", "b", "a", "c"], "estimator": ["E", "E", "F [x]", "F [x]"],
                         "mean": [1.05, 1.7, 0.98, -0.04], "seeds": [3, 3, 1, 1]})  # fmt: skip


def test_benchmark_table_cells_headers_and_missing(tmp_path, monkeypatch):
    fig = plot_benchmark_table(_per_task(), ["a", "b", "c"], {"a": 1.0, "b": 2.0, "c": 0.0}, dims={"a": "1x1", "b": "2x2"})
    ax = fig.axes[0]
    headers = [t.get_text() for t in ax.get_xticklabels()]
    assert headers == ["GT", "E\n1/2", "F\n[x]\n2/2"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a  (1x1)", "b  (2x2)", "c"]
    texts = {(round(t.get_position()[0]), round(t.get_position()[1])): t for t in ax.texts}
    assert texts[(0, 1)].get_text() == "2.0"  # GT column
    assert texts[(1, 0)].get_text() == "1.1" and texts[(1, 0)].get_fontweight() == "bold"  # solved -> bold
    assert texts[(1, 1)].get_text() == "1.7" and texts[(1, 1)].get_fontweight() == "normal"
    assert (1, 2) not in texts  # missing cell: no number
    assert texts[(2, 2)].get_text() == "0.0"  # -0.04 is not printed as -0.0
    err = ax.images[0].get_array()
    assert err.mask[2, 0] and err[1, 0] == pytest.approx(-0.3)
    monkeypatch.setenv("MINDE_FIGURES", str(tmp_path))
    paths = save_figure(fig, "05_test_table")
    assert all(p.exists() for p in paths)


def test_family_counts_bars_and_labels():
    counts = pd.DataFrame({"base": ["x", "y", "x", "y"], "estimator": ["E", "E", "F", "F"], "solved": [1, 0, 2, 0],
                           "covered": [2, 0, 2, 3], "total": [2, 3, 2, 3]})  # fmt: skip
    fig = plot_family_counts({"by base": counts, "again": counts})
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([0.5, 0.0, 1.0, 0.0])
    assert sorted(t.get_text() for t in ax.texts) == ["0/3", "1/2", "2/2"]  # nothing for an uncovered family
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x\n(2 tasks)", "y\n(3 tasks)"]
    fig = plot_family_counts({"t": counts.assign(base=["a-b", "c", "a-b", "c"])})
    assert fig.axes[0].get_xticklabels()[0].get_text() == "a-\nb\n(2 tasks)"  # long group names wrap at "-"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["E", "F"]


def test_growing_mi_panels_lines_and_band():
    levels = pd.DataFrame({"transform": ["none", "none", "spiral", "spiral"], "estimator": ["MINDE-C", "MINDE-C", "CCA", "CCA"],
                           "gt": [1.0, 4.0, 1.0, 4.0], "mean": [1.02, 3.9, 0.3, 0.5],
                           "std": [0.01, float("nan"), 0.0, 0.1]})  # fmt: skip
    fig = plot_growing_mi(levels.iloc[::-1])  # panels in the paper's order whatever the row order
    assert [ax.get_title() for ax in fig.axes] == ["sparse multinormal 3 x 3", "spiral"]
    assert [t.get_text() for t in fig.axes[-1].get_legend().get_texts()] == ["true MI", "MINDE-C", "CCA"]
    line = fig.axes[0].lines[1]  # [truth diagonal, MINDE-C]
    assert list(line.get_ydata()) == [1.02, 3.9]
    fig = plot_growing_mi(levels)
    assert fig.axes[0].get_ylim()[1] == pytest.approx(4.0 * 1.08)


def test_ablation_figures():
    table = pd.DataFrame({"task": ["a", "a", "b", "b"], "form": ["MINDE-C"] * 4, "setting": ["default", "sde=ve"] * 2,
                          "error": [0.01, -0.2, 0.05, 0.3], "std": [float("nan")] * 4})  # fmt: skip
    fig = plot_setting_errors(table, ["default", "sde=ve"])
    bars = [b for c in fig.axes[0].containers if hasattr(c, "patches") for b in c.patches]
    assert [round(b.get_height(), 3) for b in bars] == [0.01, 0.05, -0.2, 0.3]  # per setting, per task
    length = pd.DataFrame({"task": ["a"] * 3, "form": ["MINDE-J"] * 3, "steps": [40000, 5000, 10000],
                           "error": [-0.01, 0.3, -0.1]})  # fmt: skip
    fig = plot_training_length(length)
    xs = [ln.get_xdata() for ln in fig.axes[0].lines if len(ln.get_xdata()) == 3][0]
    assert list(xs) == [5000, 10000, 40000]
    ax = fig.axes[0]  # one labelled tick per step count, no minor tick labels (they overlapped)
    assert list(ax.get_xticks()) == [5000, 10000, 40000]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5k", "10k", "40k"]
    assert ax.xaxis.get_minorticklocs().size == 0
    sweeps = pd.DataFrame({"task": ["a", "a", "b", "b"], "form": ["MINDE-C(sigma)"] * 4, "sigma": [1.0, 2.0, 1.0, 2.0],
                           "error": [0.1, -0.3, 0.3, 0.5]})  # fmt: skip
    fig = plot_sigma_ablation(sweeps, highlight=["a"])
    median = fig.axes[0].lines[0]
    assert list(median.get_ydata()) == pytest.approx([0.2, 0.4])


def test_ablation_figures_draw_error_bars():
    length = pd.DataFrame({"task": ["a"] * 2, "form": ["MINDE-C"] * 2, "steps": [5000, 10000], "error": [0.3, -0.01],
                           "std": [0.05, 0.02]})  # fmt: skip
    fig = plot_training_length(length)
    bars = [c for c in fig.axes[0].containers if type(c).__name__ == "ErrorbarContainer"]
    assert len(bars) == 1
    segs = bars[0].lines[2][0].get_segments()
    assert [sorted(s[:, 1]) for s in segs] == [pytest.approx([0.25, 0.35]), pytest.approx([1e-4, 0.03])]  # clipped
    sweeps = pd.DataFrame({"task": ["a"] * 4, "form": ["MINDE-C(sigma)"] * 4, "sigma": [1.0, 1.0, 2.0, 2.0],
                           "seed": [0, 1, 0, 1], "error": [0.1, 0.3, -0.3, -0.3], "stderr": [0.01] * 4})  # fmt: skip
    fig = plot_sigma_ablation(sweeps, highlight=["a"])
    bars = [c for c in fig.axes[1].containers if type(c).__name__ == "ErrorbarContainer"]
    segs = bars[0].lines[2][0].get_segments()
    assert [float(s[1, 1] - s[0, 1]) / 2 for s in segs] == pytest.approx([0.1414, 0.0], abs=1e-3)  # seed s.d.


def test_paired_errors():
    table = pd.DataFrame({"task": ["a", "a", "b", "b"], "form": ["MINDE-C"] * 4, "setting": ["d", "n_blocks=4"] * 2,
                          "error": [0.2, 0.05, -0.03, -0.12]})  # fmt: skip
    fig = plot_paired_errors(table, ["d", "n_blocks=4"])
    ax = fig.axes[0]
    points = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert [list(ln.get_ydata()) for ln in points] == [[0.2, -0.03], [0.05, -0.12]]  # one line per setting, task order
    segs = ax.collections[0].get_segments()  # the segment joining each task's two errors
    assert [sorted(s[:, 1]) for s in segs] == [pytest.approx([0.05, 0.2]), pytest.approx([-0.12, -0.03])]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["d: 1 of 2 within 0.1", "n_blocks=4: 1 of 2 within 0.1"]
    # with a std column each point gets its error bar (NaN: none)
    fig = plot_paired_errors(table.assign(std=[0.01, 0.02, float("nan"), 0.04]), ["d", "n_blocks=4"])
    bars = [c for c in fig.axes[0].collections[1:]]
    heights = [sorted(abs(seg[1, 1] - seg[0, 1]) for seg in c.get_segments()) for c in bars]
    assert heights == [pytest.approx([0.0, 0.02]), pytest.approx([0.04, 0.08])]
    with pytest.raises(ValueError, match="exactly two settings"):
        plot_paired_errors(table, ["d"])
    # ylim: an error beyond the axis sits on its edge as an outward triangle, still counted in the legend
    far = table.assign(error=[5.0, 0.05, -12.0, -0.12])
    ax = plot_paired_errors(far, ["d", "n_blocks=4"], ylim=(-1.0, 1.0)).axes[0]
    marks = {m: [(float(x), float(y)) for ln in ax.lines if ln.get_marker() == m for x, y in ln.get_xydata()] for m in "o^v"}
    assert marks == {"o": [(0.0, 0.05), (1.0, -0.12)], "^": [(0.0, 1.0)], "v": [(1.0, -1.0)]}
    assert ax.get_ylim() == pytest.approx((-1.08, 1.08))
    assert sorted(s[:, 1].max() for s in ax.collections[0].get_segments()) == pytest.approx([-0.12, 1.0])
    plt.close("all")


def test_evaluation_spread_one_row_per_network_and_form_one_marker_per_rule():
    rows = [{"estimator": e, "task": "t1", "form": f, "rule": r, "ratio": 1.0 if r == "hold" else 2.5, "range": 0.1}
            for e in ("MINDE-C", "MINDE-J") for f in ("inside", "sigma") for r in ("hold", "exact")]  # fmt: skip
    fig = plot_evaluation_spread(pd.DataFrame(rows))
    left, right = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["MINDE-C t1 (inside)", "MINDE-C t1 (sigma)",
                                                              "MINDE-J t1 (inside)", "MINDE-J t1 (sigma)"]  # fmt: skip
    lines = [ln for ln in left.lines if ln.get_linestyle() == "None"]
    assert sorted(ln.get_label() for ln in lines) == ["small_t='exact'", "small_t='hold'"]
    hold = next(ln for ln in lines if ln.get_label() == "small_t='hold'")
    assert list(hold.get_xdata()) == [1.0] * 4 and left.get_xscale() == "log"
