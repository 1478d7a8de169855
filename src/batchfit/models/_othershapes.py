"""Thermal distributions, rectangle, parabola, damped sine and B-splines
of ``lmfit.lineshapes`` (and ``scipy.interpolate.splev`` as lmfit's
``SplineModel`` uses it): pure ``jnp``, lmfit's formulas and names."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf

TINY = 1.0e-15
THERMAL_FORMS = ("bose", "maxwell", "fermi")
RECTANGLE_FORMS = ("linear", "atan", "arctan", "erf", "logistic")


def _not_zero(v):
    m = jnp.maximum(TINY, jnp.abs(v))
    return jnp.where(v < 0, -m, m)


def thermal_distribution(x, amplitude=1.0, center=0.0, kt=1.0, form="bose"):
    """``1 / (amplitude exp((x - center) / kt) + offset)``, offset -1 (``"bose"``),
    0 (``"maxwell"``) or +1 (``"fermi"``); lmfit's ``real(1/(d + 1e-15j))``."""
    f = form.lower()
    if f.startswith("bose"):
        offset = -1.0
    elif f.startswith("maxwell"):
        offset = 0.0
    elif f.startswith("fermi"):
        offset = 1.0
    else:
        raise ValueError(f"Invalid value ({form!r}) for argument 'form' of thermal_distribution(); "
                         f"should be one of {THERMAL_FORMS}")
    d = amplitude * jnp.exp((x - center) / _not_zero(kt)) + offset
    big = jnp.isinf(d)  # exp overflowed: the distribution is 0 there, as lmfit's 1/(inf + 1e-15j)
    safe = jnp.where(big, 1.0, d)
    return jnp.where(big, 0.0, safe / (safe * safe + TINY * TINY))


def bose(x, amplitude=1.0, center=0.0, kt=1.0):
    """Bose-Einstein: ``amplitude / (exp((x - center) / kt) - 1)`` (|denominator| >= 1e-30)."""
    denom = jnp.exp((x - center) / _not_zero(kt)) - 1.0
    denom = jnp.where(jnp.abs(denom) < TINY * TINY, TINY * TINY, denom)
    return amplitude / denom


def fermi(x, amplitude=1.0, center=0.0, kt=1.0):
    """Fermi-Dirac: ``amplitude / (exp((x - center) / kt) + 1)``."""
    return amplitude / (jnp.exp((x - center) / _not_zero(kt)) + 1.0)


def rectangle(x, amplitude=1.0, center1=0.0, sigma1=1.0, center2=1.0, sigma2=1.0, form="linear"):
    """A step up at ``center1`` (width ``sigma1``) and down at ``center2`` (``sigma2``),
    of height ``amplitude``; ``form`` as :func:`step`'s."""
    a1 = (x - center1) / jnp.maximum(TINY, sigma1)
    a2 = (center2 - x) / jnp.maximum(TINY, sigma2)
    if form == "erf":
        out = 0.5 * (erf(a1) + erf(a2))
    elif form == "logistic":
        out = jax.nn.sigmoid(a1) + jax.nn.sigmoid(a2) - 1.0  # = 1 - 1/(1+e^a1) - 1/(1+e^a2)
    elif form in ("atan", "arctan"):
        out = (jnp.arctan(a1) + jnp.arctan(a2)) / math.pi
    elif form == "linear":
        out = 0.5 * (jnp.minimum(1, jnp.maximum(-1, a1)) + jnp.minimum(1, jnp.maximum(-1, a2)))
    else:
        raise ValueError(f"Invalid value ({form!r}) for argument 'form' of rectangle(); should be one of "
                         f"{RECTANGLE_FORMS}")
    return amplitude * out


def parabolic(x, a=0.0, b=0.0, c=0.0):
    """``a x**2 + b x + c``."""
    return a * x**2 + b * x + c


def expsine(x, amplitude=1.0, frequency=1.0, shift=0.0, decay=0.0):
    """``amplitude sin(frequency x + shift) exp(-decay x)``."""
    return amplitude * jnp.sin(x * frequency + shift) * jnp.exp(-x * decay)


def spline_knots(xknots, k=3):
    """Knot vector of ``scipy.interpolate.splrep(xknots, y, k=k)`` (no smoothing):
    the end knots repeated ``k + 1`` times, the interior ones without the
    ``(k - 1) / 2`` next to each end (not-a-knot)."""
    xk = np.asarray(xknots, dtype=float)
    inner = xk[(k + 1) // 2: len(xk) - (k + 1) // 2] if k % 2 else xk[k // 2: len(xk) - k // 2]
    return np.concatenate([[xk[0]] * (k + 1), inner, [xk[-1]] * (k + 1)])


def bspline(x, knots, coefs, k=3):
    """``scipy.interpolate.splev(x, (knots, coefs, k))`` (ext=0: extrapolates
    the end pieces) by de Boor's recursion; ``coefs`` has ``len(knots) - k - 1`` entries."""
    t = np.asarray(knots, dtype=float)
    n = t.size - k - 1
    c = jnp.asarray(coefs)
    x = jnp.asarray(x)
    ell = jnp.clip(jnp.searchsorted(jnp.asarray(t, dtype=x.dtype), x, side="right") - 1, k, n - 1)
    tt = jnp.asarray(t, dtype=x.dtype)
    d = [c[ell - k + j] for j in range(k + 1)]
    for r in range(1, k + 1):
        for j in range(k, r - 1, -1):
            i = ell - k + j
            lo, hi = tt[i], tt[i + k + 1 - r]
            alpha = (x - lo) / jnp.where(hi > lo, hi - lo, 1.0)
            d[j] = (1.0 - alpha) * d[j - 1] + alpha * d[j]
    return d[k]
