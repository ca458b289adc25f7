"""``python -m minde.notebooks``: the command line of :mod:`minde.experiments.notebooks`,
the notebooks' papermill runner and the ``check`` helpers of their prose.

The command is unchanged and stays as documented.  Importing ``minde.notebooks`` is deprecated: it warns once and
re-exports :mod:`minde.experiments.notebooks`; import that instead.
"""

import sys
import warnings

if __name__ == "__main__":
    from minde.experiments.notebooks import main

    sys.exit(main())

from .experiments.notebooks import *  # noqa: E402, F403
from .experiments.notebooks import __all__  # noqa: E402, F401

warnings.warn("minde.notebooks is deprecated: import minde.experiments.notebooks (the command is unchanged)",
              DeprecationWarning, stacklevel=2)  # fmt: skip
