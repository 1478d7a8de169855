"""Model functions of the built-in models: pure ``jnp``, traceable, lmfit's formulas.

Each takes the independent variable(s) first and the parameters as
keywords with lmfit's names and defaults; widths are floored at ``TINY``
as in ``lmfit.lineshapes``, so the values agree with lmfit's to rounding.

Example:
  >>> import numpy as np
  >>> from batchfit.models import lineshapes
  >>> round(float(lineshapes.gaussian(np.float32(0.0), amplitude=1.0, center=0.0, sigma=1.0)), 6)
  0.398942
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import erf

from ._faddeeva import wofz
from ._othershapes import (RECTANGLE_FORMS, THERMAL_FORMS, bose, bspline, expsine, fermi, parabolic,
                           rectangle, spline_knots, thermal_distribution)
from ._peakshapes import (breit_wigner, damped_oscillator, dho, doniach, expgaussian, logistic,
                          lognormal, moffat, pearson4, pearson7, skewed_gaussian, skewed_voigt,
                          split_lorentzian, students_t)

TINY = 1.0e-15
LOG2 = math.log(2.0)
S2PI = math.sqrt(2 * math.pi)
S2 = math.sqrt(2.0)
STEP_FORMS = ("linear", "atan", "arctan", "erf", "logistic")

__all__ = [
    "TINY", "STEP_FORMS", "antoine", "constant", "double_exponential", "exponential",
    "gaussian", "gaussian2d", "gaussian2d_circular", "gaussian2d_rotated", "linear",
    "lorentzian", "polynomial", "powerlaw", "pvoigt", "sine", "step", "voigt", "wofz",
    "RECTANGLE_FORMS", "THERMAL_FORMS", "bose", "breit_wigner", "bspline", "damped_oscillator",
    "dho", "doniach", "expgaussian", "expsine", "fermi", "logistic", "lognormal", "moffat",
    "parabolic", "pearson4", "pearson7", "rectangle", "skewed_gaussian", "skewed_voigt",
    "spline_knots", "split_lorentzian", "students_t", "thermal_distribution",
    "functions", "not_zero", "tiny",
]

tiny = TINY  # lmfit's names
# lmfit.lineshapes.functions: the lineshapes lmfit lists, in its order
functions = ("gaussian", "gaussian2d", "lorentzian", "voigt", "pvoigt", "moffat", "pearson4", "pearson7",
             "breit_wigner", "damped_oscillator", "dho", "logistic", "lognormal", "students_t",
             "expgaussian", "doniach", "skewed_gaussian", "skewed_voigt", "thermal_distribution", "bose",
             "fermi", "step", "rectangle", "exponential", "powerlaw", "linear", "parabolic", "sine",
             "expsine", "split_lorentzian")


def not_zero(v):
    """``v`` with magnitude at least TINY, sign kept (lmfit's ``not_zero``)."""
    m = jnp.maximum(TINY, jnp.abs(v))
    return jnp.where(v < 0, -m, m)


def gaussian(x, amplitude=1.0, center=0.0, sigma=1.0):
    """``amplitude / (sqrt(2 pi) sigma) * exp(-(x - center)**2 / (2 sigma**2))`` (area = amplitude)."""
    return (amplitude / jnp.maximum(TINY, S2PI * sigma)) * jnp.exp(
        -(x - center) ** 2 / jnp.maximum(TINY, 2 * sigma**2))


def lorentzian(x, amplitude=1.0, center=0.0, sigma=1.0):
    """``amplitude / (pi sigma (1 + ((x - center) / sigma)**2))`` (area = amplitude)."""
    return (amplitude / (1 + ((x - center) / jnp.maximum(TINY, sigma)) ** 2)) / jnp.maximum(
        TINY, math.pi * sigma)


def voigt(x, amplitude=1.0, center=0.0, sigma=1.0, gamma=None):
    """``amplitude * Re[w(z)] / (sigma sqrt(2 pi))``, ``z = (x - center + i gamma) / (sigma sqrt 2)``.

    ``w`` is the Faddeeva function (:func:`wofz`); ``gamma`` defaults to ``sigma``.
    """
    if gamma is None:
        gamma = sigma
    z = (x - center + 1j * gamma) / jnp.maximum(TINY, sigma * S2)
    return amplitude * jnp.real(wofz(z)) / jnp.maximum(TINY, sigma * S2PI)


def pvoigt(x, amplitude=1.0, center=0.0, sigma=1.0, fraction=0.5):
    """``(1 - fraction) * gaussian(sigma_g) + fraction * lorentzian(sigma)``,
    ``sigma_g = sigma / sqrt(2 ln 2)`` (both of FWHM ``2 sigma``)."""
    sigma_g = sigma / math.sqrt(2 * LOG2)
    return ((1 - fraction) * gaussian(x, amplitude, center, sigma_g)
            + fraction * lorentzian(x, amplitude, center, sigma))


def exponential(x, amplitude=1.0, decay=1.0):
    """``amplitude * exp(-x / decay)``."""
    return amplitude * jnp.exp(-x / not_zero(decay))


def double_exponential(x, amplitude1=1.0, decay1=1.0, amplitude2=1.0, decay2=10.0):
    """``amplitude1 * exp(-x / decay1) + amplitude2 * exp(-x / decay2)``."""
    return exponential(x, amplitude1, decay1) + exponential(x, amplitude2, decay2)


def powerlaw(x, amplitude=1.0, exponent=1.0):
    """``amplitude * x**exponent``."""
    return amplitude * x**exponent


def linear(x, slope=1.0, intercept=0.0):
    """``slope * x + intercept``."""
    return slope * x + intercept


def polynomial(x, c0=0.0, c1=0.0, c2=0.0, c3=0.0, c4=0.0, c5=0.0, c6=0.0, c7=0.0):
    """``sum(c_i * x**i)``, by Horner's rule as ``numpy.polyval``."""
    y = jnp.zeros_like(x)
    for c in (c7, c6, c5, c4, c3, c2, c1, c0):
        y = y * x + c
    return y


def step(x, amplitude=1.0, center=0.0, sigma=1.0, form="linear"):
    """A step from 0 to ``amplitude`` (``sigma < 0``: the reverse), half-way at ``center``.

    With ``a = (x - center) / sigma``: ``"linear"`` ``clip(a + 1/2, 0, 1)``,
    ``"atan"`` ``1/2 + atan(a)/pi``, ``"erf"`` ``(1 + erf(a))/2``,
    ``"logistic"`` ``1 - 1/(1 + exp(a))``, times ``amplitude``.
    """
    a = jnp.sign(sigma) * (x - center) / jnp.maximum(TINY * TINY, jnp.abs(sigma))
    if form == "erf":
        out = 0.5 * (1 + erf(a))
    elif form == "logistic":
        out = jax.nn.sigmoid(a)  # = 1 - 1/(1 + exp(a)), without overflow
    elif form in ("atan", "arctan"):
        out = 0.5 + jnp.arctan(a) / math.pi
    elif form == "linear":
        out = jnp.minimum(1, jnp.maximum(0, a + 0.5))
    else:
        raise ValueError(f"Invalid value ({form!r}) for argument 'form' of step(); should be one of {STEP_FORMS}")
    return amplitude * out


def sine(x, amplitude=1.0, frequency=1.0, shift=0.0):
    """``amplitude * sin(frequency * x + shift)``."""
    return amplitude * jnp.sin(x * frequency + shift)


def gaussian2d(x, y=0.0, amplitude=1.0, centerx=0.0, centery=0.0, sigmax=1.0, sigmay=1.0):
    """Elliptic 2-D Gaussian of volume ``amplitude``, axes along x and y (lmfit's)."""
    return amplitude * (gaussian(x, 1.0, centerx, sigmax) * gaussian(y, 1.0, centery, sigmay))


def gaussian2d_circular(x, y, amplitude=1.0, centerx=0.0, centery=0.0, sigma=1.0):
    """Circular 2-D Gaussian of volume ``amplitude`` and width ``sigma``."""
    return gaussian2d(x, y, amplitude, centerx, centery, sigma, sigma)


def gaussian2d_rotated(x, y, amplitude=1.0, centerx=0.0, centery=0.0, sigmax=1.0, sigmay=1.0,
                       rotation=0.0):
    """Elliptic 2-D Gaussian of volume ``amplitude`` whose ``sigmax`` axis
    points at angle ``rotation`` (radians, anticlockwise) from the x axis."""
    c, s = jnp.cos(rotation), jnp.sin(rotation)
    dx, dy = x - centerx, y - centery
    u, v = c * dx + s * dy, c * dy - s * dx
    norm = amplitude / jnp.maximum(TINY, S2PI * sigmax) / jnp.maximum(TINY, S2PI * sigmay)
    return norm * jnp.exp(-u**2 / jnp.maximum(TINY, 2 * sigmax**2)
                          - v**2 / jnp.maximum(TINY, 2 * sigmay**2))


def antoine(x, A=1.0, B=1.0, C=1.0):
    """Antoine equation for vapour pressure: ``10**(A + B / (x + C))`` (``x`` the temperature)."""
    return 10.0 ** (A + B / (x + C))


def constant(x, c=0.0):
    """``c`` at every ``x``."""
    return c * jnp.ones_like(x)


def _wrap_for_host():
    """Each lineshape called with plain numbers returns numpy, as lmfit's (``_host``)."""
    from ._host import host_callable

    g = globals()
    for name in __all__:
        if callable(g[name]) and name not in ("spline_knots", "functions"):
            g[name] = host_callable(g[name])


_wrap_for_host()
