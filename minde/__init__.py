"""minde: Mutual Information Neural Diffusion Estimation (Franzese, Bounoua, Michiardi, ICLR 2024).

The method, one module per concept: ``sde`` (VP and VE diffusions, the time integral), ``score_network`` (the
multi-time network), ``forms`` (the four MI forms and the entropy as pure functions of scores), ``training``
(denoising score matching), ``estimator`` (the ``MINDE`` object), ``persistence`` (its checkpoints), ``ensemble``
(MINDE-C and MINDE-J over seeds, averaged, with an interval), ``intervals`` (intervals over seeds and their
calibration), ``validation`` (input checks and preprocessing), ``gaussian`` (closed-form scores for exact checks),
``diagnostics`` (the small-t rules, a trained model against exact scores, tracking and sigma sweeps, for the tutorials).

Around it, in subpackages: ``benchmark`` (the 40 Beyond-Normal tasks and the baselines), ``experiments`` (the
reproduction harness: runner, benchmark grid, results, MNIST self-consistency tests, generated reports, notebook
runner) and ``plotting`` (one module per part of the story).
"""

from .ensemble import EnsembleResult, MINDEEnsemble
from .estimator import MINDE, MIResult
from .forms import Estimate
from .sde import SDE, VESDE, VPSDE, make_sde

__version__ = "0.2.2"

__all__ = ["MINDE", "MIResult", "MINDEEnsemble", "EnsembleResult", "Estimate", "SDE", "VPSDE", "VESDE", "make_sde", "__version__"]
