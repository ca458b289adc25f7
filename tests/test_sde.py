import math

import pytest
import torch

from minde.sde import VESDE, VPSDE, make_sde

SDES = [VPSDE(), VESDE(), VESDE(sigma_min=0.05, sigma_max=10.0)]


def test_vp_closed_forms():
    sde = VPSDE()
    t = torch.tensor([0.0, 0.3, 1.0], dtype=torch.float64)
    B = 0.5 * t**2 * 19.9 + 0.1 * t
    assert torch.allclose(sde.alpha(t), torch.exp(-0.5 * B))
    assert torch.allclose(sde.alpha(t) ** 2 + sde.sigma(t) ** 2, torch.ones(3, dtype=torch.float64))
    assert torch.allclose(sde.g2(t), 0.1 + 19.9 * t)
    assert sde.alpha(torch.tensor(1.0)).item() == pytest.approx(0.0066, abs=1e-4)


def test_vp_normaliser_matches_reference():
    assert VPSDE().importance_normaliser == pytest.approx(20.2559, abs=1e-4)


def test_ve_closed_forms():
    sde = VESDE(sigma_min=0.01, sigma_max=50.0)
    t = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    level = 0.01 * (5000.0**t)
    assert torch.allclose(sde.sigma(t) ** 2, level**2 - 0.01**2)
    assert torch.allclose(sde.g2(t), 2 * level**2 * math.log(5000.0))
    assert torch.all(sde.alpha(t) == 1)


@pytest.mark.parametrize("sde", SDES, ids=lambda s: s.name)
def test_g2_is_derivative_of_variance(sde):
    """sigma_t^2 evolves as d sigma^2/dt = 2 f sigma^2 + g^2 with f = d log alpha / dt."""
    t = torch.linspace(0.05, 0.95, 19, dtype=torch.float64, requires_grad=True)
    var = sde.sigma(t) ** 2
    (dvar,) = torch.autograd.grad(var.sum(), t)
    (dlog_alpha,) = torch.autograd.grad(torch.log(sde.alpha(t)).sum(), t) if sde.name == "vp" else (torch.zeros_like(t),)
    assert torch.allclose(dvar, 2 * dlog_alpha * var.detach() + sde.g2(t).detach(), rtol=1e-6)


@pytest.mark.parametrize("sde", SDES, ids=lambda s: s.name)
def test_importance_density_integrates_to_one_and_inverse_cdf(sde):
    grid = torch.linspace(0, 1, 400_001, dtype=torch.float64)
    q = sde.importance_density(grid)
    assert torch.trapezoid(q, grid).item() == pytest.approx(1.0, abs=2e-4)
    # the inverse CDF maps the quantiles of the numerically integrated CDF back to the grid
    cdf = torch.cumulative_trapezoid(q, grid)
    for u in (0.01, 0.03, 0.2, 0.5, 0.9, 0.999):
        t = sde.importance_inverse_cdf(torch.tensor(u)).item()
        i = int(torch.searchsorted(cdf, torch.tensor(u, dtype=torch.float64)))
        assert t == pytest.approx(grid[i + 1].item(), abs=5e-5)


@pytest.mark.parametrize("sde", SDES, ids=lambda s: s.name)
@pytest.mark.parametrize("importance_sampling", [True, False])
def test_time_weights_integrate_known_function(sde, importance_sampling):
    """mean(w(t) f(t)) estimates Int_0^T f for f = g^2 / (sigma^2 + 1), with and without stratification."""
    f = lambda t: sde.g2(t) / (sde.sigma(t) ** 2 + 1.0)  # noqa: E731
    grid = torch.linspace(0, 1, 200_001, dtype=torch.float64)
    exact = torch.trapezoid(f(grid), grid).item()
    for stratified in (False, True):
        t, w = sde.sample_time(200_000, importance_sampling, torch.Generator().manual_seed(1), stratified=stratified)
        assert t.min() >= 0 and t.max() <= 1
        assert (w * f(t)).mean().item() == pytest.approx(exact, rel=0.01)


def test_perturb_and_chi():
    sde = VPSDE()
    gen = torch.Generator().manual_seed(0)
    x0 = torch.full((200_000, 1), 2.0, dtype=torch.float64)
    t = torch.full((200_000, 1), 0.3, dtype=torch.float64)
    xt = sde.perturb(x0, t, torch.randn(x0.shape, generator=gen, dtype=torch.float64))
    assert xt.mean().item() == pytest.approx(2 * sde.alpha(t[0]).item(), abs=0.01)
    assert xt.std().item() == pytest.approx(sde.sigma(t[0]).item(), abs=0.01)
    assert sde.chi(t[:1], 2.0).item() == pytest.approx(sde.alpha(t[0]).item() ** 2 * 4 + sde.sigma(t[0]).item() ** 2)


def test_make_sde_round_trip_and_errors():
    ve = VESDE(sigma_min=0.02, sigma_max=30.0)
    again = make_sde(ve.config())
    assert isinstance(again, VESDE) and again.sigma_max == 30.0
    assert isinstance(make_sde("VP"), VPSDE)
    with pytest.raises(ValueError, match="unknown SDE 'subvp'"):
        make_sde("subvp")
    with pytest.raises(ValueError, match="beta_min"):
        VPSDE(beta_min=5.0, beta_max=1.0)


def test_ve_end_point_terms_quoted_in_the_docstring():
    """The numbers the VESDE docstring states (nats, its precision): the dropped end-point term reaches ~1e-2."""
    from minde.gaussian import GaussianPair, end_point_terms

    dense = end_point_terms(GaussianPair.dense(50, 50, 0.5), VESDE())
    assert dense["MINDE-C"] == pytest.approx(0.0049, abs=5e-5) and dense["MINDE-J"] == pytest.approx(0.0097, abs=5e-5)
    vp = end_point_terms(GaussianPair.dense(50, 50, 0.5), VPSDE())
    assert vp["MINDE-C"] == pytest.approx(0.0005, abs=5e-5) and vp["MINDE-J"] == pytest.approx(0.0011, abs=5e-5)
    small = end_point_terms(GaussianPair.correlated(0.75), VESDE())
    assert small["MINDE-C"] == pytest.approx(1e-4, abs=5e-5) and small["MINDE-J"] == pytest.approx(2e-4, abs=5e-5)
