"""Figures of notebooks 03-04: MINDE-C and MINDE-J trained (estimates during training, learned against exact
integrands over t and near t = 0, the sigma forms, entropies, MINDE-C against MINDE-J, the entropies' bias).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .common import _RULE_STYLES, COLORS

__all__ = [
    "plot_pair_samples", "plot_mi_during_training", "plot_learned_time_profile", "plot_sigma_sweep", "plot_entropies",
    "plot_variant_comparison", "plot_learned_small_t", "plot_entropy_bias",
]  # fmt: skip


def _form_names(variant_name: str) -> tuple[str, str]:
    """('MINDE-C', 'MINDE-C(sigma)') for 'MINDE-C' (or a variant key 'c' / 'j')."""
    name = {"c": "MINDE-C", "j": "MINDE-J"}.get(variant_name, variant_name)
    return name, f"{name}(sigma)"


def plot_pair_samples(samples: dict, truths: dict | None = None, n_points: int = 3000) -> plt.Figure:
    """Notebooks 03-04: scatter plots of (x, y) samples, one panel per task.  ``samples[label] = (x, y)``
    (1-d x and y, or the first coordinates are shown); ``truths[label]`` (nats) goes in the title."""
    fig, axes = plt.subplots(1, len(samples), figsize=(3.6 * len(samples), 3.5), squeeze=False)
    for ax, (label, (x, y)) in zip(axes[0], samples.items(), strict=True):
        x, y = np.asarray(x).reshape(len(x), -1)[:n_points, 0], np.asarray(y).reshape(len(y), -1)[:n_points, 0]
        ax.scatter(x, y, s=2, alpha=0.35, color="#444444", rasterized=True)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        title = label if truths is None else f"{label}\nI(X;Y) = {truths[label]:.4f} nats"
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_mi_during_training(panels: dict, truths: dict) -> plt.Figure:
    """Notebooks 03-04: both MI forms on the held-out split as training proceeds, one panel per task.

    ``panels[task][variant_name] = history`` with arrays "step", "mi", "mi_stderr", "mi_sigma", "mi_sigma_stderr"
    (``minde.estimator.fit_tracked``); ``variant_name`` is "MINDE-C" or "MINDE-J".  Solid: difference inside the
    norm; dashed: the sigma form; bands: ±2 Monte-Carlo standard errors; dotted black: the true MI."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 3.8), squeeze=False, sharey=True)
    # One y-range for all panels (shared axis): every truth, and the estimates up to 3x the largest truth.
    peak = max(truths[task] for task in panels)
    highest = max(float(np.max(np.asarray(h[k]) + 2 * np.asarray(h[f"{k}_stderr"]))) for r in panels.values()
                  for h in r.values() for k in ("mi", "mi_sigma"))  # fmt: skip
    top = min(max(1.6 * peak, 1.05 * highest), 3.0 * peak)
    for ax, (task, runs) in zip(axes[0], panels.items(), strict=True):
        truth = truths[task]
        ax.axhline(truth, color=COLORS["GT"], ls=":", lw=1.3, label=f"true MI {truth:.4f}")
        for variant_name, h in runs.items():
            for form, key, ls in zip(_form_names(variant_name), ("mi", "mi_sigma"), ("-", "--"), strict=True):
                step, val, se = (np.asarray(h[k], dtype=float) for k in ("step", key, f"{key}_stderr"))
                ax.plot(step, val, ls=ls, marker="o", ms=3, color=COLORS.get(form, "gray"), label=f"{form}: {val[-1]:.3f}")
                ax.fill_between(step, val - 2 * se, val + 2 * se, color=COLORS.get(form, "gray"), alpha=0.15, lw=0)
        ax.set_ylim(0.0, top)
        ax.set_xlabel("Adam steps")
        ax.set_ylabel("MI estimate (nats, held-out data)")
        ax.set_title(task, fontsize=10)
        ax.legend(fontsize=8, loc="upper right")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_learned_time_profile(
    times: np.ndarray, learned: dict, exact_times: np.ndarray, exact: dict, variant: str = "c"
) -> plt.Figure:
    """Notebooks 03-04: the integrands over t that a trained model integrates (``MINDE.time_profile``, dots)
    against the exact ones of the Gaussian (``minde.gaussian.exact_time_profile``, lines).

    Left: the MI integrand of the inside form, 1/2 g^2 E||s_a - s_b||^2; middle: the sigma form's;
    right: the entropy (KL-to-reference) integrands the variant learns.  Areas in the legend (trapezoid)."""
    name, name_sigma = _form_names(variant)
    entropies = [k for k in learned if k.startswith("H(") and k.endswith(")")]
    fig, axes = plt.subplots(1, 3, figsize=(15.0, 3.9), squeeze=False)
    axes = axes[0]
    area = np.trapezoid
    for ax, key, form in ((axes[0], "mi", name), (axes[1], "mi_sigma", name_sigma)):
        color = COLORS.get(form, "gray")
        exact_area = area(exact[form], exact_times)
        ax.plot(exact_times, exact[form], color="black", lw=1.5, label=f"exact scores (area {exact_area:.3f})")
        se = learned.get(f"{key} stderr")
        bars = "" if se is None else ", ±2 s.e."
        ax.errorbar(times, learned[key], yerr=None if se is None else 2 * np.asarray(se), fmt="o", ms=3.5, capsize=1.5,
                    color=color, label=f"learned (area {area(learned[key], times):.3f}{bars})")  # fmt: skip
        ax.set_title(f"{form} integrand", fontsize=10)
    ax = axes[2]
    for k, color in zip(entropies, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False):
        ax.plot(exact_times, exact[k], color=color, lw=1.3)
        se = learned.get(f"{k} stderr")
        label = f"{k}: area {area(learned[k], times):.3f} (exact {area(exact[k], exact_times):.3f})"
        ax.errorbar(times, learned[k], yerr=None if se is None else 2 * np.asarray(se), fmt="o", ms=3, capsize=1.5,
                    color=color, label=label)  # fmt: skip
    ax.set_title("entropy KL terms (lines exact, dots learned)", fontsize=10)
    for ax in axes:
        ax.set_xlabel("diffusion time t")
        ax.set_ylabel(r"$\frac{1}{2} g(t)^2\, E\,\|\Delta s\|^2$  (nats per unit t)")
        ax.legend(fontsize=7.5)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_sigma_sweep(sweeps: dict, truths: dict, variant: str = "c", reference: dict | None = None) -> plt.Figure:
    """Notebooks 03-04: the sigma-form estimate of one trained model against the reference std s
    (``minde.estimator.mi_versus_sigma``), one panel per task; the inside form (independent of s) as a
    horizontal line; ``reference[task]`` (same keys, optional) is the same sweep with exact scores."""
    name, name_sigma = _form_names(variant)
    fig, axes = plt.subplots(1, len(sweeps), figsize=(5.0 * len(sweeps), 3.8), squeeze=False, sharey=True)
    for ax, (task, sw) in zip(axes[0], sweeps.items(), strict=True):
        ax.axhline(truths[task], color=COLORS["GT"], ls=":", lw=1.3, label=f"true MI {truths[task]:.4f}")
        inside = float(np.mean(sw["mi"]))
        ax.axhline(inside, color=COLORS.get(name, "gray"), lw=1.3, label=f"{name} (no s): {inside:.3f}")
        ax.errorbar(sw["sigma"], sw["mi_sigma"], yerr=2 * np.asarray(sw["mi_sigma_stderr"]), fmt="o-", ms=4, capsize=2,
                    color=COLORS.get(name_sigma, "gray"), label=f"{name_sigma}, learned scores")  # fmt: skip
        if reference is not None and task in reference:
            ref = reference[task]
            ax.errorbar(ref["sigma"], ref["mi_sigma"], yerr=2 * np.asarray(ref["mi_sigma_stderr"]), fmt="s--", ms=3.5,
                        capsize=2, color="gray", label=f"{name_sigma}, exact scores")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xticks(np.asarray(sw["sigma"], dtype=float), [f"{v:g}" for v in sw["sigma"]])
        ax.minorticks_off()
        ax.set_xlabel("reference standard deviation s")
        ax.set_ylabel("MI estimate (nats)")
        ax.set_title(task, fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def plot_entropies(estimates: dict, truths: dict) -> plt.Figure:
    """Notebook 04: entropies learned by MINDE-J (dots, ±2 standard errors) against closed forms (crosses),
    one panel per task.  ``estimates[task][name]`` is a ``minde.Estimate``; ``truths[task][name]`` a float."""
    fig, axes = plt.subplots(1, len(estimates), figsize=(5.0 * len(estimates), 3.6), squeeze=False, sharey=True)
    for ax, (task, est_) in zip(axes[0], estimates.items(), strict=True):
        names = list(est_)
        pos = np.arange(len(names))
        ax.errorbar([est_[k].value for k in names], pos, xerr=[2 * est_[k].stderr for k in names], fmt="o", ms=5,
                    capsize=3, color=COLORS["MINDE-J"], label="MINDE-J (±2 s.e.)")  # fmt: skip
        ax.plot([truths[task][k] for k in names], pos, "x", ms=9, mew=2, color=COLORS["GT"], label="closed form")
        ax.set_yticks(pos, names)
        ax.invert_yaxis()
        ax.set_xlabel("differential entropy (nats)")
        ax.set_title(task, fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def plot_variant_comparison(results: dict, truths: dict) -> plt.Figure:
    """Notebook 04: final estimates of the four forms per task (±2 standard errors) against the true MI.
    ``results[task][form] = (value, stderr)`` with form in MINDE-C, MINDE-C(sigma), MINDE-J, MINDE-J(sigma)."""
    tasks = list(results)
    forms = list(dict.fromkeys(f for r in results.values() for f in r))
    fig, ax = plt.subplots(figsize=(2.6 + 2.4 * len(tasks), 3.8))
    width = 0.8 / len(forms)
    for i, task in enumerate(tasks):
        ax.hlines(truths[task], i - 0.45, i + 0.45, color=COLORS["GT"], lw=2, label="true MI" if i == 0 else None)
        for j, form in enumerate(forms):
            if form not in results[task]:
                continue
            v, se = results[task][form]
            ax.errorbar(i + (j - (len(forms) - 1) / 2) * width, v, yerr=2 * se, fmt="o", ms=6, capsize=3,
                        color=COLORS.get(form, "gray"), label=form if i == 0 else None)  # fmt: skip
    ax.set_xticks(range(len(tasks)), tasks)
    ax.set_xlim(-0.6, len(tasks) - 0.4)
    ax.set_ylabel("MI estimate (nats, held-out data)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def plot_learned_small_t(sde: object, times: np.ndarray, learned: dict, exact: dict, keys: dict, spread: dict | None = None,
                         truth: float | None = None) -> plt.Figure:  # fmt: skip
    """Notebooks 03-04: a trained model's integrands near t = 0, and what each small-t rule makes of them.

    Left: learned integrands (``minde.diagnostics.learned_time_profile``: dots, ±2 s.e.) and exact ones (lines) on
    log axes down to 1e-8; ``keys`` maps a learned key ("mi", "H(X|Y)", ...) to its label; ``exact[key]`` holds the
    exact curve (same times).  Right: ``spread[rule]`` = list of (value, mc_stderr) of the same model evaluated with
    several evaluation seeds under each rule: each estimate (small dots with ±2 Monte-Carlo s.e.), and their mean
    ± 2 s.d. over seeds (large markers); dotted: ``truth``.  Without ``spread``, the left panel alone."""
    if spread is None:
        fig, ax = plt.subplots(figsize=(7.8, 4.1))
        axes = [ax]
    else:
        fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.1), gridspec_kw={"width_ratios": [1.6, 1]})
        ax = axes[0]
    t = np.asarray(times, dtype=float)
    for k, (key, label) in enumerate(keys.items()):
        color = f"C{k}"
        v, se = np.asarray(learned[key]), np.asarray(learned[f"{key} stderr"])
        ax.errorbar(t, np.abs(v), yerr=2 * se, fmt="o", ms=3, capsize=1.5, color=color, label=f"{label}: learned (±2 s.e.)")
        ax.plot(t, np.abs(np.asarray(exact[key])), color=color, lw=1.3, label=f"{label}: exact scores")
    ax.axvline(sde.t_eps, color="gray", lw=0.8, ls="--")
    ax.text(sde.t_eps, 0.02, r" $t_\epsilon$: held below", transform=ax.get_xaxis_transform(), fontsize=8, va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    floor = min(float(np.min(np.abs(np.asarray(learned[key]))[np.abs(np.asarray(learned[key])) > 0])) for key in keys)
    ax.set_ylim(bottom=0.1 * floor)  # exact curves far below every learned value (e.g. a term that is 0) leave the view
    ax.set_xlabel("t (log scale)")
    ax.set_ylabel(r"|integrand|  $\frac{1}{2} g^2 E\|\Delta s\|^2$  (nats per unit t)")
    ax.set_title("integrands near t = 0 (lines exact, dots learned)", fontsize=10)
    ax.legend(fontsize=7, loc="upper right", ncol=1)
    ax.grid(alpha=0.3, which="major")
    if spread is None:
        fig.tight_layout()
        return fig
    ax = axes[1]
    rng = np.random.default_rng(0)
    for i, (rule, values) in enumerate(spread.items()):
        color = _RULE_STYLES.get(rule, ("gray", "-"))[0]
        v = np.asarray([a for a, _ in values], dtype=float)
        se = np.asarray([b for _, b in values], dtype=float)
        x = i + rng.uniform(-0.18, 0.18, size=v.size)
        ax.errorbar(x, v, yerr=2 * se, fmt="o", ms=2.5, lw=0.6, capsize=0, color=color, alpha=0.6)
        ax.errorbar(i + 0.32, v.mean(), yerr=2 * v.std(ddof=1), fmt="D", ms=6, capsize=4, color=color,
                    label=f'"{rule}": {v.mean():.3f}, s.d. {v.std(ddof=1):.3f} over {v.size} seeds')  # fmt: skip
    if truth is not None:
        ax.axhline(truth, color=COLORS["GT"], ls=":", lw=1.2, label=f"true MI {truth:.4f}")
    ax.set_xticks(range(len(spread)), [f'small_t="{r}"' for r in spread], fontsize=8)
    every = np.asarray([a for values in spread.values() for a, _ in values], dtype=float)
    heavy = every.min() > 0 and every.max() / every.min() > 10  # a heavy tail: log scale
    if heavy:
        ax.set_yscale("log")
    ax.set_ylabel("MI estimate (nats" + ("; log scale)" if heavy else ")"))
    ax.set_title("one model, evaluation seeds: estimate ± 2 MC s.e.", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3, axis="y", which="both")
    fig.tight_layout()
    return fig


def plot_entropy_bias(windows: dict, errors: dict) -> plt.Figure:
    """Notebook 04: where a trained MINDE-J's entropy errors come from.

    Left: ``windows[term] = (edges, values, stderrs)``: the learned-minus-exact KL integrand of each entropy term
    integrated over windows of t (``edges``, log-spaced), nats with ±2 s.e. (positive: the learned KL is too large,
    the entropy too small).  Right: ``errors[entropy][part] = (value, stderr)`` for parts such as "total error" and
    "learned-score part": bars with ±2 s.e. per entropy."""
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 4.0))
    ax = axes[0]
    width = 0.8 / max(len(windows), 1)
    for k, (term, (edges, vals, ses)) in enumerate(windows.items()):
        x = np.arange(len(vals)) + (k - (len(windows) - 1) / 2) * width
        ax.bar(x, vals, width, yerr=2 * np.asarray(ses), capsize=2, color=f"C{k}", label=f"KL term of {term}")
        labels = [f"{a:.0e}-{b:.0e}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    ax.set_xticks(range(len(labels)), labels, fontsize=7.5)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("window of t")
    ax.set_ylabel("learned − exact KL (nats)")
    ax.set_title("learned-score error of each KL term, by window of t (±2 s.e.)", fontsize=10)
    ax.legend(fontsize=7.5)
    ax.grid(alpha=0.3, axis="y")
    ax = axes[1]
    names = list(errors)
    parts = list(dict.fromkeys(p for e in errors.values() for p in e))
    width = 0.8 / max(len(parts), 1)
    for j, part in enumerate(parts):
        x = np.arange(len(names)) + (j - (len(parts) - 1) / 2) * width
        v = np.asarray([errors[n][part][0] for n in names])
        se = np.asarray([errors[n][part][1] for n in names])
        ax.bar(x, v, width, yerr=2 * se, capsize=2, color=f"C{j + 5}", label=part)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("estimate − closed form (nats)")
    ax.set_title("entropy errors (±2 s.e.)", fontsize=10)
    ax.legend(fontsize=7.5)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig
