"""``python -m minde.consistency``: the command line of :mod:`minde.experiments.consistency`,
the MNIST self-consistency tests of Figure 2.

The command is unchanged and stays as documented.  Importing ``minde.consistency`` is deprecated: it warns once and
re-exports :mod:`minde.experiments.consistency`; import that instead.
"""

import sys
import warnings

if __name__ == "__main__":
    from minde.experiments.consistency import main

    sys.exit(main())

from .experiments.consistency import *  # noqa: E402, F403
from .experiments.consistency import __all__  # noqa: E402, F401

warnings.warn("minde.consistency is deprecated: import minde.experiments.consistency (the command is unchanged)",
              DeprecationWarning, stacklevel=2)  # fmt: skip


def __getattr__(name: str) -> object:  # the figures, moved to minde.plotting.consistency
    from .experiments import consistency

    return getattr(consistency, name)
