"""Deprecated alias of :mod:`minde.experiments.results` (tables, counts, intervals and calibration of a grid's results).

``from minde.results import intervals`` still works and warns once; import from ``minde.experiments.results``.
"""

import warnings

from .experiments.results import *  # noqa: F403
from .experiments.results import __all__  # noqa: F401

warnings.warn("minde.results is deprecated: import minde.experiments.results (the same functions)", DeprecationWarning,
              stacklevel=2)  # fmt: skip
