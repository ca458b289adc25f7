"""The MINDE object: trained accuracy at CI size, reproducibility, persistence, and input checking."""

import numpy as np
import pytest
import torch

from minde import MINDE
from minde.estimator import exact_mi_versus_sigma, fit_tracked, mi_versus_sigma
from minde.gaussian import GaussianPair

GAUSS_1x1 = GaussianPair.correlated(0.75)  # MI 0.4133
DENSE_5x5 = GaussianPair.dense(5, 5, 0.5)  # MI 0.5928


@pytest.fixture(scope="module")
def data_1x1():
    return GAUSS_1x1.sample(20_000, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["c", "j"])
@pytest.mark.parametrize("pair", [GAUSS_1x1, DENSE_5x5], ids=["1x1", "5x5"])
def test_trained_estimate_within_a_tenth_of_a_nat(pair, variant):
    x, y = pair.sample(20_000, seed=2)
    # CI budget (~15-25 s a model): 6k steps at batch 256 with a cosine learning-rate decay
    est = MINDE(variant=variant, steps=6_000, batch_size=256, lr=2e-3, lr_schedule="cosine", test_fraction=0.5, mc_repeats=4)
    est.fit(x, y)
    res = est.mutual_information()
    gt = pair.mutual_information()
    assert abs(res.mi - gt) < 0.1, res
    assert res.mi_stderr < 0.02
    assert est.estimate() == pytest.approx(res.mi)
    lo, hi = res.interval(0.95)
    assert lo < res.mi < hi and (hi - lo) / 2 == pytest.approx(1.959964 * res.mi_stderr, rel=1e-5)


def test_same_seed_same_numbers_and_save_load_round_trip(data_1x1, tmp_path):
    x, y = data_1x1
    kw = dict(variant="j", steps=150, mc_repeats=2, seed=3)
    a, b = MINDE(**kw).fit(x, y), MINDE(**kw).fit(x, y)
    assert a.mutual_information() == b.mutual_information()
    assert a.log.losses == b.log.losses
    c = MINDE(**(kw | {"seed": 4})).fit(x, y)
    assert c.estimate() != a.estimate()
    path = tmp_path / "model.pt"
    a.save(path)
    loaded = MINDE.load(path)
    assert loaded.config() == a.config()
    assert loaded.mutual_information() == a.mutual_information()
    assert loaded.entropy()["H(X,Y)"] == a.entropy()["H(X,Y)"]


def test_accepts_torch_1d_and_estimates_on_new_data(data_1x1):
    x, y = data_1x1
    est = MINDE(steps=50, mc_repeats=1).fit(torch.as_tensor(x[:, 0]), torch.as_tensor(y[:, 0]))
    assert isinstance(est.estimate(), float)
    assert isinstance(est.estimate(x[:500], y[:500]), float)
    assert set(est.entropy()) == {"H(X)", "H(X|Y)"}
    with pytest.raises(ValueError, match="shape mismatch"):
        est.estimate(np.ones((10, 2)), y[:10])
    with pytest.raises(ValueError, match="both x and y"):
        est.estimate(x[:10], None)


def test_entropy_is_in_original_units(data_1x1):
    """Scaling X by c shifts H(X) by log c (the estimator standardises internally)."""
    x, y = data_1x1
    kw = dict(variant="c", steps=300, mc_repeats=2, seed=0)
    h1 = MINDE(**kw).fit(x, y).entropy()["H(X)"].value
    h2 = MINDE(**kw).fit(10 * x, y).entropy()["H(X)"].value
    assert h2 - h1 == pytest.approx(np.log(10), abs=1e-3)


def test_unfitted_raises():
    with pytest.raises(RuntimeError, match="not fitted"):
        MINDE().estimate()


@pytest.mark.parametrize(
    "x, y, message",
    [
        (np.zeros((300, 1)) + np.arange(300)[:, None], np.ones((299, 1)), "same number of samples"),
        (np.full((300, 1), np.nan), np.ones((300, 1)), "NaN or inf"),
        (np.r_[np.ones((299, 1)), [[np.inf]]], np.random.default_rng(0).normal(size=(300, 1)), "NaN or inf"),
        (np.random.default_rng(0).normal(size=(100, 1)), np.random.default_rng(1).normal(size=(100, 1)), "too few samples"),
        (np.random.default_rng(0).normal(size=(300, 2)), np.c_[np.ones(300), np.arange(300.0)], "constant"),
        (np.zeros((300, 2, 2)), np.zeros((300, 1)), "3 dimensions"),
        (np.array([["a"]] * 300), np.zeros((300, 1)), "numeric"),
    ],
    ids=["n-mismatch", "nan", "inf", "fewer-than-batch", "constant-column", "3d", "strings"],
)
def test_bad_input_raises_clear_error(x, y, message):
    with pytest.raises(ValueError, match=message):
        MINDE(steps=10).fit(x, y)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"variant": "x"}, "unknown variant 'x'"),
        ({"sde": "subvp"}, "unknown SDE 'subvp'"),
        ({"sigma": 0.0}, "sigma"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"steps": 0}, "steps"),
    ],
)
def test_bad_parameters_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MINDE(**kwargs)


def test_device_auto_resolves():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert MINDE(device="auto").device.type == expected


# --- tutorial helpers: fit_tracked, mi_versus_sigma, exact_mi_versus_sigma ----------------------------


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
    sweep = exact_mi_versus_sigma(GAUSS_1x1, "vp", [0.5, 1.0, 2.0], variant="c", n=100_000)
    assert sweep["sigma"].tolist() == [0.5, 1.0, 2.0]
    gt = GAUSS_1x1.mutual_information()
    assert np.all(np.abs(sweep["mi_sigma"] - gt) < 5 * sweep["mi_sigma_stderr"] + 0.01)
    assert np.all(np.abs(sweep["mi"] - gt) < 0.02)
    j = exact_mi_versus_sigma(GAUSS_1x1, "vp", [1.0], variant="j", n=50_000)
    assert abs(j["mi_sigma"][0] - gt) < 0.03
    with pytest.raises(ValueError, match="variant"):
        exact_mi_versus_sigma(GAUSS_1x1, "vp", [1.0], variant="x")


def test_rank_gauss_preprocessing_is_invariant_to_monotone_maps(data_1x1, tmp_path):
    """With preprocess="rank_gauss" only the ranks of each training column matter (n <= max_knots: the knots are the
    data), so a strictly increasing map of X trains the same network; held-out points fall between knots, where the
    linear interpolation differs slightly.  The model round-trips through save/load."""
    x, y = data_1x1[0][:1500], data_1x1[1][:1500]
    kw = dict(variant="c", steps=100, mc_repeats=2, seed=5, preprocess="rank_gauss")
    a = MINDE(**kw).fit(x, y)
    b = MINDE(**kw).fit(np.exp(2.0 * x) + 3.0, y)
    assert a.log.losses == b.log.losses
    ra, rb = a.mutual_information(), b.mutual_information()
    assert rb.mi == pytest.approx(ra.mi, rel=1e-4) and rb.mi_sigma == pytest.approx(ra.mi_sigma, rel=1e-4)
    with pytest.raises(ValueError, match="entropies need preprocess='standardize'"):
        a.entropy()
    a.save(tmp_path / "rank.pt")
    loaded = MINDE.load(tmp_path / "rank.pt")
    assert loaded.config()["preprocess"] == "rank_gauss"
    assert loaded.mutual_information() == a.mutual_information()
    assert loaded.estimate(x[:200], y[:200]) == a.estimate(x[:200], y[:200])
    lo, hi = ra.interval(0.9, form="sigma")
    assert hi - lo == pytest.approx(2 * 1.644854 * ra.mi_sigma_stderr, rel=1e-5)
    glo, ghi = ra.interval(0.9, form="sigma", form_gap=True)
    assert (ghi - glo) / 2 == pytest.approx(np.hypot(1.644854 * ra.mi_sigma_stderr, ra.mi - ra.mi_sigma), rel=1e-5)
    assert glo + ghi == pytest.approx(lo + hi)  # same centre, wider by the forms' disagreement
    with pytest.raises(ValueError, match="unknown form"):
        ra.interval(form="outside")
    with pytest.raises(ValueError, match="unknown preprocess 'ranks'"):
        MINDE(preprocess="ranks")
