"""Figures of the companion.  Every figure a notebook shows is drawn by a named function here and saved
to ``figures/`` under a stable name by ``save_figure`` (PNG for viewing, PDF for print); a notebook run with
parameters other than its defaults saves them to its run folder instead (``figures_dir``).

Sections: common helpers; tutorial figures (notebooks 01-04); paper figures (05-09).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["figures_dir", "save_figure", "save_table", "COLORS"]

#: One colour per estimator family, shared by every figure.
COLORS = {
    "GT": "black",
    "MINDE-C": "#1f77b4",
    "MINDE-C(sigma)": "#6baed6",
    "MINDE-J": "#d62728",
    "MINDE-J(sigma)": "#fc9272",
    "MINE": "#2ca02c",
    "InfoNCE": "#9467bd",
    "NWJ": "#8c564b",
    "DV": "#e377c2",
    "DoE": "#7f7f7f",
    "KSG": "#bcbd22",
    "CCA": "#17becf",
}


def figures_dir(name: str | None = None) -> Path:
    """Where figures go: $MINDE_FIGURES when set; else, for a figure ``name`` ("NN_...") saved by a notebook that
    runs with parameters other than its defaults, that run's ``runs/<notebook>-<params>/figures/``
    (``minde.notebooks.kernel_run_folder``), so that only the defaults update the committed ``figures/``; else
    the repository's ``figures/`` (found from this package), else ``./figures``."""
    env = os.environ.get("MINDE_FIGURES")
    if env:
        return Path(env)
    if name is not None:
        from ..experiments.notebooks import kernel_run_folder

        run = kernel_run_folder(name)
        if run is not None:
            return run / "figures"
    repo = Path(__file__).resolve().parents[2] / "figures"
    return repo if repo.is_dir() else Path("figures")


def _atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write`` on a temporary name beside ``path``, then move it into place (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)
    return path


def save_figure(fig: plt.Figure, name: str, formats: tuple[str, ...] = ("png", "pdf")) -> list[Path]:
    """Save ``fig`` as <figures_dir(name)>/<name>.<fmt> for each format (written atomically) and return the paths."""
    out = figures_dir(name)
    return [
        _atomic_write(out / f"{name}.{fmt}", partial(fig.savefig, format=fmt, dpi=150, bbox_inches="tight",
                                                     metadata={"CreationDate": None} if fmt == "pdf" else None))
        for fmt in formats
    ]  # fmt: skip


def save_table(table: pd.DataFrame, name: str, **to_csv: Any) -> Path:
    """Write a DataFrame as <figures_dir(name)>/<name>.csv (atomically; the folder is created if needed) and return
    the path."""
    return _atomic_write(figures_dir(name) / f"{name}.csv", partial(table.to_csv, **to_csv))


# --- tutorial figures (notebooks 01-04) ------------------------------------------------------------

# Notebook 01 (the Girsanov KL identity with exact Gaussian scores).
_SDE_TITLES = {"VP": "VP-SDE", "VE": "VE-SDE"}
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


def _small_t_rule_curves(sde: object, t: np.ndarray, f: np.ndarray) -> dict[str, np.ndarray]:
    """What each small-t rule integrates at t: f above t_eps; below, "hold": f(t_eps), "authors": f q(t_eps)/q(t)
    (q ∝ g^2/sigma_t^2), "exact": f (``SDE.integration_points``)."""
    import torch

    te = sde.t_eps
    tt = torch.as_tensor(t, dtype=torch.float64)
    q = (sde.g2(tt) / sde.sigma(tt) ** 2).numpy()
    q_eps = float(sde.g2(torch.tensor(te, dtype=torch.float64)) / sde.sigma(torch.tensor(te, dtype=torch.float64)) ** 2)
    f_eps = float(np.interp(np.log(te), np.log(t), f))
    below = t < te
    return {"hold": np.where(below, f_eps, f), "authors": np.where(below, f * q_eps / q, f), "exact": f}


_RULE_STYLES = {"hold": ("C2", "-"), "authors": ("C1", "--"), "exact": ("C4", ":")}


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


# Notebook 02 (the SDEs, importance sampling of t, the multi-time score network, denoising score matching).


def plot_sde_schedules(sdes: dict, n_points: int = 400) -> plt.Figure:
    """Notebook 02: alpha_t, sigma_t, g(t)^2 and the signal-to-noise ratio alpha_t^2 / sigma_t^2 of each SDE
    (``sdes`` maps a label such as "VP" to an SDE)."""
    import torch

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    for k, (name, sde) in enumerate(sdes.items()):
        t = torch.linspace(1e-3, sde.T, n_points, dtype=torch.float64)
        ls = ("-", "--", ":")[k % 3]
        label = _SDE_TITLES.get(name, name)
        axes[0].plot(t, sde.alpha(t), ls=ls, label=label)
        axes[1].plot(t, sde.sigma(t), ls=ls, label=label)
        axes[2].plot(t, sde.g2(t), ls=ls, label=label)
        axes[3].plot(t, torch.exp(-sde.log_nsr(t)), ls=ls, label=label)
    titles = [r"mean coefficient $\alpha_t$", r"noise level $\sigma_t$", r"diffusion coefficient $g(t)^2$",
              r"signal-to-noise ratio $\alpha_t^2/\sigma_t^2$"]  # fmt: skip
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("t")
        ax.grid(True, alpha=0.3)
    for ax in axes[1:]:
        ax.set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_forward_marginals(
    mixture: object, sdes: dict, times: list[float], x0: object, noise: object, n_points: int = 2000
) -> plt.Figure:
    """Notebook 02: samples x_t = alpha_t x_0 + sigma_t eps of a 2-D Gaussian mixture (``minde.gaussian.GaussianMixture``)
    under each SDE (rows) at ``times`` (columns), over contours of the exact diffused density rho_t."""
    import torch

    x0 = torch.as_tensor(x0, dtype=torch.float64)[:n_points]
    noise = torch.as_tensor(noise, dtype=torch.float64)[:n_points]
    fig, axes = plt.subplots(len(sdes), len(times), figsize=(3.0 * len(times), 3.1 * len(sdes)), squeeze=False)
    cov = mixture.covariance()
    for i, (name, sde) in enumerate(sdes.items()):
        for j, t in enumerate(times):
            ax = axes[i, j]
            tt = torch.tensor(float(t), dtype=torch.float64)
            a, s = float(sde.alpha(tt)), float(sde.sigma(tt))
            xt = (a * x0 + s * noise).numpy()
            center = a * mixture.mean()
            half = 3.2 * np.sqrt(np.linalg.eigvalsh(a**2 * cov + s**2 * np.eye(2)).max())
            g1 = np.linspace(center[0] - half, center[0] + half, 120)
            g2 = np.linspace(center[1] - half, center[1] + half, 120)
            xx, yy = np.meshgrid(g1, g2)
            dens = mixture.log_prob(np.c_[xx.ravel(), yy.ravel()], a, s).exp().numpy().reshape(xx.shape)
            ax.scatter(xt[:, 0], xt[:, 1], s=1.5, alpha=0.25, color="gray", rasterized=True)
            ax.contour(xx, yy, dens, levels=6, cmap="viridis", linewidths=1.0)
            ax.set_xlim(g1[0], g1[-1])
            ax.set_ylim(g2[0], g2[-1])
            ax.set_aspect("equal")
            ax.tick_params(labelsize=7)
            schedule = rf"$\alpha_t$ = {a:.2f}, $\sigma_t$ = {s:.2f}"
            ax.set_title(f"{_SDE_TITLES.get(name, name)}, t = {t:g}\n{schedule}", fontsize=9)
            if j == 0:
                ax.set_ylabel("y")
            if i == len(sdes) - 1:
                ax.set_xlabel("x")
    fig.tight_layout()
    return fig


def plot_importance_density(sdes: dict, draws: dict, n_bins: int = 60) -> plt.Figure:
    """Notebook 02: histogram of times drawn by ``SDE.sample_time(importance_sampling=True)`` (``draws[label]``)
    against the importance density q(t) ∝ g(t)^2 / sigma_t^2, and the uniform density, on log axes."""
    import torch

    fig, axes = plt.subplots(1, len(sdes), figsize=(5.2 * len(sdes), 3.8), squeeze=False)
    for j, (name, sde) in enumerate(sdes.items()):
        ax = axes[0, j]
        t = np.asarray(draws[name]).reshape(-1)
        bins = np.geomspace(1e-4, sde.T, n_bins)
        ax.hist(t, bins=bins, density=True, color="C0", alpha=0.45, label=f"{len(t):,} draws (histogram)")
        grid = torch.as_tensor(np.geomspace(1e-4, sde.T, 400))
        ax.plot(grid, sde.importance_density(grid), color="C3", lw=1.6, label=r"$q(t) = g^2 / (Z\sigma_t^2)$")
        ax.axhline(1.0 / sde.T, color="black", ls=":", lw=1, label="uniform density")
        ax.axvline(sde.t_eps, color="gray", ls="--", lw=0.8, label=rf"$t_\epsilon$ = {sde.t_eps:g} (q constant below)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("t (log scale)")
        ax.set_ylabel("density")
        ax.set_title(f"{_SDE_TITLES.get(name, name)}: Z = {sde.importance_normaliser:.4f}", fontsize=10)
        ax.legend(fontsize=7.5)
    fig.tight_layout()
    return fig


def plot_training_loss(steps: object, losses: object, floor: float | None = None) -> plt.Figure:
    """Notebook 02: the denoising score-matching loss during training (mean over each logging window), with
    the loss of the exact score (``floor``, the irreducible part) when given."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot(steps, losses, color="C0", label="training loss (window mean)")
    if floor is not None:
        ax.axhline(floor, color="black", ls=":", label=f"loss of the exact score: {floor:.3f}")
    ax.set_xlabel("Adam step")
    ax.set_ylabel("weighted noise-prediction MSE")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_score_fields(mixture: object, sde: object, learned_score: object, times: list[float], n_arrows: int = 21) -> plt.Figure:
    """Notebook 02: the joint score of the diffused mixture at ``times`` (rows): exact (left), learned (middle),
    both in noise units sigma_t * s_t (= minus the predicted noise, O(1) at every t), over density contours; and
    the error sigma_t |s_learned - s_exact| (right).  ``learned_score(z_t, t)`` returns the network's score."""
    import torch

    fig, axes = plt.subplots(len(times), 3, figsize=(12.5, 3.9 * len(times)), squeeze=False)
    cov = mixture.covariance()
    for i, t in enumerate(times):
        tt = torch.tensor(float(t), dtype=torch.float64)
        a, s = float(sde.alpha(tt)), float(sde.sigma(tt))
        center = a * mixture.mean()
        half = 2.6 * np.sqrt(np.linalg.eigvalsh(a**2 * cov + s**2 * np.eye(2)).max())
        g1 = np.linspace(center[0] - half, center[0] + half, n_arrows)
        g2 = np.linspace(center[1] - half, center[1] + half, n_arrows)
        xx, yy = np.meshgrid(g1, g2)
        z = torch.as_tensor(np.c_[xx.ravel(), yy.ravel()])
        exact = (s * mixture.score(z, a, s)).numpy()
        learned = (s * learned_score(z, float(t))).numpy()
        err = np.linalg.norm(learned - exact, axis=1).reshape(xx.shape)
        f1, f2 = np.linspace(g1[0], g1[-1], 120), np.linspace(g2[0], g2[-1], 120)
        fx, fy = np.meshgrid(f1, f2)
        dens = mixture.log_prob(np.c_[fx.ravel(), fy.ravel()], a, s).exp().numpy().reshape(fx.shape)
        scale = np.percentile(np.linalg.norm(exact, axis=1), 90) * n_arrows * 0.9
        for j, (field, title) in enumerate(((exact, "exact"), (learned, "learned"))):
            ax = axes[i, j]
            ax.contour(fx, fy, dens, levels=6, cmap="viridis", linewidths=0.8, alpha=0.7)
            ax.quiver(xx, yy, field[:, 0].reshape(xx.shape), field[:, 1].reshape(xx.shape), angles="xy", scale_units="width",
                      scale=scale, width=0.004, color="C0" if j == 0 else "C3")  # fmt: skip
            ax.set_title(rf"{title} $\sigma_t\, s_t(x, y)$, t = {t:g} ($\sigma_t$ = {s:.2f})", fontsize=9.5)
        ax = axes[i, 2]
        im = ax.pcolormesh(xx, yy, err, shading="gouraud", cmap="magma_r", vmin=0)
        ax.contour(fx, fy, dens, levels=6, colors="white", linewidths=0.6, alpha=0.8)
        fig.colorbar(im, ax=ax, shrink=0.85)
        ax.set_title(r"error $\sigma_t\,\|s_{learned} - s_{exact}\|$", fontsize=9.5)
        for ax in axes[i]:
            ax.set_aspect("equal")
            ax.set_xlim(g1[0], g1[-1])
            ax.set_ylim(g2[0], g2[-1])
            ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def plot_conditional_scores(curves: dict, times: list[float], y_values: list[float]) -> plt.Figure:
    """Notebook 02: the conditional score s_{X|Y}(x_t | y) in noise units against x_t, for a few clean y
    (colours) at ``times`` (panels), exact (solid) and learned with the CLEAN role for Y (dashed), over the
    conditional densities rho_t(x_t | y) (shaded, right axis): where they vanish, no training data constrain the
    network.  ``curves[(t, y)] = (x_t, exact, learned, density)`` as arrays."""
    fig, axes = plt.subplots(1, len(times), figsize=(4.8 * len(times), 3.8), squeeze=False, sharey=True)
    for j, t in enumerate(times):
        ax = axes[0, j]
        twin = ax.twinx()
        for k, y in enumerate(y_values):
            x, exact, learned, density = curves[(t, y)]
            twin.fill_between(x, density, color=f"C{k}", alpha=0.12, lw=0)
            ax.plot(x, exact, color=f"C{k}", lw=1.6, label=f"y = {y:g}, exact")
            ax.plot(x, learned, color=f"C{k}", lw=1.6, ls="--", label=f"y = {y:g}, learned")
        twin.set_ylim(0, None)
        twin.set_yticks([])
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.axhline(0, color="black", lw=0.5)
        ax.set_xlabel(r"$x_t$")
        ax.set_title(rf"t = {t:g}   (shaded: $\rho_t(x_t \mid y)$)", fontsize=10)
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_ylabel(r"$\sigma_t\, s_{X|Y}(x_t \mid y)$")
    axes[0, -1].legend(fontsize=7.5, ncol=1)
    fig.tight_layout()
    return fig


# Notebooks 03-04 (training MINDE-C and MINDE-J; estimates during training, time profiles, sigma, entropies).


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


# --- paper figures (notebooks 05-09) ---------------------------------------------------------------


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
    solved / covered tasks ("name [experiment]" is split over two lines).  ``per_task_df``: ``minde.results.per_task``
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
    long DataFrame with a group column first, then estimator, solved, covered (``minde.results.family_counts``).
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
    ±max(0.1 nats, 10%) around it (``minde.results.tracking_limit``)."""
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
    schedule), one panel per task, one line per form.  ``table``: rows with columns task, form, steps, error."""
    df = table
    fs = list(forms) if forms is not None else list(dict.fromkeys(df["form"]))
    tasks = list(dict.fromkeys(df["task"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False, sharey=True)
    for ax, task in zip(axes[0], tasks, strict=True):
        ax.axhline(0.1, color="0.5", ls="--", lw=1, label="0.1 nats")
        for form in fs:
            sel = df[(df["task"] == task) & (df["form"] == form)].sort_values("steps")
            ax.plot(sel["steps"], sel["error"].abs(), "o-" if "(sigma)" not in form else "o--", ms=4,
                    color=COLORS.get(form, "gray"), label=form, mfc="white" if "(sigma)" in form else None)  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("Adam steps (batch 256)")
        ax.set_title(task, fontsize=9)
        ax.grid(alpha=0.3, which="both")
    axes[0, 0].set_ylabel("|mean estimate − GT| (nats)")
    axes[0, -1].legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def plot_sigma_ablation(sweeps: object, highlight: list[str] | None = None) -> plt.Figure:
    """Notebook 08: the sigma-form error against the reference std s over many trained models.  Left: median over
    tasks of |estimate - GT| per form (band: inter-quartile range); right: signed error per task for ``highlight``
    tasks.  ``sweeps``: ``minde.results.load_sigma_sweeps`` rows (task, form, sigma, error)."""
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
    :func:`minde.results.intervals` (task, estimator, mean, gt, half_width, covers)."""
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


def plot_paired_errors(table: object, settings: list[str], forms: list[str] | None = None) -> plt.Figure:
    """Notebook 09: signed error (mean estimate - GT, nats) of every task under two settings (e.g. the default network
    and a deeper one), joined per task by a segment so that each task's change is read at a glance; one panel per
    form, the tasks along the x axis, the grey band is ±0.1 nats.  ``table``: rows (task, form, setting) with column
    ``error``; the legend counts the tasks within 0.1 nats under each setting."""
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
        ax.vlines(x, np.fmin(*errs), np.fmax(*errs), color="0.6", lw=1)
        for err, setting, style in zip(errs, settings, (dict(mfc="white"), dict()), strict=True):
            solved = int((np.abs(err) < 0.1).sum())
            ax.plot(x, err, "o", ms=4.5, color=COLORS.get(form, "gray"), ls="none",
                    label=f"{setting}: {solved} of {int(np.isfinite(err).sum())} within 0.1", **style)  # fmt: skip
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
