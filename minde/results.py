"""Reading the runner's results: per-task means over seeds, success counts, the published counts.

A task is *solved* by an estimator when the mean of its estimates over seeds is within 0.1 nats of the
ground truth (the Beyond-Normal protocol, REFERENCE.md section 2).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["PUBLISHED_SUCCESS", "load_summary", "per_task", "success_counts"]

#: Tasks within 0.1 nats, out of 40, as published (REFERENCE.md sections 4 and 5).
PUBLISHED_SUCCESS: dict[str, int] = {
    "MINE": 30, "InfoNCE": 33, "NWJ": 30, "DoE": 27, "MINDE-J": 35, "MINDE-C": 35,
    "MMG": 33, "MMG-adaptive": 35, "MMG-orthogonal": 37, "MMG-orthogonal-adaptive": 39,
}  # fmt: skip
#: Counts measured by the benchmark's authors' defaults at N = 5000 (REFERENCE.md section 4).
PUBLISHED_SUCCESS_5K: dict[str, int] = {"CCA": 24, "KSG": 15, "InfoNCE": 23}


def load_summary(experiment: str | Path, results_dir: str | Path | None = None) -> pd.DataFrame:
    """The ``summary.csv`` of an experiment (a folder path, or a name under data/results/)."""
    path = Path(experiment)
    if not path.is_dir():
        base = Path(results_dir) if results_dir else Path(__file__).resolve().parents[1] / "data" / "results"
        path = base / str(experiment)
    csv = path / "summary.csv"
    if not csv.exists():
        raise FileNotFoundError(f"no summary.csv in {path}: run `python -m minde.experiments summary --experiment {path.name}`")
    return pd.read_csv(csv)


def per_task(df: pd.DataFrame) -> pd.DataFrame:
    """Mean estimate, seed spread and error per (task, estimator)."""
    g = df.groupby(["task", "estimator"], sort=False)
    out = g.agg(mean=("estimate", "mean"), std=("estimate", "std"), seeds=("seed", "nunique"), gt=("gt", "first"))
    out["error"] = out["mean"] - out["gt"]
    out["solved"] = out["error"].abs() < 0.1
    return out.reset_index()


def success_counts(df: pd.DataFrame, threshold: float = 0.1) -> pd.DataFrame:
    """Per estimator: tasks whose mean estimate is within ``threshold`` nats, mean |error|, median seed spread."""
    t = per_task(df)
    t["solved"] = t["error"].abs() < threshold
    g = t.groupby("estimator", sort=False)
    return g.agg(solved=("solved", "sum"), tasks=("task", "nunique"), mean_abs_error=("error", lambda e: e.abs().mean()),
                 median_seed_std=("std", "median")).reset_index()  # fmt: skip
