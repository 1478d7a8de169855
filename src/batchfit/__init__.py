"""batchfit: batched nonlinear least squares on CPU and GPU, lmfit-style.

Fit one dataset, a million independent datasets, or parameters tied across
datasets in one call. Models are plain JAX functions; autodiff gives exact
Jacobians; a vmapped Levenberg-Marquardt step advances every fit at once.
"""

from ._chunked import CheckpointError
from ._curve_fit import OptimizeWarning, curve_fit
from ._export import load_result
from ._fit import minimize
from ._group_result import GroupFitResult
from ._model import Model
from ._result import FitResult
from .params import ExprError, Parameter, Parameters, create_params
from .report import fit_report
from .solver import RESULTS, LMConfig
from . import data as data
from . import models as models

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "ExprError",
    "FitResult",
    "GroupFitResult",
    "LMConfig",
    "Model",
    "OptimizeWarning",
    "Parameter",
    "Parameters",
    "RESULTS",
    "create_params",
    "curve_fit",
    "fit_report",
    "load_result",
    "minimize",
    "__version__",
]
