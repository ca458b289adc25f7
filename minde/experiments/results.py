"""Reading the runner's results: ``summary.csv`` rebuilt from the JSON files (``summarize``), per-task means over
seeds, success counts, and the published counts they are compared with.

A task is *solved* by an estimator when the mean of its estimates over seeds is within 0.1 nats of the ground
truth (the Beyond-Normal criterion, docs/paper.md §7).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..intervals import average_forms, calibration, intervals
from .runner import load_results
from .speed import at_reference_speed

__all__ = [
    "SUMMARY_COLUMNS", "summary_rows", "summarize", "PUBLISHED_SUCCESS", "PUBLISHED_SUCCESS_5K", "MMG_TALLY_LABEL",
    "BMI_5K_LABEL",
    "load_summary", "load_experiment", "has_results", "available_experiments", "per_task", "with_error_bars", "success_counts",
    "combine", "coverage",
    "task_info", "benchmark_table", "family_counts", "compare_published", "experiment_overview", "split_settings",
    "with_task_family", "tracking_limit", "load_sigma_sweeps", "intervals", "calibration", "average_forms",
    "ensemble_intervals", "seed_text", "small_t_rules", "evaluation_variants", "compare_runs", "evaluation_spread",
    "cost_accuracy", "CONFIG_TAGS", "baseline_form", "settings_per_task", "settings_counts",
]  # fmt: skip

#: Tasks solved (within 0.1 nats), out of 40, as tallied in the MMG paper (arXiv 2509.20609, NeurIPS 2025) for the
#: authors' protocols: **not** numbers printed in the MINDE paper, which reports MINDE as the best estimator on 35 of
#: the 40 tasks (docs/paper.md §11).  The MMG rows are that paper's own method.  Shown as "MMG paper's tally".
PUBLISHED_SUCCESS: dict[str, int] = {
    "MINE": 30, "InfoNCE": 33, "NWJ": 30, "DoE": 27, "MINDE-J": 35, "MINDE-C": 35,
    "MMG": 33, "MMG-adaptive": 35, "MMG-orthogonal": 37, "MMG-orthogonal-adaptive": 39,
}  # fmt: skip
#: The benchmark package's defaults at N = 5000, as recorded in the notes the companion started from; their source
#: could not be checked (docs/paper.md §11), and the companion's own run of that setting is ``baselines-5k``.
PUBLISHED_SUCCESS_5K: dict[str, int] = {"CCA": 24, "KSG": 15, "InfoNCE": 23}
#: Column headers for the two, wherever they are shown.
MMG_TALLY_LABEL = "MMG paper's tally /40"
BMI_5K_LABEL = "bmi defaults 5k /40 (unverified)"


# --- summary.csv: one row per estimate, rebuilt from the runner's JSON files ------------------------------
SUMMARY_COLUMNS = [
    "task", "estimator", "seed", "estimate", "gt", "abs_error", "stderr", "mc_stderr", "seconds", "cpu_seconds",
    "protocol", "n_train", "settings", "ms_per_model_step",
]  # fmt: skip


def summary_rows(root: Path) -> list[dict]:
    """The rows of an experiment's ``summary.csv`` (one per estimate), built from its JSON files."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"no experiment folder {root}")
    rows = []
    for r in load_results(root):
        for name, e in r["estimates"].items():
            rows.append({
                "task": r["task"], "estimator": name, "seed": r["seed"], "estimate": e["estimate"], "gt": r["gt"],
                "abs_error": e.get("abs_error"), "stderr": e.get("stderr"), "mc_stderr": e.get("mc_stderr"),
                "seconds": r.get("seconds"), "cpu_seconds": r.get("cpu_seconds"), "protocol": r["protocol"],
                "n_train": r.get("n_train"), "settings": json.dumps(r.get("settings", {}), sort_keys=True),
                "ms_per_model_step": (r.get("machine_speed") or {}).get("ms_per_model_step"),  # its machine's speed
            })  # fmt: skip
    return rows


def summarize(root: Path) -> Path:
    """Rebuild ``summary.csv`` (one row per estimate) from the JSON files; returns its path."""
    rows = summary_rows(root)
    path = Path(root) / "summary.csv"
    tmp = path.with_name(f".summary.csv.tmp{os.getpid()}")
    with tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
    return path


def _results_base(results_dir: str | Path | None = None) -> Path:
    """The folder that holds the experiments: ``results_dir``, default the repository's data/results/."""
    return Path(results_dir) if results_dir else Path(__file__).resolve().parents[2] / "data" / "results"


def _experiment_dir(experiment: str | Path, results_dir: str | Path | None = None) -> Path:
    """An experiment's folder: ``experiment`` itself if it is a folder, else that name under ``results_dir``
    (default: the repository's data/results/)."""
    path = Path(experiment)
    if path.is_dir():
        return path
    return _results_base(results_dir) / str(experiment)


def available_experiments(results_dir: str | Path | None = None) -> list[str]:
    """The experiment folders under ``results_dir`` (default data/results/), sorted."""
    base = _results_base(results_dir)
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def load_summary(experiment: str | Path, results_dir: str | Path | None = None) -> pd.DataFrame:
    """The ``summary.csv`` of an experiment (a folder path, or a name under data/results/)."""
    path = _experiment_dir(experiment, results_dir)
    csv = path / "summary.csv"
    if not csv.exists():
        raise FileNotFoundError(f"no summary.csv in {path}: run `python -m minde.experiments summary --experiment {path.name}`")
    return pd.read_csv(csv)


def has_results(experiment: str | Path, results_dir: str | Path | None = None) -> bool:
    """Whether an experiment (a folder, or a name under ``results_dir``) holds at least one finished cell.  A folder
    a run has only started (claim files, no results yet) or that does not exist has none."""
    path = _experiment_dir(experiment, results_dir)
    return path.is_dir() and any(path.rglob("seed*.json"))


def load_experiment(experiment: str | Path, results_dir: str | Path | None = None, rebuild: bool = True) -> pd.DataFrame | None:
    """The runner's results of an experiment (a folder, or a name under ``results_dir``, default data/results/),
    with its ``summary.csv`` first rebuilt from the JSON files (so it includes cells finished since the last
    summary; ``rebuild=False`` reads the summary as it is, writing nothing).  An experiment folder that holds no
    results yet gives None, with a message naming it; one that does not exist raises ``FileNotFoundError`` listing
    the experiments there are (a mistyped name is an error, not an empty table)."""
    path = _experiment_dir(experiment, results_dir)
    if not path.is_dir():
        have = available_experiments(path.parent)
        raise FileNotFoundError(f"no such experiment {str(experiment)!r} in {path.parent}"
                                + (f" (have: {', '.join(have)})" if have else " (no experiments there)"))  # fmt: skip
    if not has_results(path):
        print(f"{path.name}: no results under {path}")
        return None
    if rebuild:
        summarize(path)
    return load_summary(path)


def per_task(df: pd.DataFrame) -> pd.DataFrame:
    """Mean estimate, seed spread and error per (task, estimator)."""
    g = df.groupby(["task", "estimator"], sort=False)
    out = g.agg(mean=("estimate", "mean"), std=("estimate", "std"), seeds=("seed", "nunique"), gt=("gt", "first"))
    out["error"] = out["mean"] - out["gt"]
    out["solved"] = out["error"].abs() < 0.1
    return out.reset_index()


def with_error_bars(table: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """``table`` (from :func:`per_task` on ``results``) with its ``std`` filled where one seed ran: the mean
    reported ``stderr`` of that (task, estimator) in ``results``, so that a figure of one run still has its error
    bar (NaN where the estimator reports none, as the baselines)."""
    stderr = results.groupby(["task", "estimator"])["stderr"].mean()
    one_run = stderr.reindex(pd.MultiIndex.from_frame(table[["task", "estimator"]])).to_numpy()
    return table.assign(std=table["std"].fillna(pd.Series(one_run, index=table.index)))


def success_counts(df: pd.DataFrame, threshold: float = 0.1) -> pd.DataFrame:
    """Per estimator: tasks whose mean estimate is within ``threshold`` nats, mean |error|, median seed spread."""
    t = per_task(df)
    t["solved"] = t["error"].abs() < threshold
    g = t.groupby("estimator", sort=False)
    return g.agg(solved=("solved", "sum"), tasks=("task", "nunique"), mean_abs_error=("error", lambda e: e.abs().mean()),
                 median_seed_std=("std", "median")).reset_index()  # fmt: skip


# --- the benchmark table (notebook 05) ----------------------------------------------------------------


def combine(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Concatenate the summaries of several experiments (``{name: summary}``, in order) with an ``experiment``
    column.  An estimator name met again in a later experiment is renamed ``"<name> [<experiment>]"`` there, so
    that results of different protocols are never averaged together."""
    seen: set[str] = set()
    parts = []
    for name, df in frames.items():
        df = df.copy()
        df["experiment"] = name
        clash = df["estimator"].isin(seen)
        seen.update(df["estimator"].unique())
        df.loc[clash, "estimator"] = df.loc[clash, "estimator"] + f" [{name}]"
        parts.append(df)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def seed_text(seeds: Sequence[int]) -> str:
    """Seeds as text: "0-2" for a contiguous range, "0,3" otherwise."""
    s = sorted({int(v) for v in seeds})
    if len(s) > 2 and s == list(range(s[0], s[-1] + 1)):
        return f"{s[0]}-{s[-1]}"
    return ",".join(map(str, s))


def _distinct(df: pd.DataFrame, column: str) -> str:
    """The distinct non-missing values of ``column`` in order of appearance, comma-separated ("" if absent):
    rows built by :func:`average_forms` carry no protocol or experiment."""
    if column not in df:
        return ""
    return ",".join(dict.fromkeys(df[column].dropna().astype(str)))


def coverage(df: pd.DataFrame) -> pd.DataFrame:
    """Per estimator: the experiment and protocol it comes from, how many tasks it covers, which seeds, how
    many (task, seed) results, and how many tasks have every one of its seeds."""
    rows = []
    for est, g in df.groupby("estimator", sort=False):
        per = g.groupby("task")["seed"].nunique()
        rows.append({
            "estimator": est,
            "experiment": _distinct(g, "experiment"),
            "protocol": _distinct(g, "protocol"),
            "tasks": int(g["task"].nunique()), "seeds": seed_text(g["seed"]), "results": len(g),
            "tasks_all_seeds": int((per == g["seed"].nunique()).sum()),
        })  # fmt: skip
    return pd.DataFrame(rows)


@cache
def _task_frame() -> pd.DataFrame:
    from ..benchmark.tasks import get_task, list_tasks

    rows = []
    for tid in list_tasks():
        t = get_task(tid)
        rows.append({"task": tid, "dims": f"{t.dim_x}x{t.dim_y}", "GT": t.mutual_information, "base": t.family.base,
                     "transform": t.family.transform or "none"})  # fmt: skip
    return pd.DataFrame(rows).set_index("task")


def task_info() -> pd.DataFrame:
    """The 40 benchmark tasks in benchmark order: index task id; columns dims ("3x3"), GT (nats), base
    (base distribution) and transform ("none" for an untransformed base)."""
    return _task_frame().copy()


def benchmark_table(
    df: pd.DataFrame, tasks: Sequence[str] | None = None, estimators: Sequence[str] | None = None
) -> pd.DataFrame:
    """The Beyond-Normal table: one row per task (the 40 benchmark tasks in benchmark order, then any other task
    of ``df``, or ``tasks``), columns dims, GT, then the mean estimate over seeds of each estimator (NaN where
    an estimator has no result on the task)."""
    info = task_info()
    if tasks is None:
        tasks = list(info.index) + [t for t in dict.fromkeys(df["task"]) if t not in info.index]
    means = per_task(df).pivot(index="task", columns="estimator", values="mean")
    cols = list(estimators) if estimators is not None else list(dict.fromkeys(df["estimator"]))
    gt_df = df.groupby("task")["gt"].first()
    out = pd.DataFrame(index=pd.Index(list(tasks), name="task"))
    out["dims"] = [info["dims"].get(t, "") for t in out.index]
    out["GT"] = [info["GT"].get(t, gt_df.get(t, float("nan"))) for t in out.index]
    for c in cols:
        out[c] = means[c].reindex(out.index) if c in means else float("nan")
    return out


def family_counts(df: pd.DataFrame, by: str = "base", threshold: float = 0.1) -> pd.DataFrame:
    """Solved / covered tasks per (family, estimator); ``by`` is "base" (base distribution) or "transform".
    Long format: columns ``by``, estimator, solved, covered, total (benchmark tasks in the family); groups in
    benchmark order.  Tasks outside the benchmark are ignored."""
    if by not in ("base", "transform"):
        raise ValueError(f"by must be 'base' or 'transform', got {by!r}")
    info = task_info()
    t = per_task(df)
    t = t[t["task"].isin(info.index)].copy()
    t["solved"] = t["error"].abs() < threshold
    t[by] = t["task"].map(info[by])
    groups = list(dict.fromkeys(info[by]))
    total = info[by].value_counts()
    rows = []
    for est in dict.fromkeys(df["estimator"]):
        e = t[t["estimator"] == est]
        for grp in groups:
            sel = e[e[by] == grp]
            rows.append({by: grp, "estimator": est, "solved": int(sel["solved"].sum()), "covered": len(sel),
                         "total": int(total[grp])})  # fmt: skip
    return pd.DataFrame(rows)


def compare_published(df: pd.DataFrame, threshold: float = 0.1) -> pd.DataFrame:
    """``success_counts`` plus coverage and the published counts: columns estimator, solved, covered (tasks with
    a result), "solved / covered", seeds, mean_abs_error, median_seed_std (NaN with one seed), mmg_tally (of 40:
    :data:`PUBLISHED_SUCCESS`, the MMG paper's tallies for the authors' protocols) and bmi_5k (of 40:
    :data:`PUBLISHED_SUCCESS_5K`, unverified).  Published counts are matched by exact estimator name."""
    counts = success_counts(df, threshold).rename(columns={"tasks": "covered"})
    cov = coverage(df).set_index("estimator")
    counts["solved / covered"] = [f"{s}/{c}" for s, c in zip(counts["solved"], counts["covered"], strict=True)]
    counts["seeds"] = counts["estimator"].map(cov["seeds"])
    counts["mmg_tally"] = counts["estimator"].map(PUBLISHED_SUCCESS).astype("Int64")
    counts["bmi_5k"] = counts["estimator"].map(PUBLISHED_SUCCESS_5K).astype("Int64")
    cols = ["estimator", "solved", "covered", "solved / covered", "seeds", "mean_abs_error", "median_seed_std", "mmg_tally",
            "bmi_5k"]  # fmt: skip
    return counts[cols]


def experiment_overview(experiment: str | Path, results_dir: str | Path | None = None) -> dict[str, object]:
    """What an experiment's JSON files record about its cost and size: ``models`` (cells, one trained model each),
    ``estimates`` (their estimates: the rows ``summary.csv`` should have), ``cpu_hours`` (their CPU time; wall time
    for cells that lack it), ``samples`` (the distinct n_train + n_test, sorted), ``seeds`` (text such as "0-2"),
    ``protocols`` (comma-separated) and ``versions`` (the distinct ``minde_version`` of the cells that record one, as
    "major.minor", sorted: the estimator code that computed them; 0.2 changed the small-t rule).  Raises like
    :func:`load_experiment` for a missing experiment."""
    import json

    path = _experiment_dir(experiment, results_dir)
    if not path.is_dir():
        load_experiment(experiment, results_dir)  # raises FileNotFoundError naming the experiments there are
    cells = [json.loads(p.read_text()) for p in sorted(path.rglob("seed*.json"))]
    return {
        "models": len(cells),
        "estimates": sum(len(c.get("estimates", {})) for c in cells),
        "cpu_hours": sum(float(c.get("cpu_seconds", c.get("seconds", 0.0))) for c in cells) / 3600,
        "samples": sorted({int(c["n_train"]) + int(c["n_test"]) for c in cells if "n_train" in c and "n_test" in c}),
        "seeds": seed_text([c["seed"] for c in cells]) if cells else "",
        "protocols": ",".join(dict.fromkeys(str(c.get("protocol", "")) for c in cells)),
        "versions": sorted({".".join(str(c["minde_version"]).split(".")[:2]) for c in cells if c.get("minde_version")},
                           key=lambda v: tuple(int(p) if p.isdigit() else 0 for p in v.split("."))),
    }



# --- one estimator under several settings (notebook 05, section 6: the baselines as the MINDE authors ran them) ----------
#: Settings tags that belong to a baseline's configuration rather than make another estimator (``baseline_form``
#: drops them): the running evaluation's subset of test rows, and KSG's neighbourhood.
CONFIG_TAGS: tuple[str, ...] = ("monitor_rows", "k")


def baseline_form(name: str) -> str:
    """A result's estimator name without the tags of its configuration (:data:`CONFIG_TAGS`):
    ``"InfoNCE+monitor_rows=1000"`` -> ``"InfoNCE"``, ``"KSG+k=10"`` -> ``"KSG"``.  A tag that makes another
    estimator stays, its value in parentheses: ``"DoE+pdf=logistic"`` -> ``"DoE(logistic)"``."""
    base, *tags = str(name).split("+")
    kept = [t.split("=", 1)[-1] for t in tags if t.split("=", 1)[0] not in CONFIG_TAGS]
    return base + "".join(f"({t})" for t in kept)


def settings_per_task(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The per-task table (:func:`per_task`: mean, std over seeds, error) of each setting's results, given as
    ``{setting label: summary}``, stacked with columns ``form`` (:func:`baseline_form` of the estimator) and
    ``setting`` (the label): the input of :func:`settings_counts` and ``plot_paired_errors``.  Raises if one
    setting has two results that map to the same (task, form), which would be averaged together."""
    parts = []
    for label, df in frames.items():
        t = per_task(df)
        t["form"] = t["estimator"].map(baseline_form)
        clash = t.duplicated(["task", "form"])
        if clash.any():
            names = sorted(set(t.loc[t["form"].isin(t.loc[clash, "form"]), "estimator"]))
            raise ValueError(f"setting {label!r}: the results {names} are one estimator once their configuration tags "
                             f"{CONFIG_TAGS} are dropped; give each its own setting")  # fmt: skip
        parts.append(t.assign(setting=label))
    if not parts:
        return pd.DataFrame(columns=["task", "estimator", "mean", "std", "seeds", "gt", "error", "solved", "form", "setting"])
    return pd.concat(parts, ignore_index=True)


def settings_counts(table: pd.DataFrame, threshold: float = 0.1) -> pd.DataFrame:
    """Per form (rows, in order of appearance) and setting (column groups, in order): tasks solved (mean over seeds
    within ``threshold`` nats), tasks covered and mean |error|, from :func:`settings_per_task`; the last column is
    the MMG paper's tally (:data:`PUBLISHED_SUCCESS`, matched by form name)."""
    if table.empty:
        return pd.DataFrame()
    t = table.assign(ok=table["error"].abs() < threshold, abs_error=table["error"].abs())
    g = t.groupby(["form", "setting"], sort=False)  # covered: tasks with a finite error (as plot_paired_errors counts)
    out = g.agg(solved=("ok", "sum"), covered=("error", "count"), mean_abs_error=("abs_error", "mean"))
    wide = out.unstack("setting")
    wide.columns = wide.columns.swaplevel()
    forms, settings = list(dict.fromkeys(t["form"])), list(dict.fromkeys(t["setting"]))
    wide = wide.reindex(index=forms, columns=pd.MultiIndex.from_tuples([(s, c) for s in settings for c in out.columns]))
    for s in settings:  # counts stay integers where a form did not run under a setting
        wide[[(s, "solved"), (s, "covered")]] = wide[[(s, "solved"), (s, "covered")]].astype("Int64")
    wide[("MMG paper", "tally /40")] = pd.array([PUBLISHED_SUCCESS.get(f) for f in forms], dtype="Int64")
    return wide

# --- settings, Figure 1 and the ablations (notebooks 06 and 08) -----------------------------------------------------


def split_settings(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``form`` (the estimator name without its settings tag: ``MINDE-C(sigma)+sde=ve`` -> ``MINDE-C(sigma)``) and
    ``setting`` (the tag without its leading ``+``, e.g. ``sde=ve``; ``default`` when there is none)."""
    out = df.copy()
    parts = out["estimator"].str.split("+", n=1, expand=True)
    out["form"] = parts[0]
    out["setting"] = parts[1].fillna("default") if parts.shape[1] > 1 else "default"
    return out


def with_task_family(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``transform`` ("none" for a plain base), ``dims`` and ``strength`` (sparse multinormals; NaN otherwise) for
    every task id of ``df`` (benchmark ids and the Figure 1 ids understood by ``minde.benchmark.tasks.get_task``)."""
    from ..benchmark.tasks import get_task

    rows = {}
    for tid in dict.fromkeys(df["task"]):
        t = get_task(tid)
        rows[tid] = (t.family.transform or "none", f"{t.dim_x}x{t.dim_y}", float(t.params.get("strength", float("nan"))))
    out = df.copy()
    out["transform"] = out["task"].map(lambda t: rows[t][0])
    out["dims"] = out["task"].map(lambda t: rows[t][1])
    out["strength"] = out["task"].map(lambda t: rows[t][2])
    return out


def tracking_limit(levels: pd.DataFrame, abs_tol: float = 0.1, rel_tol: float = 0.1) -> pd.DataFrame:
    """Where an estimator stops tracking a growing true MI (Figure 1).

    ``levels``: one row per (transform, estimator, gt) with the mean estimate ``mean`` (e.g. ``per_task`` output with
    ``with_task_family`` columns).  A level is *tracked* when ``|mean - gt| <= max(abs_tol, rel_tol * gt)`` (0.1 nats
    below 1 nat, 10% above).  Returns per (transform, estimator): ``tracked_up_to``, the largest gt such that every
    level up to it is tracked (NaN if the first one is not), ``first_miss`` (the first level that is not, NaN if none)
    and its signed error ``miss_error``."""
    rows = []
    for (tr, est), g in levels.sort_values("gt").groupby(["transform", "estimator"], sort=False):
        ok = (g["mean"] - g["gt"]).abs() <= np.maximum(abs_tol, rel_tol * g["gt"])
        bad = np.flatnonzero(~ok.to_numpy())
        first = int(bad[0]) if bad.size else None
        if first is None:
            up_to = float(g["gt"].iloc[-1])
        else:
            up_to = float(g["gt"].iloc[first - 1]) if first > 0 else np.nan
        rows.append({
            "transform": tr, "estimator": est, "levels": len(g), "tracked_up_to": up_to,
            "first_miss": float(g["gt"].iloc[first]) if first is not None else np.nan,
            "miss_error": float(g["mean"].iloc[first] - g["gt"].iloc[first]) if first is not None else np.nan,
        })  # fmt: skip
    return pd.DataFrame(rows)


def load_sigma_sweeps(experiment: str | Path, results_dir: str | Path | None = None) -> pd.DataFrame:
    """The sigma-form sweeps recorded with MINDE cells (``minde.experiments.grid.SIGMA_SWEEP``): one row per (task,
    estimator, seed, sigma) with columns task, form (``MINDE-C(sigma)`` / ``MINDE-J(sigma)``), setting, seed, sigma,
    estimate, stderr, gt, error.  Cells written before sweeps were recorded are skipped."""
    import json

    path = _experiment_dir(experiment, results_dir)
    rows = []
    for p in sorted(path.rglob("seed*.json")):
        r = json.loads(p.read_text())
        sw = r.get("sigma_sweep")
        if not sw:
            continue
        setting = "+".join(f"{k}={v}" for k, v in sorted(r.get("settings", {}).items())) or "default"
        for s, v, se in zip(sw["sigma"], sw["mi_sigma"], sw["mi_sigma_stderr"], strict=True):
            rows.append({"task": r["task"], "form": f"{r['estimator']}(sigma)", "setting": setting, "seed": r["seed"],
                         "sigma": s, "estimate": v, "stderr": se, "gt": r["gt"], "error": v - r["gt"]})  # fmt: skip
    return pd.DataFrame(rows, columns=["task", "form", "setting", "seed", "sigma", "estimate", "stderr", "gt", "error"])


# --- uncertainty: the ensemble's intervals (intervals and calibration: minde.intervals) ---------------------------------


def ensemble_intervals(df: pd.DataFrame, forms: Sequence[str], level: float = 0.95, name: str | None = None) -> pd.DataFrame:
    """Intervals for the ensemble :func:`average_forms` (``forms`` averaged per task and seed): the statistical
    half-width of :func:`intervals` combined in quadrature with the range (max - min) of the forms' mean estimates on
    that task.  Models that disagree signal that at least one of them is biased, and the range bounds how far the
    average can be from the better one.  Same columns as :func:`intervals`, ``kind`` with a "+range" suffix."""
    iv = intervals(average_forms(df, forms, name), level)
    means = per_task(df[df["estimator"].isin(list(forms))]).pivot(index="task", columns="estimator", values="mean")
    spread = (means.max(axis=1) - means.min(axis=1)).reindex(iv["task"]).to_numpy(dtype=float)
    hw = np.hypot(iv["half_width"].to_numpy(dtype=float), spread)
    iv["half_width"], iv["lo"], iv["hi"] = hw, iv["mean"] - hw, iv["mean"] + hw
    iv["kind"] = iv["kind"] + "+range"
    iv["covers"] = (iv["lo"] <= iv["gt"]) & (iv["gt"] <= iv["hi"])
    return iv


# --- version 0.2: the small-t rule, paired comparisons, and the evaluation-seed check --------------------------------


def small_t_rules(experiment: str | Path, results_dir: str | Path | None = None) -> pd.DataFrame:
    """Per MINDE cell and form, the estimate under each small-t rule on the *same* trained network (recorded by the
    runner since 0.2: ``estimates`` under "hold", ``estimates_small_t`` under "exact" and "authors"): columns task,
    estimator, seed, gt, hold, exact, authors (and their standard errors ``*_stderr``)."""
    df = evaluation_variants(experiment, results_dir)
    rules = [c for c in df.columns if c.startswith("small_t=") and not c.endswith("_stderr")]
    if not rules:
        return pd.DataFrame()
    df = df.dropna(subset=rules, how="all")
    names = {"estimate": "hold", "stderr": "hold_stderr"}
    for c in rules:
        rule = c.split("=", 1)[1]
        names |= {c: rule, f"{c}_stderr": f"{rule}_stderr"}
    return df[["task", "estimator", "seed", "gt", *names]].rename(columns=names).reset_index(drop=True)


def evaluation_variants(experiment: str | Path, results_dir: str | Path | None = None) -> pd.DataFrame:
    """Per MINDE cell and form, the reported estimate next to every other evaluation of the *same* trained network
    that the runner recorded: ``small_t=exact`` / ``small_t=authors`` (the other small-t rules), ``uniform_t``
    (importance sampling of t switched off at evaluation only) and ``network=<name>`` (the other weights of an EMA
    ablation, e.g. ``network=raw``).  Columns task, estimator, seed, gt, estimate, stderr, then ``<variant>`` and
    ``<variant>_stderr`` for each variant present (NaN where a cell lacks it)."""
    rows = []
    for p in load_results(_experiment_dir(experiment, results_dir)):
        if not p["estimator"].startswith("MINDE"):
            continue
        variants = {f"small_t={rule}": est for rule, est in (p.get("estimates_small_t") or {}).items()}
        if p.get("estimates_uniform_t"):
            variants["uniform_t"] = p["estimates_uniform_t"]
        variants |= {f"network={name}": est for name, est in (p.get("estimates_networks") or {}).items()}
        for name, e in p["estimates"].items():
            row = {"task": p["task"], "estimator": name, "seed": p["seed"], "gt": p["gt"], "estimate": e["estimate"],
                   "stderr": e.get("stderr")}  # fmt: skip
            for variant, est in variants.items():
                row[variant] = est[name]["estimate"]
                row[f"{variant}_stderr"] = est[name].get("stderr")
            rows.append(row)
    return pd.DataFrame(rows)


def compare_runs(before: pd.DataFrame, after: pd.DataFrame, threshold: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two runs of the same grid compared on what both cover (same tasks, estimators and seeds).

    Returns (per estimator: solved and mean |error| before and after, tasks gained and lost; per task and estimator:
    the mean estimates and errors before and after, for the tasks whose verdict changed or whose error moved by more
    than ``threshold / 2``)."""
    keys = ["task", "estimator", "seed"]
    common = before[keys].merge(after[keys], on=keys)
    b = per_task(before.merge(common, on=keys))
    a = per_task(after.merge(common, on=keys))
    both = b.merge(a, on=["task", "estimator"], suffixes=("_before", "_after"))
    both["solved_before"] = both["error_before"].abs() < threshold
    both["solved_after"] = both["error_after"].abs() < threshold
    rows = []
    for est, g in both.groupby("estimator", sort=False):
        rows.append({
            "estimator": est, "tasks": len(g), "seeds": int(g["seeds_after"].min()),
            "solved_before": int(g["solved_before"].sum()), "solved_after": int(g["solved_after"].sum()),
            "mae_before": float(g["error_before"].abs().mean()), "mae_after": float(g["error_after"].abs().mean()),
            "gained": ", ".join(g.loc[~g["solved_before"] & g["solved_after"], "task"]),
            "lost": ", ".join(g.loc[g["solved_before"] & ~g["solved_after"], "task"]),
        })  # fmt: skip
    moved = both[(both["solved_before"] != both["solved_after"])
                 | ((both["error_after"] - both["error_before"]).abs() > threshold / 2)]  # fmt: skip
    cols = ["task", "estimator", "gt_before", "mean_before", "error_before", "mean_after", "error_after"]
    return pd.DataFrame(rows), moved[cols].rename(columns={"gt_before": "gt"}).reset_index(drop=True)


def evaluation_spread(models: Sequence[tuple[str, object, object, object]], seeds: Sequence[int] = range(20),
                      small_t: str | None = None) -> pd.DataFrame:  # fmt: skip
    """Does the reported Monte-Carlo standard error mean what it says?  For each (label, trained MINDE, x, y), the
    estimates of both forms with every evaluation ``seed`` (same network, same data): their standard deviation over
    seeds against the mean reported ``mc_stderr`` (ratio near 1 when the error bar is right), and the range.  One
    row per model and form."""
    rows = []
    for label, est, x, y in models:
        res = [est.mutual_information(x, y, seed=int(s), small_t=small_t) for s in seeds]
        for form, value, se, mc in (("inside", "mi", "mi_stderr", "mi_mc_stderr"),
                                    ("sigma", "mi_sigma", "mi_sigma_stderr", "mi_sigma_mc_stderr")):  # fmt: skip
            v = np.array([getattr(r, value) for r in res])
            mc_mean = float(np.mean([getattr(r, mc) for r in res]))
            rows.append({
                "model": label, "form": form, "evaluations": len(v), "mean": float(v.mean()), "sd": float(v.std(ddof=1)),
                "range": float(v.max() - v.min()), "mc_stderr": mc_mean, "stderr": float(np.mean([getattr(r, se) for r in res])),
                "ratio": float(v.std(ddof=1) / mc_mean) if mc_mean > 0 else float("nan"),
            })  # fmt: skip
    return pd.DataFrame(rows)


def cost_accuracy(
    frames: Mapping[str, pd.DataFrame],
    threshold: float = 0.1,
    reference_ms: float | None = None,
    speeds: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Accuracy per CPU-hour (notebook 09): for each setting (``{label: results}``, e.g. one experiment each) and
    estimator form, tasks solved (by the mean over seeds), tasks covered, mean |error|, the seeds, the fewest and most
    tasks solved by one seed alone, and the CPU-hours of the models behind it in all and per seed (``cpu_seconds`` of
    each trained model, once per form: a MINDE model gives two forms, so a form's hours are its models').  The seeds
    and tasks of each setting are what its results hold: compare settings on the same grid.

    With ``reference_ms``, also ``cpu_hours_per_seed_at_reference``: each model's CPU time rescaled to a machine
    whose calibration reads ``reference_ms`` (``minde.experiments.speed.at_reference_speed``), from the speed its
    result recorded (column ``ms_per_model_step``) or, for a setting run before results recorded it, from
    ``speeds[label]`` (e.g. ``speed_from_results``); NaN where a model has neither."""
    if reference_ms is not None and not reference_ms > 0:
        raise ValueError(f"reference_ms must be a positive speed (ms per model-step), got {reference_ms}")
    rows = []
    for label, df in frames.items():
        df = split_settings(df)
        counts = success_counts(df, threshold)
        cpu = df.groupby("estimator")["cpu_seconds"].sum(min_count=1) / 3600
        if reference_ms is not None:
            ms = df["ms_per_model_step"] if "ms_per_model_step" in df else pd.Series(np.nan, index=df.index)
            ms = ms.astype(float).fillna((speeds or {}).get(label, np.nan))
            by_form = at_reference_speed(df["cpu_seconds"], ms, reference_ms).groupby(df["estimator"])
            at_ref = by_form.sum(min_count=1).where(ms.notna().groupby(df["estimator"]).all()) / 3600
        by_seed = df.assign(solved=df["abs_error"] < threshold).groupby(["estimator", "seed"])["solved"].sum()
        for _, r in counts.iterrows():
            name = r["estimator"]
            seeds = by_seed.loc[name]
            rows.append({"setting": label, "estimator": name, "solved": int(r["solved"]), "tasks": int(r["tasks"]),
                         "mean_abs_error": float(r["mean_abs_error"]), "seeds": len(seeds),
                         "solved_min_seed": int(seeds.min()), "solved_max_seed": int(seeds.max()),
                         "cpu_hours": float(cpu.get(name, np.nan)),
                         "cpu_hours_per_seed": float(cpu.get(name, np.nan)) / len(seeds)}  # fmt: skip
                        | ({"cpu_hours_per_seed_at_reference": float(at_ref.get(name, np.nan)) / len(seeds)}
                           if reference_ms is not None else {}))  # fmt: skip
    return pd.DataFrame(rows)
