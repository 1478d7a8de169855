"""lmfit's other 1-D peak models: skewed, split, heavy-tailed and oscillator peaks.

Each has lmfit's parameter names, defaults and hints (the derived
``fwhm``/``height``/``position`` expressions written as lmfit writes them,
with ``maximum`` for ``max``) and lmfit's ``guess`` (``guess_from_peak``
with lmfit's scales and fixed starts), vectorised over datasets.
"""

from __future__ import annotations

import math
from typing import ClassVar

from . import _estimate
from . import _peakshapes as shapes
from ._guess import finish, prepare
from ._peaks import _Peak
from .lineshapes import TINY

PI7 = f"{math.pi:.7f}"


class _LmfitPeak(_Peak):
    """A peak whose hints are lmfit's expressions and whose guess is lmfit's."""

    _hints: ClassVar[dict] = {}  # name -> hint fields; "{p}" in an expr is the prefix
    _guess_values: ClassVar[dict] = {}  # fixed starts lmfit's guess sets

    def _set_hints(self):
        for name, hint in self._hints.items():
            hint = dict(hint)
            if "expr" in hint:
                hint["expr"] = hint["expr"].format(p=self.prefix, tiny=TINY)
            self.set_param_hint(name, **hint)

    def _guess_estimate(self, g, negative):
        est = _estimate.peak(g, negative, self._ampscale, self._sigscale)
        est.update(self._guess_values)
        return est

    def guess(self, data, x=None, negative=False, **kwargs):
        """Starting values from data of shape (m,) or (N, m) (then (N,) arrays).

        lmfit's estimate, per dataset: centre and width from the points
        beyond half maximum (below it with ``negative=True``), with lmfit's
        scales and fixed starts; ``sigma`` gets ``min=0``. Keywords
        (unprefixed names) override estimates.
        """
        g = prepare(self, data, min_points=3, x=x)
        params = finish(self, self._guess_estimate(g, negative), g, kwargs)
        self._guess_bounds(params)
        return params

    def _guess_bounds(self, params):
        params[self.prefix + "sigma"].set(min=0.0)


class SplitLorentzianModel(_LmfitPeak):
    """Lorentzian with half widths ``sigma`` (left) and ``sigma_r`` (right), area
    ``amplitude`` (lmfit's); derived ``fwhm = sigma + sigma_r`` and ``height``.

    Example:
      >>> from batchfit.models import SplitLorentzianModel
      >>> SplitLorentzianModel().param_names
      ['amplitude', 'center', 'sigma', 'sigma_r']
    """

    _func = staticmethod(shapes.split_lorentzian)
    _ampscale = 1.25
    _hints = {"sigma": {"min": 0}, "sigma_r": {"min": 0},
              "fwhm": {"expr": "{p}sigma+{p}sigma_r"},
              "height": {"expr": "2*{p}amplitude/" + PI7 + "/maximum(0.0000000, ({p}sigma+{p}sigma_r))"}}

    def _guess_bounds(self, params):
        super()._guess_bounds(params)
        s = params[self.prefix + "sigma"]
        params[self.prefix + "sigma_r"].set(value=s.value, min=s.min, max=s.max)


class MoffatModel(_LmfitPeak):
    """``amplitude / (((x - center)/sigma)**2 + 1)**beta`` (lmfit's); derived ``fwhm``, ``height``."""

    _func = staticmethod(shapes.moffat)
    _ampscale = 0.5
    _hints = {"sigma": {"min": 0}, "beta": {},
              "fwhm": {"expr": "2*{p}sigma*sqrt(2**(1.0/maximum(1e-3, {p}beta))-1)"},
              "height": {"expr": "{p}amplitude"}}


class Pearson4Model(_LmfitPeak):
    """Pearson IV (lmfit's): ``expon`` in (0.5, 1000] (start 1.5), ``skew`` in
    [-1000, 1000] (start 0); derived ``fwhm`` (approximate, as lmfit's),
    ``height`` and ``position`` (of the maximum)."""

    _func = staticmethod(shapes.pearson4)
    _guess_values = {"expon": 1.5, "skew": 0.0}
    _hints = {
        "expon": {"value": 1.5, "min": 0.5 + TINY, "max": 1000},
        "skew": {"value": 0.0, "min": -1000, "max": 1000},
        "fwhm": {"expr": "{p}sigma*sqrt(2**(1/{p}expon)-1)*pi/arctan2(exp(1)*{p}expon, {p}skew)"},
        "height": {"expr": ("({p}amplitude / {p}sigma) * exp(2 * (loggamma_re({p}expon, {p}skew * 0.5)"
                            " - loggammafcn({p}expon)) - betalnfnc({p}expon-0.5, 0.5) - {p}expon * "
                            "log1p(({p}skew/(2*{p}expon))**2) - {p}skew * arctan(-{p}skew/(2*{p}expon)))")},
        "position": {"expr": "{p}center-{p}sigma*{p}skew/(2*{p}expon)"},
    }


class Pearson7Model(_LmfitPeak):
    """Pearson VII (lmfit's): ``expon`` at most 100 (start 1.5); derived ``fwhm``, ``height``."""

    _func = staticmethod(shapes.pearson7)
    _guess_values = {"expon": 1.5}
    _hints = {"expon": {"value": 1.5, "max": 100},
              "fwhm": {"expr": "sqrt(2**(1/{p}expon)-1)*2*{p}sigma"},
              "height": {"expr": ("{p}amplitude * gamfcn({p}expon)/"
                                  "maximum({tiny}, (gamfcn(0.5)*gamfcn({p}expon-0.5)*{p}sigma))")}}


class StudentsTModel(_LmfitPeak):
    """Student's t with ``sigma`` degrees of freedom in [0, 100], area ``amplitude``
    (lmfit's); derived ``height`` and ``fwhm``."""

    _func = staticmethod(shapes.students_t)
    _hints = {"sigma": {"min": 0.0, "max": 100},
              "height": {"expr": "{p}amplitude*gamfcn(({p}sigma+1)/2)/(sqrt({p}sigma*pi)*gamfcn({p}sigma/2))"},
              "fwhm": {"expr": "2*sqrt(2**(2/({p}sigma+1))*{p}sigma-{p}sigma)"}}


class BreitWignerModel(_LmfitPeak):
    """Breit-Wigner-Fano ``amplitude (q sigma/2 + x - center)**2 / ((sigma/2)**2 + (x - center)**2)``
    (lmfit's); the guess starts ``q`` at 1."""

    _func = staticmethod(shapes.breit_wigner)
    _guess_values = {"q": 1.0}
    _hints = {"sigma": {"min": 0.0}}


class LognormalModel(_LmfitPeak):
    """Log-normal of area ``amplitude`` (lmfit's); derived ``height``, ``fwhm``.
    lmfit's guess is fixed: amplitude 1, center 0, sigma 0.25."""

    _func = staticmethod(shapes.lognormal)
    _hints = {"sigma": {"min": 0},
              "height": {"expr": "{p}amplitude/maximum({tiny}, ({p}sigma*sqrt(2*pi)))*exp({p}sigma**2/2-{p}center)"},
              "fwhm": {"expr": ("exp({p}center-{p}sigma**2+{p}sigma*sqrt(2*log(2)))-"
                                "exp({p}center-{p}sigma**2-{p}sigma*sqrt(2*log(2)))")}}

    def _guess_estimate(self, g, negative):
        return {"amplitude": 1.0, "center": 0.0, "sigma": 0.25}


class DampedOscillatorModel(_LmfitPeak):
    """Damped harmonic oscillator amplitude (lmfit's); derived ``height``."""

    _func = staticmethod(shapes.damped_oscillator)
    _ampscale, _sigscale = 0.1, 0.1
    _hints = {"sigma": {"min": 0},
              "height": {"expr": "0.5000000*{p}amplitude/maximum({tiny}, {p}sigma)"}}


class DampedHarmonicOscillatorModel(_LmfitPeak):
    """Damped harmonic oscillator of DAVE (lmfit's): ``center``, ``sigma`` >= 0,
    ``gamma`` (kT) >= 1e-19; derived ``height`` and ``fwhm``. The guess
    starts ``gamma`` at 1 with ``min=0`` (as lmfit's)."""

    _func = staticmethod(shapes.dho)
    _ampscale, _sigscale = 0.1, 0.1
    _guess_values = {"gamma": 1.0}
    _hints = {"center": {"min": 0}, "sigma": {"min": 0}, "gamma": {"min": 1.0e-19},
              "height": {"expr": ("({p}amplitude*{p}sigma)/maximum({tiny}, (pi*(1-exp(-{p}center/"
                                  "maximum({tiny}, {p}gamma)))))*(1/maximum({tiny}, {p}sigma**2)-1/"
                                  "maximum({tiny}, (4*{p}center**2+{p}sigma**2)))")},
              "fwhm": {"expr": "2.0000000*{p}sigma"}}

    def _guess_bounds(self, params):
        super()._guess_bounds(params)
        params[self.prefix + "gamma"].set(min=0.0)


class ExponentialGaussianModel(_LmfitPeak):
    """Exponentially modified Gaussian (lmfit's): ``sigma`` >= 0, ``gamma`` in [0, 20]."""

    _func = staticmethod(shapes.expgaussian)
    _hints = {"sigma": {"min": 0}, "gamma": {"min": 0, "max": 20}}


class SkewedGaussianModel(_LmfitPeak):
    """Gaussian times ``1 + erf(gamma (x - center) / (sqrt 2 sigma))`` (lmfit's)."""

    _func = staticmethod(shapes.skewed_gaussian)
    _hints = {"sigma": {"min": 0}}


class SkewedVoigtModel(_LmfitPeak):
    """Voigt times ``1 + erf(skew (x - center) / (sqrt 2 sigma))`` (lmfit's); ``gamma`` tied to ``sigma``."""

    _func = staticmethod(shapes.skewed_voigt)
    _hints = {"sigma": {"min": 0}, "gamma": {"expr": "{p}sigma"}}

    def __init__(self, independent_vars=("x",), prefix="", nan_policy="raise", **kwargs):
        kwargs.setdefault("param_names", ["amplitude", "center", "sigma", "skew", "gamma"])  # lmfit's order
        super().__init__(independent_vars, prefix, nan_policy, **kwargs)


class DoniachModel(_LmfitPeak):
    """Doniach-Sunjic asymmetric peak (lmfit's); derived ``height``."""

    _func = staticmethod(shapes.doniach)
    _ampscale = 0.5
    _hints = {"height": {"expr": "{p}amplitude/maximum({tiny}, ({p}sigma**(1-{p}gamma)))*cos(pi*{p}gamma/2)"}}
