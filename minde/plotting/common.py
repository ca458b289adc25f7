"""What every figure shares: one colour per estimator, the small-t rules' styles, and where figures are saved.

``save_figure`` writes a figure to ``figures/`` under a stable name (PNG for viewing, PDF for print); a notebook run
with parameters other than its defaults saves it to its run folder instead (``figures_dir``).
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
    (``minde.experiments.notebooks.kernel_run_folder``), so that only the defaults update the committed ``figures/``; else
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


#: The titles of the two SDEs, shared by notebooks 01 and 02.
_SDE_TITLES = {"VP": "VP-SDE", "VE": "VE-SDE"}


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
