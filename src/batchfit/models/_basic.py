"""Background, polynomial, exponential, step, sine and Antoine models."""

from __future__ import annotations

import math

from ..fitting._model import Model
from . import _estimate, lineshapes
from ._guess import finish, masked_mean, prepare


class _Model1D(Model):
    """A built-in model of one independent variable ``x``."""

    _func = None
    _min_points = 2

    def __init__(self, independent_vars=("x",), prefix="", nan_policy="raise", **kwargs):
        super().__init__(type(self)._func, list(independent_vars), prefix=prefix,
                         nan_policy=nan_policy, **kwargs)

    def _estimate(self, g):
        raise NotImplementedError

    def guess(self, data, x=None, **kwargs):
        """Starting values from data of shape (m,) or (N, m) (then (N,) arrays).

        Keywords (unprefixed parameter names) override estimates.
        """
        g = prepare(self, data, min_points=self._min_points, x=x)
        return finish(self, self._estimate(g), g, kwargs)


class ConstantModel(_Model1D):
    """``c`` at every x (lmfit's); guess: the mean of the data.

    Example:
      >>> import numpy as np
      >>> from batchfit.models import ConstantModel
      >>> ConstantModel().guess(np.array([[1.0, 3.0], [2.0, 2.0]]))["c"].value.tolist()
      [2.0, 2.0]
    """

    _func = staticmethod(lineshapes.constant)
    _min_points = 1

    def guess(self, data, x=None, **kwargs):
        """The mean of each dataset (``x`` is not needed)."""
        g = prepare(self, data, min_points=1)
        return finish(self, {"c": masked_mean(g.y, g.valid)}, g, kwargs)


class LinearModel(_Model1D):
    """``slope * x + intercept`` (lmfit's); guess: least squares.

    Example:
      >>> import numpy as np
      >>> from batchfit.models import LinearModel
      >>> x = np.arange(5.0)
      >>> p = LinearModel().guess(2 * x + 1, x=x)
      >>> round(p["slope"].value, 6), round(p["intercept"].value, 6)
      (2.0, 1.0)
    """

    _func = staticmethod(lineshapes.linear)

    def _estimate(self, g):
        c = _estimate.poly(g, 1)
        return {"slope": c["c1"], "intercept": c["c0"]}


class PolynomialModel(_Model1D):
    """``c0 + c1 x + ... + c<degree> x**degree``, degree 0 to 7 (lmfit's); guess: least squares.

    Example:
      >>> from batchfit.models import PolynomialModel
      >>> PolynomialModel(degree=2).param_names
      ['c0', 'c1', 'c2']
    """

    MAX_DEGREE = 7
    _func = staticmethod(lineshapes.polynomial)

    def __init__(self, degree=7, independent_vars=("x",), prefix="", nan_policy="raise", **kwargs):
        if isinstance(degree, bool) or not isinstance(degree, int):
            raise TypeError(f"PolynomialModel: degree must be an integer, got {degree!r}")
        if not 0 <= degree <= self.MAX_DEGREE:
            raise ValueError(f"PolynomialModel: degree must be between 0 and {self.MAX_DEGREE}, got {degree}")
        self.poly_degree = degree
        self._min_points = degree + 1
        super().__init__(independent_vars, prefix, nan_policy,
                         param_names=[f"c{i}" for i in range(degree + 1)], **kwargs)

    def _estimate(self, g):
        return _estimate.poly(g, self.poly_degree)


class ExponentialModel(_Model1D):
    """``amplitude * exp(-x / decay)`` (lmfit's); guess: a line through ``log|y|``.

    Example:
      >>> import numpy as np
      >>> from batchfit.models import ExponentialModel
      >>> x = np.linspace(0, 5, 20)
      >>> p = ExponentialModel().guess(3 * np.exp(-x / 2), x=x)
      >>> round(p["amplitude"].value, 6), round(p["decay"].value, 6)
      (3.0, 2.0)
    """

    _func = staticmethod(lineshapes.exponential)

    def _estimate(self, g):
        return _estimate.exponential(g)


class DoubleExponentialModel(_Model1D):
    """``amplitude1 exp(-x / decay1) + amplitude2 exp(-x / decay2)``.

    The guess orders the components with ``decay1 <= decay2`` (the fast
    one first); it fits the linear integral equation that a sum of two
    exponentials satisfies, then the amplitudes by least squares.

    Example:
      >>> import numpy as np
      >>> from batchfit.models import DoubleExponentialModel
      >>> x = np.linspace(0, 10, 200)
      >>> y = 2 * np.exp(-x / 0.5) + np.exp(-x / 4)
      >>> p = DoubleExponentialModel().guess(y, x=x)
      >>> [round(p[n].value, 2) for n in ("amplitude1", "decay1", "amplitude2", "decay2")]
      [2.0, 0.5, 1.0, 4.0]
    """

    _func = staticmethod(lineshapes.double_exponential)
    _min_points = 5

    def _estimate(self, g):
        return _estimate.double_exponential(g)


class PowerLawModel(_Model1D):
    """``amplitude * x**exponent`` (lmfit's); guess: a line in log-log.

    Example:
      >>> import numpy as np
      >>> from batchfit.models import PowerLawModel
      >>> x = np.linspace(1, 4, 10)
      >>> p = PowerLawModel().guess(2 * x**1.5, x=x)
      >>> round(p["amplitude"].value, 6), round(p["exponent"].value, 6)
      (2.0, 1.5)
    """

    _func = staticmethod(lineshapes.powerlaw)

    def _estimate(self, g):
        return _estimate.powerlaw(g)


class StepModel(_Model1D):
    """A step from 0 to ``amplitude`` at ``center`` of width ``sigma`` (lmfit's).

    ``form``: ``"linear"`` (lmfit's default), ``"atan"``/``"arctan"``,
    ``"erf"`` or ``"logistic"``; ``sigma < 0`` steps down. Add a
    :class:`ConstantModel` for an offset.

    Example:
      >>> import numpy as np
      >>> from batchfit.models import StepModel
      >>> x = np.linspace(0, 10, 101)
      >>> model = StepModel(form="erf")
      >>> p = model.guess(model.eval(x=x, amplitude=2.0, center=6.0, sigma=0.5), x=x)
      >>> round(p["amplitude"].value, 3), round(p["center"].value, 1)
      (2.0, 6.0)
    """

    _func = staticmethod(lineshapes.step)

    def __init__(self, independent_vars=("x",), prefix="", nan_policy="raise", form="linear", **kwargs):
        if form not in lineshapes.STEP_FORMS:
            raise ValueError(f"StepModel: form must be one of {lineshapes.STEP_FORMS}, got {form!r}")
        self.form = form
        super().__init__(independent_vars, prefix, nan_policy, form=form, **kwargs)

    def _estimate(self, g):
        return _estimate.step(g)


class SineModel(_Model1D):
    """``amplitude * sin(frequency * x + shift)`` (lmfit's, with its bounds:
    amplitude, frequency >= 0, shift within about [-2 pi, 2 pi]); guess: the
    strongest FFT frequency (uniformly spaced x), then the best phase.

    Example:
      >>> import numpy as np
      >>> from batchfit.models import SineModel
      >>> x = np.linspace(0, 10, 200, endpoint=False)
      >>> p = SineModel().guess(np.sin(2 * np.pi * 0.5 * x), x=x)
      >>> round(p["frequency"].value, 4)
      3.1416
    """

    _func = staticmethod(lineshapes.sine)
    _min_points = 4

    def __init__(self, independent_vars=("x",), prefix="", nan_policy="raise", **kwargs):
        super().__init__(independent_vars, prefix, nan_policy, **kwargs)
        tau = 2 * math.pi
        self.set_param_hint("amplitude", min=0)
        self.set_param_hint("frequency", min=0)
        self.set_param_hint("shift", min=-tau - 1.0e-5, max=tau + 1.0e-5)

    def _estimate(self, g):
        return _estimate.sine(g)


class AntoineModel(_Model1D):
    """Antoine vapour-pressure equation ``P = 10**(A + B / (T + C))``, T = ``x``.

    Parameters ``A``, ``B``, ``C`` (start 1, 1, 1); the guess scans ``C``
    and solves for ``A`` and ``B`` in ``log10 P`` (needs P > 0).

    Example:
      >>> import numpy as np
      >>> from batchfit.models import AntoineModel
      >>> T = np.linspace(60.0, 100.0, 9)
      >>> model = AntoineModel()
      >>> p = model.guess(model.eval(x=T, A=7.13, B=-1540.3, C=236.0), x=T)
      >>> round(p["A"].value, 1), round(p["C"].value, -1)
      (7.1, 240.0)
    """

    _func = staticmethod(lineshapes.antoine)
    _min_points = 3

    def _estimate(self, g):
        return _estimate.antoine(g)
