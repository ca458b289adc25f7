"""Smoke tests of the figure functions of notebooks 03-04: they draw from plain arrays, label what they show,
and save under a stable name."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from minde import Estimate  # noqa: E402
from minde.plotting import save_figure  # noqa: E402
from minde.plotting.learned import (  # noqa: E402
    plot_entropies,
    plot_entropy_bias,
    plot_learned_small_t,
    plot_learned_time_profile,
    plot_mi_during_training,
    plot_pair_samples,
    plot_sigma_sweep,
    plot_variant_comparison,
)


def _history(offset: float = 0.0) -> dict[str, np.ndarray]:
    step = np.array([100, 200, 300])
    return {"step": step, "mi": 0.4 + offset + 0 * step, "mi_stderr": np.full(3, 0.01),
            "mi_sigma": np.array([0.3, 0.35, 0.38]), "mi_sigma_stderr": np.full(3, 0.02)}  # fmt: skip


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labels(fig: plt.Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]


def test_pair_samples_and_training_curves():
    rng = np.random.default_rng(0)
    samples = {"A": (rng.normal(size=(50, 1)), rng.normal(size=50)), "B": (rng.normal(size=(50, 2)), rng.normal(size=(50, 1)))}
    fig = plot_pair_samples(samples, {"A": 0.41, "B": 0.2})
    assert len(fig.axes) == 2 and "0.4100" in fig.axes[0].get_title()
    fig = plot_mi_during_training({"A": {"MINDE-C": _history(), "MINDE-J": _history(0.01)}, "B": {"c": _history()}},
                                    {"A": 0.41, "B": 0.41})  # fmt: skip
    labels = _labels(fig)
    assert len(fig.axes) == 2
    for form in ("MINDE-C: 0.400", "MINDE-C(sigma): 0.380", "MINDE-J: 0.410", "MINDE-J(sigma): 0.380", "true MI 0.4100"):
        assert form in labels


def test_time_profile_sigma_sweep_entropies_and_comparison(tmp_path, monkeypatch):
    t = np.linspace(0.01, 1, 5)
    learned = {"mi": t, "mi_sigma": t, "H(X)": 0 * t, "H(X|Y)": t}
    exact = {"MINDE-C": t, "MINDE-C(sigma)": t, "H(X)": 0 * t, "H(X|Y)": t}
    fig = plot_learned_time_profile(t, learned, t, exact, variant="c")
    assert len(fig.axes) == 3 and fig.axes[0].get_title() == "MINDE-C integrand"
    assert any(lbl.startswith("H(X|Y): area") for lbl in _labels(fig))
    sweep = {"sigma": np.array([0.5, 1.0, 2.0]), "mi_sigma": np.array([0.3, 0.4, 0.5]),
             "mi_sigma_stderr": np.full(3, 0.01), "mi": np.full(3, 0.41)}  # fmt: skip
    fig = plot_sigma_sweep({"A": sweep}, {"A": 0.4133}, variant="j", reference={"A": sweep})
    assert fig.axes[0].get_xscale() == "log"
    assert {"MINDE-J(sigma), learned scores", "MINDE-J(sigma), exact scores", "MINDE-J (no s): 0.410"} <= set(_labels(fig))
    fig = plot_entropies({"A": {"H(X)": Estimate(1.4, 0.02), "H(X,Y)": Estimate(2.4, 0.03)}},
                           {"A": {"H(X)": 1.42, "H(X,Y)": 2.42}})  # fmt: skip
    assert [lbl.get_text() for lbl in fig.axes[0].get_yticklabels()] == ["H(X)", "H(X,Y)"]
    fig = plot_variant_comparison({"A": {"MINDE-C": (0.41, 0.01), "MINDE-J": (0.42, 0.01)}, "B": {"MINDE-C": (0.4, 0.02)}},
                                    {"A": 0.4133, "B": 0.4133})  # fmt: skip
    assert {"true MI", "MINDE-C", "MINDE-J"} <= set(_labels(fig))
    monkeypatch.setenv("MINDE_FIGURES", str(tmp_path))
    paths = save_figure(fig, "test_comparison")
    assert [p.name for p in paths] == ["test_comparison.png", "test_comparison.pdf"] and all(p.stat().st_size > 0 for p in paths)


def test_small_t_and_entropy_bias_figures():
    from minde.sde import VPSDE

    t = np.geomspace(1e-8, 1, 9)
    learned = {"mi": 1 / t, "mi stderr": 0.1 / t}
    spread = {"hold": [(0.41, 0.01), (0.42, 0.01)], "exact": [(0.5, 0.1), (3.0, 2.0)]}
    fig = plot_learned_small_t(VPSDE(), t, learned, {"mi": np.ones_like(t)}, {"mi": "MINDE-C"}, spread, truth=0.4133)
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"
    assert any(lbl.startswith('"hold": 0.415') for lbl in _labels(fig))
    assert len(plot_learned_small_t(VPSDE(), t, learned, {"mi": np.ones_like(t)}, {"mi": "MINDE-J"}).axes) == 1
    edges = np.array([1e-8, 1e-3, 1e-2, 1.0])
    fig = plot_entropy_bias({"H(X,Y)": (edges, np.array([0.01, 0.02, -0.01]), np.full(3, 0.002))},
                              {"H(X)": {"total error": (-0.1, 0.04), "learned-score part": (-0.13, 0.005)}})  # fmt: skip
    assert len(fig.axes) == 2 and {"KL term of H(X,Y)", "total error", "learned-score part"} <= set(_labels(fig))
    prof = {"mi": t, "mi stderr": 0 * t, "mi_sigma": t, "H(X)": t, "H(X) stderr": 0 * t}
    fig = plot_learned_time_profile(t, prof, t, {"MINDE-C": t, "MINDE-C(sigma)": t, "H(X)": t}, variant="c")
    assert any("±2 s.e." in lbl for lbl in _labels(fig))
