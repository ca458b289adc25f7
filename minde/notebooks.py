"""``python -m minde.notebooks``: the command line of :mod:`minde.experiments.notebooks`,
the notebooks' papermill runner and the ``check`` helpers of their prose.

The command is unchanged and stays as documented.  Importing ``minde.notebooks`` is deprecated: it warns once and gives
the names of :mod:`minde.experiments.notebooks`; import that instead.
"""

import sys

if __name__ == "__main__":
    from minde.experiments.notebooks import main

    sys.exit(main())

from ._deprecated import alias  # noqa: E402

alias(__name__, "minde.experiments.notebooks", " (the command python -m minde.notebooks is unchanged)")
