"""Built-in models by name, for the command line and configuration files.

``SplineModel`` (its knots) and ``ExpressionModel`` (its formula) need
constructor data, so they are not listed.
"""

from __future__ import annotations

from ._basic import (
    AntoineModel,
    ConstantModel,
    DoubleExponentialModel,
    ExponentialModel,
    LinearModel,
    PolynomialModel,
    PowerLawModel,
    SineModel,
    StepModel,
)
from ._others import (
    BoseModel,
    FermiModel,
    QuadraticModel,
    RectangleModel,
    ThermalDistributionModel,
)
from ._peaks import (
    Gaussian2dModel,
    GaussianModel,
    LorentzianModel,
    PseudoVoigtModel,
    VoigtModel,
)
from ._peaks_more import (
    BreitWignerModel,
    DampedHarmonicOscillatorModel,
    DampedOscillatorModel,
    DoniachModel,
    ExponentialGaussianModel,
    LognormalModel,
    MoffatModel,
    Pearson4Model,
    Pearson7Model,
    SkewedGaussianModel,
    SkewedVoigtModel,
    SplitLorentzianModel,
    StudentsTModel,
)

MODELS = {
    "gaussian": GaussianModel,
    "lorentzian": LorentzianModel,
    "voigt": VoigtModel,
    "pseudovoigt": PseudoVoigtModel,
    "exponential": ExponentialModel,
    "double_exponential": DoubleExponentialModel,
    "powerlaw": PowerLawModel,
    "linear": LinearModel,
    "polynomial": PolynomialModel,
    "step": StepModel,
    "sine": SineModel,
    "gaussian2d": Gaussian2dModel,
    "antoine": AntoineModel,
    "constant": ConstantModel,
    "quadratic": QuadraticModel,
    "parabolic": QuadraticModel,
    "rectangle": RectangleModel,
    "thermal_distribution": ThermalDistributionModel,
    "bose": BoseModel,
    "fermi": FermiModel,
    "split_lorentzian": SplitLorentzianModel,
    "moffat": MoffatModel,
    "pearson4": Pearson4Model,
    "pearson7": Pearson7Model,
    "students_t": StudentsTModel,
    "breit_wigner": BreitWignerModel,
    "lognormal": LognormalModel,
    "damped_oscillator": DampedOscillatorModel,
    "dho": DampedHarmonicOscillatorModel,
    "expgaussian": ExponentialGaussianModel,
    "skewed_gaussian": SkewedGaussianModel,
    "skewed_voigt": SkewedVoigtModel,
    "doniach": DoniachModel,
}


def get_model(name: str, **kwargs):
    """A built-in model by its lowercase name (a key of ``MODELS``); keywords
    go to its constructor (``prefix``, ``form``, ``degree``, ...).

    Example:
      >>> from batchfit.models import get_model
      >>> get_model("gaussian", prefix="g1_").param_names
      ['g1_amplitude', 'g1_center', 'g1_sigma']
      >>> get_model("polynomial", degree=1).param_names
      ['c0', 'c1']
    """
    if not isinstance(name, str) or name.lower() not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[name.lower()](**kwargs)
