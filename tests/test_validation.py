"""Input checks and the per-column preprocessing maps."""

import numpy as np
import pytest
from scipy import stats

from minde.validation import RankGaussianizer, Standardizer


def test_rank_gaussianizer_maps_heavy_tails_to_a_standard_normal_and_is_strictly_increasing():
    rng = np.random.default_rng(0)
    a = np.c_[rng.standard_cauchy(40_000), rng.exponential(size=40_000), np.round(rng.normal(size=40_000), 1)]
    g = RankGaussianizer.fit(a, "x")
    z = g(a)
    for j in range(2):  # continuous columns: close to N(0, 1)
        assert abs(z[:, j].mean()) < 0.01 and abs(z[:, j].std() - 1) < 0.01
        assert stats.kstest(z[:, j], "norm").statistic < 0.01
    # strictly increasing everywhere, also far outside the training range, where it grows only logarithmically
    grid = np.linspace(-1e6, 1e6, 20_001)
    out = g(np.c_[grid, grid, grid])
    assert np.all(np.diff(out, axis=0) > 0)
    assert np.abs(out).max() < 30
    # the rounded column has atoms: each maps to one value, in the middle of its probability levels
    assert len(np.unique(z[:, 2])) == len(np.unique(a[:, 2]))
    assert abs(np.median(z[a[:, 2] == 0.0, 2])) < 0.05


def test_rank_gaussianizer_errors():
    with pytest.raises(ValueError, match="constant"):
        RankGaussianizer.fit(np.ones((100, 2)), "x")
    g = RankGaussianizer.fit(np.random.default_rng(1).normal(size=(100, 2)), "y")
    with pytest.raises(ValueError, match="expected 2 columns, got 3"):
        g(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="constant"):
        Standardizer.fit(np.c_[np.arange(5.0), np.ones(5)], "x")
