"""xarray ``curvefit`` arguments -> coordinates, reduced dimensions, parameter
names, starts and bounds, with xarray's rules and errors raised before any fit."""

from __future__ import annotations

import inspect
from collections.abc import Iterable

import numpy as np
import xarray as xr

from ..fitting._model import Model


def fit_coords(obj, coords, reduce_dims):
    """(coordinate DataArrays, reduced dims, preserved dims), as xarray decides them."""
    if reduce_dims is None or (not isinstance(reduce_dims, str) and isinstance(reduce_dims, Iterable)
                               and not list(reduce_dims)):
        reduce = []
    elif isinstance(reduce_dims, str) or not isinstance(reduce_dims, Iterable):
        reduce = [reduce_dims]
    else:
        reduce = list(reduce_dims)
    unknown = [d for d in reduce if d not in obj.dims]
    if unknown:
        raise ValueError(f"batchfit curvefit: reduce_dims {unknown} are not dimensions of the data "
                         f"(dims {tuple(obj.dims)})")
    if isinstance(coords, (str, xr.DataArray)) or not isinstance(coords, Iterable):
        coords = [coords]
    out = []
    for c in coords:
        if isinstance(c, xr.DataArray):
            out.append(c)
        elif c in obj.coords:
            out.append(obj[c])
        else:
            raise ValueError(f"batchfit curvefit: coords {c!r} is not a coordinate of the data "
                             f"(coordinates {list(obj.coords)})")
    for c in out:
        reduce += [d for d in obj.dims if d in obj.coords and c.equals(obj[d]) and d not in reduce]
    if not reduce:
        raise ValueError("batchfit curvefit: no argument of `coords` is a dimension of the data, and "
                         "no reduce_dims were given: this would fit scalar data")
    reduce = [d for d in obj.dims if d in reduce]  # the data's order
    preserved = [d for d in obj.dims if d not in reduce]
    out = xr.broadcast(*out)
    out = [c.broadcast_like(obj, exclude=preserved) for c in out]
    for c in out:
        extra = set(c.dims) - set(obj.dims)
        if extra:
            raise ValueError(f"batchfit curvefit: coordinate {c.name!r} has dimensions {sorted(extra)} "
                             f"that the data (dims {tuple(obj.dims)}) does not have")
    return out, reduce, preserved


def starts_and_bounds(func, names, args, p0, bounds, preserved):
    """Per-parameter start, lower and upper bound (scalars or DataArrays), xarray's priority:
    p0, then func's default (a Model's make_params), then scipy's feasible start."""
    p0, bounds = dict(p0 or {}), dict(bounds or {})
    for what, d in (("p0", p0), ("bounds", bounds)):
        unknown = sorted(set(d) - set(names))
        if unknown:
            raise ValueError(f"batchfit curvefit: {what} names {unknown}, which are not fit "
                             f"parameters {names}")
    for nm, (lb, ub) in [(k, _pair(k, v)) for k, v in bounds.items()] + [(k, (v, v)) for k, v in p0.items()]:
        for b in (lb, ub):
            if isinstance(b, xr.DataArray) and set(b.dims) - set(preserved):
                raise ValueError(f"batchfit curvefit: start or bound of {nm!r} has dimensions "
                                 f"{sorted(set(b.dims) - set(preserved))}; it may only have the "
                                 f"data's non-fitted dimensions {preserved}")
    made = func.make_params() if isinstance(func, Model) else None
    start, lower, upper = {}, {}, {}
    for nm in names:
        lb, ub = _pair(nm, bounds[nm]) if nm in bounds else (-np.inf, np.inf)
        if made is not None:
            default = made[nm].value if made[nm].value is not None else 1.0
            if nm not in bounds:
                lb, ub = made[nm].min, made[nm].max
        elif nm in args and args[nm].default is not inspect.Parameter.empty:
            default = args[nm].default
        else:
            default = 1.0
        if nm in bounds:
            default = xr.where((default < lb) | (default > ub), _feasible(lb, ub), default)
        start[nm] = p0.get(nm, default)
        lower[nm], upper[nm] = lb, ub
    return start, lower, upper


def _pair(name, b):
    if not isinstance(b, (tuple, list)) or len(b) != 2:
        raise ValueError(f"batchfit curvefit: bounds[{name!r}] must be a pair (lower, upper)")
    return b[0], b[1]


def _feasible(lb, ub):
    """scipy's start inside bounds: midpoint, lb + 1, ub - 1 or 0."""
    lf, uf = np.isfinite(lb), np.isfinite(ub)
    return xr.where(lf, xr.where(uf, 0.5 * (lb + ub), lb + 1), xr.where(uf, ub - 1, 0))
