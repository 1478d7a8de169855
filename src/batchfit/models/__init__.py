"""Built-in models with lmfit's names, vectorised guesses, and composites.

``GaussianModel(prefix="g1_") + GaussianModel(prefix="g2_") + ConstantModel()``
is a :class:`CompositeModel`; ``model.guess(data, x=x)`` gives per-dataset
starts ((N,) arrays) for data of shape (N, m). ``MODELS`` maps lowercase
names to classes; :func:`get_model` builds one by name. The model functions
are in :mod:`batchfit.models.lineshapes`.
"""

from ..fitting._composite import CompositeModel as CompositeModel
from . import lineshapes as lineshapes
from ._basic import AntoineModel as AntoineModel
from ._basic import ConstantModel as ConstantModel
from ._basic import DoubleExponentialModel as DoubleExponentialModel
from ._basic import ExponentialModel as ExponentialModel
from ._basic import LinearModel as LinearModel
from ._basic import PolynomialModel as PolynomialModel
from ._basic import PowerLawModel as PowerLawModel
from ._basic import SineModel as SineModel
from ._basic import StepModel as StepModel
from ._peaks import Gaussian2dModel as Gaussian2dModel
from ._peaks import GaussianModel as GaussianModel
from ._peaks import LorentzianModel as LorentzianModel
from ._peaks import PseudoVoigtModel as PseudoVoigtModel
from ._peaks import VoigtModel as VoigtModel
from ._registry import MODELS as MODELS
from ._registry import get_model as get_model

__all__ = [
    "MODELS", "AntoineModel", "CompositeModel", "ConstantModel", "DoubleExponentialModel",
    "ExponentialModel", "Gaussian2dModel", "GaussianModel", "LinearModel", "LorentzianModel",
    "PolynomialModel", "PowerLawModel", "PseudoVoigtModel", "SineModel", "StepModel",
    "VoigtModel", "get_model", "lineshapes",
]
