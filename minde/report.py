"""``python -m minde.report``: the command line of :mod:`minde.experiments.report`,
the README's and docs/paper.md's blocks generated from data.

The command is unchanged and stays as documented.  Importing ``minde.report`` is deprecated: it warns once and gives
the names of :mod:`minde.experiments.report`; import that instead.
"""

import sys

if __name__ == "__main__":
    from minde.experiments.report import main

    sys.exit(main())

from ._deprecated import alias  # noqa: E402

alias(__name__, "minde.experiments.report", " (the command python -m minde.report is unchanged)")
