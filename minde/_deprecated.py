"""The deprecated import paths of the former flat layout, in one place.

* :func:`alias`: a module that moved (``minde.tasks`` -> ``minde.benchmark.tasks``) keeps a file at its old path
  that calls ``alias`` when imported: the old module then holds the new one's public names (and finds any other
  attribute there), and the import warns once;
* :func:`forward`: a module ``__getattr__`` for the names that moved out of a module that stayed (``minde.estimator``'s
  tutorial helpers, the former ``minde.experiments`` and ``minde.plotting`` modules' names): each is found in its new
  module and kept, and the first one looked up warns once.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence

__all__ = ["alias", "forward"]


def alias(name: str, targets: str | Sequence[str], note: str = "") -> None:
    """Make module ``name`` an alias of the module(s) ``targets``: their ``__all__`` becomes its own, any other
    attribute is looked up in them (the first that has it), and the import warns once (``note`` is added to the
    message).  Called from the body of the module at the old path."""
    targets = [targets] if isinstance(targets, str) else list(targets)
    module, moved = sys.modules[name], [importlib.import_module(t) for t in targets]
    public = [key for m in moved for key in getattr(m, "__all__", ())]
    for key in public:
        setattr(module, key, getattr(next(m for m in moved if key in getattr(m, "__all__", ())), key))
    module.__all__ = public

    def __getattr__(attr: str) -> object:
        for m in moved:
            if hasattr(m, attr):
                return getattr(m, attr)
        raise AttributeError(f"module {name!r} has no attribute {attr!r}")

    module.__getattr__ = __getattr__
    where = " or ".join(targets)
    warnings.warn(f"{name} is deprecated: import {where}{note}", DeprecationWarning, stacklevel=3)


def forward(name: str, moved: Mapping[str, str], note: str = "") -> Callable[[str], object]:
    """A module ``__getattr__`` for module ``name``: each name of ``moved`` is found in the module ``moved[name]``
    (imported then), kept in ``name``'s namespace, and the first one looked up warns once (``note`` is added)."""
    warned: list[str] = []

    def __getattr__(attr: str) -> object:
        if attr not in moved:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}")
        value = getattr(importlib.import_module(moved[attr]), attr)
        setattr(sys.modules[name], attr, value)
        if not warned:
            warned.append(attr)
            warnings.warn(f"{name}.{attr} moved to {moved[attr]}.{attr}{note}", DeprecationWarning, stacklevel=2)
        return value

    return __getattr__
