"""Baselines of the benchmark table (minde/benchmark/baselines/): accuracy on the 1x1 Gaussian, exactness of KSG and CCA,
the variational bounds at the optimal critic, reproducibility and input errors.

Reference problem: the benchmark's 1v1-normal-0.75 task, (X, Y) standard bivariate normal with correlation 0.75,
true MI = -1/2 log(1 - 0.75^2) = 0.4133 nats.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy.special import digamma

from minde.benchmark.baselines import (
    BASELINES,
    CCA,
    DV,
    KSG,
    MINE,
    NWJ,
    DoE,
    InfoNCE,
    JointCritic,
    dv_bound,
    gaussian_mi_from_covariance,
    infonce_bound,
    ksg_mi,
    neural_config,
    nwj_bound,
    variational,
)

RHO = 0.75
TRUE_MI = -0.5 * math.log(1 - RHO**2)  # 0.41330 nats
NEURAL = {"MINE": MINE, "InfoNCE": InfoNCE, "NWJ": NWJ, "DV": DV}


def gaussian_pair(n: int, seed: int, rho: float = RHO) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    return x, rho * x + math.sqrt(1 - rho**2) * rng.standard_normal(n)


@pytest.fixture(scope="module")
def gauss4000():
    return gaussian_pair(4000, seed=100)


# --------------------------------------------------------------------------------------------------
# accuracy on the 1x1 Gaussian at CI size
# --------------------------------------------------------------------------------------------------

# Neural estimators: n = 4000 (2000 train / 2000 test, the benchmark's 50/50 split) with the benchmark-mi defaults
# except batch 128 instead of 256 (4x fewer critic evaluations per step) and at most 3000 steps (early stopping
# ends these runs after 750-2500 steps). Tolerance 0.1 nats: the benchmark's own "solved" criterion, and about
# 4 standard errors of a test-split estimate here (the information density of this Gaussian has standard
# deviation rho = 0.75, so the positive term alone has s.e. 0.75 / sqrt(2000) = 0.017; the exp-average of DV /
# NWJ / MINE adds as much again). Over seeds 0-4 of this configuration the largest error seen was 0.072 (MINE,
# a one-permutation test value); a wrong sign, a missing log n or a missing e^{-1} is off by far more than 0.1.
NEURAL_TOL = 0.1


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NEURAL))
def test_neural_estimators_recover_gaussian_mi(name, gauss4000):
    est = NEURAL[name](batch_size=128, max_steps=3000, seed=0).fit(*gauss4000)
    value = est.estimate()
    assert est.fit_info["n_test"] == 2000 and est.fit_info["hidden_layers"] == (16, 8)
    assert est.history and max(v for _, v in est.history) == value
    assert abs(value - TRUE_MI) < NEURAL_TOL, (name, value, est.fit_info)


# DoE: the authors' configuration (lr 1e-2, batch 128, clipping at 1) but 1000 steps instead of 3000, on n = 4000
# (test split 667). Both cross-entropies are upper bounds, and with Adam at lr 1e-2 the conditional one keeps an
# excess of a few hundredths of a nat, so DoE runs low: over seeds 0-4 its errors were -0.008 to -0.037 (Gaussian)
# and -0.05 to +0.035 (logistic; the logistic misfit is a location-scale constant that cancels in the
# difference). Test-split s.e. about 0.75 / sqrt(667) = 0.03; tolerance 0.1 as for the neural bounds.
DOE_TOL = 0.1


@pytest.mark.slow
@pytest.mark.parametrize("pdf", ["gauss", "logistic"])
def test_doe_recovers_gaussian_mi(pdf, gauss4000):
    est = DoE(pdf, steps=1000, seed=0).fit(*gauss4000)
    assert est.fit_info["hidden"] == 64 and est.fit_info["n_test"] == 667
    assert est.estimate() == pytest.approx(est.entropies["H(Y)"] - est.entropies["H(Y|X)"])
    # the cross-entropies are upper bounds on the standardised entropies 1/2 log(2 pi e (1 - rho^2)) etc.
    h_y = 0.5 * math.log(2 * math.pi * math.e)
    assert est.entropies["H(Y)"] > h_y - 0.05 and est.entropies["H(Y|X)"] > h_y + math.log(math.sqrt(1 - RHO**2)) - 0.05
    assert abs(est.estimate() - TRUE_MI) < DOE_TOL, (pdf, est.estimate(), est.entropies)


# KSG and CCA on all 4000 points. CCA: the delta method gives s.e. (rho / (1 - rho^2)) (1 - rho^2) / sqrt(n)
# = 0.75 / sqrt(4000) = 0.012; KSG's s.e. is similar and its bias for a smooth 1x1 density is below 0.01.
# Tolerance 0.05 = 4 s.e.
def test_ksg_recovers_gaussian_mi(gauss4000):
    est = KSG().fit(*gauss4000)
    assert set(est.per_k) == {5, 10}
    assert est.estimate() == pytest.approx(np.mean(list(est.per_k.values())))
    assert abs(est.estimate() - TRUE_MI) < 0.05, est.per_k


def test_cca_recovers_gaussian_mi(gauss4000):
    est = CCA().fit(*gauss4000)
    x, y = gauss4000
    r = np.corrcoef(x, y)[0, 1]
    assert est.estimate() == pytest.approx(-0.5 * math.log(1 - r**2), abs=1e-12)
    assert abs(est.estimate() - TRUE_MI) < 0.05


# --------------------------------------------------------------------------------------------------
# the bounds themselves, at the optimal critic (no training involved)
# --------------------------------------------------------------------------------------------------


def test_bounds_at_the_optimal_critic():
    """With f = log p(x, y) / (p(x) p(y)) (DV, InfoNCE) or 1 + that (NWJ) every bound is tight up to sampling error
    (InfoNCE also up to its log-n saturation, negligible at n = 3000 for 0.41 nats)."""
    x, y = (torch.as_tensor(a, dtype=torch.float64) for a in gaussian_pair(3000, seed=7))
    xi, yj = x[:, None], y[None, :]
    log_ratio = -0.5 * math.log(1 - RHO**2) - (RHO**2 * (xi**2 + yj**2) - 2 * RHO * xi * yj) / (2 * (1 - RHO**2))
    # s.e. of the positive term 0.75 / sqrt(3000) = 0.014: 0.05 is 3.6 s.e.
    assert float(dv_bound(log_ratio)) == pytest.approx(TRUE_MI, abs=0.05)
    assert float(infonce_bound(log_ratio)) == pytest.approx(TRUE_MI, abs=0.05)
    assert float(nwj_bound(log_ratio + 1.0)) == pytest.approx(TRUE_MI, abs=0.05)
    # the three agree more closely with each other (same positive term)
    assert float(dv_bound(log_ratio)) == pytest.approx(float(nwj_bound(log_ratio + 1.0)), abs=0.02)
    # a constant critic gives 0 for DV and InfoNCE
    zero = torch.zeros(50, 50, dtype=torch.float64)
    assert float(dv_bound(zero)) == pytest.approx(0.0, abs=1e-12)
    assert float(infonce_bound(zero)) == pytest.approx(0.0, abs=1e-12)


def test_joint_critic_pair_scores_match_concatenation():
    torch.manual_seed(0)
    critic = JointCritic(2, 3, (16, 8))
    x, y = torch.randn(5, 2), torch.randn(7, 3)
    pairs = torch.cat([x.repeat_interleave(7, 0), y.repeat(5, 1)], dim=1)
    h = pairs
    for i, layer in enumerate(critic.layers):
        h = layer(torch.relu(h) if i else h)
    expected = h[:, 0].reshape(5, 7)
    torch.testing.assert_close(critic.pair_scores(x, y), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(critic(x, y[:5]), expected.diagonal(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("block_rows", [None, 7])  # the default budget (one block here), or 86 blocks, the last partial
def test_test_split_evaluation_matches_the_batch_bounds(monkeypatch, block_rows):
    """The blockwise test-split evaluation equals the batch formula applied to the full score matrix."""
    if block_rows is not None:
        monkeypatch.setitem(variational.PAIR_BLOCK_ELEMENTS, "cpu", block_rows * 600 * 16)
    torch.manual_seed(1)
    critic = JointCritic(1, 1, (16, 8)).double()
    x, y = (torch.as_tensor(a, dtype=torch.float64)[:, None] for a in gaussian_pair(600, seed=3))
    with torch.no_grad():
        scores = critic.pair_scores(x, y)
    gen = torch.Generator().manual_seed(0)
    assert InfoNCE()._test_value(critic, x, y, gen) == pytest.approx(float(infonce_bound(scores)), abs=1e-9)
    assert DV()._test_value(critic, x, y, gen) == pytest.approx(float(dv_bound(scores)), abs=1e-9)
    assert NWJ()._test_value(critic, x, y, gen) == pytest.approx(float(nwj_bound(scores)), abs=1e-9)


# --------------------------------------------------------------------------------------------------
# KSG: exact agreement with an independent O(n^2) implementation
# --------------------------------------------------------------------------------------------------


def ksg_brute_force(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """Kraskov et al. estimator 1 written out directly: full distance matrices, sort, strict counts."""
    n = len(x)
    dx = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    dy = np.sqrt(((y[:, None, :] - y[None, :, :]) ** 2).sum(-1))
    eps = np.sort(np.maximum(dx, dy), axis=1)[:, k]  # column 0 is the point itself
    n_x = (dx < eps[:, None]).sum(1) - 1
    n_y = (dy < eps[:, None]).sum(1) - 1
    return float(digamma(k) + digamma(n) - np.mean(digamma(n_x + 1) + digamma(n_y + 1)))


@pytest.mark.parametrize("dims", [(1, 1), (2, 3), (6, 6)])
@pytest.mark.parametrize("method", ["kdtree", "brute"])
def test_ksg_matches_brute_force(dims, method):
    rng = np.random.default_rng(sum(dims))
    n, (dx, dy) = 200, dims
    x = rng.standard_normal((n, dx))
    y = 0.7 * x[:, :1] + rng.standard_normal((n, dy))
    got = ksg_mi(x, y, ks=(1, 5, 10), method=method)
    for k in (1, 5, 10):
        assert got[k] == pytest.approx(ksg_brute_force(x, y, k), abs=1e-10)


def test_ksg_standardises_and_clips():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((300, 2)), rng.standard_normal((300, 1))  # independent: raw estimates near 0
    est = KSG(k=(3, 7)).fit(x, y)
    xs, ys = (x - x.mean(0)) / x.std(0), (y - y.mean(0)) / y.std(0)
    assert est.per_k_raw == pytest.approx(ksg_mi(xs, ys, (3, 7)), abs=1e-12)
    assert est.per_k == {k: max(0.0, v) for k, v in est.per_k_raw.items()}
    assert KSG(k=(3, 7)).fit(100 * x + 5, y).estimate() == pytest.approx(est.estimate(), abs=1e-10)
    unclipped = KSG(k=(3, 7), clip=False).fit(x, y)
    assert unclipped.estimate() == pytest.approx(np.mean(list(est.per_k_raw.values())))


def test_ksg_methods_agree_in_moderate_dimension():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((600, 5))
    y = x @ rng.standard_normal((5, 4)) * 0.3 + rng.standard_normal((600, 4))
    assert ksg_mi(x, y, (5, 10), "kdtree") == pytest.approx(ksg_mi(x, y, (5, 10), "brute"), abs=1e-12)


# --------------------------------------------------------------------------------------------------
# CCA: the Gaussian closed form
# --------------------------------------------------------------------------------------------------


def test_cca_equals_gaussian_formula_on_its_sample_covariance():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((500, 5)) @ rng.standard_normal((5, 5))
    x, y = z[:, :3], z[:, 3:]
    est = CCA().fit(x, y)
    assert est.estimate() == pytest.approx(gaussian_mi_from_covariance(np.cov(z.T), 3), abs=1e-10)
    assert est.canonical_correlations.shape == (2,)
    # invariant to invertible affine maps of each variable
    a = rng.standard_normal((3, 3))
    assert CCA().fit(x @ a + 1.0, -2.0 * y).estimate() == pytest.approx(est.estimate(), abs=1e-10)


def test_cca_perfect_dependence_is_huge():
    x = np.arange(10.0)
    est = CCA().fit(x, 3 * x - 1)
    assert est.canonical_correlations[0] == pytest.approx(1.0, abs=1e-12)
    assert est.estimate() > 10


# --------------------------------------------------------------------------------------------------
# reproducibility, configuration, input handling
# --------------------------------------------------------------------------------------------------

SMALL = {"batch_size": 32, "max_steps": 120, "test_every": 40}


@pytest.mark.parametrize("name", list(NEURAL))
def test_neural_reproducible(name):
    x, y = gaussian_pair(400, seed=1)
    a = NEURAL[name](seed=3, **SMALL).fit(x, y)
    b = NEURAL[name](seed=3, **SMALL).fit(torch.as_tensor(x), torch.as_tensor(y)[:, None])  # torch, (n, 1)
    c = NEURAL[name](seed=4, **SMALL).fit(x, y)
    assert a.estimate() == b.estimate() and a.history == b.history
    assert a.estimate() != c.estimate()
    assert [s for s, _ in a.history] == [40, 80, 120][: len(a.history)]


def test_doe_reproducible():
    x, y = gaussian_pair(400, seed=1)
    a, b = DoE(steps=60, seed=3).fit(x, y), DoE(steps=60, seed=3).fit(x, y)
    assert a.estimate() == b.estimate()
    assert DoE(steps=60, seed=4).fit(x, y).estimate() != a.estimate()


def test_separable_critic_and_minde_config_run():
    x, y = gaussian_pair(400, seed=2)
    est = InfoNCE(critic="separable", seed=0, **SMALL).fit(x, y)
    assert math.isfinite(est.estimate())
    est = DV("minde", seed=0, **SMALL).fit(x, y)
    assert est.fit_info["hidden_layers"] == (32, 32, 8) and est.fit_info["lr"] == 1e-3
    assert est.fit_info["n_test"] == math.ceil(400 / 11)


@pytest.mark.parametrize("name", ["InfoNCE", "NWJ"])
def test_monitor_rows_selects_on_a_subset_and_reports_the_whole_test_split(name):
    """With monitor_rows below the test split, the running values are the bound on that many test rows, and the
    estimate is the kept (best) critic's bound on every test row; monitor_rows >= the test split changes nothing."""
    from minde.benchmark.baselines._common import _prepare

    x, y = gaussian_pair(1200, seed=5)
    full = NEURAL[name](seed=2, **SMALL).fit(x, y)  # 50/50 split: 600 test rows
    same = NEURAL[name](seed=2, monitor_rows=600, **SMALL).fit(x, y)
    assert (same.estimate(), same.history) == (full.estimate(), full.history)
    sub = NEURAL[name](seed=2, monitor_rows=100, **SMALL).fit(x, y)
    assert sub.fit_info["monitor_rows"] == 100 and full.fit_info["monitor_rows"] == 600
    assert sub.fit_info["monitor_best"] == max(v for _, v in sub.history)
    assert [s for s, _ in sub.history] == [s for s, _ in full.history][: len(sub.history)]
    assert sub.history != full.history[: len(sub.history)]  # another set of rows, other values
    xs, ys = _prepare(x, y, min_samples=4)
    test = np.random.default_rng(2).permutation(1200)[600:]
    x_te, y_te = (torch.as_tensor(a[test], dtype=torch.float32) for a in (xs, ys))
    whole = sub._test_value(sub.critic, x_te, y_te, torch.Generator().manual_seed(0))
    assert sub.estimate() == pytest.approx(whole, abs=1e-6)
    assert sub.estimate() != sub.fit_info["monitor_best"]
    for bad in (1, 0, 2.5, "a", True):
        with pytest.raises(ValueError, match="monitor_rows"):
            NEURAL[name](monitor_rows=bad)


def test_configs():
    assert neural_config("bmi", 50, 50) == neural_config("BMI", 1, 1)
    bmi = neural_config("bmi", 3, 3)
    assert (bmi.hidden_layers, bmi.lr, bmi.batch_size, bmi.max_steps, bmi.test_every, bmi.patience, bmi.test_fraction) == (
        (16, 8), 0.1, 256, 10_000, 250, 2, 0.5,
    )  # fmt: skip
    assert neural_config("minde", 5, 5).hidden_layers == (32, 32, 8)
    assert neural_config("minde", 25, 25).hidden_layers == (128, 128, 8)
    assert neural_config("minde", 50, 50).hidden_layers == (128, 128, 8)
    big = neural_config("minde", 100, 100)
    assert big.hidden_layers == (256, 256, 8) and big.lr == 2e-3 and big.max_steps == 200_000
    assert MINE(hidden_layers=(4,), lr=0.01)._resolve(1, 1).hidden_layers == (4,)
    assert set(BASELINES) == {"MINE", "InfoNCE", "NWJ", "DV", "DoE", "KSG", "CCA"}
    assert [BASELINES[k]().name for k in ("MINE", "InfoNCE", "NWJ", "DV", "KSG", "CCA")] == [
        "MINE", "InfoNCE", "NWJ", "DV", "KSG", "CCA",
    ]  # fmt: skip
    assert DoE().name == "DoE" and DoE("logistic").name == "DoE (logistic)"


ALL = [
    lambda: MINE(**SMALL),
    lambda: InfoNCE(**SMALL),
    lambda: NWJ(**SMALL),
    lambda: DV(**SMALL),
    lambda: DoE(steps=10),
    lambda: KSG(),
    lambda: CCA(),
]
IDS = ["MINE", "InfoNCE", "NWJ", "DV", "DoE", "KSG", "CCA"]


@pytest.mark.parametrize("make", ALL, ids=IDS)
def test_bad_input_raises(make):
    x, y = gaussian_pair(200, seed=0)
    with pytest.raises(ValueError, match="same number of samples"):
        make().fit(x, y[:-1])
    bad = x.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make().fit(bad, y)
    with pytest.raises(ValueError, match="too few samples"):
        make().fit(x[:3], y[:3])
    with pytest.raises(ValueError, match="constant"):
        make().fit(np.ones(200), y)
    with pytest.raises(ValueError, match="dimensions"):
        make().fit(np.zeros((200, 2, 2)), y)
    with pytest.raises(RuntimeError, match="not fitted"):
        make().estimate()


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="unknown config"):
        MINE("huge")
    with pytest.raises(ValueError, match="unknown critic"):
        InfoNCE(critic="bilinear")
    with pytest.raises(ValueError, match="invalid parameter"):
        NWJ(lr=-1.0)
    with pytest.raises(ValueError, match="smoothing_alpha"):
        MINE(smoothing_alpha=1.0)
    with pytest.raises(ValueError, match="unknown pdf"):
        DoE("cauchy")
    with pytest.raises(ValueError, match="k must be"):
        KSG(k=0)
    with pytest.raises(ValueError, match="unknown method"):
        KSG(method="ball")
    x, y = gaussian_pair(300, seed=0)
    with pytest.raises(ValueError, match="too few samples"):
        InfoNCE().fit(x, y)  # 150 training rows < one batch of 256
    with pytest.raises(ValueError, match="too few samples"):
        KSG(k=10).fit(x[:10], y[:10])
    with pytest.raises(ValueError, match="distance 0"):
        KSG(k=3).fit(np.repeat(x[:50], 5), np.repeat(y[:50], 5))  # every row five times


def test_factorised_gaussian_error_is_the_total_correlation_gap():
    """DoE's model bias on a Gaussian pair: zero when Y's coordinates are uncorrelated marginally and given X, and
    when X is independent of Y (then TC(Y | X) = TC(Y)); otherwise TC(Y) - TC(Y | X), computed by hand for a 1 x 2 case."""
    from minde.benchmark.baselines import factorised_gaussian_error
    from minde.benchmark.tasks import get_task

    sparse = get_task("multinormal-sparse-3-3-2-2.0").sampler  # pairs (x_i, y_i): Y diagonal, and so is Y | X
    assert factorised_gaussian_error(sparse.covariance, 3) == pytest.approx(0.0, abs=1e-12)
    rho = 0.6
    cov = np.eye(3)
    cov[1, 2] = cov[2, 1] = rho
    assert factorised_gaussian_error(cov, 1) == pytest.approx(0.0, abs=1e-12)  # X independent: TC(Y) = TC(Y|X)
    cov[0, 1] = cov[1, 0] = 0.5  # X now explains part of y_1: Y | X is less correlated than Y
    syy, sxy = cov[1:, 1:], cov[:1, 1:]
    cond = syy - sxy.T @ sxy
    tc = lambda s: 0.5 * np.log(s[0, 0] * s[1, 1] / np.linalg.det(s))  # noqa: E731
    assert factorised_gaussian_error(cov, 1) == pytest.approx(tc(syy) - tc(cond))
    dense = get_task("multinormal-dense-5-5-0.5").sampler
    assert factorised_gaussian_error(dense.covariance, 5) > 0.5  # the dense tasks' large positive DoE errors
    with pytest.raises(ValueError, match="square"):
        factorised_gaussian_error(np.eye(3)[:2], 1)


_EVALUATION_MEMORY = """
import resource, torch
from minde.benchmark.baselines import NWJ, JointCritic
torch.set_num_threads(1)
torch.manual_seed(0)
x, y = torch.randn(1_000, 50), torch.randn(10_000, 50)
critic = JointCritic(50, 50, (128, 128, 8)).eval()
t = torch.empty(5_000_000).fill_(1.0); del t  # a freed 20 MB block raises glibc's dynamic mmap threshold
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with torch.no_grad():
    NWJ()._offdiag_lme(critic, x, y)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1e6)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in kB and glibc's allocator: Linux")
def test_a_long_pairwise_evaluation_does_not_fragment_the_heap():
    """1 000 x 10 000 pairs at width 128 in ~80 blocks: peak memory stays near one block's intermediates (64 MiB each).
    With 16 MiB blocks (333 of them, from the heap) one run here grew by 2.4 GB (others by 0.04 GB: it depends on the
    heap's state); at 10 000 x 10 000 such growth reached 12 GB and, once, 21.6 GB."""
    out = subprocess.run([sys.executable, "-c", _EVALUATION_MEMORY], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 0.6, f"the evaluation's peak memory grew by {float(out.stdout):.2f} GB"
