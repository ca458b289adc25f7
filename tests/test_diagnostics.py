"""minde.diagnostics: what the small-t rules integrate, a trained model against exact scores on the same draws, and a
model followed as it trains (fit_tracked) or as the reference std varies (mi_versus_sigma)."""

import math

import numpy as np
import pytest
import torch

from minde import MINDE
from minde.diagnostics import (
    exact_mi_versus_sigma,
    exact_score_comparison,
    fit_tracked,
    learned_time_profile,
    mi_versus_sigma,
    settling_step,
    small_t_contributions,
)
from minde.gaussian import GaussianPair
from minde.sde import VPSDE

PAIR = GaussianPair.correlated(0.75)


def test_small_t_contributions_of_known_integrands():
    sde = VPSDE()
    t = np.geomspace(1e-8, 1.0, 161)
    flat = small_t_contributions(sde, t, np.full_like(t, 2.0))
    assert flat["hold"] == pytest.approx(2e-3) and flat["exact"] == pytest.approx(2e-3, rel=1e-6)
    assert 0 < flat["authors"] < flat["hold"]  # the authors' weight is below 1 on (0, t_eps]
    one_over_t = small_t_contributions(sde, t, 3.0 / t)  # a learned integrand's small-t behaviour
    assert one_over_t["hold"] == pytest.approx(3.0)
    assert one_over_t["per_decade_at_min"] == pytest.approx(3.0 * math.log(10))
    assert one_over_t["exact"] > 5 * 3.0 * math.log(10)  # five decades below t_eps, and more the further down
    with pytest.raises(ValueError, match="t_eps"):
        small_t_contributions(sde, np.geomspace(1e-2, 1, 5), np.ones(5))


def test_settling_step():
    steps = np.array([1, 2, 3, 4, 5])
    assert settling_step(steps, [0.9, 0.5, 0.41, 0.39, 0.4], 0.02) == 3
    assert settling_step(steps, [0.4] * 5, 0.02) == 1
    assert settling_step(steps, [0.0, 0.4, 0.4, 0.4, 0.0], 0.02, reference=0.4) == 5


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    x, y = PAIR.sample(2000, seed=0)
    return MINDE(variant="j", steps=150, batch_size=64, mc_repeats=2, seed=0).fit(x, y)


def test_exact_score_comparison_uses_the_estimators_own_draws(tiny_model):
    res = exact_score_comparison(tiny_model, PAIR, seed=5)
    assert set(res) == {"mi", "mi_sigma", "H(X,Y)", "H(X|Y)", "H(Y|X)"}
    assert res["mi"]["learned"].value == pytest.approx(tiny_model.mutual_information(seed=5).mi)
    for parts in res.values():
        assert parts["learned - exact"].value == pytest.approx(parts["learned"].value - parts["exact"].value, abs=1e-9)
    assert abs(res["mi"]["exact"].value - PAIR.mutual_information()) < 0.1  # exact scores on 200 rows
    assert "_batch_integrands" not in vars(tiny_model)  # the wrapper is gone


def test_learned_time_profile_has_standard_errors_and_exact_curves(tiny_model):
    times = np.array([1e-6, 1e-2, 0.3])
    prof = learned_time_profile(tiny_model, times, PAIR, n=200, seed=1)
    plain = tiny_model.time_profile(times, n=200, seed=1)
    assert np.allclose(prof["mi"], plain["mi"])
    for key in ("mi", "H(X,Y)", "exact H(X,Y)", "learned - exact H(Y|X)"):
        assert prof[f"{key} stderr"].shape == (3,) and np.all(prof[f"{key} stderr"] >= 0)
    assert np.allclose(prof["learned - exact H(X,Y)"], prof["H(X,Y)"] - prof["exact H(X,Y)"])
    with pytest.raises(ValueError, match="dim_x"):
        learned_time_profile(tiny_model, times, GaussianPair.correlated(0.5, dim=2))


# --- following and sweeping a model: fit_tracked, mi_versus_sigma, exact_mi_versus_sigma ----------------------


@pytest.fixture(scope="module")
def data_1x1():
    return PAIR.sample(20_000, seed=1)


def test_fit_tracked_records_every_k_steps_and_trains_the_same_network(data_1x1):
    x, y = data_1x1
    kw = dict(variant="c", steps=250, mc_repeats=3, seed=5)
    tracked = MINDE(**kw)
    hist = fit_tracked(tracked, x, y, every=100, mc_repeats=2)
    assert hist["step"].tolist() == [100, 200, 250]
    assert set(hist) == {"step", "mi", "mi_stderr", "mi_sigma", "mi_sigma_stderr"}
    assert all(np.isfinite(v).all() and v.shape == (3,) for v in hist.values())
    assert tracked.mc_repeats == 3  # restored after tracking with 2 repeats
    plain = MINDE(**kw).fit(x, y)
    assert tracked.mutual_information() == plain.mutual_information()  # tracking does not perturb training
    last = fit_tracked(MINDE(**kw), x, y, every=1000)  # every > steps: only the final step
    assert last["step"].tolist() == [250]
    assert last["mi"][0] == pytest.approx(plain.mutual_information().mi)
    with pytest.raises(ValueError, match="every"):
        fit_tracked(MINDE(**kw), x, y, every=0)


def test_mi_versus_sigma_reuses_one_model_and_restores_sigma(data_1x1):
    x, y = data_1x1
    est_ = MINDE(variant="j", steps=200, mc_repeats=2, sigma=1.5, seed=0).fit(x, y)
    sweep = mi_versus_sigma(est_, [0.5, 1.5, 4.0])
    assert est_.sigma == 1.5
    ref = est_.mutual_information()
    assert sweep["mi_sigma"][1] == pytest.approx(ref.mi_sigma)
    assert sweep["mi_sigma_stderr"][1] == pytest.approx(ref.mi_sigma_stderr)
    assert np.all(sweep["mi"] == ref.mi)  # the inside form ignores s
    assert len(set(np.round(sweep["mi_sigma"], 10))) == 3  # the sigma form does not
    with pytest.raises(ValueError, match="positive"):
        mi_versus_sigma(est_, [1.0, 0.0])


def test_exact_mi_versus_sigma_recovers_the_gaussian_mi_for_every_s():
    sweep = exact_mi_versus_sigma(PAIR, "vp", [0.5, 1.0, 2.0], variant="c", n=100_000)
    assert sweep["sigma"].tolist() == [0.5, 1.0, 2.0]
    gt = PAIR.mutual_information()
    assert np.all(np.abs(sweep["mi_sigma"] - gt) < 5 * sweep["mi_sigma_stderr"] + 0.01)
    assert np.all(np.abs(sweep["mi"] - gt) < 0.02)
    j = exact_mi_versus_sigma(PAIR, "vp", [1.0], variant="j", n=50_000)
    assert abs(j["mi_sigma"][0] - gt) < 0.03
    with pytest.raises(ValueError, match="variant"):
        exact_mi_versus_sigma(PAIR, "vp", [1.0], variant="x")
