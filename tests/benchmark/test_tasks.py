"""The 40 Beyond-Normal tasks: ids, order, ground truths, samplers and transforms (numpy/scipy only, fast)."""

import math

import numpy as np
import pytest
from scipy import integrate, linalg, stats

from minde.benchmark import samplers as S
from minde.benchmark import tasks as T
from minde.benchmark import transforms as Tr
from minde.benchmark.tasks import get_task, list_tasks

# (id, dims, ground truth in nats) in the benchmark's order, to 4 decimals, as listed with the benchmark (Beyond Normal,
# docs/paper.md §7); written out here rather than read from minde.benchmark.tasks, which is what they check.
EXPECTED: list[tuple[str, tuple[int, int], float]] = [
    ("1v1-normal-0.75", (1, 1), 0.4133),
    ("normal_cdf-1v1-normal-0.75", (1, 1), 0.4133),
    ("1v1-additive-0.1", (1, 1), 1.7094),
    ("1v1-additive-0.75", (1, 1), 0.3333),
    ("1v1-bimodal-0.75", (1, 1), 0.4133),
    ("wiggly-1v1-normal-0.75", (1, 1), 0.4133),
    ("half_cube-1v1-normal-0.75", (1, 1), 0.4133),
    ("student-identity-1-1-1", (1, 1), 0.2242),
    ("asinh-student-identity-1-1-1", (1, 1), 0.2242),
    ("swissroll_x-normal_cdf-1v1-normal-0.75", (2, 1), 0.4133),
    ("multinormal-dense-2-2-0.5", (2, 2), 0.2939),
    ("multinormal-dense-3-3-0.5", (3, 3), 0.4133),
    ("multinormal-dense-5-5-0.5", (5, 5), 0.5928),
    ("multinormal-dense-25-25-0.5", (25, 25), 1.2922),
    ("multinormal-dense-50-50-0.5", (50, 50), 1.6243),
    ("multinormal-sparse-2-2-2-2.0", (2, 2), 1.0217),
    ("multinormal-sparse-3-3-2-2.0", (3, 3), 1.0217),
    ("multinormal-sparse-5-5-2-2.0", (5, 5), 1.0217),
    ("multinormal-sparse-25-25-2-2.0", (25, 25), 1.0217),
    ("student-identity-2-2-1", (2, 2), 0.4319),
    ("student-identity-2-2-2", (2, 2), 0.1931),
    ("student-identity-3-3-2", (3, 3), 0.2909),
    ("student-identity-3-3-3", (3, 3), 0.1787),
    ("student-identity-5-5-2", (5, 5), 0.4482),
    ("student-identity-5-5-3", (5, 5), 0.2985),
    ("normal_cdf-multinormal-sparse-3-3-2-2.0", (3, 3), 1.0217),
    ("normal_cdf-multinormal-sparse-5-5-2-2.0", (5, 5), 1.0217),
    ("normal_cdf-multinormal-sparse-25-25-2-2.0", (25, 25), 1.0217),
    ("half_cube-multinormal-sparse-3-3-2-2.0", (3, 3), 1.0217),
    ("half_cube-multinormal-sparse-5-5-2-2.0", (5, 5), 1.0217),
    ("half_cube-multinormal-sparse-25-25-2-2.0", (25, 25), 1.0217),
    ("spiral-multinormal-sparse-3-3-2-2.0", (3, 3), 1.0217),
    ("spiral-multinormal-sparse-5-5-2-2.0", (5, 5), 1.0217),
    ("spiral-multinormal-sparse-25-25-2-2.0", (25, 25), 1.0217),
    ("spiral-normal_cdf-multinormal-sparse-3-3-2-2.0", (3, 3), 1.0217),
    ("spiral-normal_cdf-multinormal-sparse-5-5-2-2.0", (5, 5), 1.0217),
    ("spiral-normal_cdf-multinormal-sparse-25-25-2-2.0", (25, 25), 1.0217),
    ("asinh-student-identity-2-2-1", (2, 2), 0.4319),
    ("asinh-student-identity-3-3-2", (3, 3), 0.2909),
    ("asinh-student-identity-5-5-2", (5, 5), 0.4482),
]
IDS = [e[0] for e in EXPECTED]


# --------------------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------------------


def test_list_tasks_is_the_benchmark_in_order():
    ids = list_tasks()
    assert len(ids) == 40 and len(set(ids)) == 40
    assert ids == IDS


@pytest.mark.parametrize("task_id, dims, gt", EXPECTED, ids=IDS)
def test_ground_truth_and_dims(task_id, dims, gt):
    task = get_task(task_id)
    assert task.id == task_id
    assert (task.dim_x, task.dim_y) == dims
    assert isinstance(task.mutual_information, float)
    assert abs(task.mutual_information - gt) <= 1e-4
    assert task.name and isinstance(task.name, str)
    assert str(task.family).endswith(task.family.base)


def test_family_base_and_transform():
    fam = get_task("spiral-normal_cdf-multinormal-sparse-5-5-2-2.0").family
    assert fam.base == "multinormal-sparse" and fam.transform == "spiral-normal_cdf"
    fam = get_task("spiral-multinormal-sparse-3-3-2-2.0").family
    assert (fam.base, fam.transform) == ("multinormal-sparse", "spiral")
    fam = get_task("multinormal-dense-5-5-0.5").family
    assert (fam.base, fam.transform) == ("multinormal-dense", None)
    assert get_task("asinh-student-identity-2-2-1").family.base == "student-identity"


def test_unknown_id_lists_close_matches():
    with pytest.raises(ValueError) as err:
        get_task("spiral-multinormal-sparse-3-3-2-2")
    msg = str(err.value)
    assert "spiral-multinormal-sparse-3-3-2-2" in msg and "spiral-multinormal-sparse-3-3-2-2.0" in msg
    with pytest.raises(ValueError, match="1v1-normal-0.75"):
        get_task("1v1-normal-0.7")
    with pytest.raises(ValueError, match="zzz"):
        get_task("zzz")


def test_get_task_returns_independent_objects():
    a, b = get_task("multinormal-dense-2-2-0.5"), get_task("multinormal-dense-2-2-0.5")
    assert a is not b and a.sampler is not b.sampler


# --------------------------------------------------------------------------------------------------------------
# Sampling: shapes, dtype, seeds
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task_id", IDS)
def test_sample_shapes_and_seeds(task_id):
    task = get_task(task_id)
    x, y = task.sample(64, seed=3)
    assert x.shape == (64, task.dim_x) and y.shape == (64, task.dim_y)
    assert x.dtype == np.float64 and y.dtype == np.float64
    assert np.isfinite(x).all() and np.isfinite(y).all()
    x2, y2 = get_task(task_id).sample(64, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, y3 = task.sample(64, seed=4)
    assert not np.array_equal(x, x3) and not np.array_equal(y, y3)
    x4, y4 = task.sample(64, np.random.default_rng(3))
    np.testing.assert_array_equal(x, x4)
    np.testing.assert_array_equal(y, y4)


# --------------------------------------------------------------------------------------------------------------
# Gaussian families
# --------------------------------------------------------------------------------------------------------------


def test_covariance_formulas():
    dense = get_task("multinormal-dense-5-5-0.5").sampler.covariance
    np.testing.assert_allclose(dense, 0.5 * np.eye(10) + 0.5)
    sparse = get_task("multinormal-sparse-5-5-2-2.0").sampler.covariance
    want = np.eye(10)
    for i in range(2):
        want[i, 5 + i] = want[5 + i, i] = 0.8
    np.testing.assert_allclose(sparse, want, atol=1e-15)
    assert get_task("1v1-normal-0.75").sampler.covariance[0, 1] == 0.75


@pytest.mark.parametrize(
    "task_id",
    [
        "1v1-normal-0.75",
        "multinormal-dense-3-3-0.5",
        "multinormal-dense-25-25-0.5",
        "multinormal-sparse-2-2-2-2.0",
        "multinormal-sparse-25-25-2-2.0",
    ],
)
def test_gaussian_sample_covariance(task_id):
    task = get_task(task_id)
    x, y = task.sample(20_000, seed=0)
    emp = np.cov(np.hstack([x, y]), rowvar=False)
    # each entry has standard error <= sqrt(2 / n) = 0.01
    np.testing.assert_allclose(emp, task.sampler.covariance, atol=0.05)
    assert np.abs(np.hstack([x, y]).mean(axis=0)).max() < 0.04


def test_gaussian_mi_agrees_with_bivariate_formula():
    for rho in (0.1, 0.5, 0.9, 0.99):
        cov = np.array([[1.0, rho], [rho, 1.0]])
        assert S.gaussian_mi(cov, 1) == pytest.approx(-0.5 * math.log(1 - rho**2), rel=1e-12)
        assert T.bivariate_normal(rho).mutual_information == pytest.approx(-0.5 * math.log(1 - rho**2), rel=1e-12)


# --------------------------------------------------------------------------------------------------------------
# Transforms: the transformed sample is the base sample (same seed) pushed through the stated map
# --------------------------------------------------------------------------------------------------------------


def _half_cube(a):
    return a * np.sqrt(np.abs(a))


def _wiggly_x(a):
    return a + 0.4 * np.sin(a) + 0.2 * np.sin(1.7 * a + 1) + 0.03 * np.sin(3.3 * a - 2.5)


def _wiggly_y(a):
    return a - 0.4 * np.sin(0.4 * a) + 0.17 * np.sin(1.3 * a + 3.5) + 0.02 * np.sin(4.3 * a - 2.5)


def _swissroll(a):
    t = 1.5 * np.pi * (1 + 2 * a[:, 0])
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 21


def _spiral_expm(a, i, j, speed):
    """The spiral via scipy's matrix exponential of the so(d) generator, row by row."""
    d = a.shape[1]
    gen = np.zeros((d, d))
    gen[i, j], gen[j, i] = -1.0, 1.0
    return np.stack([linalg.expm(speed * (row @ row) * gen) @ row for row in a])


def _identity(a):
    return a


PER_COORDINATE = [
    ("normal_cdf-1v1-normal-0.75", "1v1-normal-0.75", stats.norm.cdf, stats.norm.cdf),
    ("wiggly-1v1-normal-0.75", "1v1-normal-0.75", _wiggly_x, _wiggly_y),
    ("half_cube-1v1-normal-0.75", "1v1-normal-0.75", _half_cube, _half_cube),
    ("asinh-student-identity-1-1-1", "student-identity-1-1-1", np.arcsinh, np.arcsinh),
    ("swissroll_x-normal_cdf-1v1-normal-0.75", "normal_cdf-1v1-normal-0.75", _swissroll, _identity),
    ("normal_cdf-multinormal-sparse-5-5-2-2.0", "multinormal-sparse-5-5-2-2.0", stats.norm.cdf, stats.norm.cdf),
    ("half_cube-multinormal-sparse-25-25-2-2.0", "multinormal-sparse-25-25-2-2.0", _half_cube, _half_cube),
    ("asinh-student-identity-5-5-2", "student-identity-5-5-2", np.arcsinh, np.arcsinh),
    (
        "spiral-multinormal-sparse-3-3-2-2.0",
        "multinormal-sparse-3-3-2-2.0",
        lambda a: _spiral_expm(a, 0, 1, 1 / 3),
        lambda a: _spiral_expm(a, 1, 2, 1 / 3),
    ),
    (
        "spiral-multinormal-sparse-5-5-2-2.0",
        "multinormal-sparse-5-5-2-2.0",
        lambda a: _spiral_expm(a, 0, 1, 1 / 5),
        lambda a: _spiral_expm(a, 1, 2, 1 / 5),
    ),
    (
        "spiral-normal_cdf-multinormal-sparse-25-25-2-2.0",
        "normal_cdf-multinormal-sparse-25-25-2-2.0",
        lambda a: _spiral_expm(a, 0, 1, 1 / 25),
        lambda a: _spiral_expm(a, 1, 2, 1 / 25),
    ),
]


@pytest.mark.parametrize("task_id, base_id, fx, fy", PER_COORDINATE, ids=[p[0] for p in PER_COORDINATE])
def test_transform_is_applied_to_the_base_sample(task_id, base_id, fx, fy):
    x, y = get_task(task_id).sample(40, seed=11)
    bx, by = get_task(base_id).sample(40, seed=11)
    np.testing.assert_allclose(x, fx(bx), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, fy(by), rtol=1e-12, atol=1e-12)


def test_half_cube_of_base_equals_x_sqrt_abs_x():
    x, y = get_task("half_cube-multinormal-sparse-3-3-2-2.0").sample(500, seed=0)
    bx, by = get_task("multinormal-sparse-3-3-2-2.0").sample(500, seed=0)
    np.testing.assert_array_equal(x, bx * np.sqrt(np.abs(bx)))
    np.testing.assert_array_equal(y, by * np.sqrt(np.abs(by)))


def test_spiral_rotates_only_its_plane_and_keeps_norms():
    x, y = get_task("spiral-multinormal-sparse-5-5-2-2.0").sample(300, seed=2)
    bx, by = get_task("multinormal-sparse-5-5-2-2.0").sample(300, seed=2)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.linalg.norm(bx, axis=1), rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), np.linalg.norm(by, axis=1), rtol=1e-12)
    np.testing.assert_array_equal(x[:, 2:], bx[:, 2:])  # X: plane (0, 1)
    np.testing.assert_array_equal(y[:, [0, 3, 4]], by[:, [0, 3, 4]])  # Y: plane (1, 2)
    # inverse: rotate back by -speed ||x||^2 (the norm is preserved)
    np.testing.assert_allclose(Tr.spiral_map(x, 0, 1, -1 / 5), bx, atol=1e-12)


def test_swissroll_adds_one_dimension():
    task = get_task("swissroll_x-normal_cdf-1v1-normal-0.75")
    assert (task.dim_x, task.dim_y) == (2, 1)
    x, y = task.sample(2000, seed=0)
    assert x.shape == (2000, 2) and y.shape == (2000, 1)
    r = np.linalg.norm(x, axis=1) * 21  # = t in [1.5 pi, 4.5 pi]
    assert r.min() >= 1.5 * np.pi - 1e-9 and r.max() <= 4.5 * np.pi + 1e-9
    assert ((0 < y) & (y < 1)).all()
    with pytest.raises(ValueError):
        T.transform_task(T.multinormal_dense(2, 2), "swissroll_x")


def test_bimodal_margins_are_the_stated_mixtures():
    task = get_task("1v1-bimodal-0.75")
    x, y = task.sample(4000, seed=0)
    u, v = get_task("normal_cdf-1v1-normal-0.75").sample(4000, seed=0)

    def mix(a, w, m):
        return sum(wk * stats.norm.cdf(a - mk) for wk, mk in zip(w, m, strict=True))

    # the transform is the inverse CDF of the mixture, applied to the uniform-margin base
    np.testing.assert_allclose(mix(x, (0.3, 0.7), (0.0, 5.0)), u, atol=1e-10)
    np.testing.assert_allclose(mix(y, (0.5, 0.5), (-1.0, 3.0)), v, atol=1e-10)
    assert stats.kstest(x[:, 0], lambda a: mix(a, (0.3, 0.7), (0.0, 5.0))).pvalue > 1e-3
    assert stats.kstest(y[:, 0], lambda a: mix(a, (0.5, 0.5), (-1.0, 3.0))).pvalue > 1e-3
    assert 0.25 < np.mean(x < 2.5) < 0.35  # weight of the N(0, 1) mode


def test_transform_task_composes_in_one_line():
    base = T.multinormal_sparse(5, 5)
    chained = T.transform_task(base, "spiral-normal_cdf")
    assert chained.id == "spiral-normal_cdf-multinormal-sparse-5-5-2-2.0"
    assert chained.name == get_task(chained.id).name
    np.testing.assert_array_equal(chained.sample(30, 1)[0], get_task(chained.id).sample(30, 1)[0])
    with pytest.raises(ValueError, match="unknown transform"):
        T.transform_task(base, "cube")
    with pytest.raises(ValueError):
        T.transform_task(T.multinormal_dense(2, 2), "spiral")  # bmi's spiral needs dim_y >= 3


# --------------------------------------------------------------------------------------------------------------
# Additive uniform noise
# --------------------------------------------------------------------------------------------------------------


def _additive_mi_by_integration(eps: float) -> float:
    """I = h(Y) - log(2 eps), with p_Y(y) = |[y - eps, y + eps] ∩ [0, 1]| / (2 eps) integrated numerically."""

    def p(yv: float) -> float:
        return max(0.0, min(1.0, yv + eps) - max(0.0, yv - eps)) / (2 * eps)

    def integrand(yv: float) -> float:
        q = p(yv)
        return -q * math.log(q) if q > 0 else 0.0

    kinks = sorted({-eps, eps, 1 - eps, 1 + eps})
    h_y = sum(integrate.quad(integrand, a, b, epsabs=1e-12, epsrel=1e-12)[0] for a, b in zip(kinks[:-1], kinks[1:], strict=True))
    return h_y - math.log(2 * eps)


@pytest.mark.parametrize("eps", [0.05, 0.1, 0.3, 0.5, 0.75, 2.0])
def test_additive_noise_formula_matches_integration(eps):
    assert S.additive_noise_mi(eps) == pytest.approx(_additive_mi_by_integration(eps), abs=1e-8)


def test_additive_noise_samples():
    x, y = get_task("1v1-additive-0.1").sample(5000, seed=0)
    n = y - x
    assert ((0 <= x) & (x <= 1)).all() and (np.abs(n) <= 0.1).all()
    assert stats.kstest(n[:, 0] / 0.1, stats.uniform(-1, 2).cdf).pvalue > 1e-3


# --------------------------------------------------------------------------------------------------------------
# Student t
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task_id", ["student-identity-1-1-1", "student-identity-2-2-2", "student-identity-5-5-3"])
def test_student_tails(task_id):
    task = get_task(task_id)
    df = task.sampler.df
    n = 40_000
    x, y = task.sample(n, seed=5)
    xy = np.hstack([x, y])
    for level in (0.99, 0.999):
        q = stats.t.ppf(level, df)
        p = 1 - level
        emp = np.mean(np.abs(xy) > q, axis=0)  # two-sided tail per coordinate
        se = math.sqrt(2 * p * (1 - 2 * p) / n)
        assert np.all(np.abs(emp - 2 * p) < 5 * se + 1e-4), (level, emp, 2 * p)
        assert 2 * stats.norm.sf(q) < 0.2 * p  # a Gaussian would have (almost) no mass there
    assert stats.kstest(xy[:, 0], stats.t(df).cdf).pvalue > 1e-3
    # joint: ||(x, y)||^2 / d ~ F(d, df) (the shared chi-square scale)
    d = xy.shape[1]
    assert stats.kstest(np.sum(xy**2, axis=1) / d, stats.f(d, df).cdf).pvalue > 1e-3


def _student_mc_mi(sampler: S.StudentTSampler, n: int, seed: int) -> tuple[float, float]:
    """Monte Carlo E[log p(x, y) - log p(x) - log p(y)] with scipy's multivariate_t densities."""
    x, y = sampler.sample(n, np.random.default_rng(seed))
    om, dx, df = sampler.dispersion, sampler.dim_x, sampler.df
    lj = stats.multivariate_t(shape=om, df=df).logpdf(np.hstack([x, y]))
    lx = stats.multivariate_t(shape=om[:dx, :dx], df=df).logpdf(x)
    ly = stats.multivariate_t(shape=om[dx:, dx:], df=df).logpdf(y)
    ratio = lj - lx - ly
    return float(ratio.mean()), float(ratio.std() / math.sqrt(n))


def test_student_mi_matches_monte_carlo():
    # non-identity dispersion: Gaussian part plus correction
    om = np.array([[1.0, 0.5], [0.5, 1.0]])
    sampler = S.StudentTSampler(om, dim_x=1, df=3)
    gt = sampler.mutual_information()
    assert gt == pytest.approx(-0.5 * math.log(0.75) + S.student_t_mi_correction(1, 1, 3))
    mc, se = _student_mc_mi(sampler, 100_000, seed=0)
    assert abs(mc - gt) < 5 * se + 1e-3, (mc, gt, se)
    # a benchmark task (identity dispersion, only the correction term)
    sampler = get_task("student-identity-2-2-2").sampler
    mc, se = _student_mc_mi(sampler, 100_000, seed=1)
    assert abs(mc - 0.1931) < 5 * se + 1e-3, (mc, se)


def test_student_correction_limits():
    assert S.student_t_mi_correction(2, 3, math.inf) == 0.0
    vals = [S.student_t_mi_correction(2, 2, df) for df in (1, 3, 10, 100, 1000)]
    assert all(a > b > 0 for a, b in zip(vals[:-1], vals[1:], strict=True))
    # df = inf gives back the Gaussian
    om = S.dense_covariance(4, 0.3)
    assert S.StudentTSampler(om, 2, math.inf).mutual_information() == pytest.approx(S.gaussian_mi(om, 2))


# --------------------------------------------------------------------------------------------------------------
# Figure 1 helpers
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transform", [None, "normal_cdf", "half_cube", "spiral", "spiral-normal_cdf"])
def test_sparse_helper_reproduces_benchmark_tasks(transform):
    task = T.sparse_multinormal_task(dim=3, strength=2.0, n_interacting=2, transform=transform)
    bench = get_task(("" if transform is None else transform + "-") + "multinormal-sparse-3-3-2-2.0")
    assert task.id == bench.id and task.name == bench.name
    np.testing.assert_array_equal(task.sample(50, 7)[0], bench.sample(50, 7)[0])


def test_sparse_strength_grid_spans_zero_to_five_nats():
    mis = [T.sparse_multinormal_mi(s) for s in np.linspace(0.0, 17.2, 30)]
    assert mis[0] == 0.0 and mis[-1] >= 5.0
    assert all(a < b for a, b in zip(mis[:-1], mis[1:], strict=True))
    for lam in (0.3, 1.0, 2.0, 10.0):
        task = T.sparse_multinormal_task(strength=lam)
        assert task.mutual_information == pytest.approx(T.sparse_multinormal_mi(lam), rel=1e-10)
        assert T.sparse_strength_for_mi(task.mutual_information) == pytest.approx(lam, rel=1e-8)
    assert T.sparse_multinormal_mi(2.0) == pytest.approx(-math.log(0.36))
    grid = T.figure1_tasks(mi_values=(0.5, 2.5, 5.0))
    for tasks in grid.values():  # the ids name the tasks: get_task rebuilds each one, same samples
        for t in tasks:
            u = T.get_task(t.id)
            assert (u.id, u.mutual_information) == (t.id, t.mutual_information)
            np.testing.assert_array_equal(u.sample(7, seed=3)[1], t.sample(7, seed=3)[1])
    assert T.get_task("multinormal-sparse-4-2-1-3.0").mutual_information == pytest.approx(T.sparse_multinormal_mi(3.0, 1))
    with pytest.raises(ValueError, match="unknown task id 'cube-multinormal"):
        T.get_task("cube-multinormal-sparse-3-3-2-2.0")
    with pytest.raises(ValueError, match="0 <= K"):
        T.get_task("multinormal-sparse-3-3-4-2.0")
    assert set(grid) == {None, "half_cube", "spiral"}
    for tr, tasks in grid.items():
        assert [round(t.mutual_information, 8) for t in tasks] == [0.5, 2.5, 5.0]
        assert all(t.family.transform == tr and (t.dim_x, t.dim_y) == (3, 3) for t in tasks)
