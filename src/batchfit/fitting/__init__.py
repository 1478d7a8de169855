"""The front doors: minimize (lmfit's objective), Model and CompositeModel,
and scipy's curve_fit."""

from ._composite import CompositeModel
from ._curve_fit import curve_fit
from ._curve_fit_out import OptimizeWarning
from ._minimize import minimize
from ._model import Model

__all__ = ["CompositeModel", "Model", "OptimizeWarning", "curve_fit", "minimize"]
