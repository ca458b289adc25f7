"""Deprecated alias of :mod:`minde.benchmark.tasks` (with its samplers and transforms).

``from minde.tasks import get_task, list_tasks`` still works and warns once; import from ``minde.benchmark.tasks``
(tasks, registry, Figure 1), ``minde.benchmark.samplers`` and ``minde.benchmark.transforms`` instead.
"""

from ._deprecated import alias

alias(__name__, ["minde.benchmark.tasks", "minde.benchmark.samplers", "minde.benchmark.transforms"])
