"""The benchmark MINDE is measured on: the 40 "Beyond Normal" tasks and the baselines of the paper's table.

* :mod:`minde.benchmark.samplers`: joint distributions of (X, Y) with closed-form MI (multinormal, Student t, ...);
* :mod:`minde.benchmark.transforms`: MI-preserving maps of each variable (normal CDF, half-cube, spiral, ...);
* :mod:`minde.benchmark.tasks`: the named tasks, their registry (``get_task``, ``list_tasks``) and Figure 1's grid;
* :mod:`minde.benchmark.baselines`: MINE, InfoNCE, NWJ, DV (``variational``), DoE (``doe``), KSG (``knn``) and CCA
  (``gaussian``), with the ``fit(x, y).estimate()`` interface of ``MINDE``.

Nothing here depends on the estimator: the benchmark can be read, and run against other estimators, on its own.
"""
