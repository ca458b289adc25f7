"""``python -m minde.consistency``: the command line of :mod:`minde.experiments.consistency`,
the MNIST self-consistency tests of Figure 2.

The command is unchanged and stays as documented.  Importing ``minde.consistency`` is deprecated: it warns once and gives
the names of :mod:`minde.experiments.consistency`; import that instead.
"""

import sys

if __name__ == "__main__":
    from minde.experiments.consistency import main

    sys.exit(main())

from ._deprecated import alias  # noqa: E402

alias(__name__, "minde.experiments.consistency", " (the command python -m minde.consistency is unchanged)")
