"""What a fit minimises: chi-square, Poisson's C-statistic or a robust loss.

Every estimator is written as a transformed residual ``r~`` whose sum of
squares is the statistic, so the solver's LM (acceptance, convergence) is
used unchanged:

- ``chi2``: ``r = (m - d) w``.
- ``cstat`` (Cash's statistic as XSPEC and Sherpa define ``cstat``):
  ``C = 2 sum(m - d + d ln(d/m))``, with ``d ln(d/m) = 0`` where ``d = 0``.
  Deviance residuals ``r = (m - d) sqrt(2 phi(t) / d)``, ``t = (m - d)/d``,
  ``phi(t) = (t - log1p(t)) / t^2`` (a series near ``t = 0``, so value and
  gradient are smooth at ``m = d``); ``r = sqrt(2 m)`` where ``d = 0``.
  ``sum r^2 = C`` exactly; LM on them is a Fisher-scored Newton method for
  the Poisson likelihood (Gpufit's MLE estimator, in residual form).
- a robust ``loss`` (scipy.optimize.least_squares' ``rho``, ``f_scale``):
  ``f = (m - d) w``, ``z = (f / f_scale)^2``, ``r~ = f sqrt(rho(z) / z)``,
  so ``sum r~^2 = 2 cost = f_scale^2 sum rho(z)``: the same cost and
  optimum as scipy's.

For the statistics (``stats=True``) the residual keeps its value but gets
the Jacobian whose ``JᵀJ`` is the wanted curvature: for ``cstat`` the
Fisher information ``sum J_m J_mᵀ / m`` (so the covariance is its inverse);
for a loss scipy's Gauss-Newton Hessian of the cost, ``Jᵀ diag(rho' + 2 z
rho'') J`` (clipped at eps, as scipy's curve_fit computes ``pcov``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jax import lax

STATISTICS = ("chi2", "cstat")
LOSSES = ("linear", "soft_l1", "huber", "cauchy", "arctan")
_SMALL = 0.1  # |t| (cstat) or z (losses) below which a series is used


class Estimator(NamedTuple):
    """Hashable (static) choice of statistic and loss."""

    statistic: str = "chi2"
    loss: str = "linear"
    f_scale: float = 1.0

    @property
    def plain(self) -> bool:
        return self.statistic == "chi2" and self.loss == "linear"


CHI2 = Estimator()


def make_estimator(statistic="chi2", loss="linear", f_scale=1.0, *, weights=None, label="fit"):
    """Validate the user's choice (before anything compiles)."""
    if statistic not in STATISTICS:
        raise ValueError(f"{label}: statistic must be one of {STATISTICS}, got {statistic!r}")
    if loss not in LOSSES:
        raise ValueError(f"{label}: loss must be one of {LOSSES}, got {loss!r}")
    if isinstance(f_scale, (bool, np.bool_)) or not isinstance(f_scale, (int, float, np.integer, np.floating)):
        raise TypeError(f"{label}: f_scale must be a positive number, got {f_scale!r}")
    f_scale = float(f_scale)
    if not (math.isfinite(f_scale) and f_scale > 0):
        raise ValueError(f"{label}: f_scale must be positive and finite, got {f_scale!r}")
    if statistic == "cstat":
        if loss != "linear":
            raise ValueError(f"{label}: statistic='cstat' is a likelihood; it takes no robust loss "
                             f"(got loss={loss!r})")
        if weights is not None:
            raise ValueError(f"{label}: statistic='cstat' fits Poisson counts, whose variance is the "
                             "model itself: weights make no sense there, leave them out")
    return Estimator(statistic, loss, f_scale)


def check_counts(y, label="fit"):
    """cstat data must be counts: finite values >= 0 (NaN are the data
    preparation's business). Raises before anything compiles."""
    a = np.asarray(y)
    with np.errstate(invalid="ignore"):
        neg = np.nonzero(a < 0)
    if neg[0].size:
        where = tuple(int(i[0]) for i in neg)
        raise ValueError(f"{label}: statistic='cstat' needs counts >= 0, but data{list(where)} = "
                         f"{float(a[where])} (fit such data with the default statistic='chi2')")


# ---------------------------------------------------------------- cstat
def _phi(t):
    """``(t - log1p(t)) / t^2``, smooth with finite derivatives at t = 0.

    Near 0 it is summed through ``u = t / (2 + t)``: ``log1p(t) = 2
    atanh(u)``, so ``phi = 1/(2+t) - 2 t/(2+t)^3 sum_k u^(2k)/(2k+3)``."""
    small = jnp.abs(t) < _SMALL
    ts = jnp.where(small, t, 0.0)
    s = 2.0 + ts
    u2 = (ts / s) ** 2
    series = 1.0 / 13.0
    for k in (11.0, 9.0, 7.0, 5.0, 3.0):
        series = 1.0 / k + u2 * series
    near = 1.0 / s - 2.0 * ts / s ** 3 * series
    tb = jnp.where(small, 1.0, t)
    far = (tb - jnp.log1p(tb)) / (tb * tb)
    return jnp.where(small, near, far)


def cstat_residual(m, d):
    """Deviance residuals (sign of ``m - d``): ``sum r^2 = C``. NaN where
    the model is <= 0 and d > 0 (or < 0 and d = 0): the likelihood is not
    defined there, so the solver refuses such points."""
    pos = d > 0
    dd = jnp.where(pos, d, 1.0)
    t = (m - d) / dd
    r_pos = (m - d) * jnp.sqrt(2.0 * _phi(t) / dd)
    r_pos = jnp.where(m > 0, r_pos, jnp.nan)
    mz = jnp.where(m > 0, m, 1.0)
    r_zero = jnp.where(m > 0, jnp.sqrt(2.0 * mz), jnp.where(m == 0, 0.0, jnp.nan))
    return jnp.where(pos, r_pos, r_zero)


def cstat_fisher(m, d):
    """:func:`cstat_residual`'s value with the Jacobian ``J_m / sqrt(m)``:
    ``JᵀJ`` is the Poisson Fisher information."""
    r = lax.stop_gradient(cstat_residual(m, d))
    m0 = lax.stop_gradient(m)
    return r + (m - m0) / jnp.sqrt(jnp.where(m0 > 0, m0, jnp.finfo(m0.dtype).tiny))


# ---------------------------------------------------------------- losses
def _rho_over_z(loss, z):
    """``rho(z) / z`` (1 at z = 0), smooth, finite derivatives."""
    if loss == "soft_l1":
        return 2.0 / (jnp.sqrt(1.0 + z) + 1.0)
    if loss == "huber":
        zb = jnp.where(z > 1.0, z, 1.0)
        return jnp.where(z > 1.0, (2.0 * jnp.sqrt(zb) - 1.0) / zb, 1.0)
    small = z < _SMALL
    zs = jnp.where(small, z, 0.0)
    zb = jnp.where(small, 1.0, z)
    if loss == "cauchy":  # log1p(z)/z = sum (-z)^k / (k+1)
        near = 0.0
        for k in range(14, -1, -1):
            near = 1.0 / (k + 1) - zs * near
        return jnp.where(small, near, jnp.log1p(zb) / zb)
    if loss == "arctan":  # arctan(z)/z = sum (-z^2)^k / (2k+1)
        near = 0.0
        for k in range(8, -1, -1):
            near = 1.0 / (2 * k + 1) - zs * zs * near
        return jnp.where(small, near, jnp.arctan(zb) / zb)
    raise ValueError(f"unknown loss {loss!r}")


def _rho_curvature(loss, z):
    """scipy's ``rho'(z) + 2 z rho''(z)`` (the cost's second derivative in f)."""
    if loss == "soft_l1":
        return (1.0 + z) ** -1.5
    if loss == "huber":
        return jnp.where(z > 1.0, 0.0, 1.0)
    if loss == "cauchy":
        return (1.0 - z) / (1.0 + z) ** 2
    if loss == "arctan":
        return (1.0 - 3.0 * z * z) / (1.0 + z * z) ** 2
    raise ValueError(f"unknown loss {loss!r}")


def loss_residual(loss, f, f_scale, stats=False):
    """``r~ = f sqrt(rho(z)/z)``; with ``stats`` its value with the Jacobian
    ``sqrt(max(rho' + 2 z rho'', eps)) J_f`` (scipy's scaling)."""
    z = (f / f_scale) ** 2
    rt = f * jnp.sqrt(_rho_over_z(loss, z))
    if not stats:
        return rt
    z0, f0 = lax.stop_gradient(z), lax.stop_gradient(f)
    eps = jnp.finfo(f.dtype).eps
    scale = jnp.sqrt(jnp.maximum(_rho_curvature(loss, z0), eps))
    return lax.stop_gradient(rt) + scale * (f - f0)


def transform(est: Estimator, f, m=None, d=None, stats=False):
    """The estimator's residual from the plain one ``f`` (for cstat from the
    model ``m`` and counts ``d``)."""
    if est.statistic == "cstat":
        return cstat_fisher(m, d) if stats else cstat_residual(m, d)
    if est.loss == "linear":
        return f
    return loss_residual(est.loss, f, jnp.asarray(est.f_scale, f.dtype), stats)
