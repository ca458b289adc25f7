"""Deprecated alias of :mod:`minde.experiments.results` (tables, counts, intervals and calibration of a grid's results).

``from minde.results import intervals`` still works and warns once; import from ``minde.experiments.results`` (or,
for the intervals over seeds, ``minde.intervals``).
"""

from ._deprecated import alias

alias(__name__, "minde.experiments.results")
