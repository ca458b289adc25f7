"""Figures of notebook 07: the MNIST self-consistency tests (Figure 2) and example digits with their reconstructions.

Drawn from the tables of :mod:`minde.experiments.consistency` (``curves``) and the shared autoencoder of
:mod:`minde.experiments.autoencoder`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..experiments.autoencoder import HEIGHT, Autoencoder, encode
from ..experiments.consistency import BANDS, ROWS, TARGETS, TESTS, K
from ..experiments.mnist import top_rows

__all__ = ["plot_consistency", "plot_examples", "YLIMS"]

_PANEL_TITLES = {"a": "(a) baseline  I(A; B_r) / I(A; A)", "b": f"(b) data processing  k = {K}",
                 "c": "(c) additivity"}  # fmt: skip
_YLABELS = {"a": "I(A; B_r) / I(A; A)", "b": "I(A; [B_{r+k}, B_r]) / I(A; B_{r+k})", "c": "I([A1,A2]; [B1_r,B2_r]) / I(A1; B1_r)"}


#: y-range of each panel; means outside it are drawn on its edge with a triangle pointing out.
YLIMS = {"a": (-0.1, 1.5), "b": (0.0, 2.5), "c": (0.0, 3.0)}


def plot_consistency(curve_table, estimators: Sequence[str] | None = None, ylims: dict | None = YLIMS):
    """Three panels (tests a, b, c): the mean ratio over seeds vs r per estimator, shaded ± one s.d. over seeds
    (± the propagated Monte-Carlo standard error with a single seed), targets dotted, pass bands grey.  With
    ``ylims`` ({test: (low, high)}, None for matplotlib's choice) means outside the range are drawn on its edge as
    triangles pointing out of it."""
    import matplotlib.pyplot as plt

    names = list(estimators) if estimators is not None else list(dict.fromkeys(curve_table["estimator"]))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, test in zip(axes, TESTS, strict=True):
        for i, name in enumerate(names):
            g = curve_table[(curve_table["test"] == test) & (curve_table["estimator"] == name)].sort_values("r")
            if g.empty:
                continue
            c = colors[i % len(colors)]
            ls = "--" if name.endswith("(sigma)") else "-"
            r, m = g["r"].to_numpy(), g["mean"].to_numpy()
            spread = np.where(g["seeds"] > 1, g["sd"], g["se"])
            lo, hi = ylims[test] if ylims and test in ylims else (-np.inf, np.inf)
            shown = np.clip(m, lo, hi)
            ax.plot(r, shown, ls, color=c, label=name)
            inside = (m >= lo) & (m <= hi)
            ax.plot(r[inside], m[inside], "o", ms=4, color=c)
            ax.plot(r[m > hi], shown[m > hi], "^", ms=7, color=c)
            ax.plot(r[m < lo], shown[m < lo], "v", ms=7, color=c)
            ax.fill_between(r, np.clip(m - spread, lo, hi), np.clip(m + spread, lo, hi), color=c, alpha=0.15, lw=0)
        target = TARGETS[test]
        ax.axhline(target, color="k", lw=0.8, ls=":")
        if test != "a":
            band = BANDS[test]
            ax.axhspan(target - band, target + band, color="k", alpha=0.06, lw=0)
        ax.set_xlabel("r (rows kept)")
        ax.set_ylabel(_YLABELS[test])
        ax.set_title(_PANEL_TITLES[test])
        ax.set_xlim(0, HEIGHT)
        if ylims and test in ylims:
            ax.set_ylim(*ylims[test])
    axes[0].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_examples(images: np.ndarray, rows: Sequence[int] = ROWS, model: Autoencoder | None = None):
    """Example digits: A and its B_r for each r (one row per digit); with ``model``, a second row per digit shows
    the autoencoder's reconstruction of each B_r."""
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype=np.float32)
    per = 2 if model is not None else 1
    fig, axes = plt.subplots(per * len(images), len(rows), figsize=(1.1 * len(rows), 1.2 * per * len(images)), squeeze=False)
    for i, img in enumerate(images):
        for j, r in enumerate(rows):
            b = top_rows(img, int(r))
            ax = axes[per * i, j]
            ax.imshow(b, cmap="gray_r", vmin=0, vmax=1)
            if 0 < r < HEIGHT:
                ax.axhline(r - 0.5, color="tab:red", lw=0.8)
            if i == 0:
                ax.set_title("A = B_28" if r == HEIGHT else f"B_{r}", fontsize=9)
            if model is not None:
                z = encode(model, img[None], int(r))
                rec = torch.sigmoid(model.decoder(torch.from_numpy(z))).numpy().reshape(HEIGHT, 28)
                axes[per * i + 1, j].imshow(rec, cmap="gray_r", vmin=0, vmax=1)
        if model is not None:
            axes[per * i, 0].set_ylabel("input", fontsize=8)
            axes[per * i + 1, 0].set_ylabel("decoded", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
