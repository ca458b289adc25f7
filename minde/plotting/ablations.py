"""Figures of notebooks 08-09: the ablations (VP vs VE, importance sampling, training length, sample size, sigma)
and beyond the paper (rank-Gaussianised marginals, intervals, paired errors).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullLocator

from .common import COLORS

__all__ = [
    "plot_setting_errors", "plot_training_length", "plot_sigma_ablation", "plot_intervals", "plot_paired_errors",
    "plot_marginal_transforms", "plot_evaluation_spread",
]  # fmt: skip


def plot_setting_errors(table: object, settings: list[str], forms: list[str] | None = None, title: str = "") -> plt.Figure:
    """Notebook 08: signed error (mean estimate - GT, nats) of each MINDE form on each task under several settings
    (e.g. ``default`` vs ``sde=ve``), one panel per form.  ``table``: rows (task, form, setting) with columns
    ``error`` and ``std`` (seed spread, may be NaN)."""
    df = table
    fs = list(forms) if forms is not None else list(dict.fromkeys(df["form"]))
    tasks = list(dict.fromkeys(df["task"]))
    shades = plt.get_cmap("viridis")(np.linspace(0.15, 0.85, max(len(settings), 2)))
    fig, axes = plt.subplots(1, len(fs), figsize=(3.2 + 1.1 * len(tasks) * len(fs), 3.8), squeeze=False, sharey=True)
    width = 0.8 / max(len(settings), 1)
    for ax, form in zip(axes[0], fs, strict=True):
        ax.axhspan(-0.1, 0.1, color="0.9", lw=0)
        ax.axhline(0, color="black", lw=0.8)
        for j, setting in enumerate(settings):
            sel = df[(df["form"] == form) & (df["setting"] == setting)].set_index("task").reindex(tasks)
            x = np.arange(len(tasks)) + (j - (len(settings) - 1) / 2) * width
            ax.bar(x, sel["error"].to_numpy(dtype=float), width, yerr=sel["std"].fillna(0).to_numpy(dtype=float),
                   color=shades[j], label=setting, capsize=2)  # fmt: skip
        ax.set_xticks(range(len(tasks)), [t.replace("-multinormal", "\nmultinormal") for t in tasks], fontsize=6.5)
        ax.set_title(form, fontsize=10, color=COLORS.get(form, "black"))
        ax.grid(alpha=0.3, axis="y")
    axes[0, 0].set_ylabel("mean estimate − GT (nats)")
    axes[0, -1].legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, title=title or None)
    fig.tight_layout()
    return fig


def plot_training_length(table: object, forms: list[str] | None = None) -> plt.Figure:
    """Notebook 08: |mean estimate - GT| against the number of Adam steps (each a separate run with its own cosine
    schedule), one panel per task, one line per form.  ``table``: rows with columns task, form, steps, error, and
    optionally std (an error bar ± std on each point, its lower end clipped at 1e-4 on the log axis)."""
    df = table
    fs = list(forms) if forms is not None else list(dict.fromkeys(df["form"]))
    tasks = list(dict.fromkeys(df["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False, sharey=True)
    for ax, task in zip(axes[0], tasks, strict=True):
        ax.axhline(0.1, color="0.5", ls="--", lw=1, label="0.1 nats")
        for form in fs:
            sel = df[(df["task"] == task) & (df["form"] == form)].sort_values("steps")
            err = sel["error"].abs().to_numpy(dtype=float)
            ax.plot(sel["steps"], err, "o-" if "(sigma)" not in form else "o--", ms=4,
                    color=COLORS.get(form, "gray"), label=form, mfc="white" if "(sigma)" in form else None)  # fmt: skip
            if "std" in sel:  # ± std, the lower end clipped at 1e-4 (log axis)
                sd = sel["std"].fillna(0).to_numpy(dtype=float)
                ax.errorbar(sel["steps"], err, yerr=[np.minimum(sd, err - 1e-4), sd], fmt="none",
                            ecolor=COLORS.get(form, "gray"), elinewidth=0.8, capsize=2, alpha=0.7)  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        # one labelled tick per step count run ("5k", "10k", ...), no minor labels: the log axis's own
        # "2×10^4 3×10^4 ..." minor labels overlap at this width
        steps = sorted({int(s) for s in df.loc[df["task"] == task, "steps"]})
        ax.set_xticks(steps, [_steps_label(s) for s in steps])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel("Adam steps (batch 256)")
        ax.set_title(task, fontsize=9)
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("|mean estimate − GT| (nats)")
    axes[0, -1].legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def _steps_label(steps: int) -> str:
    """A step count as a short tick label: 5000 -> "5k", 80000 -> "80k", 2500 -> "2.5k", 100 -> "100"."""
    return f"{steps / 1000:g}k" if steps >= 1000 else str(steps)


def plot_sigma_ablation(sweeps: object, highlight: list[str] | None = None) -> plt.Figure:
    """Notebook 08: the sigma-form error against the reference std s over many trained models.  Left: median over
    tasks of |estimate - GT| per form (band: inter-quartile range); right: signed error per task for ``highlight``
    tasks, with error bars (seed s.d., or the Monte-Carlo standard error with one seed) when ``sweeps`` has a stderr
    column.  ``sweeps``: ``minde.experiments.results.load_sigma_sweeps`` rows (task, form, sigma, error[, seed, stderr])."""
    df = sweeps
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.0))
    ax = axes[0]
    for form, g in df.groupby("form", sort=False):
        per = g.groupby(["task", "sigma"])["error"].mean().abs().groupby("sigma")
        med, q1, q3 = per.median(), per.quantile(0.25), per.quantile(0.75)
        n_tasks = g["task"].nunique()
        ax.plot(med.index, med.to_numpy(), "o-", color=COLORS.get(form, "gray"), label=f"{form} ({n_tasks} tasks)")
        ax.fill_between(med.index, q1.to_numpy(), q3.to_numpy(), color=COLORS.get(form, "gray"), alpha=0.2, lw=0)
    ax.axhline(0.1, color="0.5", ls="--", lw=1)
    ax.set_ylabel("|estimate − GT| (nats): median, IQR over tasks")
    ax = axes[1]
    ax.axhspan(-0.1, 0.1, color="0.9", lw=0)
    ax.axhline(0, color="black", lw=0.8)
    styles = ["-", "--", ":", "-."]
    for i, task in enumerate(highlight or []):
        for form, g in df[df["task"] == task].groupby("form", sort=False):
            m = g.groupby("sigma")["error"].mean()
            ax.plot(m.index, m.to_numpy(), "o" + styles[i % 4], ms=3.5, color=COLORS.get(form, "gray"), label=f"{form}: {task}")
            if "stderr" in g:  # seed s.d. with several seeds, else the Monte-Carlo standard error
                per = g.groupby("sigma")
                bar = per["error"].std().where(per["error"].count() > 1, per["stderr"].mean()).reindex(m.index)
                ax.errorbar(m.index, m.to_numpy(), yerr=bar.fillna(0).to_numpy(dtype=float), fmt="none",
                            ecolor=COLORS.get(form, "gray"), elinewidth=0.8, capsize=2, alpha=0.7)  # fmt: skip
    ax.set_ylabel("estimate − GT (nats)")
    ax.legend(fontsize=6.5, loc="best")
    for ax in axes:
        ax.set_xscale("log")
        ticks = sorted(df["sigma"].unique())
        ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
        ax.minorticks_off()
        ax.set_xlabel("reference standard deviation s")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_intervals(iv: object, forms: list[str], task_labels: dict[str, str] | None = None) -> plt.Figure:
    """Notebook 09: every task's interval for the mean estimate, drawn as error (mean - GT) ± half-width, one row of
    panels per estimator form; filled markers cover the truth, open ones miss it.  ``iv``: rows of
    :func:`minde.intervals.intervals` (task, estimator, mean, gt, half_width, covers)."""
    df = iv
    tasks = list(dict.fromkeys(df["task"]))
    labels = [(task_labels or {}).get(t, t) for t in tasks]
    fig, axes = plt.subplots(len(forms), 1, figsize=(max(8.0, 0.28 * len(tasks) + 2), 1.9 * len(forms) + 1.2),
                             squeeze=False, sharex=True)  # fmt: skip
    for ax, form in zip(axes[:, 0], forms, strict=True):
        sel = df[df["estimator"] == form].set_index("task").reindex(tasks)
        err = (sel["mean"] - sel["gt"]).to_numpy(dtype=float)
        hw = sel["half_width"].to_numpy(dtype=float)
        covers = sel["covers"].fillna(False).to_numpy(dtype=bool)
        x = np.arange(len(tasks))
        ax.axhspan(-0.1, 0.1, color="0.92", lw=0)
        ax.axhline(0, color="black", lw=0.8)
        color = COLORS.get(form, "gray")
        for mask, face in ((covers, color), (~covers, "white")):
            ax.errorbar(x[mask], err[mask], yerr=hw[mask], fmt="o", ms=4, color=color, mfc=face, capsize=2, lw=1)
        ax.set_ylabel("error (nats)", fontsize=8)
        ax.set_title(f"{form}: {int(covers.sum())} of {int(np.isfinite(hw).sum())} intervals cover the truth",
                     fontsize=9, color=color, loc="left")  # fmt: skip
        ax.grid(alpha=0.3, axis="y")
    axes[-1, 0].set_xticks(range(len(tasks)), labels, rotation=90, fontsize=6.5)
    fig.tight_layout()
    return fig


def plot_paired_errors(table: object, settings: list[str], forms: list[str] | None = None,
                       ylim: tuple[float, float] | None = None) -> plt.Figure:
    """Notebook 09: signed error (mean estimate - GT, nats) of every task under two settings (e.g. the default network
    and a deeper one), joined per task by a segment so that each task's change is read at a glance; one panel per
    form, the tasks along the x axis, the grey band is ±0.1 nats.  ``table``: rows (task, form, setting) with column
    ``error`` and, optionally, ``std`` (the error bar: the seed spread, or one run's standard error); the legend counts
    the tasks within 0.1 nats under each setting.  ``ylim``: the error axis; an error beyond it is drawn on its edge
    as a triangle pointing outwards (for estimators that miss by nats)."""
    df = table
    if len(settings) != 2:
        raise ValueError(f"plot_paired_errors compares exactly two settings, got {settings!r}")
    fs = list(forms) if forms is not None else list(dict.fromkeys(df["form"]))
    tasks = list(dict.fromkeys(df["task"]))
    x = np.arange(len(tasks))
    fig, axes = plt.subplots(len(fs), 1, figsize=(max(8.0, 0.28 * len(tasks) + 2), 2.2 * len(fs) + 1.2),
                             squeeze=False, sharex=True)  # fmt: skip
    for ax, form in zip(axes[:, 0], fs, strict=True):
        ax.axhspan(-0.1, 0.1, color="0.92", lw=0)
        ax.axhline(0, color="black", lw=0.8)
        errs = [df[(df["form"] == form) & (df["setting"] == s)].set_index("task")["error"].reindex(tasks).to_numpy(dtype=float)
                for s in settings]  # fmt: skip
        bars = [df[(df["form"] == form) & (df["setting"] == s)].set_index("task")["std"].reindex(tasks).to_numpy(dtype=float)
                if "std" in df else np.zeros(len(tasks)) for s in settings]  # fmt: skip
        lo, hi = ylim if ylim is not None else (-np.inf, np.inf)
        shown = [np.clip(e, lo, hi) for e in errs]
        ax.vlines(x, np.fmin(*shown), np.fmax(*shown), color="0.6", lw=1)
        for err, bar, setting, style in zip(errs, bars, settings, (dict(mfc="white"), dict()), strict=True):
            solved = int((np.abs(err) < 0.1).sum())
            label = f"{setting}: {solved} of {int(np.isfinite(err).sum())} within 0.1"
            inside = (err >= lo) & (err <= hi)
            ax.errorbar(x[inside], err[inside], yerr=np.nan_to_num(bar[inside]), fmt="o", ms=4.5, color=COLORS.get(form, "gray"),
                        elinewidth=0.8, capsize=1.5, label=label, **style)  # fmt: skip
            for edge, marker in ((lo, "v"), (hi, "^")):
                beyond = err < lo if marker == "v" else err > hi
                ax.plot(x[beyond], np.full(int(beyond.sum()), edge), marker, ms=6, color=COLORS.get(form, "gray"), **style)
        if ylim is not None:
            pad = 0.04 * (hi - lo)
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_ylabel("error (nats)", fontsize=8)
        ax.set_title(form, fontsize=9, color=COLORS.get(form, "black"), loc="left")
        ax.legend(fontsize=7.5, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False, borderaxespad=0.2)
        ax.grid(alpha=0.3, axis="y")
    axes[-1, 0].set_xticks(range(len(tasks)), tasks, rotation=90, fontsize=6.5)
    fig.tight_layout()
    return fig


def plot_marginal_transforms(columns: dict[str, np.ndarray], bins: int = 80, clip: float = 8.0) -> plt.Figure:
    """Notebook 09: one histogram per preprocessed version of the same column (e.g. standardised vs
    rank-Gaussianised), on a log density scale against the standard normal density; values beyond ±``clip`` are
    counted into the outermost bins and their fraction is printed in the panel."""
    from scipy.stats import norm

    fig, axes = plt.subplots(1, len(columns), figsize=(3.6 * len(columns), 3.2), squeeze=False, sharey=True)
    edges = np.linspace(-clip, clip, bins + 1)
    grid = np.linspace(-clip, clip, 400)
    for ax, (label, col) in zip(axes[0], columns.items(), strict=True):
        v = np.asarray(col, dtype=float).ravel()
        outside = np.mean(np.abs(v) > clip)
        ax.hist(np.clip(v, -clip, clip), bins=edges, density=True, color="#6baed6", alpha=0.8)
        ax.plot(grid, norm.pdf(grid), color="black", lw=1, label="N(0, 1)")
        ax.set_yscale("log")
        ax.set_ylim(1e-5, 1.0)
        ax.set_title(label, fontsize=9)
        ax.text(0.03, 0.95, f"beyond ±{clip:g}: {outside:.1%}", transform=ax.transAxes, fontsize=8, va="top")
    axes[0, 0].set_ylabel("density")
    axes[0, 0].legend(fontsize=8, loc="upper right", frameon=False)
    fig.tight_layout()
    return fig


def plot_evaluation_spread(spread: object, band: tuple[float, float] = (0.7, 1.5)) -> plt.Figure:
    """Notebook 09: for each trained network and estimator form, the standard deviation of its estimates over
    evaluation seeds divided by the mean reported Monte-Carlo standard error, under each small-t rule (log axis;
    1 = the error bar is right, the grey band is ``band``).  Right panel: the range of the estimates (nats, log
    axis).  ``spread``: rows with columns estimator, task, form, rule, ratio, range (as written by
    benchmarks/evaluation_spread.py)."""
    df = spread
    pairs = list(dict.fromkeys(zip(df["estimator"], df["task"], df["form"], strict=True)))
    rules = list(dict.fromkeys(df["rule"]))
    markers = {"hold": "o", "exact": "x", "authors": "s"}
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.32 * len(pairs) + 1.6), sharey=True)
    y = np.arange(len(pairs))
    for ax, column, label in ((axes[0], "ratio", "sd over evaluation seeds / reported mc_stderr"),
                              (axes[1], "range", "range of the estimates (nats)")):  # fmt: skip
        if column == "ratio":
            ax.axvspan(*band, color="0.9", lw=0)
            ax.axvline(1, color="black", lw=0.8)
        for rule in rules:
            sel = df[df["rule"] == rule].set_index(["estimator", "task", "form"]).reindex(pairs)
            ax.plot(sel[column].to_numpy(dtype=float), y, markers.get(rule, "d"), ms=5, mfc="none" if rule != "hold" else None,
                    color="C0" if rule == "hold" else "C3", label=f"small_t={rule!r}", ls="none")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_yticks(y, [f"{e} {t.replace('-multinormal', '')} ({f})" for e, t, f in pairs], fontsize=7)
    axes[0].invert_yaxis()
    axes[1].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
