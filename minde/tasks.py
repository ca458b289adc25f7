"""Deprecated alias of :mod:`minde.benchmark.tasks` (with its samplers and transforms).

``from minde.tasks import get_task, list_tasks`` still works and warns once; import from ``minde.benchmark.tasks``
(tasks, registry, Figure 1), ``minde.benchmark.samplers`` and ``minde.benchmark.transforms`` instead.
"""

import warnings

from .benchmark.samplers import *  # noqa: F403
from .benchmark.samplers import __all__ as _samplers
from .benchmark.tasks import *  # noqa: F403
from .benchmark.tasks import __all__ as _tasks
from .benchmark.transforms import *  # noqa: F403
from .benchmark.transforms import __all__ as _transforms

__all__ = [*_samplers, *_transforms, *_tasks]

warnings.warn("minde.tasks is deprecated: import minde.benchmark.tasks (tasks and registry), minde.benchmark.samplers "
              "or minde.benchmark.transforms", DeprecationWarning, stacklevel=2)  # fmt: skip
