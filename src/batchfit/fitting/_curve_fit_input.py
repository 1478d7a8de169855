"""``curve_fit``'s inputs checked and turned into arrays as scipy's are:
``method``, ``jac``, ``nan_policy``, data, ``sigma`` (1-D or a covariance
matrix), bounds and the default start."""

from __future__ import annotations

import numpy as np

from ._curve_fit_cov import covariance_sigma

NAN_POLICIES = (None, "raise", "omit")
# scipy's least_squares methods: batchfit's Levenberg-Marquardt runs them (bounds by transforms)
LSQ_METHODS = ("trf", "dogbox")
JAC_SCHEMES = ("2-point", "3-point", "cs")
# scipy's least_squares keywords (method 'trf'/'dogbox'): accepted, no meaning for this solver
IGNORED_LSQ_KWS = ("x_scale", "diff_step", "tr_solver", "tr_options", "jac_sparsity", "verbose")


def check_options(method, jac, nan_policy, kwargs):
    """scipy's argument errors, before anything is computed; the solver method."""
    if "args" in kwargs:
        raise ValueError("curve_fit: 'args' is not a supported keyword argument: f(x, *params) "
                         "takes the parameters only (bind other values with a closure or functools.partial)")
    if not (jac is None or callable(jac) or (isinstance(jac, str) and jac in JAC_SCHEMES)):
        raise ValueError(f"curve_fit: jac must be None, a callable or one of {JAC_SCHEMES}, got {jac!r}")
    if nan_policy == "propagate":
        raise ValueError("curve_fit: `nan_policy='propagate'` is not supported by this function.")
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"curve_fit: nan_policy must be one of {{None, 'raise', 'omit'}}, got {nan_policy!r}")
    for k in IGNORED_LSQ_KWS:
        kwargs.pop(k, None)
    return "lm" if method is None or method in LSQ_METHODS else method


def float_array(a, name, check_finite):
    arr = np.asarray(a)
    if arr.dtype.kind == "c":
        raise TypeError(f"curve_fit: {name} must be real, got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"curve_fit: {name} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "b" and name == "ydata":
        raise TypeError("curve_fit: ydata is boolean (dtype bool): pass measured values as numbers "
                        "(e.g. ydata.astype(float) if 0/1 is really meant)")
    if check_finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"curve_fit: {name} contains NaN or inf (pass nan_policy='omit' to drop such points)")
    return arr


def _check_nan_raise(arr, name):
    """nan_policy='raise' (scipy's message)."""
    if np.any(np.isnan(arr)):
        raise ValueError(f"curve_fit: The input contains nan values ({name})")


def per_fit_shape(a, name, n, B, batched):
    """``a`` of shape (), (n,) or, for a batch, (B, n) -> (B, n)."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0 or a.shape == (n,) or (batched and a.shape == (B, n)):
        return np.broadcast_to(a, (B, n))
    want = f"(), ({n},) or ({B}, {n})" if batched else f"() or ({n},)"
    raise ValueError(f"curve_fit: {name} has shape {a.shape}, expected {want}")


def bounds_arrays(bounds, n, B, batched):
    lb, ub = (bounds.lb, bounds.ub) if hasattr(bounds, "lb") else (None, None)
    if lb is None:
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
            raise ValueError("curve_fit: bounds must be a pair (lb, ub) of scalars or sequences")
        lb, ub = bounds
    lb = float_array(lb, "bounds[0] (lower)", False)
    ub = float_array(ub, "bounds[1] (upper)", False)
    return per_fit_shape(lb, "bounds[0] (lower)", n, B, batched), per_fit_shape(
        ub, "bounds[1] (upper)", n, B, batched)


def feasible_start(lb, ub):
    """scipy's default start: midpoint, bound + 1, bound - 1 or 1."""
    lf, uf = np.isfinite(lb), np.isfinite(ub)
    lo, hi = np.where(lf, lb, 0.0), np.where(uf, ub, 0.0)
    p0 = np.where(lf & uf, 0.5 * (lo + hi), 1.0)
    p0 = np.where(lf & ~uf, lo + 1, p0)
    return np.where(~lf & uf, hi - 1, p0)


def _nan_mask(x, y, x_per_fit):
    """Points (B, m) where y or x is not finite (x's last axis is the points)."""
    bad = ~np.isfinite(y)
    if x.ndim and x.shape[-1] == y.shape[1]:
        xb = ~np.isfinite(x)
        if x_per_fit:
            xb = xb.reshape(x.shape[0], -1, x.shape[-1]).any(axis=1)
        else:
            xb = xb.reshape(-1, x.shape[-1]).any(axis=0)[None]
        bad = bad | xb
    elif not np.all(np.isfinite(x)):
        raise ValueError("curve_fit: nan_policy='omit' needs xdata whose last axis runs over the points "
                         f"(xdata shape {x.shape}, ydata shape {y.shape})")
    return ~bad


def _sigma_weights(sigma, m, B, batched):
    """1-D ``sigma`` -> weights ``1/sigma`` (m,) or (B, m); None for a covariance matrix."""
    s = float_array(sigma, "sigma", False)
    if (s.shape == (m, m) and not (batched and B == m)) or (batched and s.shape == (B, m, m)):
        return None  # a covariance matrix (for a batch: shared, or one per fit)
    if not (s.ndim == 0 or s.shape == (m,) or (batched and s.shape == (B, m))):
        want = f"(), ({m},) or ({B}, {m})" if batched else f"(), ({m},) or ({m}, {m})"
        if batched:
            want += f", ({m}, {m}) or ({B}, {m}, {m})"
        raise ValueError(f"curve_fit: sigma has shape {s.shape}, expected {want}")
    if not np.all(np.isfinite(s) & (s > 0)):
        raise ValueError("curve_fit: sigma must be finite and > 0")
    return 1.0 / (np.full((m,), s) if s.ndim == 0 else s)


def prepare_data(x_raw, y, sigma, nan_policy, check_finite):
    """``x`` and ``y`` (B, m) as float arrays, the weights (a vector, or
    the whitening matrices of a covariance ``sigma``), the NaN mask."""
    if y.ndim not in (1, 2):
        raise ValueError(f"curve_fit: ydata must have shape (m,) or (N, m), got {y.shape}")
    if y.size == 0:
        raise ValueError(f"curve_fit: ydata must not be empty, got shape {y.shape}")
    batched = y.ndim == 2
    y2 = (y if batched else y[None]).astype(float)
    B, m = y2.shape
    x_none = x_raw is None  # scipy passes it to f as given: f ignores x
    x = np.zeros(0) if x_none else float_array(x_raw, "xdata", check_finite).astype(float)
    x_per_fit = batched and x.ndim >= 2 and x.shape[0] == B
    if not x_none and x.ndim == 1 and x.shape[0] != m:
        raise ValueError(f"curve_fit: xdata has length {x.shape[0]} but ydata has {m} points per fit")
    if x_per_fit and x.ndim == 2 and x.shape[1] != m:
        raise ValueError(f"curve_fit: xdata has shape {x.shape} but ydata has shape {y.shape}")
    if x.ndim == 0:
        raise ValueError("curve_fit: xdata must be an array, got a scalar")
    w = None if sigma is None else _sigma_weights(sigma, m, B, batched)
    mask = None
    if nan_policy == "raise":
        _check_nan_raise(y, "ydata")
        _check_nan_raise(x, "xdata")
    elif nan_policy == "omit":
        mask = np.broadcast_to(_nan_mask(x, y2, x_per_fit), y2.shape).copy()
        y2 = np.where(mask, y2, 0.0)
        x = np.where(np.isfinite(x), x, 0.0)  # only masked points had non-finite x
    cov = None
    if sigma is not None and w is None:
        w, cov = covariance_sigma(float_array(sigma, "sigma", False), mask, B, m)
    return x, y2, w, cov, mask, x_per_fit, batched, x_none
