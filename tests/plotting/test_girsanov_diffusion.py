"""Smoke tests of the figure functions of notebooks 01-02: they run on small inputs, label what they show and save."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from minde.gaussian import DiffusedGaussians, GaussianMixture, GaussianPair, end_point_terms, exact_integrand_curves  # noqa: E402
from minde.plotting import save_figure  # noqa: E402
from minde.plotting.diffusion import (  # noqa: E402
    plot_conditional_scores,
    plot_forward_marginals,
    plot_importance_density,
    plot_score_fields,
    plot_sde_schedules,
    plot_training_loss,
)
from minde.plotting.girsanov import (  # noqa: E402
    plot_diffused_gaussians,
    plot_girsanov_paths,
    plot_horizon,
    plot_importance_sampling,
    plot_log_snr_integrands,
    plot_small_t_rules,
    plot_time_integrands,
    plot_time_points,
)
from minde.sde import VESDE, VPSDE  # noqa: E402

SDES = {"VP": VPSDE(), "VE": VESDE()}
PAIR = GaussianPair.correlated(0.75)
MIX = GaussianMixture.toy2d()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _titles(fig: plt.Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


def test_diffused_gaussians_figure(tmp_path, monkeypatch):
    monkeypatch.setenv("MINDE_FIGURES", str(tmp_path))
    target = DiffusedGaussians([1.0, 0.0], np.eye(2), [0.0, 0.0], 2 * np.eye(2))
    fig = plot_diffused_gaussians(target, SDES, times=[0.0, 0.5], grid_points=50)
    assert len(fig.axes) == 6 and any("VE-SDE, t = 0.5" in t for t in _titles(fig))
    paths = save_figure(fig, "01_test")
    assert all(p.exists() for p in paths)


def test_horizon_figure():
    rows, curves = [], []
    for name, sde in SDES.items():
        for T in (0.5, 1.0):
            for form, term in end_point_terms(PAIR, sde, T).items():
                rows.append({"problem": "I(X;Y)", "sde": name, "form": form, "T": T, "estimate": 0.4 - term, "stderr": 0.01})
                curves.append({"problem": "I(X;Y)", "sde": name, "form": form, "T": T, "predicted": 0.41 - term})
    fig = plot_horizon(pd.DataFrame(rows), pd.DataFrame(curves), {"I(X;Y)": PAIR.mutual_information()})
    assert len(fig.axes) == 2
    assert "MINDE-J" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_time_integrands_figure():
    grid = np.geomspace(1e-3, 1, 30)
    curves = {name: exact_integrand_curves(PAIR, sde, grid) for name, sde in SDES.items()}
    profiles = {name: {k: v[::10] for k, v in c.items()} for name, c in curves.items()}
    flat = {name: {"uniform t": c["MINDE-C"], "importance-sampled t": c["MINDE-C"]} for name, c in curves.items()}
    fig = plot_time_integrands(grid, curves, grid[::10], profiles, flat)
    assert len(fig.axes) == 4


def test_time_points_and_importance_figures():
    methods = ("trapezoid, uniform grid", "Monte Carlo, uniform t")
    errors = pd.DataFrame([{"sde": s, "method": m, "K": k, "error": 1 / k} for s in SDES for m in methods for k in (4, 16)])
    assert len(plot_time_points(errors).axes) == 2
    spread = pd.DataFrame(
        [{"sde": s, "rho": r, "mi": -0.5 * np.log(1 - r**2), "sampling": smp, "quantity": "q", "relative_sd": 1.0}
         for s in SDES for r in (0.5, 0.9) for smp in ("uniform", "importance")]
    )  # fmt: skip
    assert len(plot_importance_sampling(spread).axes) == 2


def test_sde_and_sampling_figures():
    assert len(plot_sde_schedules(SDES, n_points=20).axes) == 4
    x0 = MIX.sample(100, 0)
    noise = np.random.default_rng(0).standard_normal((100, 2))
    assert len(plot_forward_marginals(MIX, SDES, [0.0, 1.0], x0, noise).axes) == 4
    draws = {name: sde.sample_time(500, True, torch.Generator().manual_seed(0))[0].numpy() for name, sde in SDES.items()}
    fig = plot_importance_density(SDES, draws)
    assert any("Z = 20.2559" in t for t in _titles(fig))
    assert len(plot_training_loss([1, 2], [0.7, 0.6], floor=0.5).axes) == 1


def test_score_field_and_conditional_figures():
    sde = VPSDE()

    def learned(z, t):
        tt = torch.tensor(t, dtype=torch.float64)
        return MIX.score(z, sde.alpha(tt), sde.sigma(tt)) * 1.1

    fig = plot_score_fields(MIX, sde, learned, [0.1], n_arrows=5)
    assert any("learned" in t for t in _titles(fig))
    x = np.linspace(-2, 2, 10)
    curves = {(0.1, y): (x, -x, -1.1 * x, np.exp(-(x**2))) for y in (0.0, 1.0)}
    assert len(plot_conditional_scores(curves, [0.1], [0.0, 1.0]).axes) == 2


def test_girsanov_log_snr_and_small_t_figures():
    from minde.gaussian import girsanov_path_check

    target = DiffusedGaussians([1.0, 0.0], np.eye(2), [0.0, 0.0], 2 * np.eye(2))
    checks = {"2-D": girsanov_path_check(target, VPSDE(), n_paths=50, n_steps=20, keep_paths=3)}
    fig = plot_girsanov_paths(checks)
    assert len(fig.axes) == 2 and any("mean log-likelihood ratio" in t.get_text() for t in fig.axes[1].get_legend().get_texts())
    lam = np.linspace(-10, 10, 50)
    fig = plot_log_snr_integrands({"VP": (lam, {"MINDE-C": np.exp(-(lam**2))}, (-9.1, 10.0))})
    assert fig.axes[0].get_title() == "VP-SDE"
    t = np.geomspace(1e-8, 1, 30)
    fig = plot_small_t_rules(VPSDE(), t, {"flat": np.ones_like(t)})
    labels = [x.get_text() for x in fig.axes[0].get_legend().get_texts()]
    assert labels == ['small_t="hold"', 'small_t="authors"', 'small_t="exact"'] and fig.axes[0].get_xscale() == "log"
