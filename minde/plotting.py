"""Figures of the companion.  Every figure a notebook shows is drawn by a named function here and saved
to ``figures/`` under a stable name by ``save_figure`` (PNG for viewing, PDF for print).

Sections: common helpers; tutorial figures (notebooks 01-04); paper figures (05-09).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt

__all__ = ["figures_dir", "save_figure", "COLORS"]

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


def figures_dir() -> Path:
    """Where figures go: $MINDE_FIGURES, else the repository's ``figures/`` (found from this package),
    else ``./figures``."""
    env = os.environ.get("MINDE_FIGURES")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[1] / "figures"
    return repo if repo.is_dir() else Path("figures")


def save_figure(fig: plt.Figure, name: str, formats: tuple[str, ...] = ("png", "pdf")) -> list[Path]:
    """Save ``fig`` as figures/<name>.<fmt> for each format (written atomically) and return the paths."""
    out = figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out / f"{name}.{fmt}"
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight", metadata={"CreationDate": None} if fmt == "pdf" else None)
        os.replace(tmp, path)
        paths.append(path)
    return paths


# --- tutorial figures (notebooks 01-04) ------------------------------------------------------------


# --- paper figures (notebooks 05-09) ---------------------------------------------------------------
