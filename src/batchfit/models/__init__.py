"""Built-in models with lmfit's names, vectorised guesses, and composites.

``GaussianModel(prefix="g1_") + GaussianModel(prefix="g2_") + ConstantModel()``
is a :class:`CompositeModel`; ``model.guess(data, x=x)`` gives per-dataset
starts ((N,) arrays) for data of shape (N, m). ``MODELS`` maps lowercase
names to classes; :func:`get_model` builds one by name. The model functions
are in :mod:`batchfit.models.lineshapes`.
"""

from ..fitting._composite import CompositeModel as CompositeModel
from ..fitting._model import Model as Model
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
from ._complex import ComplexConstantModel as ComplexConstantModel
from ._expression import ExpressionModel as ExpressionModel
from ._others import BoseModel as BoseModel
from ._others import FermiModel as FermiModel
from ._others import ParabolicModel as ParabolicModel
from ._others import QuadraticModel as QuadraticModel
from ._others import RectangleModel as RectangleModel
from ._others import SplineModel as SplineModel
from ._others import ThermalDistributionModel as ThermalDistributionModel
from ._peaks import Gaussian2dModel as Gaussian2dModel
from ._peaks import GaussianModel as GaussianModel
from ._peaks import LorentzianModel as LorentzianModel
from ._peaks import PseudoVoigtModel as PseudoVoigtModel
from ._peaks import VoigtModel as VoigtModel
from ._peaks_more import BreitWignerModel as BreitWignerModel
from ._peaks_more import DampedHarmonicOscillatorModel as DampedHarmonicOscillatorModel
from ._peaks_more import DampedOscillatorModel as DampedOscillatorModel
from ._peaks_more import DoniachModel as DoniachModel
from ._peaks_more import ExponentialGaussianModel as ExponentialGaussianModel
from ._peaks_more import LognormalModel as LognormalModel
from ._peaks_more import MoffatModel as MoffatModel
from ._peaks_more import Pearson4Model as Pearson4Model
from ._peaks_more import Pearson7Model as Pearson7Model
from ._peaks_more import SkewedGaussianModel as SkewedGaussianModel
from ._peaks_more import SkewedVoigtModel as SkewedVoigtModel
from ._peaks_more import SplitLorentzianModel as SplitLorentzianModel
from ._peaks_more import StudentsTModel as StudentsTModel
from ._registry import MODELS as MODELS
from ._registry import get_model as get_model

__all__ = [
    "MODELS",
    "Model",
    "AntoineModel",
    "BoseModel",
    "BreitWignerModel",
    "ComplexConstantModel",
    "CompositeModel",
    "ConstantModel",
    "DampedHarmonicOscillatorModel",
    "DampedOscillatorModel",
    "DoniachModel",
    "DoubleExponentialModel",
    "ExponentialGaussianModel",
    "ExponentialModel",
    "ExpressionModel",
    "FermiModel",
    "Gaussian2dModel",
    "GaussianModel",
    "LinearModel",
    "LognormalModel",
    "LorentzianModel",
    "MoffatModel",
    "ParabolicModel",
    "Pearson4Model",
    "Pearson7Model",
    "PolynomialModel",
    "PowerLawModel",
    "PseudoVoigtModel",
    "QuadraticModel",
    "RectangleModel",
    "SineModel",
    "SkewedGaussianModel",
    "SkewedVoigtModel",
    "SplineModel",
    "SplitLorentzianModel",
    "StepModel",
    "StudentsTModel",
    "ThermalDistributionModel",
    "VoigtModel",
    "get_model",
    "lineshapes",
]
