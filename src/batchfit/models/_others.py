"""lmfit's quadratic, rectangle, thermal-distribution and spline models."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np

from . import _estimate
from . import _othershapes as shapes
from ._basic import _Model1D
from ._guess import masked_max, masked_mean, masked_min


class QuadraticModel(_Model1D):
    """``a x**2 + b x + c`` (lmfit's; ``ParabolicModel`` is the same); guess: least squares.

    Example:
      >>> import numpy as np
      >>> from batchfit.models import QuadraticModel
      >>> x = np.arange(5.0)
      >>> p = QuadraticModel().guess(2 * x**2 - x + 1, x=x)
      >>> [round(p[n].value, 6) for n in "abc"]
      [2.0, -1.0, 1.0]
    """

    _func = staticmethod(shapes.parabolic)
    _min_points = 3

    def _estimate(self, g):
        c = _estimate.poly(g, 2)
        return {"a": c["c2"], "b": c["c1"], "c": c["c0"]}


ParabolicModel = QuadraticModel


class RectangleModel(_Model1D):
    """A step up at ``center1`` and down at ``center2`` of height ``amplitude``
    (lmfit's); ``form`` as :class:`StepModel`'s; derived ``midpoint``.

    lmfit's guess: amplitude the data range, ``center1``/``center2`` at 1/4
    and 3/4 of ``xmin + xmax``, ``sigma1 = sigma2`` a tenth of the x range (min 0).
    """

    _func = staticmethod(shapes.rectangle)

    def __init__(self, independent_vars=("x",), prefix="", nan_policy="raise", form="linear", **kwargs):
        if form not in shapes.RECTANGLE_FORMS:
            raise ValueError(f"RectangleModel: form must be one of {shapes.RECTANGLE_FORMS}, got {form!r}")
        self.form = form
        super().__init__(independent_vars, prefix, nan_policy, form=form, **kwargs)
        self.set_param_hint("center1")
        self.set_param_hint("center2")
        self.set_param_hint("midpoint", expr=f"({self.prefix}center1+{self.prefix}center2)/2.0")

    def _estimate(self, g):
        x, v = g.ind["x"], g.valid
        xmin, xmax = masked_min(x, v), masked_max(x, v)
        return {"amplitude": masked_max(g.y, v) - masked_min(g.y, v), "center1": (xmax + xmin) / 4.0,
                "center2": 3 * (xmax + xmin) / 4.0, "sigma1": (xmax - xmin) / 10.0,
                "sigma2": (xmax - xmin) / 10.0}

    def guess(self, data, x=None, **kwargs):
        params = super().guess(data, x=x, **kwargs)
        for n in ("sigma1", "sigma2"):
            params[self.prefix + n].set(min=0.0)
        return params

    guess.__doc__ = _Model1D.guess.__doc__


def _thermal_estimate(g):
    """lmfit's ``guess_thermal``: centre the mean x, kt a tenth of the x range."""
    x, v = g.ind["x"], g.valid
    center = masked_mean(x, v)
    xmin, xmax = masked_min(x, v), masked_max(x, v)
    kt = (xmax - xmin) / 10
    amplitude = masked_max(g.y, v) * np.exp((xmin - center) / np.maximum(1.0e-15, kt))
    return {"amplitude": amplitude, "center": center, "kt": kt}


class ThermalDistributionModel(_Model1D):
    """``1 / (amplitude exp((x - center)/kt) + offset)`` (lmfit's): ``form``
    ``"bose"`` (offset -1, default), ``"maxwell"`` (0) or ``"fermi"`` (+1)."""

    _func = staticmethod(shapes.thermal_distribution)

    def __init__(self, independent_vars=("x",), prefix="", nan_policy="raise", form="bose", **kwargs):
        if not isinstance(form, str) or not form.lower().startswith(shapes.THERMAL_FORMS):
            raise ValueError(f"ThermalDistributionModel: form must be one of {shapes.THERMAL_FORMS}, "
                             f"got {form!r}")
        self.form = form
        super().__init__(independent_vars, prefix, nan_policy, form=form, **kwargs)

    def _estimate(self, g):
        return _thermal_estimate(g)


class BoseModel(_Model1D):
    """Bose-Einstein ``amplitude / (exp((x - center)/kt) - 1)`` (lmfit's)."""

    _func = staticmethod(shapes.bose)

    def _estimate(self, g):
        return _thermal_estimate(g)


class FermiModel(_Model1D):
    """Fermi-Dirac ``amplitude / (exp((x - center)/kt) + 1)`` (lmfit's)."""

    _func = staticmethod(shapes.fermi)

    def _estimate(self, g):
        return _thermal_estimate(g)


@dataclasses.dataclass(frozen=True)
class _SplineFunction:
    """A cubic B-spline on fixed knots, of coefficients ``s0..s<n-1>`` (hashable)."""

    knots: tuple
    names: tuple

    @property
    def __signature__(self):
        P = inspect.Parameter
        return inspect.Signature([P("x", P.POSITIONAL_OR_KEYWORD)]
                                 + [P(n, P.KEYWORD_ONLY, default=1.0) for n in self.names])

    @property
    def __name__(self):
        return "spline_model"

    def __call__(self, x, **coefs):
        import jax.numpy as jnp
        c = jnp.stack([jnp.asarray(coefs[n]) for n in self.names])
        return shapes.bspline(x, self.knots, c, 3)


class SplineModel(_Model1D):
    """Cubic spline through ``xknots`` (4 to 100, lmfit's ``SplineModel``):
    parameters ``s0..s<n-1>`` (start 1), the B-spline coefficients of
    ``scipy.interpolate.splrep``'s knots (the curve near ``s_i`` at
    ``xknots[i]`` for fine knots); evaluated as ``splev`` does, extrapolating
    the end pieces. Guess: lmfit's, ``(4 y_i + y_{i-1} + y_{i+1}) / 6`` at the
    data point nearest each knot.

    Example:
      >>> import numpy as np
      >>> from batchfit.models import SplineModel
      >>> model = SplineModel(xknots=np.linspace(0, 10, 6))
      >>> model.param_names
      ['s0', 's1', 's2', 's3', 's4', 's5']
    """

    MAX_KNOTS = 100

    def __init__(self, xknots, independent_vars=("x",), prefix="", nan_policy="raise", **kwargs):
        xk = np.asarray(xknots, dtype=float).reshape(-1) if np.ndim(xknots) <= 1 else None
        if xk is None:
            raise TypeError("SplineModel: xknots must be 1-D array-like")
        if not 4 <= xk.size <= self.MAX_KNOTS:
            raise ValueError(f"SplineModel: xknots must have 4 to {self.MAX_KNOTS} values, got {xk.size}")
        if not (np.all(np.isfinite(xk)) and np.all(np.diff(xk) > 0)):
            raise ValueError("SplineModel: xknots must be finite and strictly increasing")
        if len(independent_vars) != 1:
            raise TypeError("SplineModel supports only 1-d spline interpolation")
        self.xknots = xk
        self.nknots = xk.size
        self.order = 3
        self.knots = shapes.spline_knots(xk, 3)
        names = tuple(f"s{i}" for i in range(self.nknots))
        fn = _SplineFunction(tuple(float(t) for t in self.knots), names)
        super(_Model1D, self).__init__(fn, list(independent_vars), prefix=prefix, nan_policy=nan_policy,
                                       **kwargs)
        self.name = "spline_model"

    def _estimate(self, g):
        x, y, v = g.ind["x"], g.y, g.valid
        m = y.shape[1]
        rows = np.arange(y.shape[0])
        out = {}
        for i, xk in enumerate(self.xknots):
            ix = np.argmin(np.where(v, np.abs(x - xk), np.inf), axis=1)
            this = y[rows, ix]
            pone = np.where(ix < m - 2, y[rows, np.minimum(ix + 1, m - 1)], this)
            mone = np.where(ix > 0, y[rows, np.maximum(ix - 1, 0)], this)
            out[f"s{i}"] = (4.0 * this + pone + mone) / 6.0
        return out
