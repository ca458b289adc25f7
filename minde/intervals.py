"""Intervals over seeds for MINDE's estimates, and how often they contain the truth.

A result table has one row per (task, estimator, seed) with the columns ``task``, ``estimator``, ``seed``,
``estimate``, ``gt`` and, when the estimator reports one, ``stderr`` (the total standard error of one model's
estimate, ``MIResult.mi_stderr``: the held-out rows and the Monte-Carlo draws of t and noise): what
``MINDEEnsemble.member_results`` returns, and what the benchmark grid writes (``summary.csv``,
:mod:`minde.experiments.results`).

* :func:`average_forms`: an ensemble of separately trained models (e.g. MINDE-C and MINDE-J) as new rows;
* :func:`intervals`: a ``level`` interval per (task, estimator), from the seed spread (Student t) or, with one seed,
  the standard error of the estimate; ``form_gap=True`` adds the disagreement of a model's two forms;
* :func:`calibration`: how many of those intervals cover the ground truth.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["average_forms", "intervals", "calibration"]


def average_forms(df: pd.DataFrame, forms: Sequence[str], name: str | None = None) -> pd.DataFrame:
    """An ensemble as new result rows: per (task, seed), the mean of the estimates of ``forms`` (e.g. MINDE-C and
    MINDE-J, two separately trained models), named ``name`` (default ``mean(A, B)``).  Only (task, seed) pairs that
    have every form are kept; ``stderr`` is the standard error of the mean when the forms report one."""
    forms = list(forms)
    if len(forms) < 2:
        raise ValueError(f"average at least two forms, got {forms}")
    missing = sorted(set(forms) - set(df["estimator"]))
    if missing:
        raise ValueError(f"no results for {', '.join(missing)}; available: {', '.join(sorted(set(df['estimator'])))}")
    sub = df[df["estimator"].isin(forms)]
    g = sub.groupby(["task", "seed"], sort=False)
    out = g.agg(estimate=("estimate", "mean"), gt=("gt", "first"), forms=("estimator", "nunique")).reset_index()
    if "stderr" in sub:
        var = sub.assign(v=sub["stderr"].astype(float) ** 2).groupby(["task", "seed"], sort=False)["v"].sum()
        out["stderr"] = np.sqrt(var.to_numpy()) / len(forms)
    out = out[out.pop("forms") == len(forms)].copy()
    out["estimator"] = name or f"mean({', '.join(forms)})"
    out["abs_error"] = (out["estimate"] - out["gt"]).abs()
    return out.reset_index(drop=True)


def intervals(df: pd.DataFrame, level: float = 0.95, form_gap: bool = False) -> pd.DataFrame:
    """A ``level`` interval for the mean estimate of every (task, estimator), and whether it covers the truth.

    With one seed the only error we can quantify is the standard error of the estimate (the ``stderr`` column:
    held-out rows and draws of t and noise): ``mean ± z * stderr`` (kind "mc").  With k >= 2 seeds the spread over
    seeds contains the training variability as well: ``mean ± t_{k-1} * s / sqrt(k)`` with s the seed standard
    deviation, never narrower than that interval of the mean.  Neither accounts for a bias common to all seeds (e.g.
    an under-trained network), so the coverage measured by :func:`calibration` is a test of the intervals, not a
    property they guarantee.

    ``form_gap=True`` adds a proxy for that bias to MINDE's rows: the two forms of one model (inside the norm, and
    the sigma form: (C) and (C-σ), (J) and (J-σ) of docs/paper.md §4) agree when the scores are exact, so
    their disagreement ``gap = |mean(X) - mean(X(sigma))|`` measures the score error.  The half-width becomes
    ``sqrt(statistical^2 + gap^2)`` for both forms (kind gets a "+gap" suffix); rows without a partner form are
    left as they are.
    Columns: task, estimator, mean, gt, seeds, half_width, lo, hi, kind ("mc" or "seeds"), covers.
    Rows without any uncertainty (one seed, no stderr: the baselines) get NaN bounds and ``covers`` False."""
    from scipy import stats

    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    z = stats.norm.ppf(0.5 + level / 2)
    g = df.assign(var_mc=df["stderr"].astype(float) ** 2 if "stderr" in df else np.nan).groupby(["task", "estimator"], sort=False)
    out = g.agg(mean=("estimate", "mean"), std=("estimate", "std"), seeds=("seed", "nunique"), gt=("gt", "first"),
                var_mc=("var_mc", "mean")).reset_index()  # fmt: skip
    k = out["seeds"].to_numpy(dtype=float)
    mc = z * np.sqrt(out["var_mc"].to_numpy(dtype=float) / k)
    t = stats.t.ppf(0.5 + level / 2, np.maximum(k - 1, 1))
    spread = np.where(k >= 2, t * out["std"].to_numpy(dtype=float) / np.sqrt(k), np.nan)
    hw = np.where(k >= 2, np.fmax(spread, mc), mc)
    kind = np.where(k >= 2, "seeds", "mc")
    if form_gap:
        base = out["estimator"].str.removesuffix("(sigma)")
        means = out.assign(base=base, sigma=out["estimator"].str.endswith("(sigma)"))
        pair = means.pivot_table(index=["task", "base"], columns="sigma", values="mean", aggfunc="first")
        if True in pair and False in pair:
            gap = (pair[True] - pair[False]).abs().rename("gap")
            g = pd.DataFrame({"task": out["task"], "base": base}).join(gap, on=["task", "base"])["gap"].to_numpy(dtype=float)
            has = ~np.isnan(g) & ~np.isnan(hw)
            hw = np.where(has, np.hypot(hw, np.nan_to_num(g)), hw)
            kind = np.where(has, np.char.add(kind.astype(str), "+gap"), kind)
    out["half_width"] = hw
    out["lo"], out["hi"] = out["mean"] - hw, out["mean"] + hw
    out["kind"] = kind
    out["covers"] = (out["lo"] <= out["gt"]) & (out["gt"] <= out["hi"])
    return out.drop(columns=["var_mc", "std"])


def calibration(df: pd.DataFrame, level: float = 0.95, form_gap: bool = False) -> pd.DataFrame:
    """Per estimator: how many of its tasks' ``level`` intervals (:func:`intervals`, with ``form_gap`` passed on)
    contain the ground truth.  Columns: estimator, tasks, covered, coverage (fraction), nominal, median_half_width,
    kind."""
    iv = intervals(df, level, form_gap).dropna(subset=["half_width"])
    g = iv.groupby("estimator", sort=False)
    out = g.agg(tasks=("task", "nunique"), covered=("covers", "sum"), median_half_width=("half_width", "median"),
                kind=("kind", lambda s: ",".join(sorted(set(s))))).reset_index()  # fmt: skip
    out["coverage"] = out["covered"] / out["tasks"]
    out["nominal"] = level
    return out[["estimator", "tasks", "covered", "coverage", "nominal", "median_half_width", "kind"]]
