"""The MINDE object: trained accuracy at CI size, reproducibility, persistence, and input checking."""

import numpy as np
import pytest
import torch

from minde import MINDE
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
