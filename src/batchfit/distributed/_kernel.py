"""One block of fits -> one packed float64 array (the unit of work of a dask chunk).

A block is ``y`` of shape (N, m) with its independent variables, starts and
bounds. Its results are packed into one array of shape (N, width(n)) so that
a dask chunk maps to one output chunk (``map_blocks`` / ``apply_ufunc``
return a single array; the fields are sliced from it lazily):

``[values (n) | stderr (n) | covariance (n*n) | status | chisqr | redchi | nfev]``.

A fit without data (every point NaN under ``skipna``) gets NaN values and
covariance, as xarray's ``curvefit`` gives it, and keeps its ``NO_DATA`` status.
"""

from __future__ import annotations

import pickle
import threading
import warnings

import numpy as np

from ..fitting._curve_fit import curve_fit
from ..fitting._curve_fit_out import OptimizeWarning
from ..fitting._model import Model
from ..solver import RESULTS

STATS = ("status", "chisqr", "redchi", "nfev")
_SEEN: dict = {}  # pickled function -> the first such object in this process
# warnings.catch_warnings is process-wide, not per thread: under dask's threaded scheduler two
# blocks' contexts would interleave and leak the filter. One block fits at a time per process
# (batchfit already spreads one batch over every core with its own threads).
ONE_AT_A_TIME = threading.Lock()


def canonical(func):
    """The first object in this process equal to ``func`` in pickled form.

    Every dask task deserializes its function anew; batchfit's compiled code
    is keyed on the function object, so without this each chunk would trace
    and compile again (about 2 s a chunk). Keyed by cloudpickle's bytes.
    """
    try:
        import cloudpickle

        key = cloudpickle.dumps(func)
    except (ImportError, TypeError, AttributeError, pickle.PicklingError):  # no cloudpickle (no dask), or an unpicklable object: use it as it is
        return func
    if len(_SEEN) >= 64:
        _SEEN.clear()
    return _SEEN.setdefault(key, func)


def width(n: int) -> int:
    """Columns of the packed result of a fit with ``n`` parameters."""
    return 2 * n + n * n + len(STATS)


def unpack(packed, n: int) -> dict:
    """Fields of a packed array (numpy or dask) of shape (..., width(n))."""
    out = {"values": packed[..., :n], "stderr": packed[..., n:2 * n],
           "covar": packed[..., 2 * n:2 * n + n * n].reshape(packed.shape[:-1] + (n, n))}
    for k, name in enumerate(STATS):
        out[name] = packed[..., 2 * n + n * n + k]
    return out


def pack_fields(values, stderr, covar, stats):
    """(N, n) values and stderr, (N, n, n) covariance and the (N,) ``STATS`` -> (N, width(n))."""
    N, n = values.shape
    status = np.asarray(stats["status"], dtype=float).reshape(N)
    no_data = status == int(RESULTS.NO_DATA)
    values = np.where(no_data[:, None], np.nan, values)
    covar = np.where(no_data[:, None, None], np.nan, covar)
    stats = [status] + [np.asarray(stats[k], dtype=float).reshape(N) for k in STATS[1:]]
    return np.concatenate([values, stderr, covar.reshape(N, n * n), np.stack(stats, axis=1)], axis=1)


def fit_block(func, names, y, x, p0, lb, ub, *, skipna=True, kwargs=None):
    """Fit the N rows of ``y`` (N, m); returns the packed (N, width(n)) array.

    Args:
      func: ``f(x, *params)`` (a JAX function) or a :class:`batchfit.Model`.
      names: the n parameter names, in the order of the packed columns.
      y: (N, m) data; NaN points are left out when ``skipna``.
      x: independent variable: (m,) or (k, m) shared, (N, m) or (N, k, m) per fit;
        for a Model, a dict of its independent variables.
      p0, lb, ub: (N, n) starts and bounds.
      kwargs: passed on to :func:`batchfit.curve_fit` or :meth:`batchfit.Model.fit`.
    """
    kwargs = dict(kwargs or {})
    func = canonical(func)
    n = len(names)
    with ONE_AT_A_TIME, warnings.catch_warnings():  # a failed fit is reported by its status
        warnings.simplefilter("ignore", OptimizeWarning)
        if isinstance(func, Model):
            params = func.make_params()
            for j, nm in enumerate(names):
                params[nm].set(value=column(p0[:, j]), min=column(lb[:, j]), max=column(ub[:, j]))
            kwargs.setdefault("nan_policy", "omit" if skipna else "propagate")
            res = func.fit(y, params, **x, **kwargs)
            values = np.stack([np.asarray(res.params[nm].value, float) for nm in names], axis=1)
            stderr = np.stack([as_float(res.params[nm].stderr, len(y)) for nm in names], axis=1)
            covar = _model_covar(res, names, len(y))
        else:
            popt, pcov, info, _, _ = curve_fit(
                func, x, y, p0=p0, bounds=(lb, ub), full_output=True, check_finite=False,
                nan_policy="omit" if skipna else None, **kwargs)
            res = info["result"]
            values, covar = popt, pcov
            stderr = np.stack([as_float(res.params[nm].stderr, len(y)) for nm in names], axis=1)
    N = len(y)
    return pack_fields(values.reshape(N, n), stderr.reshape(N, n), covar.reshape(N, n, n),
                       {k: getattr(res, k) for k in STATS})


def column(a):
    """A column of per-fit values: a scalar when all are equal (fewer per-fit arrays)."""
    a = np.asarray(a, dtype=float)
    first = a.flat[0] if a.size else np.nan
    return float(first) if a.size and np.all((a == first) | (np.isnan(a) & np.isnan(first))) else a


def as_float(a, N):
    return np.broadcast_to(np.asarray(np.nan if a is None else a, dtype=float), (N,))


def _model_covar(res, names, N):
    """(N, n, n) covariance over ``names`` from a Model fit's (N, nfree, nfree) one."""
    n = len(names)
    out = np.full((N, n, n), np.nan)
    cov = getattr(res, "covar", None)
    if cov is None:
        return out
    cov = np.asarray(cov, dtype=float).reshape(N, *np.shape(cov)[-2:])
    free = list(res.var_names)
    idx = [(j, free.index(nm)) for j, nm in enumerate(names) if nm in free]
    for a, fa in idx:
        for b, fb in idx:
            out[:, a, b] = cov[:, fa, fb]
    return out
