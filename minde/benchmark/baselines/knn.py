"""KSG (Kraskov, Stoegbauer & Grassberger 2004, estimator 1): mutual information from k-nearest-neighbour counts."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import digamma

from ...training import torch_threads
from ._common import _not_fitted, _prepare

__all__ = ["KSG", "ksg_mi"]

# Relative margin for "strictly closer than eps": counts use radius eps * (1 - _STRICT); it excludes the
# neighbours at exactly eps (ties included) and absorbs last-bit differences between distance computations.
_STRICT = 1e-12
_KD_MAX_DIM = 12  # dim_x + dim_y up to which k-d trees beat blockwise brute force (measured, n = 10 000)


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between matching rows (broadcasting), computed from the differences."""
    return np.sqrt(((a - b) ** 2).sum(axis=-1))


def _joint_radii_kdtree(x: np.ndarray, y: np.ndarray, ks: Sequence[int], workers: int) -> np.ndarray:
    """eps[i, a] = distance from point i to its ks[a]-th nearest other point in the metric
    max(||x_i - x_j||, ||y_i - y_j||) (exact), with k-d trees."""
    n = x.shape[0]
    z = np.hstack([x, y])
    ks = np.asarray(ks)
    if x.shape[1] == 1 and y.shape[1] == 1:  # the metric is the Chebyshev one on R^2
        d, _ = cKDTree(z).query(z, k=list(ks + 1), p=np.inf, workers=workers)
        return d.reshape(n, len(ks))
    # Euclidean distance e on [x, y] satisfies m <= e <= sqrt(2) m for m = max(||dx||, ||dy||): take the K Euclidean
    # nearest neighbours as candidates; the k-th smallest m among them is exact once e_K >= sqrt(2) * that value.
    tree = cKDTree(z)
    eps = np.empty((n, len(ks)))
    todo = np.arange(n)
    k_cand = min(n, 4 * (int(ks.max()) + 1))
    while todo.size:
        rows = max(1, 2**21 // (k_cand * max(x.shape[1], y.shape[1])))
        left = []
        for s in range(0, todo.size, rows):
            pts = todo[s : s + rows]
            e, idx = tree.query(z[pts], k=k_cand, workers=workers)
            e, idx = e.reshape(len(pts), k_cand), idx.reshape(len(pts), k_cand)
            m = np.maximum(_dist(x[idx], x[pts, None, :]), _dist(y[idx], y[pts, None, :]))
            kth = np.partition(m, ks, axis=1)[:, ks]  # order statistics counting the point itself (m = 0)
            ok = np.full(len(pts), k_cand == n) | (e[:, -1] >= math.sqrt(2) * kth[:, -1] * (1 + 1e-9))
            eps[pts[ok]] = kth[ok]
            left.append(pts[~ok])
        todo = np.concatenate(left)
        k_cand = min(n, 4 * k_cand)
    return eps


def _ksg_counts_kdtree(x: np.ndarray, y: np.ndarray, eps: np.ndarray, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """n_x[i, a] = #{j != i: ||x_i - x_j|| < eps[i, a]}, likewise n_y, by ball counts in each marginal."""
    tx, ty = cKDTree(x), cKDTree(y)
    r = eps * (1.0 - _STRICT)
    nx = np.stack([tx.query_ball_point(x, r[:, a], return_length=True, workers=workers) for a in range(eps.shape[1])], 1)
    ny = np.stack([ty.query_ball_point(y, r[:, a], return_length=True, workers=workers) for a in range(eps.shape[1])], 1)
    return nx - 1, ny - 1


def _ksg_blockwise(x: np.ndarray, y: np.ndarray, ks: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radii and marginal counts by blockwise brute force, for high dimensions (where k-d trees scan everything).

    Squared distances come from the Gram identity ||a||^2 + ||b||^2 - 2 a.b (one matrix product per block), whose
    rounding error for row i is at most delta_i = 64 (d + 2) u (||a_i||^2 + max_j ||a_j||^2) (u the unit roundoff;
    the classical bound has (d + 2) u); every comparison that margin leaves undecided is redone with distances
    computed from the differences, so the result is the exact one.
    """
    n, dx, dy = x.shape[0], x.shape[1], y.shape[1]
    ks = np.asarray(ks)
    u = np.finfo(np.float64).eps
    sx, sy = (x * x).sum(1), (y * y).sum(1)
    delta_x = 64 * (dx + 2) * u * (sx + sx.max())
    delta_y = 64 * (dy + 2) * u * (sy + sy.max())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    eps = np.empty((n, len(ks)))
    nx = np.empty((n, len(ks)), dtype=np.int64)
    ny = np.empty((n, len(ks)), dtype=np.int64)
    rows = max(1, 2**21 // n)
    for s in range(0, n, rows):
        sl = slice(s, min(n, s + rows))
        c = sl.stop - sl.start
        gx = sx[sl, None] + sx[None, :] - 2.0 * (xt[sl] @ xt.T).numpy()
        gy = sy[sl, None] + sy[None, :] - 2.0 * (yt[sl] @ yt.T).numpy()
        g = np.maximum(gx, gy)  # squared joint distance, within max(delta_x, delta_y) of the exact one
        # radii: every j with exact m_ij <= eps_i has g_ij <= (k-th smallest g_i) + 2 delta_i, so the exact
        # order statistics over those candidates are the exact ones
        kth = np.partition(g, ks, axis=1)[:, ks]
        slack = 2.0 * np.maximum(delta_x[sl], delta_y[sl])
        cand_r, cand_c = np.nonzero(g <= (kth[:, -1] + slack)[:, None])
        m = np.maximum(_dist(x[sl][cand_r], x[cand_c]), _dist(y[sl][cand_r], y[cand_c]))
        order = np.lexsort((m, cand_r))
        start = np.concatenate([[0], np.cumsum(np.bincount(cand_r, minlength=c))[:-1]])
        eps[sl] = m[order][start[:, None] + ks[None, :]]
        # counts: sure inside from the margin, the undecided pairs from exact distances
        for a in range(len(ks)):
            r = eps[sl, a] * (1.0 - _STRICT)
            t = r * r
            for gm, delta, data, out in ((gx, delta_x[sl], x, nx), (gy, delta_y[sl], y, ny)):
                band = delta + 4 * u * t
                inside = np.count_nonzero(gm < (t - band)[:, None], axis=1)
                ur, uc = np.nonzero(np.abs(gm - t[:, None]) <= band[:, None])
                hit = _dist(data[sl][ur], data[uc]) <= r[ur]
                out[sl, a] = inside + np.bincount(ur[hit], minlength=c) - 1
    return eps, nx, ny


def ksg_mi(x: np.ndarray, y: np.ndarray, ks: Sequence[int] = (5, 10), method: str = "auto", workers: int = 1) -> dict[int, float]:
    """KSG estimator 1 (Kraskov et al. 2004, eq. 8) for each k, on arrays used as given (no standardisation):

        I = psi(k) + psi(N) - < psi(n_x + 1) + psi(n_y + 1) >,

    eps_i the distance to the k-th neighbour in the metric max(||x_i - x_j||_2, ||y_i - y_j||_2), n_x(i) the number
    of j != i with ||x_i - x_j||_2 < eps_i (strictly), likewise n_y. Not clipped at 0.

    method: "kdtree" (scipy cKDTree queries, fast in low dimension), "brute" (blockwise exact brute force, fast in
    high dimension), or "auto" (k-d trees up to dim_x + dim_y = 12). Both give the same counts.
    """
    ks = sorted({int(k) for k in ks})
    n = x.shape[0]
    if method == "auto":
        method = "kdtree" if x.shape[1] + y.shape[1] <= _KD_MAX_DIM else "brute"
    if method == "kdtree":
        eps = _joint_radii_kdtree(x, y, ks, workers)
        if (eps <= 0).any():
            raise _duplicates_error(eps, ks)
        nx, ny = _ksg_counts_kdtree(x, y, eps, workers)
    elif method == "brute":
        with torch_threads(workers):
            eps, nx, ny = _ksg_blockwise(x, y, ks)
        if (eps <= 0).any():
            raise _duplicates_error(eps, ks)
    else:
        raise ValueError(f"unknown method {method!r}: choose 'auto', 'kdtree' or 'brute'")
    mean_psi = (digamma(nx + 1) + digamma(ny + 1)).mean(axis=0)
    return {k: float(digamma(k) + digamma(n) - mean_psi[a]) for a, k in enumerate(ks)}


def _duplicates_error(eps: np.ndarray, ks: Sequence[int]) -> ValueError:
    bad = int((eps <= 0).any(axis=1).sum())
    return ValueError(
        f"KSG is undefined here: for {bad} point(s) the k-th neighbour (k up to {max(ks)}) is at distance 0 "
        "(repeated rows); add a little noise or lower k"
    )


class KSG:
    """Kraskov-Stoegbauer-Grassberger estimator 1 (Phys. Rev. E 69, 066138, 2004, eq. 8):

        I(X; Y) = psi(k) + psi(N) - < psi(n_x + 1) + psi(n_y + 1) >,

    with eps_i the distance from point i to its k-th nearest neighbour in the joint space under
    max(||x_i - x_j||, ||y_i - y_j||) (Euclidean in each variable, as ``benchmark-mi``), and n_x(i), n_y(i) the
    numbers of other points strictly within eps_i in each marginal. As ``benchmark-mi``'s KSGEnsembleFirstEstimator:
    columns standardised, each k's estimate clipped at 0, the estimate the mean over ``k`` (default (5, 10)).

    method / workers: see ``ksg_mi`` (k-d trees in low dimension, exact blockwise brute force in high dimension;
    ``workers`` threads for the tree queries and the matrix products).

    Ties: a marginal distance within a relative 1e-12 of eps_i counts as equal to it (not inside), so gridded /
    rounded data give counts that do not depend on last-bit rounding; a brute-force ``<`` on floats can differ
    there. Repeated rows that make some eps_i = 0 raise ``ValueError``.
    """

    name = "KSG"

    def __init__(self, k: int | Sequence[int] = (5, 10), *, clip: bool = True, method: str = "auto", workers: int = 1) -> None:
        ks = [k] if isinstance(k, (int, np.integer)) else list(k)
        if not ks or any(int(v) != v or v < 1 for v in ks):
            raise ValueError(f"k must be a positive integer or a non-empty sequence of them, got {k!r}")
        if method not in ("auto", "kdtree", "brute"):
            raise ValueError(f"unknown method {method!r}: choose 'auto', 'kdtree' or 'brute'")
        self.k = tuple(sorted({int(v) for v in ks}))
        self.clip, self.method, self.workers = bool(clip), method, int(workers)
        self.per_k_raw: dict[int, float] = {}
        self.per_k: dict[int, float] = {}
        self.fit_info: dict = {}

    def __repr__(self) -> str:
        return f"KSG(k={self.k}, clip={self.clip}, method={self.method!r})"

    def fit(self, x: object, y: object) -> KSG:
        xs, ys = _prepare(x, y, min_samples=max(self.k) + 1)
        t0 = time.perf_counter()
        self.per_k_raw = ksg_mi(xs, ys, self.k, self.method, self.workers)
        self.per_k = {k: max(0.0, v) if self.clip else v for k, v in self.per_k_raw.items()}
        dim = xs.shape[1] + ys.shape[1]
        self.fit_info = {
            "n": xs.shape[0],
            "dim_x": xs.shape[1],
            "dim_y": ys.shape[1],
            "method": self.method if self.method != "auto" else ("kdtree" if dim <= _KD_MAX_DIM else "brute"),
            "seconds": time.perf_counter() - t0,
        }
        return self

    def estimate(self) -> float:
        """MI in nats: the mean over k of the (clipped) per-k estimates."""
        if not self.per_k:
            raise _not_fitted(self)
        return float(np.mean(list(self.per_k.values())))
