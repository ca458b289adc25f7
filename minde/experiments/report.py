"""Text generated from the repository's data, so that prose and data cannot drift apart.

    python -m minde.report readme     # rewrite README.md's results block from data/results/
    python -m minde.report paper      # rewrite docs/paper.md's table of the 40 tasks from minde.benchmark.tasks
    python -m minde.report check      # exit 1 when a committed block differs from what the data give

Each block sits between ``<!-- BEGIN generated: NAME ... -->`` and ``<!-- END generated: NAME -->`` and is rewritten
whole; the text outside the markers is left alone.  The experiments the README reads are named once, in
:data:`README_EXPERIMENTS`; whatever their folders under ``data/results/`` hold is read as it stands (each
``summary.csv`` is rebuilt from the JSON files first, as the notebooks do), so after a rerun of the grid
``python -m minde.report readme`` is all the README needs.  ``tests/experiments/test_report.py`` fails when a
committed block differs from its regeneration.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from .results import (
    MMG_TALLY_LABEL,
    PUBLISHED_SUCCESS,
    average_forms,
    baseline_form,
    experiment_overview,
    load_experiment,
    per_task,
    seed_text,
    split_settings,
    success_counts,
    task_info,
)

__all__ = [
    "README_EXPERIMENTS", "ENSEMBLE", "THRESHOLD", "BLOCKS", "results_block", "tasks_block", "replace_block",
    "render", "stale_summaries", "main",
]  # fmt: skip

REPO = Path(__file__).resolve().parents[2]

#: The experiments under data/results/ that the README's results come from: the benchmark grid (MINDE, every form),
#: the baselines at the benchmark's sample size, the baselines the MINDE paper compares with as its authors ran them
#: (the rows with an MMG tally), MINDE given that sample size (default and candidate settings), and
#: the candidate settings at the benchmark grid's protocol.  Rename here when the grid is rerun under another name.
README_EXPERIMENTS: dict[str, str | tuple[str, ...]] = {
    "benchmark": "minde-cpu",
    "baselines": "baselines-10k",
    "baselines_authors": ("baselines-authors", "baselines-authors-doe"),
    "small_sample": ("minde-10k", "minde-10k-beyond"),
    "candidates": "beyond-cpu",
    "null": "minde-null",
}
#: The two models averaged into the ensemble row (``MINDEEnsemble``), and the two whose single models are compared
#: on the heavy-tailed tasks.
ENSEMBLE: tuple[str, str] = ("MINDE-C", "MINDE-J")
#: nats: a task is solved when the mean estimate over seeds is closer than this to the truth (docs/paper.md §7).
THRESHOLD = 0.1
#: The base distribution of the heavy-tailed tasks (the Student-t ones).
HEAVY_TAILS = "student-identity"


# --- markdown helpers ---------------------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table; ``|`` inside a cell is escaped."""
    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(r) for r in rows)])


def _count(n: float) -> str:
    """Thousands separated by a thin space in the README's style: 110000 -> "110 000"."""
    return f"{int(n):,}".replace(",", " ")


def _solved(solved: int, covered: int, total: int) -> str:
    """"37" when every task is covered, else "12 of 20 covered"."""
    return f"{solved}" if covered == total else f"{solved} of {covered} covered"


def _load(name: str, results_dir: str | Path | None, rebuild: bool) -> pd.DataFrame | None:
    """An experiment's results, or None when it is missing or empty (the loader's messages are kept out of stdout).
    ``rebuild``: rebuild its summary.csv from the JSON files first (the notebooks' way) instead of reading it."""
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            return load_experiment(name, results_dir, rebuild=rebuild)
        except FileNotFoundError:
            return None


def _experiment_names() -> list[str]:
    """Every experiment named in :data:`README_EXPERIMENTS`, in order."""
    names: list[str] = []
    for value in README_EXPERIMENTS.values():
        names += [value] if isinstance(value, str) else list(value)
    return names


def stale_summaries(results_dir: str | Path | None = None) -> list[str]:
    """The experiments of :data:`README_EXPERIMENTS` whose summary.csv differs from the rows its JSON files give
    (a run added or rewrote cells since the summary was last rebuilt): every column of every row is compared, as
    the text ``summary.csv`` holds."""
    from .results import SUMMARY_COLUMNS, _experiment_dir, available_experiments, summary_rows

    def as_text(row: dict) -> tuple[str, ...]:  # a row as summary.csv writes it
        return tuple("" if row.get(c) is None else str(row[c]) for c in SUMMARY_COLUMNS)  # a column added later: empty

    stale = []
    for name in dict.fromkeys(_experiment_names()):
        if name not in available_experiments(results_dir):
            continue
        root = _experiment_dir(name, results_dir)
        expected = sorted(as_text(r) for r in summary_rows(root))
        try:
            with (root / "summary.csv").open(newline="") as fh:
                held = sorted(as_text(r) for r in csv.DictReader(fh))
        except FileNotFoundError:
            held = []
        if held != expected:
            differ = len(set(held) ^ set(expected))
            stale.append(f"{name} ({len(held)} rows in summary.csv, {len(expected)} estimates in its JSON files, "
                         f"{differ} rows differ)")
    return stale


# --- the README's results --------------------------------------------------------------------------------------------


def _score_rows(df: pd.DataFrame, experiment: str, results_dir: str | Path | None, keep: Callable[[str], bool],
                labels: dict[str, str] | None = None) -> list[list[object]]:  # fmt: skip
    """One row per estimator of ``df`` (results of ``experiment``) that ``keep`` accepts: label, experiment, the
    package version that computed it, samples, seeds, solved, mean |error|, and the MMG paper's tally where the name
    matches exactly."""
    samples = ", ".join(_count(n) for n in experiment_overview(experiment, results_dir)["samples"]) or "—"
    version = _versions(experiment, results_dir)
    total = len(task_info())
    seeds = df.groupby("estimator")["seed"].apply(lambda s: seed_text(list(s.unique())))
    rows: list[list[object]] = []
    for r in success_counts(df, THRESHOLD).itertuples(index=False):
        if keep(r.estimator):
            rows.append([(labels or {}).get(r.estimator, f"`{r.estimator}`"), f"`{experiment}`", version, samples,
                         seeds[r.estimator], _solved(int(r.solved), int(r.tasks), total), f"{r.mean_abs_error:.3f}",
                         PUBLISHED_SUCCESS.get(r.estimator, "—")])  # fmt: skip
    return rows


def _form(estimator: str) -> str:
    """The estimator's form without its settings tag: ``MINDE-C(sigma)+steps=10000`` -> ``MINDE-C(sigma)``."""
    return estimator.split("+", 1)[0]


def _scores(results_dir: str | Path | None, rebuild: bool) -> tuple[str, pd.DataFrame | None]:
    """The main table and the benchmark grid's results."""
    bench_name = str(README_EXPERIMENTS["benchmark"])
    bench = _load(bench_name, results_dir, rebuild)
    rows: list[list[str]] = []
    if bench is not None:
        rows += _score_rows(bench, bench_name, results_dir, lambda e: True)
        present = set(bench["estimator"])
        if set(ENSEMBLE) <= present:
            mean_name = f"mean of {' and '.join(ENSEMBLE)}"
            rows += _score_rows(average_forms(bench, ENSEMBLE, mean_name), bench_name, results_dir, lambda e: True,
                                {mean_name: f"{mean_name} (`MINDEEnsemble`)"})  # fmt: skip
    base_name = str(README_EXPERIMENTS["baselines"])
    baselines = _load(base_name, results_dir, rebuild)
    if baselines is not None:
        counts = success_counts(baselines, THRESHOLD).sort_values(["solved", "mean_abs_error"], ascending=[False, True])
        best = str(counts["estimator"].iloc[0])
        rows += _score_rows(baselines, base_name, results_dir, lambda e: e == best,
                            {best: f"best of the {len(counts)} baselines: `{best}`"})  # fmt: skip
    authors_names = README_EXPERIMENTS.get("baselines_authors", ())
    for name in [authors_names] if isinstance(authors_names, str) else authors_names:
        authors = _load(name, results_dir, rebuild)
        if authors is not None:  # named by form (InfoNCE, not InfoNCE+monitor_rows=1000) so that the tally matches
            authors = authors.assign(estimator=authors["estimator"].map(baseline_form))
            twins = authors.duplicated(["task", "estimator", "seed"], keep=False)
            if twins.any():  # two settings of one baseline in one experiment would be averaged together
                raise ValueError(f"{name}: several results per task and seed for {sorted(set(authors.loc[twins, 'estimator']))}")
            rows += _score_rows(authors, name, results_dir, lambda e: e in PUBLISHED_SUCCESS,
                                {e: f"`{e}`, the MINDE authors' setting" for e in PUBLISHED_SUCCESS})  # fmt: skip
    for name in README_EXPERIMENTS["small_sample"]:
        small = _load(name, results_dir, rebuild)
        if small is not None:
            rows += _score_rows(small, name, results_dir, lambda e: not _form(e).endswith("(sigma)"))
    header = ["estimator", "experiment", "version", "samples (train + test)", "seeds", "solved /40", "mean |error| (nats)",
              MMG_TALLY_LABEL]  # fmt: skip
    return _table(header, rows) if rows else "No results yet.", bench


def _misses(bench: pd.DataFrame) -> str:
    """Every task that some estimator of the benchmark grid misses, with every estimator's signed error."""
    pt = per_task(bench)
    estimators = list(dict.fromkeys(bench["estimator"]))
    err = pt.pivot(index="task", columns="estimator", values="error").reindex(columns=estimators)
    order = [t for t in task_info().index if t in err.index]
    missed = [t for t in order if (err.loc[t].abs() >= THRESHOLD).any()]
    if not missed:
        return "No estimator misses a task."
    rows = [[f"`{t}`", *(_signed_error(v) for v in err.loc[t])] for t in missed]
    return _table(["task", *estimators], rows)


def _signed_error(value: float) -> str:
    """A signed error to 3 decimals, in bold when it misses; to 5 where 3 decimals would round it onto the threshold
    (an error of -0.10002 misses, and must not read as a bold -0.100 next to a plain -0.100 that is solved)."""
    text = f"{value:+.3f}"
    if abs(float(text)) == THRESHOLD:
        text = f"{value:+.5f}"
    return f"**{text}**" if abs(value) >= THRESHOLD else text


def _single_models(df: pd.DataFrame, forms: Sequence[str], tasks: Sequence[str]) -> list[str]:
    """Per form: "worst |error| (models within THRESHOLD / models)" over every (task, seed) model on ``tasks``."""
    sel = df[df["task"].isin(tasks)]
    cells = []
    for form in forms:
        e = (sel.loc[sel["estimator"] == form, "estimate"] - sel.loc[sel["estimator"] == form, "gt"]).abs()
        cells.append(f"{e.max():.3f} ({int((e < THRESHOLD).sum())} / {len(e)})" if len(e) else "—")
    return cells


def _versions(name: str, results_dir: str | Path | None) -> str:
    """The package versions ("0.2") that computed an experiment's cells, comma-separated ("—" when none is recorded)."""
    return ", ".join(experiment_overview(name, results_dir)["versions"]) or "—"


def _heavy_tails(bench: pd.DataFrame, results_dir: str | Path | None, rebuild: bool) -> str:
    """Single models on the heavy-tailed tasks: the benchmark grid's standardised inputs against every candidate
    setting that ran on all of them for both ensemble forms."""
    info = task_info()
    tasks = list(info.index[info["base"] == HEAVY_TAILS])
    bench_name = str(README_EXPERIMENTS["benchmark"])
    version = _versions(bench_name, results_dir)
    rows = [[f"default (`{bench_name}`)", version, seed_text(bench["seed"].unique()), *_single_models(bench, ENSEMBLE, tasks)]]
    cand_name = str(README_EXPERIMENTS["candidates"])
    cand = _load(cand_name, results_dir, rebuild)
    if cand is not None:
        cand_version = _versions(cand_name, results_dir)
        if cand_version != version:  # pair the candidates with the benchmark grid of their own version, when kept
            old_name = f"../archive/v{cand_version}/results/{bench_name}"
            old = _load(old_name, results_dir, rebuild)
            if old is not None:
                rows.append([f"default (`{bench_name}` {cand_version}, `data/archive/`)", cand_version,
                             seed_text(old["seed"].unique()), *_single_models(old, ENSEMBLE, tasks)])  # fmt: skip
        cand = split_settings(cand)
        for setting, g in cand[cand["setting"] != "default"].groupby("setting", sort=False):
            if all(set(tasks) <= set(g.loc[g["form"] == f, "task"]) for f in ENSEMBLE):
                g = g.assign(estimator=g["form"])
                rows.append([f"`{setting}` (`{cand_name}`)", cand_version, seed_text(g["seed"].unique()),
                             *_single_models(g, ENSEMBLE, tasks)])  # fmt: skip
    header = ["setting", "version", "seeds", *(f"{f}: worst |error| (models within {THRESHOLD})" for f in ENSEMBLE)]
    intro = (f"Single models (one per task and seed, not the mean over seeds) on the {len(tasks)} Student-t tasks, "
             "with the default settings and with each candidate setting that ran on all of them:")
    return intro + "\n\n" + _table(header, rows)


def _null_floor(results_dir: str | Path | None, rebuild: bool) -> str | None:
    """What each form estimates when X and Y are independent (the null experiment: true MI 0): per task, the mean
    over seeds and the largest single model; None when the experiment has not run."""
    if "null" not in README_EXPERIMENTS:
        return None
    name = str(README_EXPERIMENTS["null"])
    null = _load(name, results_dir, rebuild)
    if null is None:
        return None
    from ..benchmark.tasks import get_task

    info = experiment_overview(name, results_dir)
    shape = {t: (task.dim_x, task.dim_y) for t in set(null["task"]) for task in [get_task(t)]}
    tasks = sorted(shape, key=lambda t: (shape[t], t))
    label = {t: f"{shape[t][0]} x {shape[t][1]}" for t in tasks}
    forms = list(dict.fromkeys(null["estimator"]))
    rows = []
    for form in forms:
        g = null[null["estimator"] == form].groupby("task")["estimate"]
        mean, top = g.mean(), g.max()
        rows.append([f"`{form}`", *(f"{mean[t]:+.3f} ({top[t]:+.3f})" if t in mean else "—" for t in tasks)])
    header = ["form", *(f"{label[t]} independent Gaussians" for t in tasks)]
    return (f"On independent data (true MI 0; `{name}`, version {', '.join(info['versions'])}, `{info['protocols']}` "
            f"protocol, seeds {info['seeds']}, {info['models']} models) each form's estimate, mean over seeds (largest "
            "single model): the floor below which an estimate cannot be told from zero at this budget.  On your own data "
            "`MINDE.null_estimates` measures it with shuffled pairs:\n\n" + _table(header, rows))  # fmt: skip


def results_block(results_dir: str | Path | None = None, rebuild: bool = False) -> str:
    """The README's results, in markdown, from the experiments of :data:`README_EXPERIMENTS` (``rebuild``: rebuild
    their summary.csv files from the JSON files first; by default they are read as they are and nothing is written)."""
    scores, bench = _scores(results_dir, rebuild)
    bench_name = str(README_EXPERIMENTS["benchmark"])
    parts = []
    if bench is not None:
        info = experiment_overview(bench_name, results_dir)
        parts.append(f"The benchmark grid `{bench_name}` (`{info['protocols']}` protocol): {info['models']} trained models, "
                     f"seeds {info['seeds']}, {info['cpu_hours']:.1f} CPU-hours.  A task is solved when the mean of an "
                     f"estimator's estimates over seeds is within {THRESHOLD} nats of the truth (notebook 05 shows every "
                     "task):")  # fmt: skip
    parts.append(scores)
    parts.append("`version` is the package version whose code computed the row (`minde_version` in each result): "
                 "version 0.2 changed MINDE's time integral below t_eps (the small-t rule, docs/paper.md §6), so MINDE rows "
                 "of different versions are not a paired comparison; the 0.1 results of a rerun grid are kept under "
                 "`data/archive/v0.1/`.  The last column is the count tallied by the MMG paper (arXiv 2509.20609) for the "
                 "authors' protocols, where the name matches: it is not a number printed in the MINDE paper, which reports "
                 "MINDE as the best estimator on 35 of the 40 tasks, without error bars (per the ICLR reviews; "
                 "docs/paper.md §11).")  # fmt: skip
    if bench is not None:
        parts.append(f"Tasks that some form misses on `{bench_name}` (signed error of the mean over seeds, nats; **bold**: "
                     f"missed, absolute error of {THRESHOLD} or more):")  # fmt: skip
        parts.append(_misses(bench))
        if set(bench["task"].map(task_info()["base"])) & {HEAVY_TAILS}:
            parts.append(_heavy_tails(bench, results_dir, rebuild))
    null = _null_floor(results_dir, rebuild)
    if null is not None:
        parts.append(null)
    parts.append("Notebooks 05, 08 and 09 discuss these results; notebook 09 also the uncertainty intervals.")
    return "\n\n".join(_wrap(chunk) for p in parts for chunk in p.split("\n\n"))


def _wrap(paragraph: str, width: int = 118) -> str:
    """Wrap prose to the README's width; tables (lines starting with ``|``) are left as they are."""
    import textwrap

    if paragraph.lstrip().startswith("|"):
        return paragraph
    return textwrap.fill(paragraph, width=width, break_long_words=False, break_on_hyphens=False)


# --- docs/paper.md's task table --------------------------------------------------------------------------------------


def tasks_block(rebuild: bool = False) -> str:
    """The 40 benchmark tasks of ``minde.benchmark.tasks`` in benchmark order: number, id, dims, base, transform, GT (nats)
    (``rebuild`` is accepted for a uniform signature and ignored)."""
    info = task_info()
    rows = [[i, f"`{task}`", row["dims"], row["base"], row["transform"], f"{row['GT']:.4f}"]
            for i, (task, row) in enumerate(info.iterrows(), start=1)]
    return _table(["#", "task id", "dims", "base", "transform", "GT (nats)"], rows)


# --- blocks --------------------------------------------------------------------------------------------------------

#: name -> (file it lives in, relative to the repository; the function that builds it, given ``rebuild``; the command
#: that writes it)
BLOCKS: dict[str, tuple[str, Callable[[bool], str], str]] = {
    "results": ("README.md", results_block, "readme"),
    "tasks": ("docs/paper.md", tasks_block, "paper"),
}


def replace_block(text: str, name: str, content: str) -> str:
    """``text`` with the block ``name`` (between its BEGIN and END markers) replaced by ``content``; ValueError if
    the markers are missing."""
    key = re.escape(name)
    pattern = re.compile(rf"(<!-- BEGIN generated: {key}\b[^\n]*-->\n)(.*?)(<!-- END generated: {key} -->)", re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no block '{name}': expected '<!-- BEGIN generated: {name} ... -->' and "
                         f"'<!-- END generated: {name} -->'")  # fmt: skip
    return pattern.sub(lambda m: m.group(1) + content.rstrip("\n") + "\n" + m.group(3), text, count=1)


def render(name: str, root: Path | None = None, rebuild: bool = False) -> tuple[Path, str, str]:
    """(path, committed text, regenerated text) of the file that holds block ``name`` (``rebuild``: see
    :func:`results_block`)."""
    rel, build, _ = BLOCKS[name]
    path = (REPO if root is None else Path(root)) / rel
    text = path.read_text()
    return path, text, replace_block(text, name, build(rebuild=rebuild))


def main(argv: list[str] | None = None) -> int:
    """Command line: ``readme`` / ``paper`` rewrite their block (``readme`` rebuilds the experiments' summaries
    first), ``check`` compares both without writing anything (exit 1 if out of date)."""
    commands = {cmd: name for name, (_, _, cmd) in BLOCKS.items()}
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=[*commands, "check"])
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            stale = [f"summary.csv of {s}: python -m minde.report readme" for s in stale_summaries()]
            for name, (_, _, cmd) in BLOCKS.items():
                path, old, new = render(name)
                if new != old:
                    stale.append(f"{path.relative_to(REPO)} (block '{name}': python -m minde.report {cmd})")
            if stale:
                print(f"error: out of date: {'; '.join(stale)}", file=sys.stderr)
                return 1
            print("every generated block is up to date")
            return 0
        path, old, new = render(commands[args.command], rebuild=True)
        if new != old:
            path.write_text(new)
        print(f"{path.relative_to(REPO)}: block '{commands[args.command]}' {'rewritten' if new != old else 'already up to date'}")
        return 0
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
