"""The reproduction harness: what runs, records and reports the paper's experiments (the method is one level up).

* :mod:`~minde.experiments.runner`: the resumable, claim-based engine under every grid (atomic results, claims shared
  by several runners, no orphan workers);
* :mod:`~minde.experiments.grid`: the benchmark grid (tasks x estimators x seeds x settings), its protocols and its
  command line, ``python -m minde.experiments``;
* :mod:`~minde.experiments.results`: reading a grid's results (per-task means, counts, intervals, calibration);
* :mod:`~minde.experiments.consistency`, :mod:`~minde.experiments.mnist`, :mod:`~minde.experiments.autoencoder`: the
  MNIST self-consistency tests of Figure 2 (``python -m minde.consistency``), the shipped digits and the shared
  autoencoder;
* :mod:`~minde.experiments.report`: the README's and docs/paper.md's blocks generated from data (``python -m
  minde.report``);
* :mod:`~minde.experiments.notebooks`: the notebooks' papermill runner (``python -m minde.notebooks``) and the
  ``check`` helpers of their prose.

Before this package existed, ``minde.experiments`` was the benchmark grid's module: its names (``make_grid``,
``run_grid``, ``DEFAULT_RESULTS``, ...) are still found here, with a ``DeprecationWarning``; import them from
:mod:`minde.experiments.grid`.
"""

from .._deprecated import forward

#: Names of the former module ``minde.experiments``, now in ``minde.experiments.grid`` (found there, with a warning).
_GRID_NAMES = (
    "PROTOCOLS", "Protocol", "Cell", "ESTIMATORS", "SIGMA_SWEEP", "OTHER_SMALL_T", "TASK_SETS", "DEFAULT_RESULTS",
    "DEFAULT_MODELS", "SUMMARY_COLUMNS", "task_set", "accepted_settings", "parse_seeds", "run_cell", "run_cells",
    "units_for", "run_grid", "make_grid", "summarize", "reevaluate", "load_results", "write_json_atomic", "models_dir",
    "cells_of", "load_model", "main",
)  # fmt: skip
__getattr__ = forward(__name__, dict.fromkeys(_GRID_NAMES, "minde.experiments.grid"),
                      " (as did every name of the former module minde.experiments)")  # fmt: skip
