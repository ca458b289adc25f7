"""The 40 tasks of the "Beyond Normal" mutual-information benchmark, in numpy/scipy only.

Reference: P. Czyz, F. Grabowski, J. E. Vogt, N. Beerenwinkel, A. Marx, "Beyond Normal: On the Evaluation of
Mutual Information Estimators", NeurIPS 2023; package ``benchmark-mi`` 0.1.3 (github.com/cbg-ethz/bmi).
The released package needs an old JAX and numpy < 2, so this module re-implements its tasks from the published
constructions: same task ids, same order, same closed-form ground truths, same distributions.  Random streams
differ from the package (it draws with JAX keys, we draw with ``np.random.default_rng(seed)``), so a sample of
ours is not bit-identical to a sample of theirs; it is a sample of the same distribution.

Building blocks
---------------
* Base samplers, each with its closed-form MI in nats (multinormal, bivariate normal, additive uniform noise,
  Student t), and the covariance parametrisations: :mod:`minde.benchmark.samplers`.

* Transforms (:class:`~minde.benchmark.transforms.Transform`, a pair of maps f for X and g for Y applied to whole
  samples): ``normal_cdf``, ``half_cube``, ``asinh``, ``wiggly``, ``spiral``, ``swissroll_x`` and the ``bimodal``
  inverse CDFs, all of which keep the MI of their base: :mod:`minde.benchmark.transforms`.

* Task builders (:func:`bivariate_normal`, :func:`additive_noise`, :func:`bimodal`, :func:`multinormal_dense`,
  :func:`multinormal_sparse`, :func:`student_identity`) and :func:`transform_task`, so a new task is one line::

      task = transform_task(multinormal_sparse(5, 5), "spiral-normal_cdf")   # spiral of normal_cdf of base

* The registry (:func:`list_tasks`, :func:`get_task`) holds the 40 benchmark tasks in the benchmark's order.

* Figure 1 of MINDE (sparse 3 x 3 multinormal with growing interaction strength, and its transforms):
  :func:`sparse_multinormal_task`, :func:`sparse_multinormal_mi`, :func:`sparse_strength_for_mi`,
  :func:`figure1_tasks`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import numpy as np

from .samplers import (
    AdditiveUniformSampler,
    Array,
    BivariateNormalSampler,
    MultinormalSampler,
    Sampler,
    SeedLike,
    StudentTSampler,
    _as_rng,
    dense_covariance,
    sparse_lvm_correlation,
)
from .transforms import TRANSFORM_NAMES, Transform, TransformedSampler, make_transform

__all__ = [
    "Family",
    "Task",
    "FIGURE1_MI",
    "bivariate_normal",
    "additive_noise",
    "bimodal",
    "multinormal_dense",
    "multinormal_sparse",
    "student_identity",
    "transform_task",
    "sparse_multinormal_mi",
    "sparse_strength_for_mi",
    "sparse_multinormal_task",
    "figure1_tasks",
    "list_tasks",
    "get_task",
]

# ----------------------------------------------------------------------------------------------------------------
# Tasks
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """Where a task comes from: its base distribution and the transforms applied to it (outermost first)."""

    base: str
    transforms: tuple[str, ...] = ()

    @property
    def transform(self) -> str | None:
        """The transforms joined as in task ids (``"spiral-normal_cdf"``), None for an untransformed base."""
        return "-".join(self.transforms) or None

    def __str__(self) -> str:
        return self.base if not self.transforms else f"{self.transform}-{self.base}"


@dataclass(frozen=True, eq=False)
class Task:
    """A named, preconfigured sampler with a closed-form ground truth.

    Attributes: ``id`` (the benchmark id), ``name`` (human readable), ``family``, ``sampler``, ``params``.
    Properties: ``dim_x``, ``dim_y``, ``mutual_information`` (nats).  ``sample(n, seed)`` draws everything from
    ``np.random.default_rng(seed)``.
    """

    id: str
    name: str
    family: Family
    sampler: Sampler
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def dim_x(self) -> int:
        return self.sampler.dim_x

    @property
    def dim_y(self) -> int:
        return self.sampler.dim_y

    @property
    def mutual_information(self) -> float:
        """Ground-truth I(X; Y) in nats."""
        return float(self.sampler.mutual_information())

    def sample(self, n: int, seed: SeedLike) -> tuple[Array, Array]:
        """n i.i.d. pairs (x, y), float64 arrays of shape (n, dim_x), (n, dim_y); same seed, same samples."""
        x, y = self.sampler.sample(int(n), _as_rng(seed))
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def __repr__(self) -> str:
        return f"Task({self.id!r}, {self.dim_x}x{self.dim_y}, MI={self.mutual_information:.4f})"


def bivariate_normal(correlation: float = 0.75) -> Task:
    """``1v1-normal-{rho}``: standard bivariate normal, ``I = -1/2 log(1 - rho^2)`` (0.4133 for rho = 0.75)."""
    return Task(
        id=f"1v1-normal-{correlation}",
        name="Bivariate normal 1 × 1",
        family=Family("bivariate-normal"),
        sampler=BivariateNormalSampler(correlation),
        params={"gaussian_correlation": correlation},
    )


def additive_noise(epsilon: float) -> Task:
    """``1v1-additive-{eps}``: X ~ U(0, 1), Y = X + U(-eps, eps); MI from :func:`additive_noise_mi`."""
    return Task(
        id=f"1v1-additive-{epsilon}",
        name=f"Uniform 1 × 1 (additive noise={epsilon})",
        family=Family("additive-uniform"),
        sampler=AdditiveUniformSampler(epsilon),
        params={"epsilon": epsilon},
    )


def bimodal(correlation: float = 0.75) -> Task:
    """``1v1-bimodal-{rho}``: the uniform-margin bivariate normal (Phi per coordinate) pushed through the inverse
    CDFs of 0.3 N(0, 1) + 0.7 N(5, 1) (for X) and 0.5 N(-1, 1) + 0.5 N(3, 1) (for Y).  MI of the base."""
    uniform = transform_task(bivariate_normal(correlation), "normal_cdf")
    return transform_task(
        uniform,
        "bimodal",
        task_id=f"1v1-bimodal-{correlation}",
        task_name="Bimodal 1 × 1",
        params={"gaussian_correlation": correlation},
    )


def multinormal_dense(dim_x: int, dim_y: int, off_diag: float = 0.5) -> Task:
    """``multinormal-dense-{dx}-{dy}-{c}``: N(0, (1-c) I + c 11^T) over the joint vector; MI by :func:`gaussian_mi`."""
    return Task(
        id=f"multinormal-dense-{dim_x}-{dim_y}-{off_diag}",
        name=f"Multinormal {dim_x} × {dim_y} (dense)",
        family=Family("multinormal-dense"),
        sampler=MultinormalSampler(dense_covariance(dim_x + dim_y, off_diag), dim_x),
        params={"off_diag": off_diag},
    )


def multinormal_sparse(dim_x: int, dim_y: int, n_interacting: int = 2, strength: float = 2.0) -> Task:
    """``multinormal-sparse-{dx}-{dy}-{K}-{lambda}``: N(0, R) with R from :func:`sparse_lvm_correlation`.

    ``I = -K/2 log(1 - rho^2)``, ``rho = lambda^2 / (1 + lambda^2)``.  The benchmark's "2-pair" tasks are K = 2,
    lambda = 2.0 (I = 1.0217).  Float formatting of ``strength`` is part of the id (2.0 -> ``-2.0``).
    """
    name = f"Multinormal {dim_x} × {dim_y} " + ("(2-pair)" if n_interacting == 2 else "(sparse)")
    return Task(
        id=f"multinormal-sparse-{dim_x}-{dim_y}-{n_interacting}-{strength}",
        name=name,
        family=Family("multinormal-sparse"),
        sampler=MultinormalSampler(sparse_lvm_correlation(dim_x, dim_y, n_interacting, strength), dim_x),
        params={"n_interacting": n_interacting, "strength": strength},
    )


def student_identity(dim_x: int, dim_y: int, df: int) -> Task:
    """``student-identity-{dx}-{dy}-{nu}``: multivariate t with identity dispersion.  X and Y are uncorrelated but
    dependent through the shared chi-square scale; ``I = student_t_mi_correction(dx, dy, nu)``."""
    return Task(
        id=f"student-identity-{dim_x}-{dim_y}-{df}",
        name=f"Student-t {dim_x} × {dim_y} (dof={df})",
        family=Family("student-identity"),
        sampler=StudentTSampler(np.eye(dim_x + dim_y), dim_x, df),
        params={"dof": df},
    )


def transform_task(
    base: Task,
    transform: str | Transform,
    *,
    task_id: str | None = None,
    task_name: str | None = None,
    params: dict[str, Any] | None = None,
    **transform_kwargs: Any,
) -> Task:
    """Applies a transform to a task: id ``f"{name}-{base.id}"``, name ``f"{label} @ {base.name}"``, same MI.

    ``transform`` is a :class:`Transform` or a name from :data:`TRANSFORM_NAMES`; a chain such as
    ``"spiral-normal_cdf"`` applies the rightmost first (as in the ids: spiral of normal_cdf of the base).
    """
    if isinstance(transform, str):
        parts = transform.split("-")
        if len(parts) > 1:
            if task_id is not None or task_name is not None:
                raise ValueError("task_id / task_name overrides need a single transform")
            task = base
            for part in reversed(parts):
                task = transform_task(task, part, **(transform_kwargs if part == "spiral" else {}))
            return task
        transform = make_transform(transform, base.dim_x, base.dim_y, **transform_kwargs)
    elif transform_kwargs:
        raise TypeError("transform keyword arguments are only accepted with a transform name")
    return Task(
        id=task_id or f"{transform.name}-{base.id}",
        name=task_name or f"{transform.label} @ {base.name}",
        family=replace(base.family, transforms=(transform.name, *base.family.transforms)),
        sampler=TransformedSampler(base.sampler, transform),
        params=dict(base.params) if params is None else params,
    )


# ----------------------------------------------------------------------------------------------------------------
# Figure 1 of MINDE: the sparse 3 x 3 multinormal with a growing interaction strength
# ----------------------------------------------------------------------------------------------------------------


def sparse_multinormal_mi(strength: float, n_interacting: int = 2) -> float:
    """Closed-form MI of :func:`multinormal_sparse` (any dims): ``-K/2 log(1 - rho^2)``, ``rho = l^2 / (1 + l^2)``.

    Equivalently ``K/2 [2 log(1 + l^2) - log(1 + 2 l^2)]``, which grows like ``K/2 log(l^2 / 2)`` for large l.
    """
    lam2 = float(strength) ** 2
    return 0.5 * n_interacting * (2.0 * math.log1p(lam2) - math.log1p(2.0 * lam2))


def sparse_strength_for_mi(mi: float, n_interacting: int = 2) -> float:
    """The strength lambda >= 0 at which the sparse multinormal has MI ``mi`` (inverse of :func:`sparse_multinormal_mi`):
    ``rho = sqrt(1 - exp(-2 I / K))``, ``lambda = sqrt(rho / (1 - rho))``."""
    if mi < 0:
        raise ValueError(f"mi must be >= 0, got {mi}")
    if n_interacting < 1:
        raise ValueError("n_interacting must be >= 1 for a positive MI")
    rho = math.sqrt(-math.expm1(-2.0 * mi / n_interacting))
    return math.sqrt(rho / (1.0 - rho))


def sparse_multinormal_task(dim: int = 3, strength: float = 2.0, n_interacting: int = 2, transform: str | None = None) -> Task:
    """The Figure 1 task: the sparse ``dim x dim`` multinormal (K = ``n_interacting`` pairs with
    ``corr(X_i, Y_i) = lambda^2 / (1 + lambda^2)``), optionally transformed (``None``, ``"half_cube"``,
    ``"spiral"``, ``"normal_cdf"``, ``"asinh"``, ``"wiggly"`` or a chain such as ``"spiral-normal_cdf"``).

    Ground truth ``I = K/2 [2 log(1 + l^2) - log(1 + 2 l^2)]`` (:func:`sparse_multinormal_mi`), whatever ``dim``
    and the transform.  For K = 2 (nats; use :func:`sparse_strength_for_mi` for an evenly spaced MI grid):

    ===============  ======  ======  ======  ======  ======  ======  ======  ======  ======  ======
    strength lambda  0.25    0.5     1       2       3       5       7       10      17.19   28.38
    MI (nats)        0.0035  0.0408  0.2877  1.0217  1.6607  2.5844  3.2289  3.9269  5.0006  6.0001
    ===============  ======  ======  ======  ======  ======  ======  ======  ======  ======  ======

    So strength in [0, ~17.2] spans MI from 0 to 5 nats, [0, ~28.4] up to 6 nats (MI ~ log(lambda^2 / 2) for large
    lambda: each extra nat multiplies lambda by e^(1/2) ~ 1.65).  With ``dim=3``, ``strength=2.0`` and
    ``transform`` in {None, "normal_cdf", "half_cube", "spiral", "spiral-normal_cdf"} this is exactly the benchmark
    task ``[transform-]multinormal-sparse-3-3-2-2.0``.
    """
    task = multinormal_sparse(dim, dim, n_interacting=n_interacting, strength=float(strength))
    return task if transform is None else transform_task(task, transform)


#: True MI (nats) of the Figure 1 grid run by this project: near 0 up to 6 nats, past where MINDE is expected to break.
FIGURE1_MI: tuple[float, ...] = (0.1, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)


def figure1_tasks(
    mi_values: Sequence[float] = FIGURE1_MI,
    transforms: Sequence[str | None] = (None, "half_cube", "spiral"),
    dim: int = 3,
    n_interacting: int = 2,
) -> dict[str | None, list[Task]]:
    """The Figure 1 grid: for each transform, one sparse task per target MI (strength by :func:`sparse_strength_for_mi`).

    Task ids carry the strength, e.g. ``half_cube-multinormal-sparse-3-3-2-4.4417...``.
    """
    return {
        tr: [sparse_multinormal_task(dim, sparse_strength_for_mi(mi, n_interacting), n_interacting, tr) for mi in mi_values]
        for tr in transforms
    }


# ----------------------------------------------------------------------------------------------------------------
# The benchmark registry (order of bmi's BENCHMARK_TASKS_LIST)
# ----------------------------------------------------------------------------------------------------------------


def _benchmark_tasks() -> list[Task]:
    """The 40 tasks: 1-d tasks, the swiss roll, multinormals, Student t, then the transformed high-dim tasks."""
    binormal = bivariate_normal(0.75)
    uniform = transform_task(binormal, "normal_cdf")
    bistudent = student_identity(1, 1, 1)
    one_dim = [
        binormal,
        uniform,
        additive_noise(0.1),
        additive_noise(0.75),
        bimodal(0.75),
        transform_task(binormal, "wiggly"),
        transform_task(binormal, "half_cube"),
        bistudent,
        transform_task(bistudent, "asinh"),
    ]
    embeddings = [transform_task(uniform, "swissroll_x", task_name="Swiss roll 2 × 1")]
    multinormal = [multinormal_dense(d, d) for d in (2, 3, 5, 25, 50)] + [multinormal_sparse(d, d) for d in (2, 3, 5, 25)]
    student = [student_identity(d, d, nu) for d, nu in ((2, 1), (2, 2), (3, 2), (3, 3), (5, 2), (5, 3))]
    sparse = [multinormal_sparse(d, d) for d in (3, 5, 25)]
    transformed = [transform_task(t, tr) for tr in ("normal_cdf", "half_cube", "spiral", "spiral-normal_cdf") for t in sparse]
    asinh_student = [transform_task(student_identity(d, d, nu), "asinh") for d, nu in ((2, 1), (3, 2), (5, 2))]
    return one_dim + embeddings + multinormal + student + transformed + asinh_student


@cache
def _task_ids() -> tuple[str, ...]:
    ids = tuple(t.id for t in _benchmark_tasks())
    assert len(set(ids)) == len(ids) == 40, "benchmark task ids must be 40 and unique"
    return ids


def list_tasks() -> list[str]:
    """The 40 benchmark task ids, in the order of the Beyond Normal benchmark (bmi's ``BENCHMARK_TASKS_LIST``)."""
    return list(_task_ids())


_SPARSE_ID = re.compile(
    r"^(?:(?P<transform>[a-z_-]+)-)?multinormal-sparse-(?P<dx>\d+)-(?P<dy>\d+)-(?P<k>\d+)-(?P<strength>[0-9.eE+-]+)$"
)


def _sparse_task_from_id(task_id: str) -> Task | None:
    """The sparse multinormal (optionally transformed) named by ``task_id``, e.g. the Figure 1 ids
    ``half_cube-multinormal-sparse-3-3-2-4.44...``; None if the id is not of that form."""
    m = _SPARSE_ID.match(str(task_id))
    if m is None:
        return None
    transform = m["transform"]
    if transform is not None and not all(part in TRANSFORM_NAMES for part in transform.split("-")):
        return None
    try:
        strength = float(m["strength"])
    except ValueError:
        return None
    dx, dy, k = int(m["dx"]), int(m["dy"]), int(m["k"])
    if min(dx, dy) < 1 or not 0 <= k <= min(dx, dy) or not math.isfinite(strength) or strength < 0:
        raise ValueError(f"task id {task_id!r}: need dims >= 1, 0 <= K <= min(dims) and a finite strength >= 0")
    task = multinormal_sparse(dx, dy, n_interacting=k, strength=strength)
    task = task if transform is None else transform_task(task, transform)
    return task if task.id == task_id else None  # ids are canonical: "-2.0", not "-2"


def get_task(task_id: str) -> Task:
    """The benchmark task with this id (a fresh object each call; building all 40 takes ~10 ms).

    Besides the 40 benchmark ids, any sparse multinormal id ``[transform-]multinormal-sparse-{dx}-{dy}-{K}-{lambda}``
    is understood (the Figure 1 grid, :func:`figure1_tasks`).  ``ValueError`` naming the id and its close matches if
    unknown."""
    if task_id in _task_ids():
        return next(t for t in _benchmark_tasks() if t.id == task_id)
    sparse = _sparse_task_from_id(task_id)
    if sparse is not None:
        return sparse
    close = difflib.get_close_matches(str(task_id), _task_ids(), n=5, cutoff=0.5)
    hint = f"close matches: {', '.join(close)}" if close else "no close match; see list_tasks() for the 40 ids"
    raise ValueError(f"unknown task id {task_id!r} ({hint})")
