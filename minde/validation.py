"""Input checks shared by MINDE and the baselines: clear ``ValueError``s instead of errors from deep in torch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["as_matrix", "check_pair", "check_int", "check_float", "Standardizer", "RankGaussianizer"]


def as_matrix(a: object, name: str) -> np.ndarray:
    """Convert numpy / torch / nested lists to a float64 array of shape (n, d); (n,) becomes (n, 1)."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # torch tensor (bfloat16 and float16 have no numpy dtype)
        a = a.detach().cpu()
        if a.is_floating_point() and a.dtype in (torch_half_types() or ()):
            a = a.float()
        a = a.numpy()
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be read as an array: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real-valued, got complex dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d) or (n,), got an array with {arr.ndim} dimensions {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise ValueError(f"{name} contains NaN or inf in {len(rows)} row(s), first at row {rows[0]}")
    big = np.abs(arr).max(axis=0) > _LARGEST_SAFE
    if big.any():
        raise ValueError(f"{name} has values too large to standardise (|value| > {_LARGEST_SAFE:.0e} in column(s) "
                         f"{np.nonzero(big)[0].tolist()}: their variance overflows float64); rescale the data")  # fmt: skip
    return arr


#: Above this magnitude a column's variance (a sum of squares) overflows float64.
_LARGEST_SAFE = 1e150


def torch_half_types() -> tuple:
    """torch's 16-bit float dtypes (converted to float32 before numpy), or () when torch is not imported."""
    import sys

    torch = sys.modules.get("torch")
    return (torch.bfloat16, torch.float16) if torch is not None else ()


def check_pair(x: object, y: object, min_samples: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Validate a paired sample: both (n, d) numeric and finite, same n, at least ``min_samples`` rows."""
    xa, ya = as_matrix(x, "x"), as_matrix(y, "y")
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(f"x and y must have the same number of samples, got {xa.shape[0]} and {ya.shape[0]}")
    if xa.shape[0] < min_samples:
        raise ValueError(f"too few samples: got {xa.shape[0]}, need at least {min_samples}")
    return xa, ya


@dataclass
class Standardizer:
    """Per-column standardisation with statistics fitted once and stored (MI is invariant to it)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, a: np.ndarray, name: str) -> Standardizer:
        mean, std = a.mean(axis=0), a.std(axis=0)
        # relative test: a column at the 1e-15 scale that varies is not constant; one whose spread is below
        # float64 resolution of its own magnitude is
        scale = np.max(np.abs(a), axis=0)
        const = np.nonzero(~(std > 1e-12 * scale))[0]
        if len(const):
            raise ValueError(f"{name} has constant (zero-variance) column(s) {const.tolist()}: MI is undefined for them")
        return cls(mean, std)

    def __call__(self, a: np.ndarray) -> np.ndarray:
        if a.shape[1] != self.mean.shape[0]:
            raise ValueError(f"expected {self.mean.shape[0]} columns, got {a.shape[1]}")
        return (a - self.mean) / self.std

    @property
    def log_jacobian(self) -> float:
        """sum log std: H(original) = H(standardised) + this."""
        return float(np.log(self.std).sum())


@dataclass
class RankGaussianizer:
    """Per-column Gaussianisation through the empirical CDF (an opt-in preprocessing of ``MINDE``).

    Column j is mapped by the piecewise-linear function through the points (q_jk, z_k): q_jk the training quantiles at
    levels p_k = (k + 1/2) / K and z_k = Phi^{-1}(p_k), K = min(n, ``max_knots``), continued beyond the outermost
    knots by a logarithm with the same slope there.  Each column's map is strictly increasing, so it leaves I(X; Y)
    unchanged (MI is invariant under injective maps of X and of Y); it turns heavy-tailed or skewed marginals into
    approximately standard normal ones, which a score network learns more easily.  It changes differential
    entropies (no simple Jacobian), so MINDE reports MI only when it is used.
    """

    knots: list[np.ndarray]  # per column: strictly increasing training quantiles
    z: list[np.ndarray]  # per column: the standard-normal quantiles they map to

    @classmethod
    def fit(cls, a: np.ndarray, name: str, max_knots: int = 2048) -> RankGaussianizer:
        from scipy.special import ndtri

        Standardizer.fit(a, name)  # the same clear error for constant columns
        n = a.shape[0]
        k = min(n, max_knots)
        levels = (np.arange(k) + 0.5) / k
        knots, zs = [], []
        for col in a.T:
            q = np.quantile(col, levels, method="inverted_cdf" if k == n else "linear")
            q, first = np.unique(q, return_index=True)  # ties (atoms) collapse to one knot, at their first level
            last = np.r_[first[1:], k] - 1
            zq = ndtri(0.5 * (levels[first] + levels[last]))  # an atom maps to the middle of its levels
            if q.size < 2:
                raise ValueError(f"{name} has a column with fewer than two distinct values: cannot Gaussianise it")
            knots.append(q)
            zs.append(zq)
        return cls(knots, zs)

    def __call__(self, a: np.ndarray) -> np.ndarray:
        if a.shape[1] != len(self.knots):
            raise ValueError(f"expected {len(self.knots)} columns, got {a.shape[1]}")
        out = np.empty_like(a, dtype=np.float64)
        for j, (q, zq) in enumerate(zip(self.knots, self.z, strict=True)):
            col = a[:, j]
            v = np.interp(col, q, zq)
            lo_slope = (zq[1] - zq[0]) / (q[1] - q[0])
            hi_slope = (zq[-1] - zq[-2]) / (q[-1] - q[-2])
            # beyond the knots: z grows like log(distance), with the outermost slope at the knot (so that an
            # outlier of a heavy-tailed column does not become a huge network input)
            v = np.where(col < q[0], zq[0] - np.log1p(np.maximum(q[0] - col, 0.0) * lo_slope), v)
            v = np.where(col > q[-1], zq[-1] + np.log1p(np.maximum(col - q[-1], 0.0) * hi_slope), v)
            out[:, j] = v
        return out


def check_int(name: str, value: object, minimum: int | None = None) -> int:
    """``value`` as an int, refusing bools, non-integral floats, strings, None and inf, and values below ``minimum``."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not ok and isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        ok = True
    if not ok:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    out = int(value)
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {out}")
    return out


def check_float(name: str, value: object, low: float | None = None, high: float | None = None,
                low_open: bool = True, high_open: bool = True) -> float:  # fmt: skip
    """``value`` as a finite float inside (low, high) (``low_open``/``high_open`` False: the end is included)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}")
    if low is not None and (out <= low if low_open else out < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {out}")
    if high is not None and (out >= high if high_open else out > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {out}")
    return out
