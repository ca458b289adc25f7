"""minde: Mutual Information Neural Diffusion Estimation (Franzese, Bounoua, Michiardi, ICLR 2024).

One module per concept: ``sde`` (VP and VE diffusions), ``score_network`` (the multi-time MLP),
``estimators`` (the four MI forms and entropy as pure functions of scores), ``gaussian`` (closed-form
scores for exact checks), ``training`` (denoising score matching), ``estimator`` (the ``MINDE`` object),
``tasks`` (the 40 Beyond-Normal tasks), ``baselines`` (MINE, InfoNCE, NWJ, DV, DoE, KSG, CCA),
``experiments`` (the resumable runner), ``results`` (tables, counts, intervals and their calibration),
``ensemble`` (MINDE-C and MINDE-J over seeds, averaged, with an interval), ``diagnostics`` (the small-t rules and a
trained model against exact scores, for the tutorials), ``plotting``, ``mnist`` (the shipped digits), ``consistency``
(the MNIST self-consistency tests), ``notebooks``.
"""

from .ensemble import EnsembleResult, MINDEEnsemble
from .estimator import MINDE, MIResult
from .forms import Estimate
from .sde import SDE, VESDE, VPSDE, make_sde

__version__ = "0.2.0"

__all__ = ["MINDE", "MIResult", "MINDEEnsemble", "EnsembleResult", "Estimate", "SDE", "VPSDE", "VESDE", "make_sde", "__version__"]
