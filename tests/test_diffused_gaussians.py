"""Notebook 01's closed forms: every term of the KL identity for two diffused Gaussians, and the end-point terms."""

import numpy as np
import pytest

from minde.gaussian import (
    DiffusedGaussians,
    GaussianPair,
    compare_small_t_rules,
    diffused_pair,
    end_point_terms,
    exact_estimates,
    exact_integrand_curves,
    exact_samples,
    exact_time_profile,
    gaussian_kl,
    girsanov_path_check,
    novikov_exponent,
    time_integration_errors,
)
from minde.sde import VESDE, VPSDE

TARGET = DiffusedGaussians([1.0, -0.5], [[1.0, 0.6], [0.6, 0.8]], [0.0, 0.0], [[1.5, 0.0], [0.0, 0.5]])
SDES = [VPSDE(), VESDE()]
IDS = ["vp", "ve"]


def test_gaussian_kl_against_one_dimensional_formula():
    m1, v1, m2, v2 = 0.3, 0.5, -0.2, 2.0
    expected = 0.5 * (v1 / v2 + (m1 - m2) ** 2 / v2 - 1 + np.log(v2 / v1))
    assert gaussian_kl([m1], [[v1]], [m2], [[v2]]) == pytest.approx(expected)
    assert gaussian_kl([0, 0], np.eye(2), [0, 0], np.eye(2)) == pytest.approx(0.0)


@pytest.mark.parametrize("sde", SDES, ids=IDS)
def test_identity_holds_at_every_horizon(sde):
    """Int_0^T integrand + KL(rho^A_T || rho^B_T) = KL(p^A || p^B) for several T (trapezoid, exact expectation)."""
    assert TARGET.kl_at(sde, [0.0])[0] == pytest.approx(TARGET.kl(), abs=1e-8)
    for T in (0.2, 0.5, 1.0):
        grid = np.linspace(0.0, T, 4001)
        integral = np.trapezoid(TARGET.integrand(sde, grid), grid)
        assert integral + TARGET.kl_at(sde, [T])[0] == pytest.approx(TARGET.kl(), abs=1e-5)


@pytest.mark.parametrize("sde", SDES, ids=IDS)
def test_kl_derivative_is_minus_integrand(sde):
    t, h = np.linspace(0.05, 0.95, 10), 1e-5
    slope = (TARGET.kl_at(sde, t + h) - TARGET.kl_at(sde, t - h)) / (2 * h)
    assert np.allclose(slope, -TARGET.integrand(sde, t), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("sde", SDES, ids=IDS)
def test_monte_carlo_estimate_matches_closed_form(sde):
    e = TARGET.estimate(sde, 200_000, seed=3)
    expected = TARGET.kl() - TARGET.kl_at(sde, [sde.T])[0]
    assert abs(e.value - expected) < 4 * e.stderr


def test_joint_vs_product_is_the_mutual_information():
    pair = GaussianPair.dense(2, 1, 0.4)
    assert DiffusedGaussians.joint_vs_product(pair).kl() == pytest.approx(pair.mutual_information())


def test_diffused_pair_and_end_point_terms():
    pair = GaussianPair.correlated(0.75)
    assert diffused_pair(pair, 1.0, 0.0, 1.0, 0.0).mutual_information() == pytest.approx(pair.mutual_information())
    # I(aX + s e; Y) for unit-variance X, Y: correlation rho a / sqrt(a^2 + s^2)
    r = 0.75 * 0.6 / np.hypot(0.6, 0.5)
    assert diffused_pair(pair, 0.6, 0.5, 1.0, 0.0).mutual_information() == pytest.approx(-0.5 * np.log(1 - r**2))
    vp = VPSDE()
    near_zero = end_point_terms(pair, vp, 1e-9)
    assert all(v == pytest.approx(pair.mutual_information(), abs=1e-6) for v in near_zero.values())
    assert all(0 <= v < 1e-3 for v in end_point_terms(pair, vp).values())


@pytest.mark.parametrize("T", [0.3, 0.6])
def test_end_point_terms_predict_short_horizon_estimates(T):
    """The MINDE-J end-point term I(X_T;Y_0) + I(X_0;Y_T) - I(X_T;Y_T) (derived in notebook 01), checked by Monte Carlo."""
    pair = GaussianPair.correlated(0.75)
    sde = VPSDE(T=T)
    res = exact_estimates(pair, sde, n=300_000, seed=1)
    for form, term in end_point_terms(pair, sde).items():
        assert abs(res[form].value - (pair.mutual_information() - term)) < 4 * res[form].stderr + 1e-3, form


@pytest.mark.parametrize("sde", SDES, ids=IDS)
def test_exact_integrand_curves_integrate_to_the_mi(sde):
    pair = GaussianPair.correlated(0.75)
    grid = np.geomspace(1e-5, 1.0, 2000)
    curves = exact_integrand_curves(pair, sde, grid)
    analytic = DiffusedGaussians.joint_vs_product(pair).integrand(sde, grid)
    assert np.allclose(curves["KL(joint||product)"], analytic, rtol=1e-5, atol=1e-7)
    for form, f in curves.items():
        assert np.trapezoid(f, grid) == pytest.approx(pair.mutual_information() - end_point_terms(pair, sde)[form], abs=2e-3)


def test_time_integration_errors_shrink():
    target = DiffusedGaussians.joint_vs_product(GaussianPair.correlated(0.75))
    rows = time_integration_errors(target, VPSDE(), [16, 1024], n_repeats=50, seed=0)
    err = {(r["method"], r["K"]): r["error"] for r in rows}
    for method in {m for m, _ in err}:
        assert err[(method, 1024)] < err[(method, 16)]
    assert err[("trapezoid, uniform grid", 1024)] < 1e-5


def test_exact_samples_are_the_draws_behind_exact_estimates():
    pair = GaussianPair.correlated(0.75)
    values, t = exact_samples(pair, VPSDE(), n=2000, seed=3)
    est = exact_estimates(pair, VPSDE(), n=2000, seed=3)
    assert t.shape == (2000,) and float(t.min()) >= VPSDE().t_eps  # "hold": draws below t_eps are evaluated at t_eps
    for key in ("MINDE-C", "H(X|Y)"):
        assert float(values[key].mean()) == pytest.approx(est[key].value)


@pytest.mark.parametrize("sde", SDES, ids=IDS)
def test_small_t_rules_agree_with_exact_scores(sde):
    """The three rules differ only on (0, t_eps]: with exact scores by far less than the identity tests' 0.01 nats
    at moderate MI; at MI 3.1 the authors' weighting drops ~0.01-0.03 nats, the hold rule ~0.002."""
    for rho, hold_tol in ((0.75, 1e-4), (0.999, 3e-3)):
        pair = GaussianPair.correlated(rho)
        draws = {rule: exact_samples(pair, sde, n=20_000, seed=0, small_t=rule) for rule in ("hold", "authors", "exact")}
        rows = {r["rule"]: r for r in compare_small_t_rules({k: (v["MINDE-C"], t) for k, (v, t) in draws.items()}, sde.t_eps)}
        assert rows["exact"]["minus_exact"] == 0.0
        assert abs(rows["hold"]["minus_exact"]) < hold_tol
        assert rows["authors"]["minus_exact"] < 0  # it under-weights (0, t_eps]
        assert 0 <= rows["hold"]["share_below"] < 0.02
    with pytest.raises(ValueError, match="needs the 'exact' rule"):
        compare_small_t_rules({"hold": draws["hold"][0]["MINDE-C"], }, 1e-3)  # type: ignore[dict-item]


def test_exact_integrand_curves_reach_small_times():
    """A relative finite-difference step below t = 1e-3: MINDE-C's exact integrand is flat as t -> 0 (it tends to
    1/2 beta_min E||s_{X|Y} - s_X||^2 at t = 0) and matches the Monte-Carlo profile there."""
    pair = GaussianPair.correlated(0.75)
    times = np.array([1e-8, 1e-6, 1e-4])
    f = exact_integrand_curves(pair, VPSDE(), times)["MINDE-C"]
    assert np.all(np.isfinite(f)) and f[0] == pytest.approx(f[1], rel=1e-3)
    mc = exact_time_profile(pair, VPSDE(), times, n=20_000, with_stderr=True)
    assert np.all(np.abs(mc["MINDE-C"] - f) < 4 * mc["MINDE-C stderr"])
    with pytest.raises(ValueError, match="times > 0"):
        exact_integrand_curves(pair, VPSDE(), [0.0])


def test_girsanov_path_check_recovers_the_score_integral():
    r = girsanov_path_check(TARGET, VPSDE(), n_paths=4000, n_steps=200, seed=1, keep_paths=3)
    assert r["paths"].shape == (201, 3, 2) and r["u"][-1] == pytest.approx(1.0)
    assert abs(r["llr_mean"][-1] - r["predicted"][-1]) < 4 * r["llr_stderr"][-1] + 0.01  # + the Euler bias
    assert r["predicted"][-1] == pytest.approx(TARGET.kl() - TARGET.kl_at(VPSDE(), [1.0])[0], abs=1e-3)
    assert np.allclose(r["end_mean"], TARGET.mean_a, atol=0.1) and np.allclose(r["end_cov"], TARGET.cov_a, atol=0.1)


def test_novikov_exponent():
    assert novikov_exponent(DiffusedGaussians([0.0], [[1.0]], [0.3], [[1.0]]), VPSDE(), n_grid=50) == pytest.approx(0.0)
    assert novikov_exponent(TARGET, VPSDE(), n_grid=100) < 1  # notebook 01's example: the condition holds
    assert novikov_exponent(DiffusedGaussians([0.0], [[1.0]], [0.0], [[0.2]]), VPSDE(), n_grid=100) > 1  # it fails
