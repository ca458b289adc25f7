"""Deprecated alias of :mod:`minde.benchmark.baselines` (MINE, InfoNCE, NWJ, DV, DoE, KSG, CCA and ``BASELINES``).

``from minde.baselines import InfoNCE`` still works and warns once; import from ``minde.benchmark.baselines``.
"""

import warnings

from .benchmark.baselines import *  # noqa: F403
from .benchmark.baselines import __all__  # noqa: F401

warnings.warn("minde.baselines is deprecated: import minde.benchmark.baselines (the same estimators)", DeprecationWarning,
              stacklevel=2)  # fmt: skip
