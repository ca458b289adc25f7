"""Deprecated alias of :mod:`minde.forms` (the MI and entropy forms as pure functions of score values).

``import minde.estimators`` warns once and re-exports :mod:`minde.forms`; import ``minde.forms`` instead.
"""

from ._deprecated import alias

alias(__name__, "minde.forms")
