"""Deprecated alias of :mod:`minde.benchmark.baselines` (MINE, InfoNCE, NWJ, DV, DoE, KSG, CCA and ``BASELINES``).

``from minde.baselines import InfoNCE`` still works and warns once; import from ``minde.benchmark.baselines``.
"""

from ._deprecated import alias

alias(__name__, "minde.benchmark.baselines")
