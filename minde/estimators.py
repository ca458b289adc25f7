"""Deprecated alias of :mod:`minde.forms` (the MI and entropy forms as pure functions of score values).

``import minde.estimators`` warns once and re-exports :mod:`minde.forms`; import ``minde.forms`` instead.
"""

import warnings

from .forms import *  # noqa: F403
from .forms import __all__  # noqa: F401

warnings.warn("minde.estimators is deprecated: import minde.forms (the same functions)", DeprecationWarning, stacklevel=2)
