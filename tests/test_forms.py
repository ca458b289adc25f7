"""The Girsanov identities with exact scores: no training, so any discrepancy is the estimator's."""

import math

import pytest
import torch

from minde import forms as est
from minde.gaussian import GaussianPair, exact_estimates
from minde.sde import VESDE, VPSDE

PAIRS = {"1x1": GaussianPair.correlated(0.75), "3x3": GaussianPair.dense(3, 3, 0.5)}
FORMS = ["MINDE-C", "MINDE-C(sigma)", "MINDE-J", "MINDE-J(sigma)", "KL(joint||product)"]
ENTROPIES = ["H(X)", "H(Y)", "H(X,Y)", "H(X|Y)", "H(Y|X)"]


@pytest.fixture(scope="module", params=[(p, s) for p in PAIRS for s in ("vp", "ve")], ids=lambda p: f"{p[0]}-{p[1]}")
def exact(request):
    pair_name, sde_name = request.param
    pair = PAIRS[pair_name]
    sde = VPSDE() if sde_name == "vp" else VESDE()
    return pair, exact_estimates(pair, sde, n=1_500_000, seed=0)


def test_closed_forms():
    assert PAIRS["1x1"].mutual_information() == pytest.approx(0.4133, abs=1e-4)
    assert PAIRS["3x3"].mutual_information() == pytest.approx(0.4133, abs=1e-4)
    h = PAIRS["1x1"].entropies()
    assert h["H(X)"] - h["H(X|Y)"] == pytest.approx(PAIRS["1x1"].mutual_information())


@pytest.mark.parametrize("form", FORMS)
def test_mi_forms_recover_closed_form(exact, form):
    pair, res = exact
    assert res[form].stderr < 0.003
    assert abs(res[form].value - pair.mutual_information()) < 0.01, res[form]


@pytest.mark.parametrize("name", ENTROPIES)
def test_entropies_recover_closed_form(exact, name):
    pair, res = exact
    assert res[name].stderr < 0.003
    assert abs(res[name].value - pair.entropies()[name]) < 0.01, res[name]


def test_estimate_from_samples_averages_repeats_first():
    samples = torch.tensor([[1.0, 3.0], [2.0, 4.0], [0.0, 2.0]])
    e = est.Estimate.from_samples(samples)
    assert e.value == pytest.approx(2.0)
    assert e.stderr == pytest.approx(torch.tensor([2.0, 3.0, 1.0]).std().item() / math.sqrt(3))


def test_sigma_form_equals_inside_form_for_minde_c_algebraically():
    """For MINDE-C the two forms differ by 2 <s_cond - s_marg, s_marg + x/chi>, zero in expectation only.

    With s_marg equal to the reference score, the forms coincide sample by sample."""
    gen = torch.Generator().manual_seed(0)
    x_t = torch.randn(10, 2, generator=gen, dtype=torch.float64)
    chi = torch.full((10, 1), 1.7, dtype=torch.float64)
    s_marg = -x_t / chi
    s_cond = torch.randn(10, 2, generator=gen, dtype=torch.float64)
    g2, w = torch.rand(10, 1, generator=gen, dtype=torch.float64), torch.ones(10, 1, dtype=torch.float64)
    inside = est.minde_c(s_cond, s_marg, g2, w)
    outside = est.minde_c_sigma(s_cond, s_marg, x_t, chi, g2, w)
    assert torch.allclose(inside, outside)
