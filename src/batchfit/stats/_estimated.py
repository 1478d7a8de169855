"""Statistics of fits that minimise the C-statistic or a robust loss.

The solver and the covariance see only the estimator's residual (see
``problem/_estimator``); what differs from chi-square is done here, on the
host, after the fit:

- the model at the solution (``best_fit``): the residual is no longer
  ``model - data``, so the model is evaluated again;
- for ``cstat``: the information criteria from the Poisson likelihood,
  ``-2 ln L = C - 2 sum(d ln d - d - ln d!)``, ``aic = -2 ln L + 2 k``,
  ``bic = -2 ln L + k ln n``; and the status ``MODEL_NONPOSITIVE`` where
  the model is <= 0 at a point with counts > 0.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaln

from ..problem._compat import x64_context
from ..results._lazy import LazyRows
from ..solver import RESULTS, bucket_size
from ..solver._xla import jit as xla_jit

_gammaln = xla_jit(gammaln)

ROWS = 1 << 14  # datasets per block of host-side work


@partial(xla_jit, static_argnums=(0,))
def _model_rows(fn, vals, ind_fit, ind_shared):
    return jax.vmap(lambda v, i: jnp.asarray(fn(**v, **i, **ind_shared)))(vals, ind_fit)


def _padded(a, size):
    """Rows of ``a`` padded to ``size`` with copies of the last: one compiled
    shape per bucket of batch sizes, as the solver's."""
    return a if a.shape[0] == size else a[np.minimum(np.arange(size), a.shape[0] - 1)]


def _cast(v, dtype):
    a = np.asarray(v)
    return a.astype(dtype) if a.dtype.kind == "f" else a


def model_at(fn, values: dict, indep_fit: dict, indep_shared: dict, shape, dtype, mask=None):
    """The model ``fn`` (B, m) at per-dataset parameter values ``values``
    (name -> (B,)), NaN where masked; evaluated in blocks of datasets."""
    B = shape[0]
    out = np.empty(shape, dtype=dtype)
    shared = {k: jnp.asarray(_cast(v, dtype)) for k, v in indep_shared.items()}
    for i in range(0, B, ROWS):
        s = slice(i, min(i + ROWS, B))
        n = s.stop - s.start
        size = bucket_size(n)
        vals = {k: _padded(np.asarray(v, dtype)[s], size) for k, v in values.items()}
        ind = {k: _padded(_cast(v, dtype)[s], size) for k, v in indep_fit.items()}
        m = np.asarray(_model_rows(fn, vals, ind, shared))[:n]
        out[s] = m.reshape((n,) + m.shape[1:]) if m.ndim > 1 else m[:, None]
    if mask is not None:
        out[~np.asarray(mask, bool)] = np.nan
    return out


def lazy_model(fn, values: dict, indep_fit: dict, indep_shared: dict, shape, dtype, mask=None) -> LazyRows:
    """:func:`model_at`, computed when read (rows of the batch on demand):
    no (B, m) array is held until someone reads it."""
    vals = {k: np.asarray(v) for k, v in values.items()}

    def rows(a, b):
        with x64_context(dtype):
            return model_at(fn, {k: v[a:b] for k, v in vals.items()},
                            {k: np.asarray(v)[a:b] for k, v in indep_fit.items()}, indep_shared,
                            (b - a,) + tuple(shape[1:]), dtype, None if mask is None else mask[a:b])

    return LazyRows(rows, 0, shape[0], shape[1:], dtype)


def poisson_constant(y, mask=None):
    """``2 sum(d ln d - d - ln d!)`` per dataset (B,): ``-2 ln L = C - this``."""
    d = np.asarray(y, np.float64)
    valid = np.isfinite(d) if mask is None else (np.asarray(mask, bool) & np.isfinite(d))
    d = np.where(valid, d, 0.0)
    out = np.empty(d.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        dlnd = np.where(d > 0, d * np.log(np.where(d > 0, d, 1.0)), 0.0)
    with x64_context(np.float64):  # ln d! in float64, whatever the fit's dtype
        for i in range(0, d.shape[0], ROWS):
            di = d[i:i + ROWS]
            lg = np.asarray(_gammaln(_padded(di, bucket_size(len(di))) + 1.0))[:len(di)]
            out[i:i + ROWS] = 2.0 * np.sum(dlnd[i:i + ROWS] - di - lg, axis=-1)
    return out


def cstat_criteria(cstat, y, mask, ndata, nvarys):
    """``(aic, bic)`` from the Poisson likelihood (module docstring)."""
    neg2ll = np.asarray(cstat, np.float64) - poisson_constant(y, mask)
    n = np.maximum(np.asarray(ndata, np.float64), 1)
    return neg2ll + 2 * nvarys, neg2ll + np.log(n) * nvarys


def nonpositive(best, y, mask=None):
    """Per dataset: is the model <= 0 (or not finite) at a valid point whose
    counts are > 0?"""
    valid = np.isfinite(y) if mask is None else (np.asarray(mask, bool) & np.isfinite(y))
    with np.errstate(invalid="ignore"):
        bad = valid & (np.asarray(y) > 0) & ~(np.asarray(best) > 0)
    return bad.reshape(bad.shape[0], -1).any(axis=1)


def mark_nonpositive(status, errorbars, bad):
    """Status ``MODEL_NONPOSITIVE`` (and no error bars) where ``bad``: in place."""
    status[bad] = RESULTS.MODEL_NONPOSITIVE
    errorbars[bad] = False


def finish(result, est, fn, values, indep_fit, indep_shared, y, mask, dtype, nvarys):
    """A :class:`~batchfit.FitResult` of independent fits under cstat or a
    loss, in place: ``best_fit`` (returned; computed when read), the
    estimator in ``extras``; for cstat the likelihood's aic/bic,
    ``MODEL_NONPOSITIVE`` (the model checked in blocks of datasets, none
    kept) and ``cstat``. ``values``: the model's parameters, name -> (B,)."""
    a = result._a
    best = lazy_model(fn, values, indep_fit, indep_shared, y.shape, dtype, mask)
    result.extras.update(best_fit=best, statistic=est.statistic, loss=est.loss, f_scale=est.f_scale)
    if est.statistic == "cstat":
        a["aic"], a["bic"] = cstat_criteria(a["chisqr"], y, mask, a["ndata"], nvarys)
        a["status"], a["errorbars"] = a["status"].copy(), a["errorbars"].copy()
        B = y.shape[0]
        bad = np.zeros(B, bool)
        for i in range(0, B, ROWS):
            j = min(i + ROWS, B)
            bad[i:j] = nonpositive(best.rows(i, j), y[i:j], None if mask is None else mask[i:j])
        mark_nonpositive(a["status"], a["errorbars"], bad)
        result.extras["cstat"] = a["chisqr"]
    return best
