"""MNIST self-consistency tests (the paper's Figure 2; after Song & Ermon, ICLR 2020).

    python -m minde.consistency autoencoder     # train and cache the autoencoder (data/mnist/, ~3 CPU-minutes)
    python -m minde.consistency autoencoders-per-row --rows 1-28   # the authors' one-per-crop-level autoencoders
    python -m minde.consistency run --protocol cpu --tests a,b,c --rows 0,4,8,12,16,20,24,28 \\
        --estimators MINDE-C,MINDE-J,InfoNCE,NWJ --seeds 0-2 --jobs 2
    python -m minde.consistency summary         # rebuild summary.csv and print the verdicts
    python -m minde.consistency list            # tests, estimators, protocols, criteria

A is an MNIST image, ``B_r`` the same image with only its top ``r`` rows kept (``minde.experiments.mnist.top_rows``).  MI is
estimated between 16-d autoencoder latents (every estimator standardises them itself).  The three tests:

- (a) baseline:         I(A; B_r) / I(A; A) rises monotonically with r and reaches 1;
- (b) data processing:  I(A; [B_{r+k}, B_r]) / I(A; B_{r+k}) = 1 (k = 3, as in the authors' code), since B_r is
  a function of B_{r+k};
- (c) additivity:       I([A1, A2]; [B1_r, B2_r]) / I(A1; B1_r) = 2 for independent images A1, A2.

Design decisions
----------------

**One autoencoder shared by every image set.**  The authors train one 784 -> 400 -> 16 MLP autoencoder per image
set.  Here one deterministic autoencoder of that shape (ReLU hidden layer, linear 16-d code, mirrored decoder with
a sigmoid output, binary cross-entropy) is trained on all 10 000 digits with every training image truncated to a
random r in 0..28, so the same encoder maps A (= B_28) and every B_r.  Reasons: one cached file of 2.6 MB
(``data/mnist/autoencoder-784-400-16.npz``) instead of 29 of them, latents computed on the fly in well under a
second, and one map for all r, so that differences between the curves come from the estimators, not from 29
independently trained codes.  The encoder is a fixed measurement: MI is estimated between its outputs, and by
data processing I(enc A; enc B_r) <= I(A; B_r).  It does not collapse distinct inputs: ``reconstruction_report``
gives, per r, the fraction of the pixel variance of B_r that the decoder recovers (R^2) and the numbers of
distinct images and distinct codes, written to ``data/mnist/AUTOENCODER.md`` by the training command.  It is
trained on all 10 000 digits (the MI estimators split the codes into train and test themselves; the autoencoder
never sees their criterion).  Seeded, one torch thread: the same seed gives the same file bytes on one machine;
its SHA-256 is pinned in :data:`AUTOENCODER_SHA256`.

**The authors' representation, for comparison** (protocol ``cpu-per-row``; results go to
``data/results/mnist-consistency-cpu-per-row``).  Their code trains one autoencoder per crop level r on B_r alone
(A's code from the r = 28 one; recipe :data:`~minde.experiments.autoencoder.PER_ROW_RECIPE`, trained by
``python -m minde.consistency autoencoders-per-row``, not shipped), and its test (b) numerator is
I([A, A]; [B_{r+k}, B_r]) with A's code duplicated.  Then B_r and B_{r+k} are read by different encoders, so the
data-processing inequality holds for the images but not necessarily for their codes.

**I(A; A).**  A's code is a deterministic function of A, so I(A; A) is infinite (a continuous variable with
itself); every estimator nevertheless returns a finite number (MINDE: the score difference is integrated down to
t_eps; the variational bounds: the critic's capacity and, for InfoNCE, log n).  As in Song & Ermon, the
denominator of test (a) is each estimator's *own* estimate of I(A; A), with the same seed and data split: the
cell r = 28 (B_28 = A).  The ratio at r = 28 is therefore 1 by construction, and "reaching 1" is judged at the
largest r below 28 (24 by default; rows 24-27 are blank in 51% of these digits).  I(A; B_0) = 0 exactly (B_0 is
the all-zero image; its code is constant), so r = 0 is recorded as 0 without fitting.

**Denominators.**  (b) fits both I(A; [B_{r+k}, B_r]) and I(A; B_{r+k}) in the same cell (same split and seed);
(c) divides by the test-(a) estimate I(A; B_r) of the same estimator, seed and split (the runner adds those
cells): the A1 half of test (c)'s data is exactly test (a)'s data.  Valid rows: (a) 0..28, (b) 1..25 (r + k <= 28;
at r = 0 B_0 carries nothing and both fits see identical data), (c) 1..28 (at r = 0 the ratio is 0 / 0).

**Pairing for (c).**  Within the training split and within the test split separately, image i is paired with
image pi(i) for a random derangement pi (seeded): every image appears once as A1 and once as A2, never with itself,
and no image crosses the split.  Within a row A1 and A2 are two different images drawn at random, so independent
up to the without-replacement effect (the label agreement rate is the 0.1 of independent labels).

**Split and budget.**  Per seed a random 80 / 20 split of the 10 000 digits: MINDE trains on 8 000 codes and is
evaluated on the other 2 000; the variational baselines get all 10 000 rows and hold out their own 20 % (the best
test value of the bound, with early stopping).  Constant columns of y (the code of B_0 inside [B_{r+k}, B_0]) are
dropped before fitting; if none is left the MI is 0.

``cpu`` protocol (measured with both cores busy with other jobs, one torch thread): MINDE-C / MINDE-J with width 128,
10 000 Adam steps at batch 256 (320 epochs of the 8 000 codes), lr 2e-3 with a cosine decay, EMA, importance
sampling, 4 Monte-Carlo repeats: 60-65 s per fit.  Overfitting check: each cell records the denoising loss of the
EMA network every 1 000 steps on the 2 000 held-out codes and on 2 000 training codes (``loss_curve``); for
I(A; B_24) and I(A; A) with MINDE-C the held-out loss still decreased at every checkpoint up to 10 000 steps, and
ended 0.7 % and 0.2 % above the training loss.  Variational baselines: a separable critic g(x) . h(y) with
g, h MLPs (256, 256, 32) (with the joint critic (128, 128, 8) of the authors' baseline configuration one InfoNCE fit
had not finished after 15 min: its test bound passes 2 000 x 2 000 pairs through the MLP), Adam lr 1e-3, batch 256, the bound
on the held-out 2 000 rows every 250 steps, early stop after 3 evaluations without a new best, at most 20 000
steps: 8-27 s per fit.  InfoNCE cannot exceed log 2 000 = 7.6 nats.  The full grid (3 tests x rows 0, 4, ..., 28
x 4 estimators x 3 seeds: 312 fits) was about 3.4 CPU-hours with one model at a time (version 0.1), 1.7 h with
``--jobs 2``.  Since 0.2 the MINDE cells of one test run in units of up to ``--group-size`` 8 cells whose fits of
one shape train together (``minde.estimator.fit_many``; :func:`units_for`): each network is the one it would be
alone, up to float rounding; each cell records its share of the unit's time and the unit (``trained_together``).

**Pass / fail** (:func:`evaluate`), on the mean ratio over seeds with se = s.d. / sqrt(#seeds) (one seed: the
Monte-Carlo standard error of MINDE's estimates propagated to the ratio; none for the baselines):
(a) no drop between consecutive rows larger than max(2 se, 0.05), no ratio above 1.1 (data processing:
I(A; B_r) <= I(A; A)), and ratio >= 0.9 at the largest r < 28;
(b) |ratio - 1| <= 0.1 at every r; (c) |ratio - 2| <= 0.2 at every r (10 % of the target in both).
"""

from __future__ import annotations

import argparse
import csv
import functools
import math
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from .. import _deprecated
from .autoencoder import (
    AUTOENCODER_PATH,
    AUTOENCODER_RECIPE,
    AUTOENCODER_SHA256,
    HEIGHT,
    LATENT,
    PER_ROW_FOLDER,
    PER_ROW_RECIPE,
    Autoencoder,
    autoencoder_bytes,
    autoencoder_markdown,
    check_row,
    encode,
    load_autoencoder,
    load_per_row,
    reconstruction_report,
    save_autoencoder,
    train_autoencoder,
    train_per_row,
)
from .mnist import load_mnist
from .runner import (
    DEFAULT_RESULTS,
    MAX_MEMORY_HELP,
    REPO,
    CellFailed,
    Unit,
    _lookup,
    _Parser,
    git_commit,
    load_results,
    machine,
    models_dir,
    parse_seeds,
    read_result,
    run_units,
    stopped_early,
    write_cell_result,
)

__all__ = [
    "TESTS", "K", "ROWS", "ESTIMATORS", "PROTOCOLS", "Protocol", "Cell", "Autoencoder", "Verdict",
    "AUTOENCODER_PATH", "AUTOENCODER_SHA256", "train_autoencoder", "save_autoencoder", "load_autoencoder",
    "autoencoder_bytes", "encode", "reconstruction_report", "split_indices", "derangement", "pair_within",
    "cell_data", "valid_rows", "make_grid", "run_cell", "run_grid", "load_results", "ratio_table", "curves",
    "summarize", "check_monotone", "check_band", "evaluate", "main",
]  # fmt: skip

#: The three tests: key -> (what is estimated, target of the ratio).
TESTS: dict[str, str] = {
    "a": "baseline: I(A; B_r) / I(A; A), rising to 1",
    "b": "data processing: I(A; [B_{r+k}, B_r]) / I(A; B_{r+k}) = 1",
    "c": "additivity: I([A1, A2]; [B1_r, B2_r]) / I(A1; B1_r) = 2",
}
TARGETS = {"a": 1.0, "b": 1.0, "c": 2.0}
#: The data-processing step of test (b) (the authors' code).
K = 3
#: Default rows r.
ROWS: tuple[int, ...] = (0, 4, 8, 12, 16, 20, 24, 28)

# --- pass/fail criteria (see the module docstring) ---
MONOTONE_TOL = 0.05  # largest drop between consecutive rows tolerated whatever the noise
N_SE = 2.0  # drops within N_SE combined standard errors count as noise
REACH = 0.9  # (a): ratio needed at the largest r < 28
CAP = 1.1  # (a): largest ratio tolerated at any r (data processing: I(A; B_r) <= I(A; A))
BANDS = {"b": 0.1, "c": 0.2}  # (b), (c): |ratio - target| allowed at every r


# =====================================================================================================
# The data of the three tests
# =====================================================================================================
def _check_test(test: str) -> str:
    key = str(test).lower().strip()
    if key not in TESTS:
        raise ValueError(f"unknown test {test!r}: choose from {', '.join(TESTS)} ({'; '.join(TESTS.values())})")
    return key


def valid_rows(test: str) -> range:
    """The rows r a test accepts: (a) 0..28, (b) 1..28-k, (c) 1..28."""
    return {"a": range(0, HEIGHT + 1), "b": range(1, HEIGHT - K + 1), "c": range(1, HEIGHT + 1)}[_check_test(test)]


def split_indices(n: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of range(n) into (train, test) index arrays (test has n_test entries)."""
    if not 0 < n_test < n:
        raise ValueError(f"n_test must be in 1..{n - 1}, got {n_test}")
    perm = np.random.default_rng([int(seed), 7]).permutation(n)
    return perm[n_test:], perm[:n_test]


def derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random permutation of range(n) without fixed points (rejection sampling; n >= 2)."""
    if n < 2:
        raise ValueError(f"a derangement needs n >= 2, got {n}")
    while True:
        perm = rng.permutation(n)
        if not np.any(perm == np.arange(n)):
            return perm


def pair_within(train: np.ndarray, test: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Partners for test (c): for each index of ``train`` (and of ``test``) another index of the same split,
    by a seeded random derangement of that split."""
    rng = np.random.default_rng([int(seed), 11])
    return train[derangement(len(train), rng)], test[derangement(len(test), rng)]


class _Codes:
    """Codes of B_r of a fixed image set from the shared autoencoder, computed once per r."""

    def __init__(self, model: Autoencoder, images: np.ndarray) -> None:
        self.model, self.images, self._cache = model, images, {}

    def __call__(self, r: int) -> np.ndarray:
        if r not in self._cache:
            self._cache[r] = encode(self.model, self.images, r)
        return self._cache[r]

    def provenance(self, rows: Iterable[int] = ()) -> dict:
        return {"path": os.path.relpath(self.model.info.get("path", AUTOENCODER_PATH), REPO),
                "sha256": self.model.info.get("sha256")}  # fmt: skip


class _PerRowCodes:
    """Codes of B_r from the authors' autoencoder of crop level r (A = B_28 from the r = 28 one); B_0, the blank
    image, has the constant code 0."""

    def __init__(self, images: np.ndarray, folder: str | Path = PER_ROW_FOLDER) -> None:
        self.images, self.folder, self._cache, self.used = images, Path(folder), {}, {}

    def __call__(self, r: int) -> np.ndarray:
        if r not in self._cache:
            if r == 0:
                self._cache[r] = np.zeros((len(self.images), LATENT), dtype=np.float32)
            else:
                model = load_per_row(r, self.folder)
                self.used[r] = model.info["sha256"]
                self._cache[r] = encode(model, self.images, r)
        return self._cache[r]

    def provenance(self, rows: Iterable[int] = ()) -> dict:
        """The folder and the SHA-256 of the autoencoder of each of ``rows`` (those that have one: r >= 1)."""
        for r in rows:
            self(r)
        return {"per_row": os.path.relpath(self.folder, REPO),
                "sha256": {str(r): self.used[r] for r in sorted(set(rows)) if r in self.used}}  # fmt: skip


def cell_data(
    test: str, r: int, codes, seed: int, n_test: int, duplicate_a: bool = False
) -> dict[str, dict[str, np.ndarray]]:
    """The (x, y) pairs of one cell: ``{"num": {...}, "den": {...}}`` (``den`` only for test b), each with
    ``x_train``, ``y_train``, ``x_test``, ``y_test`` (codes; float32).  ``codes(r)`` returns the (n, 16) codes of
    B_r for every image.  Rows follow the seed's split (:func:`split_indices`); test c pairs within each split.
    ``duplicate_a``: test b's numerator as the authors' code computes it, I([A, A]; [B_{r+k}, B_r])."""
    test = _check_test(test)
    r = check_row(r, valid_rows(test).start, valid_rows(test).stop - 1)
    a = codes(HEIGHT)
    train, held = split_indices(len(a), n_test, seed)

    def parts(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        return {"x_train": x[train], "y_train": y[train], "x_test": x[held], "y_test": y[held]}

    if test == "a":
        return {"num": parts(a, codes(r))}
    if test == "b":
        x = np.concatenate([a, a], 1) if duplicate_a else a
        return {"num": parts(x, np.concatenate([codes(r + K), codes(r)], 1)), "den": parts(a, codes(r + K))}
    p_train, p_test = pair_within(train, held, seed)
    b = codes(r)
    return {"num": {
        "x_train": np.concatenate([a[train], a[p_train]], 1), "y_train": np.concatenate([b[train], b[p_train]], 1),
        "x_test": np.concatenate([a[held], a[p_test]], 1), "y_test": np.concatenate([b[held], b[p_test]], 1),
    }}  # fmt: skip


def _drop_constant(d: dict[str, np.ndarray], reference: str) -> tuple[dict[str, np.ndarray], int]:
    """Drop the columns of y that are constant on ``reference`` rows ("train" or "all")."""
    y = d["y_train"] if reference == "train" else np.concatenate([d["y_train"], d["y_test"]])
    keep = np.ptp(y, axis=0) > 0
    return {**d, "y_train": d["y_train"][:, keep], "y_test": d["y_test"][:, keep]}, int((~keep).sum())


# =====================================================================================================
# Protocols and estimators
# =====================================================================================================
@dataclass(frozen=True)
class Protocol:
    """Data sizes and budgets: ``n_images`` digits (a fixed subset when fewer than 10 000), ``n_test`` of them held
    out per seed; MINDE's keyword arguments; the variational baselines' keyword arguments."""

    name: str
    n_images: int
    n_test: int
    minde: dict = field(default_factory=dict)
    baselines: dict = field(default_factory=dict)
    track_every: int = 0  # held-out denoising loss recorded every this many steps (0: 10 points per run)
    description: str = ""
    #: "shared" (one autoencoder for every r, this package's design) or "per-row" (the authors' representation:
    #: one autoencoder per crop level, and test b's numerator with A duplicated, as in their code)
    encoders: str = "shared"
    #: test b's numerator with A's code duplicated, I([A, A]; [B_{r+k}, B_r]) (the authors' code); None: as the
    #: encoders (duplicated with "per-row", not with "shared")
    duplicate_a: bool | None = None

    @property
    def duplicates_a(self) -> bool:
        return self.encoders == "per-row" if self.duplicate_a is None else bool(self.duplicate_a)


PROTOCOLS: dict[str, Protocol] = {
    "smoke": Protocol(
        "smoke", n_images=1000, n_test=200,
        minde={"steps": 150, "batch_size": 64, "lr": 1e-3, "width": 32, "mc_repeats": 1},
        baselines={"hidden_layers": (16, 8), "max_steps": 60, "test_every": 30, "lr": 1e-3, "batch_size": 64},
        description="seconds per cell; checks the plumbing, not the estimates",
    ),
    "cpu": Protocol(
        "cpu", n_images=10_000, n_test=2_000,
        minde={"steps": 10_000, "batch_size": 256, "lr": 2e-3, "lr_schedule": "cosine", "width": 128, "mc_repeats": 4},
        baselines={"config": "minde", "critic": "separable", "hidden_layers": (256, 256, 32), "test_fraction": 0.2,
                   "max_steps": 20_000, "patience": 3},
        description="all 10 000 digits, 8 000 / 2 000 split; see the module docstring for the budget",
    ),
}  # fmt: skip
PROTOCOLS["cpu-per-row"] = replace(
    PROTOCOLS["cpu"], name="cpu-per-row", encoders="per-row",
    description="the cpu budget on the authors' representation: one autoencoder per crop level "
                "(autoencoders-per-row), test b as I([A, A]; [B_{r+k}, B_r])",
)  # fmt: skip
PROTOCOLS["cpu-duplicate-a"] = replace(
    PROTOCOLS["cpu"], name="cpu-duplicate-a", duplicate_a=True,
    description="the cpu protocol on the shared autoencoder with test b as the authors coded it, I([A, A]; [B_{r+k}, "
                "B_r]): separates the duplication from the per-row encoders",
)  # fmt: skip
PROTOCOLS["smoke-per-row"] = replace(PROTOCOLS["smoke"], name="smoke-per-row", encoders="per-row",
                                     description="the smoke budget on per-row autoencoders")  # fmt: skip

#: Estimator names accepted by the runner.
ESTIMATORS: tuple[str, ...] = ("MINDE-C", "MINDE-J", "InfoNCE", "NWJ", "DV", "MINE")


@torch.no_grad()
def _denoising_loss(est, x: torch.Tensor, y: torch.Tensor, seed: int, repeats: int = 4) -> float:
    """Mean denoising score-matching loss of MINDE's current network on standardised (x, y), fixed draws."""
    from ..training import ROLE_MIX, denoising_loss

    gen = torch.Generator().manual_seed(seed)
    pairs, probs = ROLE_MIX[est.variant]
    table = torch.tensor([[int(a), int(b)] for (a, b), p in zip(pairs, probs, strict=True) for _ in range(round(4 * p))])
    total = 0.0
    for _ in range(repeats):
        roles = table[torch.randint(len(table), (x.shape[0],), generator=gen)]
        total += float(denoising_loss(est.net, est.sde, x, y, roles, est.importance_sampling, gen))
    return total / repeats


def _fit_baseline(estimator: str, protocol: Protocol, seed: int, d: dict[str, np.ndarray]) -> dict:
    """Fit one variational baseline on one (x, y) pair (it holds out its own split of all the rows); returns its
    estimate, parameters and training history."""
    d, dropped = _drop_constant(d, "all")
    base = _fit_base(d, dropped)
    if d["y_train"].shape[1] == 0:
        return base | {"exact": True, "estimates": {estimator: {"estimate": 0.0, "stderr": 0.0}}, "seconds": 0.0}
    from ..benchmark import baselines

    start = time.perf_counter()
    est = getattr(baselines, estimator)(**protocol.baselines, seed=seed)
    est.fit(np.concatenate([d["x_train"], d["x_test"]]), np.concatenate([d["y_train"], d["y_test"]]))
    return base | {"exact": False, "estimates": {estimator: {"estimate": float(est.estimate()), "stderr": None}},
                   "seconds": time.perf_counter() - start,
                   "params": {"config": est.config, **{k: v for k, v in est.overrides.items() if v is not None}},
                   "fit_info": est.fit_info, "history": est.history}  # fmt: skip


def _fit_base(d: dict[str, np.ndarray], dropped: int) -> dict:
    return {"dim_x": int(d["x_train"].shape[1]), "dim_y": int(d["y_train"].shape[1]), "y_constant_columns_dropped": dropped}


def _fit_minde(
    estimator: str, protocol: Protocol, jobs: list[tuple[int, dict[str, np.ndarray], tuple[Path, Path] | None]]
) -> list[dict]:
    """Fit MINDE-C or MINDE-J on each ``(seed, data, checkpoint)`` of ``jobs`` (a network is kept at ``checkpoint`` =
    (models folder, path inside it), without its data: ``cell_data`` re-creates them); the fits whose data have one shape
    train together (``minde.estimator.fit_many``: each network is the one it would be alone, up to float rounding).
    Returns one result per job, in order: estimates under the three small-t rules, parameters, the training and
    held-out denoising loss every ``track_every`` steps, and the share of the group's training time."""
    from ..estimator import MINDE, fit_many

    names = [estimator, f"{estimator}(sigma)"]
    results: list[dict | None] = [None] * len(jobs)
    prepared = []
    for i, (seed, d, checkpoint) in enumerate(jobs):
        d, dropped = _drop_constant(d, "train")
        base = _fit_base(d, dropped)
        if d["y_train"].shape[1] == 0:
            results[i] = base | {"exact": True, "estimates": {n: {"estimate": 0.0, "stderr": 0.0} for n in names},
                                 "seconds": 0.0}  # fmt: skip
        else:
            prepared.append((i, seed, d, checkpoint, base))
    groups: dict[tuple, list] = {}
    for item in prepared:
        groups.setdefault((item[2]["x_train"].shape, item[2]["y_train"].shape), []).append(item)
    curves: dict[int, dict[str, list]] = {}  # per estimator (by id): steps and the two denoising losses
    subsets: dict[int, tuple[dict, np.ndarray]] = {}  # per estimator: its data, and the training rows tracked

    def track(step: int, e: MINDE) -> None:
        d, sub = subsets[id(e)]

        def std(x, y):
            return (torch.as_tensor(e._x_std(x.astype(np.float64)), dtype=torch.float32),
                    torch.as_tensor(e._y_std(y.astype(np.float64)), dtype=torch.float32))  # fmt: skip

        curve = curves[id(e)]
        curve["step"].append(step)
        curve["train"].append(_denoising_loss(e, *std(d["x_train"][sub], d["y_train"][sub]), e.seed + 3))
        curve["heldout"].append(_denoising_loss(e, *std(d["x_test"], d["y_test"]), e.seed + 3))

    for members in groups.values():
        ests = []
        for _, seed, d, _, _ in members:
            e = MINDE(variant=estimator[-1].lower(), **protocol.minde, test_fraction=0.0, seed=seed, progress=False)
            ests.append(e)
            curves[id(e)] = {"step": [], "train": [], "heldout": []}
            n_hold = len(d["x_test"])
            subsets[id(e)] = (d, np.random.default_rng(seed).choice(len(d["x_train"]), size=min(n_hold, len(d["x_train"])),
                                                                  replace=False))  # fmt: skip

        every = protocol.track_every or max(1, ests[0].steps // 10)
        start = time.perf_counter()
        fit_many(ests, [(d["x_train"], d["y_train"]) for _, _, d, _, _ in members], callback=track, callback_every=every)
        train_share = (time.perf_counter() - start) / len(members)
        for (i, _, d, checkpoint, base), est in zip(members, ests, strict=True):
            t0 = time.perf_counter()
            res = est.mutual_information(d["x_test"], d["y_test"])
            estimates = {names[0]: {"estimate": res.mi, "stderr": res.mi_stderr, "mc_stderr": res.mi_mc_stderr},
                         names[1]: {"estimate": res.mi_sigma, "stderr": res.mi_sigma_stderr,
                                    "mc_stderr": res.mi_sigma_mc_stderr}}  # fmt: skip
            other = {rule: est.mutual_information(d["x_test"], d["y_test"], small_t=rule) for rule in ("exact", "authors")}
            out = base | {"exact": False, "estimates": estimates,
                          "params": est.config(), "fit_info": est.fit_info, "loss_curve": curves[id(est)],
                          "training_loss": [est.log.steps, est.log.losses], "small_t": est.small_t,
                          "estimates_small_t": {rule: {names[0]: {"estimate": r.mi, "stderr": r.mi_stderr},
                                                       names[1]: {"estimate": r.mi_sigma, "stderr": r.mi_sigma_stderr}}
                                                for rule, r in other.items()}}  # fmt: skip
            if checkpoint is not None:
                folder, rel = checkpoint
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                est.save(folder / rel, include_data=False)
                out["checkpoint"] = str(rel)
            results[i] = out | {"seconds": train_share + time.perf_counter() - t0}
    return results  # type: ignore[return-value]


# =====================================================================================================
# Cells and the runner
# =====================================================================================================
@dataclass(frozen=True, order=True)
class Cell:
    """One unit of work: one estimator on one test at one r with one seed."""

    seed: int
    test: str
    r: int
    estimator: str
    protocol: str

    required_keys = ("test", "estimator", "r", "seed", "protocol", "fits", "minde_version")

    def path(self, root: Path) -> Path:
        return Path(root) / self.test / self.estimator / f"r{self.r:02d}" / f"seed{self.seed}.json"

    def label(self) -> str:
        return f"test {self.test} r={self.r} {self.estimator} seed {self.seed}"


def default_results(protocol: str) -> Path:
    """``data/results/mnist-consistency`` for the cpu protocol, ``...-<protocol>`` for the others."""
    return DEFAULT_RESULTS / ("mnist-consistency" if protocol == "cpu" else f"mnist-consistency-{protocol}")


def make_grid(
    tests: Iterable[str], rows: Iterable[int], estimators: Iterable[str], seeds: Iterable[int], protocol: str
) -> list[Cell]:
    """Cells of tests x rows x estimators x seeds, names checked.  Each test uses the rows in its valid range
    (:func:`valid_rows`); the denominators are added: (a) needs r = 28, (c) needs (a) at the same r."""
    protocol = _lookup(protocol, list(PROTOCOLS), "protocol")
    tests = [_check_test(t) for t in tests]
    rows = [check_row(r, 0, HEIGHT) for r in rows]
    names = [_lookup(e, ESTIMATORS, "estimator") for e in estimators]
    seeds = [int(s) for s in seeds]
    if not (tests and rows and names and seeds):
        raise ValueError("give at least one test, row, estimator and seed")
    wanted: set[tuple[str, int]] = set()
    for t in tests:
        ok = [r for r in rows if r in valid_rows(t)]
        if not ok:
            v = valid_rows(t)
            raise ValueError(f"test {t} needs rows in {v.start}..{v.stop - 1}, got {rows}")
        wanted |= {(t, r) for r in ok}
        if t == "a":
            wanted.add(("a", HEIGHT))
        if t == "c":
            wanted |= {("a", r) for r in ok}
    return sorted(Cell(s, t, r, e, protocol) for (t, r) in wanted for e in names for s in seeds)


@functools.lru_cache(maxsize=2)
def _images(n_images: int) -> tuple[np.ndarray, str]:
    mnist = load_mnist()
    images = mnist.images
    if n_images < len(images):
        images = images[np.sort(np.random.default_rng(12345).permutation(len(images))[:n_images])]
    return images, mnist.source


@functools.lru_cache(maxsize=2)
def _codes(n_images: int, ae_path: str, encoders: str = "shared") -> _Codes | _PerRowCodes:
    """The codes of the protocol's images: from the shared autoencoder at ``ae_path``, or (``encoders="per-row"``)
    from the per-row autoencoders in the folder ``ae_path``."""
    if encoders == "per-row":
        return _PerRowCodes(_images(n_images)[0], ae_path)
    return _Codes(load_autoencoder(ae_path), _images(n_images)[0])


def run_cells(cells: list[Cell], root: Path, autoencoder: str | Path | None = None) -> list[dict]:
    """Compute cells of one estimator and protocol together and write each cell's JSON atomically; returns the
    payloads.  Each cell fits its estimator once (twice for test b: numerator and denominator); MINDE fits whose
    data have one shape train together (:func:`_fit_minde`), each network the one it would be alone."""
    from .. import __version__

    torch.set_num_threads(1)
    if len({(c.estimator, c.protocol) for c in cells}) != 1:
        raise ValueError(f"cells that run together need one estimator and protocol, got {[c.label() for c in cells]}")
    protocol = PROTOCOLS[cells[0].protocol]
    per_row = protocol.encoders == "per-row"
    default = PER_ROW_FOLDER if per_row else AUTOENCODER_PATH
    ae_path = str(Path(autoencoder) if autoencoder is not None else default)
    codes = _codes(protocol.n_images, ae_path, protocol.encoders)
    start, cpu_start = time.perf_counter(), time.process_time()
    jobs = []  # (cell index, role, seed, data, checkpoint)
    for i, cell in enumerate(cells):
        data = cell_data(cell.test, cell.r, codes, cell.seed, protocol.n_test, duplicate_a=protocol.duplicates_a)
        if cell.test == "a" and cell.r == 0:
            data["num"]["y_train"] = data["num"]["y_train"][:, :0]  # B_0 is the zero image: I(A; B_0) = 0 exactly
            data["num"]["y_test"] = data["num"]["y_test"][:, :0]
        rel = cell.path(Path("."))
        jobs += [(i, role, cell.seed, d, (models_dir(root), rel.with_suffix(f".{role}.pt"))) for role, d in data.items()]
    estimator = cells[0].estimator
    if estimator.startswith("MINDE"):
        fitted = _fit_minde(estimator, protocol, [(seed, d, ckpt) for _, _, seed, d, ckpt in jobs])
    else:
        fitted = [_fit_baseline(estimator, protocol, seed, d) for _, _, seed, d, _ in jobs]
    fits: list[dict] = [{} for _ in cells]
    for (i, role, *_), fit in zip(jobs, fitted, strict=True):
        fits[i][role] = fit
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    fit_seconds = [sum(f["seconds"] for f in cell_fits.values()) for cell_fits in fits]
    total = sum(fit_seconds)
    payloads = []
    for cell, cell_fits, own in zip(cells, fits, fit_seconds, strict=True):
        share = own / total if total > 0 else 1 / len(cells)  # the cell's part of the unit's time
        ratio = None
        if cell.test == "b":
            ratio = {n: _ratio(cell_fits["num"]["estimates"][n], cell_fits["den"]["estimates"][n])
                     for n in cell_fits["num"]["estimates"]}  # fmt: skip
        payload = {
            "test": cell.test, "estimator": cell.estimator, "r": cell.r, "k": K if cell.test == "b" else None,
            "seed": cell.seed, "protocol": cell.protocol, "quantities": _quantities(cell.test, cell.r, protocol.duplicates_a),
            "n_images": protocol.n_images, "n_test": protocol.n_test, "n_train": protocol.n_images - protocol.n_test,
            "fits": cell_fits, "ratio": ratio,
            "seconds": seconds * share, "cpu_seconds": cpu * share,
            "trained_together": {"cells": [c.label() for c in cells], "seconds": seconds, "cpu_seconds": cpu},
            "autoencoder": codes.provenance(_rows_used(cell)), "encoders": protocol.encoders,
            "mnist_source": _images(protocol.n_images)[1],
            "minde_version": __version__, "git_commit": git_commit(), "machine": machine(),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }  # fmt: skip
        payloads.append(write_cell_result(cell.path(root), payload))
    return payloads


def run_cell(cell: Cell, root: Path, autoencoder: str | Path | None = None) -> dict:
    """Compute one cell alone and write its JSON; returns the payload."""
    return run_cells([cell], root, autoencoder)[0]


def _rows_used(cell: Cell) -> list[int]:
    """The crop levels whose codes a cell reads: A = B_28, B_r, and B_{r+k} for test b."""
    return sorted({HEIGHT, cell.r} | ({cell.r + K} if cell.test == "b" else set()))


def _quantities(test: str, r: int, duplicate_a: bool = False) -> dict[str, str]:
    if test == "a":
        return {"num": f"I(A; B_{r})", "den": "I(A; A) = the cell r = 28"}
    if test == "b":
        a = "[A, A]" if duplicate_a else "A"
        return {"num": f"I({a}; [B_{r + K}, B_{r}])", "den": f"I(A; B_{r + K})"}
    return {"num": f"I([A1, A2]; [B1_{r}, B2_{r}])", "den": f"I(A1; B1_{r}) = test a, r = {r}"}


def _ratio(num: dict, den: dict) -> dict:
    """num / den with the delta-method standard error (when both have one)."""
    n, d = num["estimate"], den["estimate"]
    value = n / d if d != 0 else float("nan")
    se = None
    if num.get("stderr") is not None and den.get("stderr") is not None and d != 0:
        se = math.sqrt((num["stderr"] / d) ** 2 + (n * den["stderr"] / d**2) ** 2)
    return {"estimate": value, "stderr": se}


def units_for(cells: Iterable[Cell], group_size: int = 8, autoencoder: str | None = None) -> list[Unit]:
    """The cells as units of work: MINDE cells of one estimator and test in groups of up to ``group_size`` (their
    fits train together), each baseline cell alone."""
    units, groups = [], {}
    for c in cells:
        if c.estimator.startswith("MINDE") and group_size > 1:
            groups.setdefault((c.estimator, c.protocol, c.test), []).append(c)
        else:
            units.append(Unit(run_cells, [c], args=(autoencoder,), cost=_cost(c)))
    for members in groups.values():
        for i in range(0, len(members), group_size):
            chunk = members[i : i + group_size]
            units.append(Unit(run_cells, chunk, args=(autoencoder,), cost=sum(map(_cost, chunk))))
    return units


def _cost(cell: Cell) -> float:
    return 2.0 if cell.test == "b" else 1.0


def _check_protocols(cells: list[Cell], root: Path) -> None:
    """A results folder holds one protocol: refuse to mix (a finished cell of another protocol would be skipped)."""
    for c in cells:
        path = c.path(root)
        if path.exists():
            try:
                found = read_result(path).get("protocol")
            except ValueError:
                continue  # broken: the runner reports and recomputes it
            if found != c.protocol:
                raise ValueError(f"{path} holds a result of protocol {found!r}, not {c.protocol!r}: use another results folder")


def run_grid(
    cells: list[Cell], root: Path, jobs: int = 1, progress: bool = True, autoencoder: str | Path | None = None,
    group_size: int = 8, max_memory_gb: float | None = None,
) -> list[dict]:
    """Run the unfinished cells through ``minde.experiments.runner`` (claims, resuming, no orphan workers), ``jobs`` worker
    processes with one torch thread each, MINDE cells in groups of up to ``group_size`` (:func:`units_for`); returns
    the payloads computed by this call."""
    root = Path(root)
    if not cells:
        raise ValueError("the grid is empty: no cells to run")
    _check_protocols(cells, root)
    ae = None if autoencoder is None else str(autoencoder)

    def report(cell: Cell, payload: dict) -> str:
        shown = ", ".join(f"{k} {v['estimate']:.3f}" for k, v in payload["fits"]["num"]["estimates"].items())
        return f"{cell.test} r={cell.r} seed={cell.seed} | {shown} | {payload['seconds']:.0f}s"

    return run_units(units_for(cells, group_size, ae), root, jobs=jobs, progress=progress,
                     report=report if progress else None, max_memory_gb=max_memory_gb)


# =====================================================================================================
# Results: ratios, curves, summary
# =====================================================================================================
RATIO_COLUMNS = ["test", "estimator", "r", "seed", "ratio", "ratio_stderr", "numerator", "denominator", "seconds", "protocol"]


def ratio_table(results: list[dict]):
    """One row per (test, estimate name, r, seed) with its ratio (NaN where the denominator cell is missing)."""
    import pandas as pd

    num: dict[tuple, dict] = {}
    meta: dict[tuple, dict] = {}
    for p in results:
        for name, e in p["fits"]["num"]["estimates"].items():
            key = (p["test"], name, p["r"], p["seed"])
            num[key] = e
            meta[key] = p
    rows = []
    for (test, name, r, seed), e in sorted(num.items()):
        p = meta[(test, name, r, seed)]
        if test == "b":
            den = p["fits"]["den"]["estimates"][name]
        else:
            den = num.get(("a", name, HEIGHT if test == "a" else r, seed))
        ratio = _ratio(e, den) if den is not None else {"estimate": float("nan"), "stderr": None}
        rows.append({
            "test": test, "estimator": name, "r": r, "seed": seed, "ratio": ratio["estimate"],
            "ratio_stderr": ratio["stderr"], "numerator": e["estimate"],
            "denominator": den["estimate"] if den is not None else float("nan"),
            "seconds": p["seconds"], "protocol": p["protocol"],
        })  # fmt: skip
    return pd.DataFrame(rows, columns=RATIO_COLUMNS)


def curves(ratios):
    """Mean, s.d. and standard error of the ratio over seeds per (test, estimator, r); se = s.d. / sqrt(#seeds), or
    with one seed the propagated Monte-Carlo standard error (0 when the estimator gives none)."""
    import pandas as pd

    out = []
    for (test, name, r), g in ratios.dropna(subset=["ratio"]).groupby(["test", "estimator", "r"], sort=False):
        vals = g["ratio"].to_numpy(float)
        sd = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
        if len(vals) > 1:
            se = sd / math.sqrt(len(vals))
        else:
            mc = g["ratio_stderr"].iloc[0]
            se = float(mc) if mc is not None and not pd.isna(mc) else 0.0
        out.append({"test": test, "estimator": name, "r": int(r), "mean": float(vals.mean()), "sd": sd, "se": se,
                    "seeds": len(vals)})  # fmt: skip
    return pd.DataFrame(out, columns=["test", "estimator", "r", "mean", "sd", "se", "seeds"]).sort_values(
        ["test", "estimator", "r"], kind="stable", ignore_index=True)  # fmt: skip


def summarize(root: Path) -> Path:
    """Rebuild ``summary.csv`` (one row per test x estimate x r x seed, with the ratio) from the JSON files."""
    root = Path(root)
    table = ratio_table(load_results(root))
    path = root / "summary.csv"
    tmp = path.with_name(f".summary.csv.tmp{os.getpid()}")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=RATIO_COLUMNS)
        writer.writeheader()
        writer.writerows(table.to_dict("records"))
    os.replace(tmp, path)
    return path


# =====================================================================================================
# Pass / fail
# =====================================================================================================
@dataclass(frozen=True)
class Verdict:
    passed: bool
    detail: str


def _arrays(rows, mean, se) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = np.asarray(rows, dtype=float)
    m = np.asarray(mean, dtype=float)
    s = np.zeros_like(m) if se is None else np.nan_to_num(np.asarray(se, dtype=float))
    if not (r.shape == m.shape == s.shape) or r.ndim != 1 or len(r) == 0:
        raise ValueError(f"rows, mean and se must be 1-d of the same non-zero length, got {r.shape}, {m.shape}, {s.shape}")
    if np.isnan(m).any():
        raise ValueError("mean contains NaN")
    order = np.argsort(r)
    return r[order], m[order], s[order]


def check_monotone(
    rows, mean, se=None, *, tol: float = MONOTONE_TOL, n_se: float = N_SE, reach: float = REACH, cap: float = CAP
) -> Verdict:
    """Test (a): the ratio never drops by more than max(n_se * combined se, tol) between consecutive rows, never
    exceeds ``cap`` (data processing: I(A; B_r) <= I(A; A)), and is >= ``reach`` at the largest r below 28 (at
    r = 28 it is 1 by construction; with only r = 28, there)."""
    r, m, s = _arrays(rows, mean, se)
    drops = m[:-1] - m[1:]
    allowed = np.maximum(n_se * np.sqrt(s[:-1] ** 2 + s[1:] ** 2), tol)
    bad = np.nonzero(drops > allowed)[0]
    below = np.nonzero(r < HEIGHT)[0]
    at = below[-1] if len(below) else len(r) - 1
    problems = [f"drop of {drops[i]:.2f} from r={r[i]:.0f} to r={r[i + 1]:.0f} (allowed {allowed[i]:.2f})" for i in bad]
    over = np.nonzero(m > cap)[0]
    if len(over):
        problems.append(f"ratio above {cap:g} at r = {', '.join(f'{r[i]:.0f}' for i in over)} (max {m[over].max():.2f})")
    if m[at] < reach:
        problems.append(f"ratio {m[at]:.2f} < {reach} at r={r[at]:.0f}")
    if problems:
        return Verdict(False, "; ".join(problems))
    return Verdict(True, f"monotone within noise; {m[at]:.2f} at r={r[at]:.0f}")


def check_band(rows, mean, target: float, band: float) -> Verdict:
    """Tests (b), (c): |ratio - target| <= band at every r."""
    r, m, _ = _arrays(rows, mean, None)
    if not band > 0:
        raise ValueError(f"band must be positive, got {band}")
    dev = m - target
    worst = int(np.argmax(np.abs(dev)))
    outside = r[np.abs(dev) > band]
    if len(outside):
        return Verdict(False, f"outside {target:g} ± {band:g} at r = {', '.join(f'{x:.0f}' for x in outside)} "
                              f"(worst {m[worst]:.2f} at r={r[worst]:.0f})")  # fmt: skip
    return Verdict(True, f"within {target:g} ± {band:g} (worst {m[worst]:.2f} at r={r[worst]:.0f})")


def evaluate(curve_table):
    """Pass / fail per test and estimator from :func:`curves`' table: columns test, estimator, passed, detail,
    rows (the r evaluated), seeds (fewest seeds over those rows)."""
    import pandas as pd

    out = []
    for (test, name), g in curve_table.groupby(["test", "estimator"], sort=False):
        g = g.sort_values("r")
        if test == "a":
            v = check_monotone(g["r"], g["mean"], g["se"])
        else:
            v = check_band(g["r"], g["mean"], TARGETS[test], BANDS[test])
        out.append({"test": test, "estimator": name, "passed": v.passed, "detail": v.detail,
                    "rows": ",".join(str(int(x)) for x in g["r"]), "seeds": int(g["seeds"].min())})  # fmt: skip
    return pd.DataFrame(out, columns=["test", "estimator", "passed", "detail", "rows", "seeds"])


#: The figures of notebook 07, now in :mod:`minde.plotting.consistency` (found there, with a warning).
__getattr__ = _deprecated.forward(__name__, dict.fromkeys(("plot_consistency", "plot_examples", "YLIMS"),
                                                         "minde.plotting.consistency"))  # fmt: skip


# =====================================================================================================
# Command line
# =====================================================================================================
def _parse_ints(text: str, what: str) -> list[int]:
    """'0,4,8', '0-2' or '0-28:4' -> a list of ints."""
    out: list[int] = []
    try:
        for part in (p.strip() for p in str(text).split(",") if p.strip()):
            if "-" in part[1:]:
                span, _, step = part.partition(":")
                lo, hi = (int(s) for s in span.split("-", 1))
                out.extend(range(lo, hi + 1, int(step) if step else 1))
            else:
                out.append(int(part))
    except ValueError:
        raise ValueError(f"cannot read {what} {text!r}: use e.g. 0,4,8 or 0-2 or 0-28:4") from None
    return out


def _print_verdicts(root: Path) -> None:
    table = ratio_table(load_results(root))
    if table.empty:
        print(f"no results under {root}")
        return
    c = curves(table)
    for test in TESTS:
        sub = c[c["test"] == test]
        if sub.empty:
            continue
        print(f"\ntest {test}: {TESTS[test]}")
        wide = sub.pivot(index="estimator", columns="r", values="mean").round(2)
        print(wide.to_string())
    print()
    print(evaluate(c).to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m minde.consistency", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ae = sub.add_parser("autoencoder", help="train the shared autoencoder and write it (with AUTOENCODER.md) to data/mnist/")
    for k, v in AUTOENCODER_RECIPE.items():
        ae.add_argument(f"--{k.replace('_', '-')}", type=type(v), default=v)
    ae.add_argument("--out", type=Path, default=AUTOENCODER_PATH)
    pr = sub.add_parser("autoencoders-per-row",
                        help="train (or keep) the authors' per-crop-level autoencoders in data/mnist/per-row/")  # fmt: skip
    pr.add_argument("--rows", default="1-28", help="crop levels, e.g. 1-28 or 1,4,5")
    pr.add_argument("--folder", type=Path, default=PER_ROW_FOLDER)
    run = sub.add_parser("run", help="run (or resume) a grid of cells")
    run.add_argument("--protocol", default="cpu", help=f"one of {', '.join(PROTOCOLS)}")
    run.add_argument("--tests", default="a,b,c")
    run.add_argument("--rows", default=",".join(map(str, ROWS)), help="e.g. 0,4,8 or 0-28:4")
    run.add_argument("--estimators", default="MINDE-C,MINDE-J,InfoNCE,NWJ", help=f"from {', '.join(ESTIMATORS)}")
    run.add_argument("--seeds", default="0-2", help="e.g. 0-2 or 0,1")
    run.add_argument("--jobs", type=int, default=1)
    run.add_argument("--group-size", type=int, default=8, help="MINDE cells of one test trained together (1: one at a time)")
    run.add_argument("--max-memory", type=float, default=None, metavar="GB", help=MAX_MEMORY_HELP)
    run.add_argument("--results-dir", type=Path, default=None, help="default: data/results/mnist-consistency[-<protocol>]")
    run.add_argument("--no-progress", action="store_true")
    summ = sub.add_parser("summary", help="rebuild summary.csv and print the ratios and verdicts")
    summ.add_argument("--protocol", default="cpu")
    summ.add_argument("--results-dir", type=Path, default=None)
    sub.add_parser("list", help="tests, estimators, protocols and criteria")
    args = parser.parse_args(argv)

    if args.command == "list":
        for k, v in TESTS.items():
            print(f"test {k}: {v}; rows {valid_rows(k).start}..{valid_rows(k).stop - 1}")
        print("estimators:", ", ".join(ESTIMATORS))
        for p in PROTOCOLS.values():
            print(f"protocol {p.name}: {p.n_images} images, {p.n_test} held out; MINDE {p.minde}; baselines {p.baselines}")
        print(f"criteria: (a) drops <= max({N_SE:g} se, {MONOTONE_TOL}), <= {CAP} everywhere, >= {REACH} at the largest r < 28; "
              f"(b) |ratio - 1| <= {BANDS['b']}; (c) |ratio - 2| <= {BANDS['c']}")  # fmt: skip
        return 0
    if args.command == "autoencoders-per-row":
        try:
            rows = _parse_ints(args.rows, "rows")
            shas = train_per_row(load_mnist().images, rows, args.folder, progress=True)
        except ValueError as exc:
            print(f"{parser.prog}: error: {exc}", file=sys.stderr)
            return 2
        print(f"{len(shas)} per-row autoencoders in {args.folder} (recipe {PER_ROW_RECIPE})")
        return 0
    if args.command == "autoencoder":
        images = load_mnist().images
        start = time.perf_counter()
        model = train_autoencoder(images, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                                  lr_schedule=args.lr_schedule, seed=args.seed, progress=True)  # fmt: skip
        seconds = time.perf_counter() - start
        sha = save_autoencoder(model, args.out)
        report = reconstruction_report(model, images)
        md = args.out.with_name("AUTOENCODER.md")
        md.write_text(autoencoder_markdown(model, sha, report, seconds, args.out))
        print(f"{args.out} ({seconds:.0f} s), SHA-256 {sha}; {md}")
        return 0
    try:
        protocol = _lookup(args.protocol, list(PROTOCOLS), "protocol")
        root = args.results_dir or default_results(protocol)
        if args.command == "summary":
            if not Path(root).is_dir():
                raise ValueError(f"no results folder {root}: run the grid first")
            print(summarize(root))
            _print_verdicts(root)
            return 0
        if args.jobs < 1:
            raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
        if args.group_size < 1:
            raise ValueError(f"--group-size must be at least 1, got {args.group_size}")
        cells = make_grid(args.tests.split(","), _parse_ints(args.rows, "rows"), args.estimators.split(","),
                          parse_seeds(args.seeds), protocol)  # fmt: skip
        run_grid(cells, root, jobs=args.jobs, progress=not args.no_progress, group_size=args.group_size,
                 max_memory_gb=args.max_memory)
        print(summarize(root))
        _print_verdicts(root)
        return 0
    except ValueError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except (CellFailed, KeyboardInterrupt) as exc:
        return stopped_early(parser.prog, exc)


if __name__ == "__main__":
    sys.exit(main())
