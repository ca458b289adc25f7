"""``python -m minde.experiments``: the benchmark grid's command line (:func:`minde.experiments.grid.main`)."""

import sys

from .grid import main

if __name__ == "__main__":
    sys.exit(main())
