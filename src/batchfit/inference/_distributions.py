"""The few distribution functions the intervals need, from the regularized
incomplete beta function (``jax.scipy.special.betainc``): no scipy at run time.

* ``f_cdf(x, d1, d2) = I_{d1 x / (d1 x + d2)}(d1/2, d2/2)``
* ``t_ppf(q, df)``: Student's t quantile, by inverting
  ``P(|T| > t) = I_{df / (df + t^2)}(df/2, 1/2)``
* ``sigma_to_prob``: lmfit's convention (a sigma below 1 is a probability)

Inverses are found by bisection in float64 (70 halvings of [0, 1] leave
an error below 1e-21 in the beta argument).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betainc, erf

from ..problem._compat import x64_context
from ..solver._xla import jit as xla_jit


def sigma_to_prob(sigma):
    """Probability of a sigma level: ``erf(sigma / sqrt(2))``, or ``sigma``
    itself where it is below 1 (as lmfit)."""
    s = np.asarray(sigma, dtype=float)
    with x64_context(np.float64):
        p = np.asarray(erf(jnp.asarray(s / np.sqrt(2.0))))
    return np.where(s < 1, s, p)


def prob_to_sigma(prob):
    """The sigma level of a two-sided probability (inverse of sigma_to_prob)."""
    from jax.scipy.special import erfinv

    with x64_context(np.float64):
        return np.asarray(jnp.sqrt(2.0) * erfinv(jnp.asarray(np.asarray(prob, dtype=float))))


@partial(xla_jit, static_argnums=(3,))
def _betainc_inv(a, b, y, iters=70):
    """x in [0, 1] with betainc(a, b, x) = y (elementwise bisection)."""
    def body(_, lohi):
        lo, hi = lohi
        mid = 0.5 * (lo + hi)
        below = betainc(a, b, mid) < y
        return jnp.where(below, mid, lo), jnp.where(below, hi, mid)

    lo, hi = jax.lax.fori_loop(0, iters, body, (jnp.zeros_like(y), jnp.ones_like(y)))
    return 0.5 * (lo + hi)


def betainc_inv(a, b, y):
    """Inverse of the regularized incomplete beta function in x (float64, numpy out)."""
    a, b, y = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, y)))
    with x64_context(np.float64):
        return np.asarray(_betainc_inv(jnp.asarray(a), jnp.asarray(b), jnp.asarray(y), 70))


def f_cdf(x, d1, d2):
    """CDF of the F distribution (float64, numpy out)."""
    x, d1, d2 = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, d1, d2)))
    u = np.where(x > 0, d1 * x / (d1 * x + d2), 0.0)
    with x64_context(np.float64):
        return np.asarray(betainc(jnp.asarray(d1 / 2), jnp.asarray(d2 / 2), jnp.asarray(u)))


def f_ppf(p, d1, d2):
    """Quantile of the F distribution (float64, numpy out)."""
    d1, d2 = np.asarray(d1, dtype=np.float64), np.asarray(d2, dtype=np.float64)
    u = betainc_inv(d1 / 2, d2 / 2, p)
    with np.errstate(divide="ignore"):
        return d2 * u / (d1 * (1.0 - u))


def t_ppf(q, df):
    """Quantile of Student's t distribution, for q >= 0.5 (float64, numpy out)."""
    q, df = np.broadcast_arrays(np.asarray(q, dtype=np.float64), np.asarray(df, dtype=np.float64))
    if np.any(q < 0.5):
        raise ValueError("t_ppf: only upper quantiles (q >= 0.5) are implemented")
    x = betainc_inv(df / 2, np.full_like(df, 0.5), 2.0 * (1.0 - q))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(df * (1.0 - x) / x)
