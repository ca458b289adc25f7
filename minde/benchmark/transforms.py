"""Transforms of the benchmark: product maps f x g applied to whole samples, which keep the MI of their base.

``normal_cdf``, ``half_cube``, ``asinh``, ``wiggly``, ``spiral``, ``swissroll_x`` and the ``bimodal`` inverse CDFs
(:func:`make_transform` by name, :data:`TRANSFORM_NAMES`).  All but the swiss roll are diffeomorphisms, so
``I(f(X); g(Y)) = I(X; Y)``: a transformed task keeps the MI of its base (:class:`TransformedSampler`).  The swiss
roll embeds a 1-d variable in 2-d injectively and smoothly, which also keeps the MI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from .samplers import Array, Sampler

__all__ = [
    "TransformedSampler",
    "Transform",
    "GaussianMixture1D",
    "normal_cdf",
    "half_cube",
    "wiggly_x",
    "wiggly_y",
    "swissroll2d",
    "spiral_map",
    "make_transform",
    "TRANSFORM_NAMES",
]

ArrayMap = Callable[[Array], Array]

# ----------------------------------------------------------------------------------------------------------------
# Transforms (applied to whole sample arrays of shape (n, d); the per-coordinate ones act elementwise)
# ----------------------------------------------------------------------------------------------------------------


def normal_cdf(x: Array) -> Array:
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 per coordinate: Gaussian margins -> uniform margins."""
    return special.ndtr(x)


def half_cube(x: Array) -> Array:
    """``x sqrt|x|`` per coordinate (a signed x^(3/2)); heavier tails, a diffeomorphism of R."""
    return x * np.sqrt(np.abs(x))


def wiggly_x(x: Array) -> Array:
    """``x + 0.4 sin x + 0.2 sin(1.7 x + 1) + 0.03 sin(3.3 x - 2.5)`` per coordinate (derivative >= 0.16 > 0)."""
    return x + 0.4 * np.sin(x) + 0.2 * np.sin(1.7 * x + 1.0) + 0.03 * np.sin(3.3 * x - 2.5)


def wiggly_y(y: Array) -> Array:
    """``y - 0.4 sin(0.4 y) + 0.17 sin(1.3 y + 3.5) + 0.02 sin(4.3 y - 2.5)`` per coordinate (strictly increasing)."""
    return y - 0.4 * np.sin(0.4 * y) + 0.17 * np.sin(1.3 * y + 3.5) + 0.02 * np.sin(4.3 * y - 2.5)


def swissroll2d(u: Array) -> Array:
    """Swiss-roll embedding of a 1-d variable u in [0, 1]: ``t = 1.5 pi (1 + 2u)``, ``u -> (t cos t, t sin t) / 21``.

    Input shape (n, 1), output (n, 2).  (The 21 keeps the scale close to that of the unit interval.)
    """
    if u.ndim != 2 or u.shape[1] != 1:
        raise ValueError(f"the swiss roll embeds a 1-d variable, got shape {u.shape}")
    t = 1.5 * np.pi * (1.0 + 2.0 * u[:, 0])
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 21.0


def spiral_map(x: Array, i: int, j: int, speed: float) -> Array:
    """The spiral ``x -> exp(speed ||x||^2 A_ij) x`` applied to each row x.

    A_ij is the canonical so(d) generator (``A[i, j] = -1``, ``A[j, i] = 1``), so ``exp(theta A_ij)`` rotates the
    (i, j) plane by ``theta = speed ||x||^2`` and leaves the other coordinates alone:
    ``x_i' = cos(theta) x_i - sin(theta) x_j``, ``x_j' = sin(theta) x_i + cos(theta) x_j``.
    The map preserves ||x|| and is a diffeomorphism (its inverse rotates by -speed ||x||^2).
    """
    if not 0 <= i < j < x.shape[1]:
        raise ValueError(f"need 0 <= i < j < dim, got i={i}, j={j}, dim={x.shape[1]}")
    theta = speed * np.einsum("nd,nd->n", x, x)
    c, s = np.cos(theta), np.sin(theta)
    out = x.copy()
    out[:, i] = c * x[:, i] - s * x[:, j]
    out[:, j] = s * x[:, i] + c * x[:, j]
    return out


@dataclass(frozen=True)
class GaussianMixture1D:
    """A 1-d mixture of unit-variance normals ``F(x) = sum_k w_k Phi(x - m_k)``, with a numerical inverse CDF."""

    weights: tuple[float, ...]
    means: tuple[float, ...]

    def cdf(self, x: Array) -> Array:
        return sum(w * special.ndtr(x - m) for w, m in zip(self.weights, self.means, strict=True))

    def ppf(self, u: Array, n_iter: int = 200) -> Array:
        """F^{-1}(u) by vectorised bisection on [min m - 40, max m + 40] (bmi bisects on [-10, 10] to 1e-12;
        the wider bracket only matters for u within ~1e-7 of 0 or 1)."""
        u = np.asarray(u, dtype=np.float64)
        lo = np.full(u.shape, min(self.means) - 40.0)
        hi = np.full(u.shape, max(self.means) + 40.0)
        for _ in range(n_iter):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < u
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
            if np.all(hi - lo <= 1e-13 * np.maximum(1.0, np.abs(mid))):
                break
        return 0.5 * (lo + hi)


#: The bimodal task's margins (Beyond Normal): X ~ 0.3 N(0, 1) + 0.7 N(5, 1), Y ~ 0.5 N(-1, 1) + 0.5 N(3, 1).
BIMODAL_X = GaussianMixture1D(weights=(0.3, 0.7), means=(0.0, 5.0))
BIMODAL_Y = GaussianMixture1D(weights=(0.5, 0.5), means=(-1.0, 3.0))


@dataclass(frozen=True)
class Transform:
    """A product map f x g: X -> f(X), Y -> g(Y) acting on sample arrays (n, d) -> (n, d + add_dim).

    ``name`` is the id prefix (``f"{name}-{base id}"``), ``label`` the human-readable prefix of the task name.
    f = None or g = None means the identity.  For diffeomorphisms (and injective smooth embeddings)
    I(f(X); g(Y)) = I(X; Y), which is what :class:`TransformedSampler` reports.
    """

    name: str
    label: str
    fx: ArrayMap | None = None
    fy: ArrayMap | None = None
    add_dim_x: int = 0
    add_dim_y: int = 0

    def __call__(self, x: Array, y: Array) -> tuple[Array, Array]:
        fx = x if self.fx is None else self.fx(x)
        fy = y if self.fy is None else self.fy(y)
        return np.asarray(fx, dtype=np.float64), np.asarray(fy, dtype=np.float64)


def _spiral_transform(dim_x: int, dim_y: int, speed: float = 1.0, normalize_speed: bool = True) -> Transform:
    """bmi's spiral: generator on coordinates (0, 1) for X and (1, 2) for Y, speed ``speed / d`` per variable."""
    if dim_x < 2 or dim_y < 3:
        raise ValueError(f"the spiral needs dim_x >= 2 and dim_y >= 3, got {dim_x} x {dim_y}")
    sx = speed / dim_x if normalize_speed else speed
    sy = speed / dim_y if normalize_speed else speed
    return Transform(
        name="spiral",
        label="Spiral",
        fx=lambda x: spiral_map(x, 0, 1, sx),
        fy=lambda y: spiral_map(y, 1, 2, sy),
    )


_SIMPLE_TRANSFORMS: dict[str, Transform] = {
    "normal_cdf": Transform("normal_cdf", "Normal CDF", normal_cdf, normal_cdf),
    "half_cube": Transform("half_cube", "Half-cube", half_cube, half_cube),
    "asinh": Transform("asinh", "Asinh", np.arcsinh, np.arcsinh),
    "wiggly": Transform("wiggly", "Wiggly", wiggly_x, wiggly_y),
    # inverse mixture CDFs: meant for uniform margins (apply after normal_cdf, as in the bimodal task)
    "bimodal": Transform("bimodal", "Bimodal", BIMODAL_X.ppf, BIMODAL_Y.ppf),
    "swissroll_x": Transform("swissroll_x", "Swiss roll", swissroll2d, None, add_dim_x=1),
}

#: Names accepted by :func:`make_transform` and :func:`transform_task`.
TRANSFORM_NAMES: tuple[str, ...] = (*_SIMPLE_TRANSFORMS, "spiral")


def make_transform(name: str, dim_x: int, dim_y: int, **kwargs: Any) -> Transform:
    """The transform called ``name`` for a (dim_x, dim_y) task (only ``spiral`` depends on the dimensions and takes
    ``speed`` / ``normalize_speed`` keyword arguments)."""
    if name == "spiral":
        return _spiral_transform(dim_x, dim_y, **kwargs)
    if kwargs:
        raise TypeError(f"transform {name!r} takes no parameters, got {sorted(kwargs)}")
    if name not in _SIMPLE_TRANSFORMS:
        raise ValueError(f"unknown transform {name!r}; known: {', '.join(TRANSFORM_NAMES)}")
    if name == "swissroll_x" and dim_x != 1:
        raise ValueError(f"swissroll_x needs dim_x == 1, got {dim_x}")
    return _SIMPLE_TRANSFORMS[name]


class TransformedSampler(Sampler):
    """Pushforward of a base sampler through a :class:`Transform`; keeps the base MI (invariance of MI under
    diffeomorphisms / injective smooth embeddings of each variable separately)."""

    def __init__(self, base: Sampler, transform: Transform) -> None:
        self.base, self.transform = base, transform
        self.dim_x = base.dim_x + transform.add_dim_x
        self.dim_y = base.dim_y + transform.add_dim_y

    def sample(self, n: int, rng: np.random.Generator) -> tuple[Array, Array]:
        return self.transform(*self.base.sample(n, rng))

    def mutual_information(self) -> float:
        return self.base.mutual_information()
