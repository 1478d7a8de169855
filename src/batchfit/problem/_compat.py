"""Dtype helpers: the x64 context across JAX versions, the working dtype, and
whether that dtype resolves the inputs."""

from __future__ import annotations

import contextlib
import warnings

import jax
import numpy as np


def x64_context(dtype):
    """Context in which JAX computes in ``dtype`` (enables x64 for float64)."""
    enable = np.dtype(dtype) == np.float64
    if jax.config.read("jax_enable_x64") == enable:
        return contextlib.nullcontext()
    fn = getattr(jax, "enable_x64", None)
    if fn is None:  # jax < 0.5
        from jax.experimental import enable_x64 as fn  # type: ignore[no-redef]
    return fn(enable)


def resolve_dtype(dtype, *arrays):
    """The working float dtype: ``dtype`` if given, else float32 when every
    floating input is float32, else float64."""
    if dtype is not None:
        dt = np.dtype(dtype)
        if dt not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dt}")
        return dt
    kinds = []
    for a in arrays:
        dt = getattr(a, "dtype", None)
        if dt is not None and np.dtype(dt).kind == "f":
            kinds.append(np.dtype(dt))
    if kinds and all(k == np.float32 for k in kinds):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


class PrecisionWarning(UserWarning):
    """The working dtype cannot resolve an input array (or a fit's answer)."""


RESOLUTION_LIMIT = 1e-4  # an input whose rounding step exceeds this share of its range is warned about


def _row_ranges(a, valid=None, block=1 << 14):
    """Each row's largest and smallest valid value (float64, NaN for a row
    with none), ``block`` rows at a time: no copy of a large ``a``."""
    rows = np.atleast_2d(a)
    rows = rows.reshape(rows.shape[0], -1)  # trailing axes (e.g. a response matrix) are one row
    ok = None if valid is None else np.broadcast_to(valid, np.shape(a)).reshape(rows.shape)
    hi, lo = np.empty(rows.shape[0]), np.empty(rows.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        for i in range(0, rows.shape[0], block):
            r = rows[i:i + block] if ok is None else np.where(ok[i:i + block], rows[i:i + block], np.nan)
            hi[i:i + block], lo[i:i + block] = np.nanmax(r, axis=-1), np.nanmin(r, axis=-1)
    return hi, lo


def warn_if_unresolved(name, a, dtype, label, valid=None, stacklevel=3):
    """Warn (:class:`PrecisionWarning`) where ``dtype`` rounds ``a`` (one
    dataset per row) in steps larger than :data:`RESOLUTION_LIMIT` of its
    own range: x = 1e4 + [0, 1] in float32 is known only to 1e-3.
    ``stacklevel`` counts from the caller of this function."""
    a = np.asarray(a)
    if a.dtype.kind != "f" or a.size < 2:
        return
    hi, lo = _row_ranges(a, valid)
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant row: no range, no share
        step = float(np.finfo(dtype).eps) * np.maximum(np.abs(hi), np.abs(lo))
        share = np.where(hi > lo, step / (hi - lo), 0.0)
    share = np.nan_to_num(share)
    i = int(np.argmax(share))
    if share[i] > RESOLUTION_LIMIT:
        row = f"[{i}]" if a.ndim > 1 else ""
        warnings.warn(
            f"{label}: {name}{row} spans [{lo[i]:.8g}, {hi[i]:.8g}], which {np.dtype(dtype).name} "
            f"resolves only in steps of {step[i]:.2g} ({share[i]:.2%} of its range): the fit sees "
            f"it rounded. Fit with dtype='float64', or subtract an offset (e.g. {name} - {lo[i]:.8g}).",
            PrecisionWarning, stacklevel=stacklevel + 1)


def warn_unresolved_data(md, dtype, label):
    """:func:`warn_if_unresolved` for the data and independent variables of
    a prepared :class:`~batchfit.problem._data.ModelData` (warned at the
    user's call of ``Model.fit``)."""
    warn_if_unresolved("data", md.per_fit["y"], dtype, label, md.per_fit.get("mask"), stacklevel=4)
    for name, a in {**md.indep_shared, **md.indep_fit}.items():
        warn_if_unresolved(name, a, dtype, label, stacklevel=4)
