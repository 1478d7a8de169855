"""lmfit's confidence-interval functions, around batchfit's batched ones.

``conf_interval(minimizer, result, ...)`` (lmfit's signature) and
``conf_interval(result, ...)`` (batchfit's) are one function;
``conf_interval2d`` fits its whole grid in one batched call; ``f_compare``,
``copy_vals`` and ``restore_vals`` are lmfit's helpers.
"""

from __future__ import annotations

import numpy as np

from ._conf_interval import conf_interval as _conf_interval
from ._distributions import f_cdf
from ._errors import CONF_ERR_NVARS, CONF_ERR_STDERR, MinimizerException


def _is_minimizer(obj):
    return hasattr(obj, "userfcn") and hasattr(obj, "leastsq")


def _bad_stderr(s):
    if s is None:
        return True
    try:
        return not np.all(np.isfinite(np.asarray(s, dtype=float)))
    except (TypeError, ValueError):
        return True


def _check_params(result, p_names):
    """lmfit's checks on ``result.params`` of a single fit: sensible standard
    errors of the parameters asked for, at least two varying parameters."""
    if getattr(result, "batched", False) or not hasattr(result, "params"):
        return
    params = result.params
    names = [n for n in params if params[n].vary] if p_names is None else (
        [p_names] if isinstance(p_names, str) else list(p_names))
    for n in names:
        if n in params and params[n].vary and _bad_stderr(params[n].stderr):
            raise MinimizerException(CONF_ERR_STDERR)
    if sum(1 for p in params.values() if p.vary) < 2:
        raise MinimizerException(CONF_ERR_NVARS)


def conf_interval(minimizer_or_result, *args, **kws):
    """Profile-likelihood confidence intervals (see ``_conf_interval``).

    Called as lmfit's ``conf_interval(minimizer, result, p_names=None,
    sigmas=None, trace=False, maxiter=..., verbose=False, prob_func=None)``
    or as ``conf_interval(result, ...)``: the minimizer is not needed, the
    result carries its problem. ``min_rel_change`` is accepted (the search
    converges on ``rtol``).
    """
    if _is_minimizer(minimizer_or_result):
        if args:
            result, args = args[0], args[1:]
        else:
            result = kws.pop("result")
    else:
        result = minimizer_or_result
    kws.pop("min_rel_change", None)
    p_names = args[0] if args else kws.get("p_names")
    _check_params(result, p_names)
    return _conf_interval(result, *args, **kws)


def f_compare(best_fit, new_fit):
    """lmfit's F-test probability of ``new_fit`` (some parameters fixed)
    against ``best_fit``."""
    nfree = best_fit.nfree
    nfix = best_fit.nvarys - new_fit.nvarys
    dchi = new_fit.chisqr / best_fit.chisqr - 1.0
    prob = f_cdf(np.asarray(dchi * nfree / nfix, dtype=float), nfix, nfree)
    return float(prob) if prob.ndim == 0 else prob


def copy_vals(params):
    """``{name: (value, stderr)}`` of every parameter."""
    return {k: (params[k].value, params[k].stderr) for k in params}


def restore_vals(tmp_params, params):
    """Put values and standard errors saved by :func:`copy_vals` back."""
    for k in params:
        params[k].value, params[k].stderr = tmp_params[k]


def _chisqr(minimizer, params, values):
    """The objective's sum of squares at ``params`` with ``values`` put in."""
    p = params.copy()
    for k, v in values.items():
        p[k].set(value=float(v), vary=False)
    r = np.asarray(minimizer.userfcn(p, *minimizer.userargs, **minimizer.userkws))
    return float(np.sum(np.abs(r) ** 2))


def conf_interval2d(minimizer, result, x_name, y_name, nx=10, ny=10, limits=None, prob_func=None,
                    nsigma=5, chi2_out=False):
    """lmfit's 2-D confidence region: ``x_name`` and ``y_name`` held on an
    ``nx`` by ``ny`` grid, every other free parameter refitted (all grid
    points in one batched fit).

    Returns ``(x, y, grid)``; ``grid`` (ny, nx) is the number of standard
    deviations ``sqrt((chi2 - chi2_best) / redchi)``, or the chi-square with
    ``chi2_out=True``. ``limits`` is ``((x_upper, x_lower), (y_upper,
    y_lower))``; by default ``nsigma`` standard errors either side.
    """
    if prob_func is not None:
        raise DeprecationWarning("conf_interval2d: 'prob_func' has no effect (as in lmfit >= 1.2)")
    if not _is_minimizer(minimizer):
        raise TypeError("conf_interval2d: the first argument is the Minimizer that made the result")
    params = result.params
    for n in (x_name, y_name):
        if n not in params:
            raise KeyError(f"conf_interval2d: no parameter {n!r}")
    xp, yp = params[x_name], params[y_name]
    if limits is None:
        for p in (xp, yp):
            if _bad_stderr(p.stderr):
                raise MinimizerException(CONF_ERR_STDERR)
        xu, xl = xp.value + nsigma * xp.stderr, xp.value - nsigma * xp.stderr
        yu, yl = yp.value + nsigma * yp.stderr, yp.value - nsigma * yp.stderr
    else:
        (xu, xl), (yu, yl) = limits
    x_points = np.linspace(xl, xu, nx)
    y_points = np.linspace(yl, yu, ny)
    gx, gy = np.meshgrid(x_points, y_points)
    grid_pars = params.copy()
    m = gx.size
    for name, par in grid_pars.items():
        if par.expr is None:
            par.value = np.full(m, float(params[name].value))
    grid_pars[x_name].set(value=gx.ravel(), vary=False)
    grid_pars[y_name].set(value=gy.ravel(), vary=False)
    if any(p.vary and p.expr is None for p in grid_pars.values()):
        chi2 = np.asarray(minimizer.leastsq(params=grid_pars).chisqr, dtype=float)
    else:  # nothing left to refit: the chi-square at each grid point
        chi2 = np.array([_chisqr(minimizer, params, {x_name: u, y_name: w})
                         for u, w in zip(gx.ravel(), gy.ravel())])
    chi2 = chi2.reshape(gx.shape)
    if not chi2_out:
        chi0 = min(float(result.chisqr), float(np.nanmin(chi2)))
        chi2 = np.sqrt((chi2 - chi0) / float(result.redchi))
    return x_points, y_points, chi2
