"""MINDEEnsemble: the average of MINDE-C and MINDE-J over seeds, its interval, checkpoints and input checks."""

import numpy as np
import pytest

from minde import MINDE, MINDEEnsemble
from minde.experiments.results import ensemble_intervals
from minde.gaussian import GaussianPair

FAST = dict(steps=120, mc_repeats=2, batch_size=128, progress=False)


@pytest.fixture(scope="module")
def data():
    return GaussianPair.correlated(0.75).sample(4_000, seed=5)


@pytest.fixture(scope="module")
def fitted(data):
    return MINDEEnsemble(seeds=(0, 1), **FAST).fit(*data)


def test_average_of_members_with_the_interval_of_notebook_09(fitted):
    res = fitted.mutual_information()
    m = res.members
    assert sorted(zip(m["estimator"], m["seed"], strict=True)) == [("MINDE-C", 0), ("MINDE-C", 1), ("MINDE-J", 0), ("MINDE-J", 1)]
    assert res.mi == pytest.approx(m["estimate"].mean())
    means = m.groupby("estimator")["estimate"].mean()
    assert res.spread == pytest.approx(abs(means["MINDE-C"] - means["MINDE-J"]))
    assert res.half_width == pytest.approx(np.hypot(res.statistical, res.spread))
    # the same numbers as the benchmark's ensemble intervals (minde.experiments.results), computed from the member rows
    ref = ensemble_intervals(m.assign(task="data", gt=0.0), ["MINDE-C", "MINDE-J"]).iloc[0]
    assert res.mi == pytest.approx(ref["mean"]) and res.half_width == pytest.approx(ref["half_width"])
    lo, hi = res.interval()
    assert lo < res.mi < hi and fitted.estimate() == res.mi


def test_members_are_plain_minde_models_with_their_seed(fitted, data):
    member = fitted.members[("j", 1)]
    alone = MINDE(variant="j", seed=1, **FAST).fit(*data)
    assert member.mutual_information() == alone.mutual_information()


def test_single_variant_single_seed_falls_back_to_the_monte_carlo_interval(data):
    res = MINDEEnsemble(variants=("c",), seeds=(3,), **FAST).fit(*data).mutual_information()
    (row,) = res.members.itertuples()
    assert res.spread == 0.0 and res.mi == pytest.approx(row.estimate)
    assert res.half_width == pytest.approx(1.959964 * row.stderr, rel=1e-5)


def test_checkpoints_resume_and_refuse_other_data(fitted, data, tmp_path, monkeypatch):
    x, y = data
    first = MINDEEnsemble(seeds=(0, 1), **FAST).fit(x, y, checkpoint_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.pt")) == [f"MINDE-{v}-seed{s}.pt" for v in "CJ" for s in (0, 1)]

    def no_training(self, *a, **k):
        raise AssertionError("a checkpointed member was retrained")

    monkeypatch.setattr(MINDE, "fit", no_training)
    again = MINDEEnsemble(seeds=(0, 1), **FAST).fit(x, y, checkpoint_dir=tmp_path)
    assert again.mutual_information().mi == first.mutual_information().mi == fitted.mutual_information().mi
    with pytest.raises(ValueError, match="different data"):
        MINDEEnsemble(seeds=(0, 1), **FAST).fit(x[::-1], y[::-1], checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="was trained with"):
        MINDEEnsemble(seeds=(0, 1), **(FAST | {"steps": 121})).fit(x, y, checkpoint_dir=tmp_path)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(variants=("c", "x")), "variants must be"),
        (dict(variants=()), "variants must be"),
        (dict(seeds=(0, 0)), "seeds must be"),
        (dict(seeds=()), "seeds must be"),
        (dict(level=1.5), "level must be"),
        (dict(seed=3), "'seed' is set per member"),
        (dict(variant="j"), "'variant' is set per member"),
        (dict(variants=("c",), variant_kwargs={"j": {"steps": 10}}), "not among the variants"),
        (dict(steps=0), "steps must be at least 1"),
    ],
)
def test_bad_parameters_fail_before_training(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MINDEEnsemble(**kwargs)


def test_unfitted_and_bad_data(data):
    x, y = data
    with pytest.raises(RuntimeError, match="not fitted"):
        MINDEEnsemble(seeds=(0,), **FAST).mutual_information()
    bad = x.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MINDEEnsemble(seeds=(0,), **FAST).fit(bad, y)
    with pytest.raises(ValueError, match="shape mismatch|sample"):
        MINDEEnsemble(seeds=(0,), **FAST).fit(x[:100], y)
