"""Figures of notebook 02: the SDEs, importance sampling of t, the multi-time score network and denoising score
matching on a 2-D mixture.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .common import _SDE_TITLES

__all__ = [
    "plot_sde_schedules", "plot_forward_marginals", "plot_importance_density", "plot_training_loss", "plot_score_fields",
    "plot_conditional_scores",
]  # fmt: skip


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
