"""``DataArray.batchfit.curvefit``: xarray's ``curvefit``, every pixel in one batched fit.

``import batchfit.xarray`` registers the accessor. The arguments and the
returned Dataset are those of :meth:`xarray.DataArray.curvefit`
(``curvefit_coefficients`` over ``param``, ``curvefit_covariance`` over
``cov_i``/``cov_j``), plus batchfit's per-fit ``curvefit_stderr``,
``curvefit_status`` (:class:`batchfit.RESULTS` codes), ``curvefit_chisqr``,
``curvefit_redchi`` and ``curvefit_nfev``. Dask-backed data stays lazy: each
chunk along the preserved dimensions is one batched fit, run where the
chunk lives, on whatever dask scheduler computes the result.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..distributed._kernel import fit_block, unpack, width
from ..distributed._names import param_names_of
from ..fitting._model import Model
from ._args import fit_coords, starts_and_bounds
from ._groups import expand, fit_group_block, group_dims

OUT = "__batchfit_out"


def curvefit(obj, coords, func, reduce_dims=None, skipna=True, p0=None, bounds=None,
             param_names=None, errors="raise", kwargs=None, *, shared=None, shared_dims=None):
    """Fit ``func`` along ``coords`` at every other point of ``obj``: xarray's curvefit, batched.

    Args:
      obj: the DataArray (numpy- or dask-backed).
      coords: coordinate name(s) or DataArray(s), the independent variable(s);
        several are stacked: ``func`` then gets ``x`` of shape (k, m).
      func: ``f(x, *params)`` written with ``jax.numpy``, or a
        :class:`batchfit.Model` (its independent variables take the coords
        in order, or one of them the stacked ``x``).
      reduce_dims: further dimensions to fit over (flattened with the coords').
      skipna: leave NaN points out (else a fit with NaN gets a failure status).
      p0, bounds: per parameter a start, or a ``(lower, upper)`` pair; scalars
        or DataArrays over the preserved dimensions.
      param_names: the parameter names when ``func``'s signature cannot tell.
      errors: accepted for xarray compatibility: a failed fit never raises,
        it gets its status (and ``errors="raise"`` is not an error either).
      kwargs: options for :func:`batchfit.curve_fit` (e.g. ``maxfev``) or
        :meth:`batchfit.Model.fit`.
      shared: with a Model: parameter names shared by all datasets along
        ``shared_dims`` (a group fit; the others stay per dataset).
      shared_dims: the preserved dimension(s) along which ``shared`` are shared.

    Returns:
      A Dataset (lazy for dask-backed data) over the preserved dimensions.
    """
    if errors not in ("raise", "ignore"):
        raise ValueError(f'batchfit curvefit: errors must be "raise" or "ignore", got {errors!r}')
    coords_, reduce, preserved = fit_coords(obj, coords, reduce_dims)
    names, args = param_names_of(func, param_names)
    starts, lower, upper = starts_and_bounds(func, names, args, p0, bounds, preserved)
    groups = group_dims(func, shared, shared_dims, preserved, names)
    core = list(groups) + reduce
    n, k = len(names), len(coords_)
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError("batchfit curvefit: kwargs must be a dict of options")
    if not isinstance(func, Model) and isinstance(func, type):
        raise TypeError("batchfit curvefit: func must be a function or a batchfit Model instance")
    if obj.chunks is not None:
        obj = obj.chunk({d: -1 for d in core})
    params = [starts[p] for p in names] + [lower[p] for p in names] + [upper[p] for p in names]
    if groups:
        coords_ = [expand(c, obj, groups) for c in coords_]
        params = [expand(p, obj, groups) if isinstance(p, xr.DataArray) else p for p in params]

    def block(y, *rest):
        return _fit(func, names, y, rest[:k], rest[k:], len(core), len(groups), skipna, kwargs,
                    shared)

    packed = xr.apply_ufunc(
        block, obj, *coords_, *params,
        input_core_dims=[core] * (1 + k) + [groups if isinstance(p, xr.DataArray) else []
                                            for p in params],
        output_core_dims=[list(groups) + [OUT]], exclude_dims=set(reduce),
        dask="parallelized", output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": {OUT: width(n)}})
    return _dataset(packed, names, obj.attrs)


def _fit(func, names, y, coords, params, ncore, ngroup, skipna, kwargs, shared):
    """The apply_ufunc kernel: one block (*batch, *core) -> (*batch, width)."""
    batch = y.shape[:y.ndim - ncore]
    N, m = int(np.prod(batch, dtype=int)), int(np.prod(y.shape[len(batch) + ngroup:], dtype=int))
    if ngroup:
        return fit_group_block(func, names, y, coords, params, batch, ncore, ngroup, skipna, kwargs,
                               shared)
    y2 = np.asarray(y, dtype=None).reshape(N, m)
    xs = [_coord(_lead(c, y.ndim), batch, N, m) for c in coords]
    per_fit = any(x.ndim == 2 for x in xs)
    xs = [np.broadcast_to(x, (N, m)) if per_fit else x for x in xs]
    p = [np.broadcast_to(_lead(np.asarray(a, dtype=float), len(batch)), batch).reshape(N) for a in params]
    n = len(names)
    p0, lb, ub = (np.stack(p[i * n:(i + 1) * n], axis=1) for i in range(3))
    if isinstance(func, Model):
        x = _model_indep(func, xs, per_fit)
    else:
        x = xs[0] if len(xs) == 1 else np.stack(xs, axis=-2)
        if len(xs) > 1 and not per_fit and len(xs) == N:  # (k, m) with k == N reads as per fit
            x = np.broadcast_to(x, (N,) + x.shape)
    packed = fit_block(func, names, y2, x, p0, lb, ub, skipna=skipna, kwargs=kwargs)
    return packed.reshape(batch + (packed.shape[-1],))


def _lead(a, ndim):
    """``a`` with size-1 axes in front up to ``ndim`` axes (apply_ufunc drops absent dims)."""
    a = np.asarray(a)
    return a.reshape((1,) * (ndim - a.ndim) + a.shape)


def _coord(c, batch, N, m):
    """A coordinate block -> (m,) shared by the block's fits, or (N, m) per fit."""
    c = np.asarray(c)
    lead = c.shape[:len(batch)]
    if all(s == 1 for s in lead):
        return c.reshape(m)
    return np.broadcast_to(c, batch + c.shape[len(batch):]).reshape(N, m)


def _model_indep(model, xs, per_fit):
    iv = model.independent_vars
    if len(iv) == len(xs):
        return dict(zip(iv, xs))
    if len(iv) == 1:
        return {iv[0]: np.stack(xs, axis=-2)}
    raise ValueError(f"batchfit curvefit: {model!r} has independent variables {iv} but {len(xs)} "
                     "coords were given")


def _dataset(packed, names, attrs):
    """The packed DataArray (..., OUT) -> xarray curvefit's Dataset, plus batchfit's fields."""
    n = len(names)
    dims = [d for d in packed.dims if d != OUT]
    packed = packed.transpose(*dims, OUT)
    f = unpack(packed.data, n)
    coords = {c: v for c, v in packed.coords.items() if OUT not in v.dims}
    ds = xr.Dataset(coords=coords)
    ds["curvefit_coefficients"] = (dims + ["param"], f["values"])
    ds["curvefit_covariance"] = (dims + ["cov_i", "cov_j"], f["covar"])
    ds["curvefit_stderr"] = (dims + ["param"], f["stderr"])
    ds["curvefit_status"] = (dims, f["status"].astype(np.int32))
    ds["curvefit_chisqr"] = (dims, f["chisqr"])
    ds["curvefit_redchi"] = (dims, f["redchi"])
    ds["curvefit_nfev"] = (dims, f["nfev"].astype(np.int64))
    ds = ds.assign_coords(param=list(names), cov_i=list(names), cov_j=list(names))
    ds.attrs = dict(attrs)
    return ds


@xr.register_dataarray_accessor("batchfit")
class BatchfitAccessor:
    """``da.batchfit``: batchfit's fits of a DataArray (registered by ``import batchfit.xarray``)."""

    def __init__(self, obj):
        self._obj = obj

    def curvefit(self, coords, func, reduce_dims=None, skipna=True, p0=None, bounds=None,
                 param_names=None, errors="raise", kwargs=None, *, shared=None, shared_dims=None):
        """:func:`batchfit.xarray.curvefit` of this DataArray (same arguments after ``obj``)."""
        return curvefit(self._obj, coords, func, reduce_dims, skipna, p0, bounds, param_names,
                        errors, kwargs, shared=shared, shared_dims=shared_dims)
