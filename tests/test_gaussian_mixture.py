"""The diffused Gaussian-mixture scores of notebook 02, checked against autograd, quadrature and GaussianPair."""

import math

import numpy as np
import pytest
import torch

from minde.gaussian import GaussianMixture, GaussianPair
from minde.sde import VESDE, VPSDE

MIX = GaussianMixture.toy2d()
SCALES = [(1.0, 0.0), (0.8, 0.6), (0.3, 0.95), (1.0, 2.5)]  # (alpha, sigma): clean, VP-like, VE-like


def _points(n: int = 64, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 1.5


def test_toy_is_a_normalised_mixture_of_about_unit_scale():
    assert MIX.weights.sum() == pytest.approx(1.0)
    cov = MIX.covariance()
    assert 0.3 < cov[0, 0] < 2 and 0.3 < cov[1, 1] < 2 and abs(cov[0, 1]) > 0.1


def test_sample_moments_match_closed_forms():
    z = MIX.sample(200_000, seed=1)
    assert np.allclose(z.mean(0), MIX.mean(), atol=0.01)
    assert np.allclose(np.cov(z.T), MIX.covariance(), atol=0.01)


@pytest.mark.parametrize("alpha,sigma", SCALES)
def test_score_is_gradient_of_log_density(alpha, sigma):
    z = _points().requires_grad_(True)
    (grad,) = torch.autograd.grad(MIX.log_prob(z, alpha, sigma).sum(), z)
    assert torch.allclose(MIX.score(z.detach(), alpha, sigma), grad, atol=1e-10)


@pytest.mark.parametrize("alpha,sigma", SCALES)
def test_diffused_density_integrates_to_one(alpha, sigma):
    r = 4.0 * (alpha + sigma) + 1.0
    g = torch.linspace(-r, r, 801, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="ij")
    dens = MIX.log_prob(torch.stack([xx.reshape(-1), yy.reshape(-1)], 1), alpha, sigma).exp().reshape(801, 801)
    assert torch.trapezoid(torch.trapezoid(dens, g), g).item() == pytest.approx(1.0, abs=1e-4)


def test_per_sample_alpha_sigma_match_scalar_calls():
    z = _points(4)
    alpha, sigma = torch.tensor([1.0, 0.8, 0.3, 1.0]), torch.tensor([0.0, 0.6, 0.95, 2.5])
    batched = MIX.score(z, alpha.reshape(-1, 1), sigma.reshape(-1, 1))
    for i, (a, s) in enumerate(SCALES):
        assert torch.allclose(batched[i], MIX.score(z[i : i + 1], a, s)[0])


def test_marginal_integrates_out_the_other_coordinate():
    x = torch.linspace(-2, 2, 5, dtype=torch.float64)
    g = torch.linspace(-8, 8, 4001, dtype=torch.float64)
    for xi, expected in zip(x, MIX.marginal([0]).log_prob(x[:, None]).exp(), strict=True):
        pts = torch.stack([torch.full_like(g, xi), g], 1)
        assert torch.trapezoid(MIX.log_prob(pts).exp(), g).item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("alpha,sigma", SCALES)
def test_conditional_score_is_gradient_of_conditional_log_density(alpha, sigma):
    z = _points()
    x_t = z[:, :1].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(MIX.conditional_log_prob(x_t, z[:, 1:], 1, alpha, sigma).sum(), x_t)
    assert torch.allclose(MIX.conditional_score(x_t.detach(), z[:, 1:], 1, alpha, sigma), grad, atol=1e-10)


@pytest.mark.parametrize("alpha,sigma", SCALES[1:])
def test_conditional_density_matches_quadrature_over_x0(alpha, sigma):
    """rho_t(x_t | y0) = Int p(x0 | y0) N(x_t; alpha x0, sigma^2) dx0, computed independently on a grid."""
    y0 = torch.tensor([[-0.8], [0.3], [1.0]], dtype=torch.float64)
    x_t = torch.tensor([[-1.0], [0.2], [1.5]], dtype=torch.float64)
    x0 = torch.linspace(-8, 8, 20001, dtype=torch.float64)
    for i in range(3):
        joint = MIX.log_prob(torch.stack([x0, y0[i].expand_as(x0)], 1)).exp()
        p_y = torch.trapezoid(joint, x0)
        kernel = torch.exp(-0.5 * ((x_t[i] - alpha * x0) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
        expected = torch.log(torch.trapezoid(joint * kernel, x0) / p_y)
        got = MIX.conditional_log_prob(x_t[i : i + 1], y0[i : i + 1], 1, alpha, sigma)[0]
        assert got.item() == pytest.approx(expected.item(), abs=1e-6)


def test_clean_conditional_score_is_the_x_block_of_the_joint_score():
    z = _points()
    assert torch.allclose(MIX.conditional_score(z[:, :1], z[:, 1:], 1), MIX.score(z)[:, :1], atol=1e-10)


@pytest.mark.parametrize("sde", [VPSDE(), VESDE()], ids=["vp", "ve"])
def test_one_component_mixture_agrees_with_gaussian_pair(sde):
    pair = GaussianPair.correlated(0.6)
    mix = GaussianMixture(np.ones(1), np.zeros((1, 2)), pair.cov[None])
    z = _points(32)
    t = torch.linspace(0.05, 0.9, 32, dtype=torch.float64).reshape(-1, 1)
    a, s = sde.alpha(t), sde.sigma(t)
    assert torch.allclose(mix.score(z, a, s), pair.score_joint(z, a, s), atol=1e-9)
    cond = mix.conditional_score(z[:, :1], z[:, 1:], 1, a, s)
    assert torch.allclose(cond, pair.score_conditional_x(z[:, :1], z[:, 1:], a, s), atol=1e-9)
    assert mix.mutual_information(1, n=100_000).value == pytest.approx(pair.mutual_information(), abs=0.01)


def test_mutual_information_matches_grid_quadrature():
    g = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="ij")
    z = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
    log_p = MIX.log_prob(z)
    log_px, log_py = MIX.marginal([0]).log_prob(z[:, :1]), MIX.marginal([1]).log_prob(z[:, 1:])
    integrand = (log_p.exp() * (log_p - log_px - log_py)).reshape(1201, 1201)
    exact = torch.trapezoid(torch.trapezoid(integrand, g), g).item()
    mc = MIX.mutual_information(1, n=200_000, seed=0)
    assert abs(mc.value - exact) < 4 * mc.stderr + 1e-3


def test_permute_swaps_the_roles_of_x_and_y():
    z = _points()
    swapped = MIX.permute([1, 0])
    assert torch.allclose(swapped.log_prob(z[:, [1, 0]]), MIX.log_prob(z))
    assert torch.allclose(swapped.conditional_score(z[:, 1:], z[:, :1], 1), MIX.score(z)[:, 1:], atol=1e-10)


def test_exact_scores_bundle_is_consistent():
    sde = VPSDE()
    z0 = torch.as_tensor(MIX.sample(16, seed=2))
    t = torch.linspace(0.01, 0.9, 16, dtype=torch.float64).reshape(-1, 1)
    noise = torch.randn(16, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = MIX.exact_scores(sde, z0, t, noise, dim_x=1)
    a, s = sde.alpha(t), sde.sigma(t)
    assert torch.allclose(out["z_t"], a * z0 + s * noise)
    assert torch.allclose(out["joint"], MIX.score(out["z_t"], a, s))
    assert torch.allclose(out["X|Y"], MIX.conditional_score(out["z_t"][:, :1], z0[:, 1:], 1, a, s))
    assert torch.allclose(out["Y|X"], MIX.permute([1, 0]).conditional_score(out["z_t"][:, 1:], z0[:, :1], 1, a, s))
