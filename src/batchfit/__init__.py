"""batchfit: batched nonlinear least squares on CPU and GPU, lmfit-style.

Fit one dataset, a million independent datasets, or parameters tied across
datasets in one call. Models are plain JAX functions; autodiff gives exact
Jacobians; a vmapped Levenberg-Marquardt step advances every fit at once.
"""

from . import _cache as _cache  # persistent compilation cache policy
from . import confidence as confidence  # lmfit's module names
from . import data as data
from . import distributed as distributed
from . import models as models
from . import parameter as parameter  # lmfit's module names
from ._version import __version__
from .engine._chunked import CheckpointError
from .fitting._curve_fit import curve_fit
from .fitting._curve_fit_out import OptimizeWarning
from .fitting._minimize import minimize
from .fitting._minimizer import Minimizer
from .fitting._model import Model
from .groups._result import GroupFitResult
from .inference import MinimizerException, ci_report, conf_interval, conf_interval2d
from .params import ExprError, Parameter, Parameters, create_params
from .problem._compat import PrecisionWarning
from .report._text import fit_report, report_fit
from .results._load import load_result
from .results._result import FitResult
from .solver import RESULTS, LMConfig
from .solver._optax import ScalarConfig

__all__ = [
    "CheckpointError",
    "ExprError",
    "FitResult",
    "GroupFitResult",
    "LMConfig",
    "MinimizerException",
    "Minimizer",
    "Model",
    "OptimizeWarning",
    "Parameter",
    "Parameters",
    "PrecisionWarning",
    "RESULTS",
    "ScalarConfig",
    "ci_report",
    "conf_interval",
    "conf_interval2d",
    "create_params",
    "curve_fit",
    "fit_report",
    "load_result",
    "minimize",
    "report_fit",
    "__version__",
]
