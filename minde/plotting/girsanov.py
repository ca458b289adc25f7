"""Figures of notebook 01: the Girsanov KL identity checked with exact Gaussian scores (two diffused Gaussians,
the horizon, the MI integrands, time points, importance sampling, Euler-Maruyama paths, the log-SNR form, small t).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .common import _RULE_STYLES, _SDE_TITLES, COLORS, _small_t_rule_curves

__all__ = [
    "plot_diffused_gaussians", "plot_horizon", "plot_time_integrands", "plot_time_points", "plot_importance_sampling",
    "plot_girsanov_paths", "plot_log_snr_integrands", "plot_small_t_rules",
]  # fmt: skip


_KLJP = "KL(joint||product)"
_TUTORIAL_COLORS = {**COLORS, _KLJP: "#ff7f0e", "KL(A||B)": "black"}


def _ellipse(ax: plt.Axes, mean: np.ndarray, cov: np.ndarray, n_std: float, **kwargs: object) -> None:
    """Draw the n_std contour of N(mean, cov) (2-D) on ax."""
    from matplotlib.patches import Ellipse

    vals, vecs = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1]))
    w, h = 2 * n_std * np.sqrt(vals[::-1])
    ax.add_patch(Ellipse(tuple(mean), w, h, angle=angle, fill=False, **kwargs))


def plot_diffused_gaussians(target: object, sdes: dict, times: list[float], grid_points: int = 400) -> plt.Figure:
    """Notebook 01: two 2-D Gaussians p^A, p^B diffusing under each SDE (1- and 2-sigma contours at ``times``),
    and, in the last column, the integrand 1/2 g^2 E||s^A - s^B||^2 over t, whose area plus the end-point term
    is KL(p^A || p^B).  ``target`` is a ``minde.gaussian.DiffusedGaussians``; ``sdes`` maps "VP"/"VE" to SDEs."""
    fig, axes = plt.subplots(len(sdes), len(times) + 1, figsize=(3.0 * (len(times) + 1), 3.0 * len(sdes)), squeeze=False)
    for row, (name, sde) in enumerate(sdes.items()):
        for col, t in enumerate(times):
            ax = axes[row, col]
            (ma, ca), (mb, cb) = target.diffused(sde, t)
            for mean, cov, color, label in ((ma, ca, "#1f77b4", r"$\rho^A_t$"), (mb, cb, "#d62728", r"$\rho^B_t$")):
                for k, ls in ((1, "-"), (2, "--")):
                    _ellipse(ax, mean, cov, k, color=color, ls=ls, lw=1.5, label=label if k == 1 else None)
            r = 2.6 * np.sqrt(max(np.linalg.eigvalsh(ca).max(), np.linalg.eigvalsh(cb).max())) + 0.3 * np.abs(ma).max()
            ax.set_xlim(-r, r)
            ax.set_ylim(-r, r)
            ax.set_aspect("equal")
            kl_t = float(target.kl_at(sde, [t])[0])
            kl_label = r"KL($\rho^A_t\,\|\,\rho^B_t$)"
            ax.set_title(f"{_SDE_TITLES.get(name, name)}, t = {t:g}\n{kl_label} = {kl_t:.3f}", fontsize=9)
            ax.tick_params(labelsize=7)
            if col == 0:
                ax.legend(fontsize=8, loc="upper left")
        ax = axes[row, -1]
        grid = np.linspace(0.0, sde.T, grid_points)
        f = target.integrand(sde, grid)
        ax.plot(grid, f, color="black")
        ax.fill_between(grid, f, alpha=0.2, color="black", label=f"area = {np.trapezoid(f, grid):.3f}")
        ax.set_xlabel("t")
        ax.set_title(r"$\frac{1}{2} g(t)^2\, E\,\|s^A_t - s^B_t\|^2$" + f";  KL($p^A\\|\\,p^B$) = {target.kl():.3f}", fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_horizon(estimates: object, curves: object, truths: dict[str, float]) -> plt.Figure:
    """Notebook 01: score-integral estimates over [0, T] as the horizon T grows, against the closed form
    (true value minus the end-point term at T).  ``estimates``: DataFrame with columns problem, sde, form, T,
    estimate, stderr; ``curves``: DataFrame with problem, sde, form, T, predicted; ``truths``: problem -> value.
    One row per problem, one column per SDE."""
    problems = list(truths)
    sdes = list(dict.fromkeys(estimates["sde"]))
    fig, axes = plt.subplots(len(problems), len(sdes), figsize=(5.2 * len(sdes), 3.6 * len(problems)), squeeze=False)
    for i, problem in enumerate(problems):
        for j, sde in enumerate(sdes):
            ax = axes[i, j]
            ax.axhline(truths[problem], color="black", ls=":", lw=1.2, label=f"closed form {truths[problem]:.3f}")
            cur = curves[(curves["problem"] == problem) & (curves["sde"] == sde)]
            est = estimates[(estimates["problem"] == problem) & (estimates["sde"] == sde)]
            for form, c in cur.groupby("form", sort=False):
                ax.plot(c["T"], c["predicted"], color=_TUTORIAL_COLORS.get(form, "gray"), lw=1.2, alpha=0.8)
            forms = list(dict.fromkeys(est["form"]))
            for k, form in enumerate(forms):
                e = est[est["form"] == form]
                dx = 0.006 * (k - (len(forms) - 1) / 2)
                ax.errorbar(e["T"] + dx, e["estimate"], yerr=2 * e["stderr"], fmt="o", ms=3.5, capsize=2,
                            color=_TUTORIAL_COLORS.get(form, "gray"), label=form)  # fmt: skip
            ax.set_xlabel("horizon T")
            ax.set_ylabel("nats")
            ax.set_title(f"{problem}, {_SDE_TITLES.get(sde, sde)}", fontsize=10)
            ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
            if j == 0:
                ax.legend(fontsize=7.5, loc="lower right")
    fig.suptitle("lines: closed form minus the dropped end-point term at T;  points: Monte Carlo with exact scores (±2 s.e.)",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    return fig


def plot_time_integrands(
    grid: np.ndarray, curves: dict, profile_times: np.ndarray, profiles: dict, flatness: dict
) -> plt.Figure:
    """Notebook 01: the integrands over t of the MI forms (top row; lines exact, points Monte Carlo from
    ``exact_time_profile``) and what a Monte-Carlo average over t sees, integrand / (I * density of t)
    (bottom row; a flat line at 1 would give zero variance).  ``curves[sde][form]`` on ``grid``,
    ``profiles[sde][form]`` at ``profile_times``, ``flatness[sde][label]`` on ``grid``."""
    sdes = list(curves)
    fig, axes = plt.subplots(2, len(sdes), figsize=(5.4 * len(sdes), 7.0), squeeze=False)
    for j, sde in enumerate(sdes):
        ax = axes[0, j]
        for form, f in curves[sde].items():
            color = _TUTORIAL_COLORS.get(form, "gray")
            ax.plot(grid, f, color=color, lw=1.5, label=f"{form} (area {np.trapezoid(f, grid):.3f})")
            se = profiles[sde].get(f"{form} stderr")
            ax.errorbar(profile_times, profiles[sde][form], yerr=None if se is None else 2 * np.asarray(se), fmt="o", ms=3,
                        capsize=1.5, color=color)  # fmt: skip
        ax.set_xlabel("t")
        ax.set_ylabel(r"$\frac{1}{2} g(t)^2\, E\,\|\Delta s\|^2$  (nats per unit t)")
        ax.set_title(f"{_SDE_TITLES.get(sde, sde)}: integrands (lines exact, dots Monte Carlo ±2 s.e.)", fontsize=10)
        ax.legend(fontsize=8)
        ax = axes[1, j]
        for k, (label, f) in enumerate(flatness[sde].items()):
            ls = "--" if "importance" in label else "-"
            ax.plot(grid, f, ls=ls, lw=1.5, color=f"C{k // 2 + 4}", label=label)
        ax.axhline(1.0, color="black", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(1e-3, 1e2)
        ax.set_xlabel("t (log scale)")
        ax.set_ylabel("integrand / (I · density of t)")
        ax.set_title("what the average over t sees (flat = low variance)", fontsize=10)
        ax.legend(fontsize=7.5)
    fig.tight_layout()
    return fig


def plot_time_points(errors: object) -> plt.Figure:
    """Notebook 01: error of the time integral against the number K of time points, per method, with the
    expectation over x_t done exactly.  ``errors``: DataFrame with columns sde, method, K, error."""
    sdes = list(dict.fromkeys(errors["sde"]))
    fig, axes = plt.subplots(1, len(sdes), figsize=(5.2 * len(sdes), 4.0), squeeze=False, sharey=True)
    styles = ["s-", "o-", "o--", "^-"]
    for j, sde in enumerate(sdes):
        ax = axes[0, j]
        e = errors[errors["sde"] == sde]
        for style, (method, m) in zip(styles, e.groupby("method", sort=False), strict=False):
            ax.loglog(m["K"], m["error"], style, ms=4, label=method)
        k = np.asarray(sorted(set(e["K"])), dtype=float)
        ref = e[e["method"].str.contains("uniform t")]["error"].iloc[0]
        for power in (0.5, 1.5, 2.0):
            label = r"slopes $K^{-1/2}$, $K^{-3/2}$, $K^{-2}$" if power == 0.5 else None
            ax.loglog(k, 0.3 * ref * (k / k[0]) ** -power, color="gray", lw=0.8, ls=":", label=label)
        ax.set_xlabel("number of time points K")
        ax.set_title(_SDE_TITLES.get(sde, sde), fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    axes[0, 0].set_ylabel("absolute error (nats; RMS for Monte Carlo)")
    axes[0, 0].legend(fontsize=7.5)
    fig.tight_layout()
    return fig


def plot_importance_sampling(spread: object) -> plt.Figure:
    """Notebook 01: per-sample standard deviation of the MI integrand (relative to the MI) with uniform and
    importance-sampled t, against the true MI.  ``spread``: DataFrame with columns sde, rho, mi, sampling
    ("uniform" / "importance"), quantity (e.g. "time only" / "MINDE-C"), relative_sd."""
    sdes = list(dict.fromkeys(spread["sde"]))
    quantities = list(dict.fromkeys(spread["quantity"]))
    fig, axes = plt.subplots(1, len(sdes), figsize=(5.2 * len(sdes), 4.0), squeeze=False, sharey=True)
    for j, sde in enumerate(sdes):
        ax = axes[0, j]
        for qi, quantity in enumerate(quantities):
            for sampling, ls, marker in (("uniform", "-", "o"), ("importance", "--", "s")):
                s = spread[(spread["sde"] == sde) & (spread["quantity"] == quantity) & (spread["sampling"] == sampling)]
                ax.plot(s["mi"], s["relative_sd"], ls=ls, marker=marker, ms=4, color=f"C{qi}", label=f"{quantity}, {sampling} t")
        ax.set_xscale("log")
        ticks = spread[spread["sde"] == sde].drop_duplicates("mi")
        ax.set_xticks(ticks["mi"], [f"{m:.2f}\nρ={r:g}" for m, r in zip(ticks["mi"], ticks["rho"], strict=True)])
        ax.minorticks_off()
        ax.set_xlabel("true MI (nats)")
        ax.set_title(_SDE_TITLES.get(sde, sde), fontsize=10)
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_ylabel("per-sample s.d. / MI")
    axes[0, 0].legend(fontsize=7.5)
    fig.tight_layout()
    return fig


def plot_girsanov_paths(checks: dict) -> plt.Figure:
    """Notebook 01: the Euler-Maruyama check of Girsanov's formula (``minde.gaussian.girsanov_path_check``), one row
    per example.  Left: a few simulated paths of A's reversed diffusion (first coordinate against u = T - t) inside
    the band mean ± 2 std of rho^A_{T-u}, the law they must follow.  Right: the mean over paths of the accumulated
    log-likelihood ratio log dP^A/dP^B up to u (band: ±2 standard errors) against the closed-form score integral
    over [T - u, T]."""
    fig, axes = plt.subplots(len(checks), 2, figsize=(11.0, 3.5 * len(checks)), squeeze=False)
    for row, (label, r) in enumerate(checks.items()):
        u = np.asarray(r["u"])
        ax = axes[row, 0]
        mean, std = np.asarray(r["rho_mean"])[:, 0], np.asarray(r["rho_std"])[:, 0]
        ax.fill_between(u, mean - 2 * std, mean + 2 * std, color="#1f77b4", alpha=0.15, lw=0,
                        label=r"$\rho^A_{T-u}$: mean ± 2 std")
        ax.plot(u, np.asarray(r["paths"])[:, :, 0], color="gray", lw=0.6, alpha=0.7)
        ax.plot([], [], color="gray", lw=0.6, label="Euler-Maruyama paths of A's reversal")
        ax.set_xlabel("u = T - t (reverse time)")
        ax.set_ylabel("first coordinate")
        ax.set_title(label, fontsize=10)
        ax.legend(fontsize=7.5, loc="upper left")
        ax = axes[row, 1]
        m, se = np.asarray(r["llr_mean"]), np.asarray(r["llr_stderr"])
        integral = r"$\frac{1}{2}\int_{T-u}^T g^2 E\|s^A - s^B\|^2 dt$ (closed form)"
        ax.plot(u, r["predicted"], color="black", lw=1.5, label=integral)
        ax.plot(u, m, color="C3", lw=1.2, ls="--", label=f"mean log-likelihood ratio: {m[-1]:.3f} ± {se[-1]:.3f}")
        ax.fill_between(u, m - 2 * se, m + 2 * se, color="C3", alpha=0.2, lw=0)
        ax.set_xlabel("u = T - t (reverse time)")
        ax.set_ylabel("nats")
        ax.set_title(f"{len(np.asarray(r['u'])) - 1} Euler steps (band ±2 s.e.)", fontsize=10)
        ax.legend(fontsize=7.5, loc="upper left")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_log_snr_integrands(panels: dict) -> plt.Figure:
    """Notebook 01: the MI integrands per unit of log noise-to-signal ratio, 1/2 E||Delta eps||^2 against
    lambda = log(sigma_t^2 / alpha_t^2), one panel per SDE.  ``panels[sde] = (lam, curves, window)``: the lambda grid,
    ``curves[form]`` on it, and ``window = (lambda(t_eps), lambda(T))``, the range an estimator integrates (shaded;
    the area to the right of it is the dropped end-point term, the part to the left is (0, t_eps])."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.4 * len(panels), 3.9), squeeze=False, sharey=True)
    for ax, (name, (lam, curves, window)) in zip(axes[0], panels.items(), strict=True):
        ax.axvspan(*window, color="0.93", lw=0, label=rf"integrated: $\lambda$ from {window[0]:.1f} to {window[1]:.1f}")
        for form, f in curves.items():
            ax.plot(lam, f, color=_TUTORIAL_COLORS.get(form, "gray"), lw=1.5, label=form)
        ax.set_xlabel(r"$\lambda = \log(\sigma_t^2/\alpha_t^2)$")
        ax.set_title(_SDE_TITLES.get(name, name), fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper left")
    axes[0, 0].set_ylabel(r"$\frac{1}{2} E\,\|\Delta\varepsilon\|^2$  (nats per unit $\lambda$)")
    fig.tight_layout()
    return fig


def plot_small_t_rules(sde: object, times: np.ndarray, curves: dict) -> plt.Figure:
    """Notebook 01: exact-score integrands f(t) = 1/2 g^2 E||Delta s||^2 near t = 0 on log axes (``curves[label]`` at
    ``times``, down to 1e-8), and below t_eps what each small-t rule integrates instead (hold: f(t_eps); authors:
    f q(t_eps)/q(t); exact: f itself).  One panel per curve."""
    fig, axes = plt.subplots(1, len(curves), figsize=(5.2 * len(curves), 3.9), squeeze=False)
    t = np.asarray(times, dtype=float)
    for ax, (label, f) in zip(axes[0], curves.items(), strict=True):
        for rule, g in _small_t_rule_curves(sde, t, np.asarray(f, dtype=float)).items():
            color, ls = _RULE_STYLES[rule]
            ax.plot(t, g, color=color, ls=ls, lw=1.6, label=f'small_t="{rule}"')
        ax.axvline(sde.t_eps, color="gray", lw=0.8, ls="--")
        ax.text(sde.t_eps, 0.98, r" $t_\epsilon$", transform=ax.get_xaxis_transform(), fontsize=8, va="top")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("t (log scale)")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3, which="major")
        ax.legend(fontsize=7.5, loc="lower right")
    axes[0, 0].set_ylabel(r"integrand  $\frac{1}{2} g^2 E\|\Delta s\|^2$  (nats per unit t)")
    fig.tight_layout()
    return fig
