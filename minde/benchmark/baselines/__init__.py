"""Baseline mutual-information estimators of the paper's benchmark table, with the ``MINDE`` interface.

    >>> from minde.benchmark.baselines import InfoNCE, KSG, CCA
    >>> InfoNCE().fit(x, y).estimate()            # MI in nats; x: (n, dx), y: (n, dy), numpy or torch
    >>> KSG(k=(5, 10)).fit(x, y).estimate()

Every estimator standardises each column of x and y (MI is invariant to it), takes numpy or torch input
of shape (n, d) or (n,), validates it with ``minde.validation.check_pair`` (``ValueError`` for shape
mismatch, NaN/inf, too few samples), and is deterministic given ``seed``.

Table names (``BASELINES`` maps them to classes): ``MINE``, ``InfoNCE``, ``NWJ``, ``DV`` (neural variational
bounds, defaults of the ``benchmark-mi`` package, Czyz et al. 2023), ``DoE`` (difference of entropies,
McAllester & Stratos 2020, as run by the MINDE authors), ``KSG`` (Kraskov et al. 2004, estimator 1) and
``CCA`` (Gaussian closed form).  One module per family: ``variational`` (MINE, InfoNCE, NWJ, DV: one training
loop, one class per bound), ``doe`` (DoE), ``knn`` (KSG) and ``gaussian`` (CCA).

Facts taken from the sources (the code here is written from scratch in PyTorch / numpy / scipy):

- ``benchmark-mi`` (github.com/cbg-ethz/bmi, ``src/bmi/estimators/neural``): joint critic, an MLP with ReLU on
  the concatenation [x, y], hidden (16, 8); Adam lr 0.1; batches of 256 drawn without replacement; at most
  10 000 steps; data standardised, then split 50/50 into train/test; every 250 steps the bound is evaluated on
  the whole test split (all n_test^2 pairs for InfoNCE/NWJ/DV, one random pairing for MINE); training stops
  once two evaluations in a row fail to beat the best one; the best test value is returned. MINE smooths the
  denominator of its gradient with alpha = 0.9 (weight of the running value).
- MINDE authors (github.com/MustaphaBounoua/minde, ``src/baseline/eval_baselines.py``): the same estimators with
  hidden (w, w, 8), w = 32 / 128 / 256 for dim_x <= 10 / <= 50 / larger, lr 1e-3 (2e-3 for the largest),
  200 000 steps, 100k train + 10k test samples (``config="minde"``). Their ``doe.py`` / ``eval_doe.py`` give DoE.
"""

from . import doe, gaussian, knn, variational
from .doe import *  # noqa: F403
from .gaussian import *  # noqa: F403
from .knn import *  # noqa: F403
from .variational import *  # noqa: F403

__all__ = ["BASELINES", *variational.__all__, *doe.__all__, *knn.__all__, *gaussian.__all__]

BASELINES: dict[str, type] = {
    "MINE": variational.MINE, "InfoNCE": variational.InfoNCE, "NWJ": variational.NWJ, "DV": variational.DV,
    "DoE": doe.DoE, "KSG": knn.KSG, "CCA": gaussian.CCA,
}  # fmt: skip
"""Table name -> estimator class (``DoE`` is the Gaussian variant; ``DoE(pdf="logistic")`` the other)."""
