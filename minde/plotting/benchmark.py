"""Figures of notebooks 05-06: the 40-task benchmark table, the counts per family, and Figure 1 (growing MI).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .common import COLORS

__all__ = [
    "plot_benchmark_table", "plot_family_counts", "plot_growing_mi", "plot_cost_accuracy",
]  # fmt: skip


def plot_benchmark_table(
    per_task_df: object,
    task_order: list[str],
    gt: dict,
    dims: dict | None = None,
    estimators: list[str] | None = None,
    saturation: float = 0.5,
    threshold: float = 0.1,
) -> plt.Figure:
    """Notebook 05: the benchmark table in the Beyond-Normal style.  One row per task (``task_order``, labelled
    with its dims), the ground truth first, then one column per estimator with the mean estimate over seeds to one
    decimal; each cell is coloured by the signed error mean - GT on a diverging scale centred on 0 and saturating at
    ±``saturation`` nats; bold: within ``threshold`` of GT ("solved"); grey: no result.  The column header gives
    solved / covered tasks ("name [experiment]" is split over two lines).  ``per_task_df``: ``minde.experiments.results.per_task``
    output (columns task, estimator, mean)."""
    from matplotlib.colors import Normalize

    df = per_task_df
    ests = list(estimators) if estimators is not None else list(dict.fromkeys(df["estimator"]))
    n, m = len(task_order), len(ests)
    means = np.full((n, m), np.nan)
    row = {t: i for i, t in enumerate(task_order)}
    col = {e: j for j, e in enumerate(ests)}
    for r in df.itertuples(index=False):
        if r.task in row and r.estimator in col:
            means[row[r.task], col[r.estimator]] = r.mean
    truth = np.array([gt[t] for t in task_order], dtype=float)
    err = means - truth[:, None]
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#d9d9d9")
    fig_h = 1.6 + 0.24 * n
    fig_w = 4.2 + 0.95 * (m + 1)
    fig, ax = plt.subplots(figsize=(fig_w, fig_h))
    norm = Normalize(-saturation, saturation)
    im = ax.imshow(np.ma.masked_invalid(err), cmap=cmap, norm=norm, aspect="auto",
                   extent=(0.5, m + 0.5, n - 0.5, -0.5), interpolation="nearest")  # fmt: skip
    ax.set_xlim(-0.5, m + 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    for i in range(n):
        ax.text(0, i, f"{truth[i]:.1f}", ha="center", va="center", fontsize=7, fontweight="bold")
        for j in range(m):
            if np.isfinite(means[i, j]):
                solved = abs(err[i, j]) < threshold
                dark = abs(err[i, j]) > 0.65 * saturation
                ax.text(j + 1, i, f"{means[i, j]:.1f}".replace("-0.0", "0.0"), ha="center", va="center", fontsize=7,
                        fontweight="bold" if solved else "normal", color="white" if dark else "black")  # fmt: skip
    solved_n = np.sum(np.abs(err) < threshold, axis=0)
    covered_n = np.sum(np.isfinite(means), axis=0)
    headers = [f"{e.replace(' [', chr(10) + '[')}\n{s}/{c}" for e, s, c in zip(ests, solved_n, covered_n, strict=True)]
    ax.set_xticks(range(m + 1), ["GT", *headers])
    ax.xaxis.tick_top()
    ax.tick_params(axis="x", labelsize=7.5, length=0)
    labels = [f"{t}  ({dims[t]})" if dims and t in dims else t for t in task_order]
    ax.set_yticks(range(n), labels)
    ax.tick_params(axis="y", labelsize=7, length=0)
    ax.set_xticks(np.arange(-0.5, m + 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n), minor=True)
    ax.grid(which="minor", color="white", lw=0.8)
    ax.tick_params(which="minor", length=0)
    ax.axvline(0.5, color="black", lw=1.0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    cb = fig.colorbar(im, ax=ax, orientation="horizontal", fraction=0.9 / fig_h, pad=0.2 / fig_h, aspect=40, extend="both")
    cb.set_label(f"mean estimate − GT (nats; saturates at ±{saturation:g}; bold: within {threshold:g}; grey: no result)",
                 fontsize=7.5)  # fmt: skip
    cb.ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def plot_family_counts(panels: dict, estimators: list[str] | None = None) -> plt.Figure:
    """Notebook 05: share of tasks solved per family and estimator, one panel per grouping.  ``panels[title]`` is a
    long DataFrame with a group column first, then estimator, solved, covered (``minde.experiments.results.family_counts``).
    Bars: solved / covered, annotated "solved/covered"; no bar where an estimator covers none of the family.
    Hatched: the sigma forms; paler: "name [experiment]" columns (an estimator rerun in another experiment)."""
    first = next(iter(panels.values()))
    ests = list(estimators) if estimators is not None else list(dict.fromkeys(first["estimator"]))
    n_groups = max(len(dict.fromkeys(c[c.columns[0]])) for c in panels.values())
    fig_w = max(11.0, 2.5 + 0.17 * n_groups * max(len(ests), 1))
    fig, axes = plt.subplots(len(panels), 1, figsize=(fig_w, 3.4 * len(panels)), squeeze=False)
    for ax, (title, counts) in zip(axes[:, 0], panels.items(), strict=True):
        key = counts.columns[0]
        groups = list(dict.fromkeys(counts[key]))
        width = 0.84 / max(len(ests), 1)
        for j, est in enumerate(ests):
            c = counts[counts["estimator"] == est].set_index(key).reindex(groups)
            x = np.arange(len(groups)) + (j - (len(ests) - 1) / 2) * width
            cov = c["covered"].fillna(0).to_numpy(dtype=float)
            sol = c["solved"].fillna(0).to_numpy(dtype=float)
            share = np.where(cov > 0, sol / np.maximum(cov, 1), np.nan)
            base = est.split(" [")[0]
            ax.bar(x, np.nan_to_num(share), width, color=COLORS.get(base, "gray"), label=est, alpha=0.45 if " [" in est else 1.0,
                   hatch="//" if base.endswith("(sigma)") else None, edgecolor="white", lw=0.3)  # fmt: skip
            for xi, s, cv, sh in zip(x, sol, cov, share, strict=True):
                if cv > 0:
                    ax.text(xi, sh + 0.02, f"{int(s)}/{int(cv)}", ha="center", va="bottom", fontsize=5.5, rotation=90)
        total = counts.drop_duplicates(key).set_index(key)["total"].reindex(groups) if "total" in counts else None
        names = [g.replace("-", "-\n") + (f"\n({int(total[g])} tasks)" if total is not None else "") for g in groups]
        ax.set_xticks(range(len(groups)), names, fontsize=7.5)
        ax.set_xlim(-0.5, len(groups) - 0.5)
        ax.set_ylim(0, 1.2)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_ylabel("solved / covered")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    axes[0, 0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def plot_growing_mi(levels: object, estimators: list[str] | None = None, transforms: list[str] | None = None) -> plt.Figure:
    """Notebook 06 (the paper's Figure 1): estimate against true MI on the sparse 3 x 3 multinormal as its
    interaction grows, one panel per transform.  ``levels``: one row per (transform, estimator, gt) with the mean
    estimate ``mean`` and the seed spread ``std`` (NaN with one seed); the diagonal is the truth, the grey band
    ±max(0.1 nats, 10%) around it (``minde.experiments.results.tracking_limit``)."""
    df = levels
    ests = list(estimators) if estimators is not None else list(dict.fromkeys(df["estimator"]))
    present = list(dict.fromkeys(df["transform"]))
    order = ["none", "half_cube", "spiral", *present]  # the paper's panels first, in its order
    trs = list(transforms) if transforms is not None else sorted(present, key=order.index)
    titles = {"none": "sparse multinormal 3 x 3", "half_cube": "half-cube", "spiral": "spiral"}
    top = float(np.nanmax(df["gt"])) * 1.08
    fig, axes = plt.subplots(1, len(trs), figsize=(4.6 * len(trs), 4.4), squeeze=False, sharey=True)
    grid = np.linspace(0, top, 200)
    for ax, tr in zip(axes[0], trs, strict=True):
        ax.fill_between(grid, grid - np.maximum(0.1, 0.1 * grid), grid + np.maximum(0.1, 0.1 * grid), color="0.88", lw=0)
        ax.plot(grid, grid, color=COLORS["GT"], lw=1.2, ls=":", label="true MI")
        sub = df[df["transform"] == tr]
        for est in ests:
            e = sub[sub["estimator"] == est].sort_values("gt")
            if e.empty:
                continue
            base = est.split("+")[0].split(" [")[0]
            ax.errorbar(e["gt"], e["mean"], yerr=e["std"].fillna(0.0), fmt="o-" if base.startswith("MINDE") else "s--",
                        ms=4 if base.startswith("MINDE") else 3, lw=1.6 if base.startswith("MINDE") else 1.0, capsize=2,
                        color=COLORS.get(base, "gray"), label=est,
                        mfc="white" if base.endswith("(sigma)") else None)  # fmt: skip
        ax.set_xlim(0, top)
        ax.set_ylim(-0.2, max(top, float(np.nanmax(df["mean"])) * 1.03))  # every estimate stays in view
        ax.set_xlabel("true MI (nats)")
        ax.set_title(titles.get(tr, tr), fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("estimated MI (nats)")
    handles = {}
    for ax in axes[0]:  # one legend for all panels: an estimator may have results in some panels only
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
    axes[0, -1].legend(handles.values(), handles.keys(), fontsize=7.5, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def plot_cost_accuracy(table: object, label: str = "setting", threshold: float = 0.1) -> plt.Figure:
    """Notebook 09: accuracy against compute.  ``table``: ``minde.experiments.results.cost_accuracy`` output (one row
    per setting and form).  Left: tasks solved (mean over seeds; the bar spans the fewest to the most one seed alone
    solves) against CPU-hours per seed of 40 tasks (log axis); right: mean |error| (log axis).  Colour: the form's family;
    each point is labelled by its ``label`` column."""
    df = table
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.6))
    order = {i: j for j, i in enumerate(np.argsort(df["cpu_hours_per_seed"].to_numpy()))}  # alternate label offsets
    for i, r in enumerate(df.itertuples(index=False)):
        base = r.estimator.split("+")[0]
        color = COLORS.get(base, "gray")
        x = r.cpu_hours_per_seed
        axes[0].errorbar(x, r.solved, yerr=[[r.solved - r.solved_min_seed], [max(r.solved_max_seed - r.solved, 0)]],
                         fmt="o", color=color, ms=6, capsize=2, lw=0.8)  # fmt: skip
        axes[1].plot(x, r.mean_abs_error, "o", color=color, ms=6)
        for ax, y in ((axes[0], r.solved), (axes[1], r.mean_abs_error)):
            ax.annotate(getattr(r, label), (x, y), xytext=(4, 3 if order[i] % 2 == 0 else -9), textcoords="offset points",
                        fontsize=6.5, color=color)  # fmt: skip
    for base in dict.fromkeys(r.split("+")[0] for r in df["estimator"]):
        axes[0].plot([], [], "o", color=COLORS.get(base, "gray"), label=base)
    axes[0].axhline(40, color="black", lw=0.6, ls=":")
    axes[0].set_ylabel(f"tasks solved (|mean - GT| < {threshold:g}) of 40")
    axes[1].set_ylabel("mean |error| over the 40 tasks (nats)")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    axes[1].set_yscale("log")
    axes[1].set_yticks([0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0])
    axes[1].set_ylim(0.7 * df["mean_abs_error"].min(), 1.4 * df["mean_abs_error"].max())
    axes[1].yaxis.set_major_formatter(plain)
    axes[1].yaxis.set_minor_formatter(NullFormatter())
    for ax in axes:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks([0.1, 0.2, 0.5, 1, 2, 5])
        ax.set_xlim(0.7 * df["cpu_hours_per_seed"].min(), 1.6 * df["cpu_hours_per_seed"].max())
        ax.set_xlabel("CPU-hours per seed (40 models, one thread each)")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=7.5, loc="lower right")
    fig.tight_layout()
    return fig
