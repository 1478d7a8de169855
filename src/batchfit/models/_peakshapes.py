"""More peak line shapes of ``lmfit.lineshapes``: pure ``jnp``, lmfit's formulas and names.

Widths are floored at ``TINY`` where lmfit floors them; where lmfit
replaces values in place (``lognormal``, ``dho``) these functions select
instead, so inputs are never modified and gradients stay finite.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from jax.scipy.special import erf, erfc, erfcx, gamma, gammaln

from ..params._special import betaln, loggamma_re
from ._faddeeva import wofz

TINY = 1.0e-15
S2 = math.sqrt(2.0)
S2PI = math.sqrt(2 * math.pi)


def _voigt(x, amplitude, center, sigma, gamma_):
    if gamma_ is None:
        gamma_ = sigma
    z = (x - center + 1j * gamma_) / jnp.maximum(TINY, sigma * S2)
    return amplitude * jnp.real(wofz(z)) / jnp.maximum(TINY, sigma * S2PI)


def _gaussian(x, amplitude, center, sigma):
    return (amplitude / jnp.maximum(TINY, S2PI * sigma)) * jnp.exp(
        -(x - center) ** 2 / jnp.maximum(TINY, 2 * sigma**2))


def split_lorentzian(x, amplitude=1.0, center=0.0, sigma=1.0, sigma_r=1.0):
    """Lorentzian of half widths ``sigma`` (x < center) and ``sigma_r``, area ``amplitude``."""
    s, r = jnp.maximum(TINY, sigma), jnp.maximum(TINY, sigma_r)
    ss, rr, xc2 = s * s, r * r, (x - center) ** 2
    amp = 2 * amplitude / (math.pi * (s + r))
    return amp * jnp.where(x < center, ss / (ss + xc2), rr / (rr + xc2))


def moffat(x, amplitude=1.0, center=0.0, sigma=1.0, beta=1.0):
    """``amplitude / (((x - center) / sigma)**2 + 1)**beta``."""
    return amplitude / (((x - center) / jnp.maximum(TINY, sigma)) ** 2 + 1) ** beta


def pearson4(x, amplitude=1.0, center=0.0, sigma=1.0, expon=1.0, skew=0.0):
    """Pearson IV: ``amplitude |Gamma(m + i nu/2) / Gamma(m)|**2 / (sigma B(m - 1/2, 1/2))
    (1 + a**2)**(-m) exp(-nu atan(a))``, ``a = (x - center) / sigma``, m = ``expon``, nu = ``skew``."""
    expon = jnp.maximum(TINY, expon)
    sigma = jnp.maximum(TINY, sigma)
    arg = (x - center) / sigma
    logpre = 2 * (loggamma_re(expon, skew * 0.5) - gammaln(expon)) - betaln(expon - 0.5, 0.5)
    return (amplitude / sigma) * jnp.exp(logpre - expon * jnp.log1p(arg * arg) - skew * jnp.arctan(arg))


def pearson7(x, amplitude=1.0, center=0.0, sigma=1.0, expon=1.0):
    """Pearson VII: ``amplitude Gamma(m) / (sqrt(pi) Gamma(m - 1/2) sigma) (1 + a**2)**(-m)``."""
    expon = jnp.maximum(TINY, expon)
    arg = (x - center) / jnp.maximum(TINY, sigma)
    scale = amplitude * gamma(expon) / (gamma(0.5) * gamma(expon - 0.5))
    return scale * (1 + arg**2) ** (-expon) / jnp.maximum(TINY, sigma)


def breit_wigner(x, amplitude=1.0, center=0.0, sigma=1.0, q=1.0):
    """Breit-Wigner-Fano: ``amplitude (q sigma/2 + x - center)**2 / ((sigma/2)**2 + (x - center)**2)``."""
    gam = sigma / 2.0
    return amplitude * (q * gam + x - center) ** 2 / (gam * gam + (x - center) ** 2)


def damped_oscillator(x, amplitude=1.0, center=1.0, sigma=0.1):
    """Damped harmonic oscillator amplitude: ``amplitude / sqrt((1 - (x/c)**2)**2 + (2 sigma x/c)**2)``."""
    center = jnp.maximum(TINY, jnp.abs(center))
    return amplitude / jnp.sqrt((1.0 - (x / center) ** 2) ** 2 + (2 * sigma * x / center) ** 2)


def dho(x, amplitude=1.0, center=1.0, sigma=1.0, gamma=1.0):
    """Damped harmonic oscillator (DAVE's): ``amplitude sigma / pi / (1 - exp(-x/gamma))
    (1/((x - c)**2 + sigma**2) - 1/((x + c)**2 + sigma**2))``; its limit at x = 0."""
    factor = amplitude * sigma / math.pi
    bose = 1.0 - jnp.exp(-x / jnp.maximum(TINY, gamma))
    bose = jnp.where(jnp.isnan(bose) | (jnp.abs(bose) <= TINY), TINY, bose)
    lm = 1.0 / ((x - center) ** 2 + sigma**2)
    lp = 1.0 / ((x + center) ** 2 + sigma**2)
    at0 = jnp.abs(x) <= 1.0e-8  # numpy.isclose(x, 0.0)
    return factor * jnp.where(at0, 4 * gamma * center / (center**2 + sigma**2) ** 2,
                              (lm - lp) / jnp.where(at0, 1.0, bose))


def logistic(x, amplitude=1.0, center=0.0, sigma=1.0):
    """``amplitude * (1 - 1 / (1 + exp((x - center) / sigma)))``."""
    return amplitude * (1.0 - 1.0 / (1.0 + jnp.exp((x - center) / jnp.maximum(TINY, sigma))))


def lognormal(x, amplitude=1.0, center=0.0, sigma=1.0):
    """``amplitude / (x sigma sqrt(2 pi)) exp(-(ln x - center)**2 / (2 sigma**2))``; x floored at TINY."""
    x = jnp.maximum(TINY, x)
    return ((amplitude / (x * jnp.maximum(TINY, sigma * S2PI)))
            * jnp.exp(-(jnp.log(x) - center) ** 2 / jnp.maximum(TINY, 2 * sigma**2)))


def students_t(x, amplitude=1.0, center=0.0, sigma=1.0):
    """Student's t of ``sigma`` degrees of freedom, area ``amplitude``."""
    s1 = (sigma + 1) / 2.0
    denom = jnp.maximum(TINY, jnp.sqrt(sigma * math.pi) * gamma(jnp.maximum(TINY, sigma / 2)))
    return amplitude * (1 + (x - center) ** 2 / jnp.maximum(TINY, sigma)) ** (-s1) * gamma(s1) / denom


def expgaussian(x, amplitude=1.0, center=0.0, sigma=1.0, gamma=1.0):
    """Exponentially modified Gaussian: ``amplitude gamma/2 exp(gamma (center - x + gamma sigma**2/2))
    erfc((center + gamma sigma**2 - x) / (sqrt 2 sigma))``.

    Where the erfc argument is positive it is computed as
    ``exp(arg1 - arg2**2) erfcx(arg2)``, so the product does not overflow
    (lmfit's ``exp(arg1) * erfc(arg2)`` gives inf or nan there).
    """
    gss = gamma * sigma * sigma
    arg1 = gamma * (center + gss / 2.0 - x)
    arg2 = (center + gss - x) / jnp.maximum(TINY, S2 * sigma)
    pos = arg2 > 0
    a_pos = jnp.where(pos, arg2, 0.0)
    scaled = jnp.exp(arg1 - a_pos * a_pos) * erfcx(a_pos)
    direct = jnp.exp(jnp.where(pos, 0.0, arg1)) * erfc(jnp.where(pos, 0.0, arg2))
    return amplitude * (gamma / 2) * jnp.where(pos, scaled, direct)


def doniach(x, amplitude=1.0, center=0.0, sigma=1.0, gamma=0.0):
    """Doniach-Sunjic: ``amplitude / sigma**(1 - gamma) cos(pi gamma/2 + (1 - gamma) atan(a))
    / (1 + a**2)**((1 - gamma)/2)``, ``a = (x - center) / sigma``."""
    arg = (x - center) / jnp.maximum(TINY, sigma)
    gm1 = 1.0 - gamma
    scale = amplitude / jnp.maximum(TINY, sigma**gm1)
    return scale * jnp.cos(math.pi * gamma / 2 + gm1 * jnp.arctan(arg)) / (1 + arg**2) ** (gm1 / 2)


def skewed_gaussian(x, amplitude=1.0, center=0.0, sigma=1.0, gamma=0.0):
    """Gaussian times ``1 + erf(gamma (x - center) / (sqrt 2 sigma))``."""
    asym = 1 + erf(gamma * (x - center) / jnp.maximum(TINY, S2 * sigma))
    return asym * _gaussian(x, amplitude, center, sigma)


def skewed_voigt(x, amplitude=1.0, center=0.0, sigma=1.0, gamma=None, skew=0.0):
    """Voigt times ``1 + erf(skew (x - center) / (sqrt 2 sigma))``."""
    beta = skew / jnp.maximum(TINY, S2 * sigma)
    return (1 + erf(beta * (x - center))) * _voigt(x, amplitude, center, sigma, gamma)
