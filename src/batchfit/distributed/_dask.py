"""Lazy fits of dask arrays: one batched fit per chunk of datasets, on any dask scheduler.

Nothing is computed until the results are: each chunk of rows of ``ydata``
(N, m) becomes one task (``map_blocks``) that fits its rows where the chunk
lives (a thread, a process, a dask.distributed worker using its own devices)
and returns a packed block; the fields are lazy slices of that one array.
No chunk's data passes through the client.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..fitting._model import Model
from ._kernel import fit_block, unpack, width
from ._names import param_names_of


class LazyFit(NamedTuple):
    """Results of :func:`fit_dask`, each a dask array with the chunks of ``ydata``'s rows."""

    values: object   # (N, n) fitted values, in the order of ``names``
    covar: object    # (N, n, n) covariance (inf where it cannot be estimated, as scipy's)
    stderr: object   # (N, n) standard errors
    status: object   # (N,) batchfit.RESULTS codes
    chisqr: object   # (N,)
    redchi: object   # (N,)
    nfev: object     # (N,)
    names: tuple     # the n parameter names


def fit_dask(func, ydata, x, p0=None, bounds=None, *, param_names=None, skipna=True, kwargs=None):
    """Fit every row of the dask array ``ydata`` (N, m) lazily, chunk by chunk.

    Args:
      func: ``f(x, *params)`` written with ``jax.numpy`` or a :class:`batchfit.Model`.
      ydata: dask array (N, m) (a numpy array is wrapped as one chunk); its
        row chunks are the units of work; the points axis is made one chunk.
      x: independent variable shared by all fits ((m,), or (k, m) for several);
        for a Model, a dict of its independent variables.
      p0: starts, (n,) or a dask/numpy array (N, n); default 1 (a Model's
        ``make_params()``).
      bounds: ``(lower, upper)``, each scalar or (n,); default unbounded
        (a Model's parameter bounds).
      param_names: parameter names when ``func``'s signature cannot tell.
      skipna: leave NaN points out (an all-NaN row gets ``NO_DATA``).
      kwargs: options for :func:`batchfit.curve_fit` or :meth:`batchfit.Model.fit`.

    Returns:
      :class:`LazyFit` of dask arrays; call ``dask.compute(*fit[:7])`` (or
      ``.compute()`` on one) on whichever scheduler is active.
    """
    import dask.array as da

    if not hasattr(ydata, "chunks") or not hasattr(ydata, "map_blocks"):
        ydata = da.from_array(np.asarray(ydata), chunks=-1)
    if ydata.ndim != 2:
        raise ValueError(f"fit_dask: ydata must have shape (N, m), got {ydata.shape}")
    names, args = param_names_of(func, param_names)
    n = len(names)
    x = _indep(func, x, ydata.shape[1])
    y = ydata.rechunk({1: -1})
    rows = y.chunks[0]
    lb, ub = _bounds(func, names, bounds)
    start = _starts(func, names, args, p0, lb, ub)
    if start.ndim == 2:
        if start.shape != (y.shape[0], n):
            raise ValueError(f"fit_dask: p0 has shape {start.shape}, expected ({n},) or ({y.shape[0]}, {n})")
        start = start.rechunk((rows, n)) if hasattr(start, "rechunk") else da.from_array(start, chunks=(rows, n))
        packed = da.map_blocks(_block, y, start, dtype=np.float64, chunks=(rows, (width(n),)),
                               fn=func, names=tuple(names), x=x, lb=lb, ub=ub, skipna=skipna,
                               kwargs=kwargs, meta=np.empty((0, 0)))
    else:
        packed = da.map_blocks(_block, y, None, dtype=np.float64, chunks=(rows, (width(n),)),
                               fn=func, names=tuple(names), x=x, lb=lb, ub=ub, skipna=skipna,
                               kwargs=kwargs, p0=start, meta=np.empty((0, 0)))
    f = unpack(packed, n)
    return LazyFit(f["values"], f["covar"], f["stderr"], f["status"].astype(np.int32), f["chisqr"],
                   f["redchi"], f["nfev"].astype(np.int64), tuple(names))


def _block(y, start, *, fn, names, x, lb, ub, skipna, kwargs, p0=None):
    N, n = len(y), len(names)
    p = np.broadcast_to(np.asarray(start if start is not None else p0, dtype=float), (N, n))
    return fit_block(fn, names, np.asarray(y), x, p, np.broadcast_to(lb, (N, n)),
                     np.broadcast_to(ub, (N, n)), skipna=skipna, kwargs=kwargs)


def _indep(func, x, m):
    """Check the independent variable(s) against the m points, before any task runs."""
    if isinstance(func, Model):
        if not isinstance(x, dict):
            if len(func.independent_vars) != 1:
                raise TypeError(f"fit_dask: {func!r} has independent variables {func.independent_vars}: "
                                "pass x as a dict of them")
            x = {func.independent_vars[0]: x}
        missing = [v for v in func.independent_vars if v not in x]
        if missing:
            raise ValueError(f"fit_dask: independent variable(s) {missing} of {func!r} not given in x")
        items = x.items()
    else:
        items = [("x", x)]
    for name, v in items:
        v = np.asarray(v)
        if v.ndim == 0 or v.shape[-1] != m:
            raise ValueError(f"fit_dask: independent variable {name!r} has shape {v.shape}; its last axis "
                             f"must have the m = {m} points of ydata; it is shared by every fit")
    return x


def _bounds(func, names, bounds):
    n = len(names)
    if bounds is None:
        if isinstance(func, Model):
            made = func.make_params()
            return (np.array([made[p].min for p in names], float), np.array([made[p].max for p in names], float))
        return np.full(n, -np.inf), np.full(n, np.inf)
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise ValueError("fit_dask: bounds must be a pair (lower, upper) of scalars or (n,) sequences")
    out = []
    for label, b in zip(("lower", "upper"), bounds):
        b = np.asarray(b, dtype=float)
        if b.shape not in ((), (n,)):
            raise ValueError(f"fit_dask: {label} bound has shape {b.shape}, expected () or ({n},)")
        out.append(np.broadcast_to(b, (n,)))
    if np.any(out[0] >= out[1]):
        j = int(np.argmax(out[0] >= out[1]))
        raise ValueError(f"fit_dask: bounds of {names[j]!r}: lower {out[0][j]} must be below upper {out[1][j]}")
    return out[0], out[1]


def _starts(func, names, args, p0, lb, ub):
    n = len(names)
    if p0 is not None:
        if hasattr(p0, "chunks"):
            return p0
        p0 = np.asarray(p0, dtype=float)
        if p0.ndim == 1 and p0.shape != (n,):
            raise ValueError(f"fit_dask: p0 has shape {p0.shape}, expected ({n},) or (N, {n})")
        if not np.all(np.isfinite(p0)):
            raise ValueError("fit_dask: p0 contains NaN or inf")
        return p0
    if isinstance(func, Model):
        made = func.make_params()
        return np.array([made[p].value if made[p].value is not None else 1.0 for p in names], float)
    start = np.array([args[p].default if p in args and args[p].default is not args[p].empty else 1.0
                      for p in names], float)
    lf, uf = np.isfinite(lb), np.isfinite(ub)
    feas = np.where(lf & uf, 0.5 * (np.where(lf, lb, 0) + np.where(uf, ub, 0)),
                    np.where(lf, lb + 1, np.where(uf, ub - 1, 1.0)))
    return np.where((start < lb) | (start > ub), feas, start)
