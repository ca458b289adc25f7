"""``python -m minde.report``: the command line of :mod:`minde.experiments.report`,
the README's and docs/paper.md's blocks generated from data.

The command is unchanged and stays as documented.  Importing ``minde.report`` is deprecated: it warns once and
re-exports :mod:`minde.experiments.report`; import that instead.
"""

import sys
import warnings

if __name__ == "__main__":
    from minde.experiments.report import main

    sys.exit(main())

from .experiments.report import *  # noqa: E402, F403
from .experiments.report import __all__  # noqa: E402, F401

warnings.warn("minde.report is deprecated: import minde.experiments.report (the command is unchanged)",
              DeprecationWarning, stacklevel=2)  # fmt: skip
