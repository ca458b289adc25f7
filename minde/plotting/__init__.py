"""Figures of the companion, one module per part of the story.  Every figure a notebook shows is drawn by a named
function and saved to ``figures/`` under a stable name by :func:`save_figure` (``figures/README.md`` lists them).

* :mod:`~minde.plotting.common`: colours, the small-t rules' styles, ``figures_dir``, ``save_figure``, ``save_table``
  (re-exported here);
* :mod:`~minde.plotting.girsanov`: notebook 01, the KL identity with exact Gaussian scores;
* :mod:`~minde.plotting.diffusion`: notebook 02, the SDEs and the multi-time score network;
* :mod:`~minde.plotting.learned`: notebooks 03-04, MINDE-C and MINDE-J trained;
* :mod:`~minde.plotting.benchmark`: notebooks 05-06, the benchmark table and Figure 1;
* :mod:`~minde.plotting.consistency`: notebook 07, the MNIST self-consistency tests (Figure 2);
* :mod:`~minde.plotting.ablations`: notebooks 08-09, the ablations and beyond the paper.

Before this package existed, ``minde.plotting`` was one module: ``minde.plotting.plot_<figure>`` is still found here,
with a ``DeprecationWarning``; import it from its module instead.
"""

from .._deprecated import forward
from .common import COLORS, figures_dir, save_figure, save_table

__all__ = ["figures_dir", "save_figure", "save_table", "COLORS"]

#: Where each figure function of the former module ``minde.plotting`` is now.
_MOVED = {
    name: f"minde.plotting.{module}"
    for module, names in {
        "girsanov": ("plot_diffused_gaussians", "plot_horizon", "plot_time_integrands", "plot_time_points",
            "plot_importance_sampling", "plot_girsanov_paths", "plot_log_snr_integrands", "plot_small_t_rules"),
        "diffusion": ("plot_sde_schedules", "plot_forward_marginals", "plot_importance_density", "plot_training_loss",
            "plot_score_fields", "plot_conditional_scores"),
        "learned": ("plot_pair_samples", "plot_mi_during_training", "plot_learned_time_profile", "plot_sigma_sweep",
            "plot_entropies", "plot_variant_comparison", "plot_learned_small_t", "plot_entropy_bias"),
        "benchmark": ("plot_benchmark_table", "plot_family_counts", "plot_growing_mi"),
        "ablations": ("plot_setting_errors", "plot_training_length", "plot_sigma_ablation", "plot_intervals",
            "plot_paired_errors", "plot_marginal_transforms"),
    }.items()
    for name in names
}

__getattr__ = forward(__name__, _MOVED, " (every figure function has a module of its own now: minde.plotting.girsanov, "
                      "diffusion, learned, benchmark, ablations)")  # fmt: skip
