"""lmfit's ways of passing data and options to Model.fit and Model.eval.

* pandas: a Series (or DataFrame, one dataset per column) of data is
  aligned with Series independent variables and weights by index, as
  lmfit aligns them (``reindex_like``), then turned into arrays;
* independent variables lmfit lists for keyword arguments with a string,
  bool or None default (e.g. ``form="linear"``) are fixed options of the
  compiled model: their default, or the string/bool/None passed.
"""

from __future__ import annotations

import functools
import sys

import numpy as np


def is_static(v) -> bool:
    return v is None or isinstance(v, (str, bool, np.bool_))


def static_options(model, kwargs) -> dict:
    """The independent variables that are fixed options of this call."""
    out = {}
    for v in model.independent_vars:
        if v in kwargs:
            if is_static(kwargs[v]):
                out[v] = kwargs[v]
        elif v in model._indep_defaults:
            out[v] = model._indep_defaults[v]
    return out


def _align(name, v, index, pd, transpose):
    if isinstance(v, pd.DataFrame):
        v = v.reindex(index) if transpose else v
        return v.to_numpy(dtype=float).T if transpose else v.to_numpy(dtype=float)
    if not isinstance(v, pd.Series):
        return v
    missing = index.difference(v.index)
    if len(missing):
        raise ValueError(f"{name} (a pandas Series) has no values at index label(s) "
                         f"{list(missing[:5])} of the data")
    return v.reindex(index).to_numpy(dtype=float)


def align_pandas(model, data, weights, kwargs):
    """Data, weights and independent variables as arrays, aligned by index
    where the data is a pandas Series or DataFrame."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return data, weights, kwargs
    if not isinstance(data, (pd.Series, pd.DataFrame)):
        return data, weights, kwargs
    index, frame = data.index, isinstance(data, pd.DataFrame)
    y = data.to_numpy(dtype=float)
    y = y.T if frame else y
    kwargs = dict(kwargs)
    for v in model.independent_vars:
        if v in kwargs:
            kwargs[v] = _align(f"independent variable {v!r}", kwargs[v], index, pd, False)
    if weights is not None:
        weights = _align("weights", weights, index, pd, frame)
    return y, weights, kwargs


def lmfit_arguments(fit):
    """Decorate Model.fit: pandas alignment and fixed options, then ``fit``
    on the model with those options compiled in."""

    @functools.wraps(fit)
    def wrapper(self, data, *args, **kwargs):
        weights = args[1] if len(args) > 1 else kwargs.get("weights")
        data, weights, kwargs = align_pandas(self, data, weights, kwargs)
        if len(args) > 1:
            args = args[:1] + (weights,) + args[2:]
        elif "weights" in kwargs:
            kwargs["weights"] = weights
        static = static_options(self, kwargs)
        for k in static:
            kwargs.pop(k, None)
        return fit(self._with_options(static), data, *args, **kwargs)

    return wrapper
