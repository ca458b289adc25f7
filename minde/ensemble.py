"""MINDE-C and MINDE-J over several seeds, averaged, with an interval that includes their disagreement.

Beyond the paper (notebook 09, sections 2 and 5).  The conditional and the joint variant are two differently
built models of the same pair, and on the benchmark their errors often have opposite signs (MINDE-J's inside form
over-estimates in high dimension, where MINDE-C is slightly low).  Their average lowers the mean error (0.033
against 0.040 nats for MINDE-C on the benchmark grid) but not the count: by the three-seed mean both solve 35 of 40,
and on the spirals both are low together
(notebook 09, section 9).  What the second model buys is the interval, which combines, in quadrature,

* the statistical error of the average: the Student-t interval of the per-seed averages over seeds (one seed: the
  standard errors of the members' estimates), as in :func:`minde.intervals.intervals`;
* the range of the variants' mean estimates, |I_C - I_J|: two models that disagree show that at least one of them
  is biased, which no statistical error sees (:func:`minde.experiments.results.ensemble_intervals`).

    >>> from minde import MINDEEnsemble
    >>> ens = MINDEEnsemble(seeds=(0, 1, 2), steps=40_000, batch_size=256, lr=2e-3, lr_schedule="cosine")
    >>> res = ens.fit(x, y, checkpoint_dir="mi-run").mutual_information()
    >>> res.mi, res.interval()                       # nats: the average, and its 95% interval

Each member is an ordinary :class:`minde.MINDE`; ``checkpoint_dir`` saves each one as soon as it is trained, so an
interrupted fit resumes where it stopped.  The benchmark counts of this estimator are those of the row
``mean(MINDE-C, MINDE-J)`` of notebook 09.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .estimator import MINDE, VARIANTS
from .intervals import average_forms, intervals
from .validation import check_pair

__all__ = ["MINDEEnsemble", "EnsembleResult"]


@dataclass(frozen=True)
class EnsembleResult:
    """The ensemble's MI (nats), its ``level`` interval, and every member's estimates.

    ``members`` has one row per trained model: variant name ("MINDE-C", "MINDE-J"), seed, both forms with their
    Monte-Carlo standard errors.  ``statistical`` and ``spread`` are the two parts of ``half_width``
    (``half_width = hypot(statistical, spread)``)."""

    mi: float
    half_width: float
    statistical: float
    spread: float
    level: float
    members: pd.DataFrame

    def interval(self) -> tuple[float, float]:
        return self.mi - self.half_width, self.mi + self.half_width

    def __repr__(self) -> str:
        lo, hi = self.interval()
        return (f"EnsembleResult(mi={self.mi:.4f}, {self.level:.0%} interval [{lo:.4f}, {hi:.4f}], "
                f"{len(self.members)} models)")  # fmt: skip


def _fingerprint(x: np.ndarray, y: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in (x, y):
        a = np.ascontiguousarray(a, dtype=np.float64)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


class MINDEEnsemble:
    """Average of MINDE models of the given ``variants`` ("c", "j"), each trained with every seed in ``seeds``.

    ``kwargs`` are :class:`minde.MINDE` parameters shared by all members; ``variant_kwargs`` overrides them per
    variant (e.g. ``{"j": {"steps": 80_000}}``: the ``cpu`` protocol gives MINDE-J twice the steps above 10
    dimensions).  ``level`` is the interval's nominal coverage.  ``progress`` shows one bar over the members."""

    def __init__(
        self,
        variants: tuple[str, ...] | list[str] = ("c", "j"),
        seeds: tuple[int, ...] | list[int] = (0, 1, 2),
        level: float = 0.95,
        variant_kwargs: dict[str, dict] | None = None,
        progress: bool = True,
        **kwargs: object,
    ) -> None:
        variants = [str(v).lower() for v in variants]
        unknown = [v for v in variants if v not in VARIANTS]
        if unknown or len(set(variants)) != len(variants) or not variants:
            raise ValueError(f"variants must be distinct names among {sorted(VARIANTS)}, got {variants}")
        seeds = [int(s) for s in seeds]
        if not seeds or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be a non-empty list of distinct integers, got {seeds}")
        if not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level}")
        for key in ("variant", "seed"):
            if key in kwargs:
                raise ValueError(f"{key!r} is set per member: give variants=... and seeds=... instead")
        variant_kwargs = {str(k).lower(): dict(v) for k, v in (variant_kwargs or {}).items()}
        stray = sorted(set(variant_kwargs) - set(variants))
        if stray:
            raise ValueError(f"variant_kwargs for {stray}, which are not among the variants {variants}")
        self.variants, self.seeds, self.level, self.progress = variants, seeds, float(level), progress
        self.kwargs, self.variant_kwargs = dict(kwargs), variant_kwargs
        # build every member now, so that a bad parameter fails before any training
        self.members: dict[tuple[str, int], MINDE] = {(v, s): self._member(v, s) for v in variants for s in seeds}

    def _member(self, variant: str, seed: int) -> MINDE:
        kw = self.kwargs | self.variant_kwargs.get(variant, {})
        return MINDE(variant=variant, seed=seed, **kw)

    def __repr__(self) -> str:
        return (f"MINDEEnsemble(variants={self.variants}, seeds={self.seeds}, level={self.level}, "
                f"variant_kwargs={self.variant_kwargs}, **{self.kwargs})")  # fmt: skip

    def fit(self, x: object, y: object, checkpoint_dir: str | os.PathLike | None = None) -> MINDEEnsemble:
        """Train every member on (x, y).  With ``checkpoint_dir``, each trained member is saved there
        (atomically, ``<MINDE-C>-seed<k>.pt``) and members already saved for the same data and configuration
        are loaded instead of retrained; a folder written for other data raises."""
        from tqdm.auto import tqdm

        xa, ya = check_pair(x, y, min_samples=2)
        folder = None if checkpoint_dir is None else Path(checkpoint_dir)
        if folder is not None:  # the data's hash is only needed to guard a checkpoint folder
            self._check_manifest(folder, _fingerprint(xa, ya))
        bar = tqdm(self.members.items(), desc="MINDE ensemble", disable=not self.progress)
        for (variant, seed), member in bar:
            bar.set_postfix_str(f"{member.name} seed {seed}")
            path = None if folder is None else folder / f"{member.name}-seed{seed}.pt"
            if path is not None and path.exists():
                loaded = MINDE.load(path, device=str(member.device))
                if loaded.config() != member.config():
                    raise ValueError(f"{path} was trained with {loaded.config()}, not {member.config()}: "
                                     "use another checkpoint_dir")  # fmt: skip
                self.members[(variant, seed)] = loaded
                continue
            member.fit(xa, ya)
            if path is not None:
                member.save(path)
        return self

    def _check_manifest(self, folder: Path, fingerprint: str) -> None:
        """The folder's ``ensemble.json`` names the data it was written for; create it, or check it matches."""
        folder.mkdir(parents=True, exist_ok=True)
        manifest = folder / "ensemble.json"
        if manifest.exists():
            seen = json.loads(manifest.read_text())
            if seen.get("data_sha256") != fingerprint:
                raise ValueError(f"{folder} holds models trained on different data (SHA-256 "
                                 f"{seen.get('data_sha256', '?')[:12]}..., this data {fingerprint[:12]}...): "
                                 "use another checkpoint_dir")  # fmt: skip
            return
        tmp = manifest.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"data_sha256": fingerprint, "ensemble": repr(self)}, indent=1))
        os.replace(tmp, manifest)

    def member_results(self, x: object | None = None, y: object | None = None) -> pd.DataFrame:
        """One row per member: estimator (variant name), seed, both forms and their Monte-Carlo standard errors,
        on (x, y) or, by default, on each member's own held-out split."""
        rows = []
        for (_, seed), member in self.members.items():
            r = member.mutual_information(x, y)
            rows.append({"estimator": member.name, "seed": seed, "estimate": r.mi, "stderr": r.mi_stderr,
                         "estimate_sigma": r.mi_sigma, "stderr_sigma": r.mi_sigma_stderr, "n_samples": r.n_samples})  # fmt: skip
        return pd.DataFrame(rows)

    def mutual_information(self, x: object | None = None, y: object | None = None) -> EnsembleResult:
        """The ensemble's MI (the inside-the-norm forms averaged over variants, then over seeds) and its interval."""
        members = self.member_results(x, y)
        rows = members.assign(task="data", gt=np.nan)
        names = [VARIANTS[v] for v in self.variants]
        averaged = average_forms(rows, names, "ensemble") if len(names) > 1 else rows
        stat = intervals(averaged, self.level).iloc[0]
        means = members.groupby("estimator")["estimate"].mean()
        spread = float(means.max() - means.min())
        hw = float(np.hypot(stat["half_width"], spread))
        return EnsembleResult(float(stat["mean"]), hw, float(stat["half_width"]), spread, self.level, members)

    def estimate(self, x: object | None = None, y: object | None = None) -> float:
        """The ensemble's MI in nats."""
        return self.mutual_information(x, y).mi
