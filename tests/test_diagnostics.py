"""minde.diagnostics: what the small-t rules integrate, and a trained model against exact scores on the same draws."""

import math

import numpy as np
import pytest
import torch

from minde import MINDE
from minde.diagnostics import exact_score_comparison, learned_time_profile, settling_step, small_t_contributions
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
