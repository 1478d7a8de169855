"""``curve_fit``: scipy.optimize.curve_fit's interface on batchfit's solver.

``f(x, *params)`` is wrapped into a keyword-argument model with a fixed
signature, so the residual, solver, statistics and result are exactly those
of :meth:`batchfit.Model.fit`; only the argument handling is scipy's.
"""

from __future__ import annotations

import functools
import inspect

import jax
import jax.numpy as jnp
import numpy as np

from ..engine._run import run
from ..params import Parameter, Parameters
from ..problem._compat import resolve_dtype, warn_if_unresolved, x64_context
from ..problem._estimator import check_counts, make_estimator
from ..problem._pack import host_arrays, make_spec, pack, packed_args
from ..problem._residual import model_residual
from ..stats import _estimated
from ._curve_fit_out import attach_model_data, minpack_info, outputs
from ._minimize import make_config, solver_options

NAN_POLICIES = (None, "raise", "omit")


def _names_from_signature(f, n):
    """Independent-variable name and ``n`` parameter names for ``f``."""
    try:
        sig = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        sig = []
    positional = [p for p in sig if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    has_varargs = any(p.kind == p.VAR_POSITIONAL for p in sig)
    if n is None:
        if len(positional) < 2:
            raise ValueError("curve_fit: unable to determine the number of fit parameters "
                             "from the signature of f; pass p0")
        n = len(positional) - 1
    elif not has_varargs and positional and len(positional) - 1 < n:
        raise ValueError(f"curve_fit: p0 has {n} values but f takes {len(positional) - 1} parameters")
    xname = positional[0].name if positional else "x"
    names = [p.name for p in positional[1:n + 1]]
    try:
        for nm in names:
            Parameter(nm)
        ok = len(names) == n and xname not in names
    except ValueError:
        ok = False
    if not ok:  # e.g. *args, or a name tie expressions reserve ('e', 'exp')
        names = [f"p{i}" for i in range(n)]
        xname = "x" if xname in names or xname.startswith("_") else xname
    return xname, tuple(names)


def _wrap(f, xname, names):
    """``f(x, *params)`` as a function of keywords with signature (x, p...)."""

    def model(**kw):
        return f(kw[xname], *[kw[n] for n in names])

    kinds = inspect.Parameter.POSITIONAL_OR_KEYWORD
    model.__signature__ = inspect.Signature([inspect.Parameter(a, kinds) for a in (xname, *names)])
    model.__name__ = getattr(f, "__name__", "f")
    return model


_wrap_cached = functools.lru_cache(maxsize=256)(_wrap)


def _wrapped(f, xname, names):
    try:  # the same f gives the same function: compiled code is reused
        return _wrap_cached(f, xname, names)
    except TypeError:  # unhashable callable
        return _wrap(f, xname, names)


def _float_array(a, name, check_finite):
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


def _per_fit_shape(a, name, n, B, batched):
    """``a`` of shape (), (n,) or, for a batch, (B, n) -> (B, n)."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0 or a.shape == (n,) or (batched and a.shape == (B, n)):
        return np.broadcast_to(a, (B, n))
    want = f"(), ({n},) or ({B}, {n})" if batched else f"() or ({n},)"
    raise ValueError(f"curve_fit: {name} has shape {a.shape}, expected {want}")


def _bounds(bounds, n, B, batched):
    lb, ub = (bounds.lb, bounds.ub) if hasattr(bounds, "lb") else (None, None)
    if lb is None:
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
            raise ValueError("curve_fit: bounds must be a pair (lb, ub) of scalars or sequences")
        lb, ub = bounds
    lb = _float_array(lb, "bounds[0] (lower)", False)
    ub = _float_array(ub, "bounds[1] (upper)", False)
    return _per_fit_shape(lb, "bounds[0] (lower)", n, B, batched), _per_fit_shape(
        ub, "bounds[1] (upper)", n, B, batched)


def _feasible_start(lb, ub):
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


def _prepare_data(xdata, ydata, sigma, nan_policy, check_finite):
    y = _float_array(ydata, "ydata", check_finite)
    if y.ndim not in (1, 2):
        raise ValueError(f"curve_fit: ydata must have shape (m,) or (N, m), got {y.shape}")
    if y.size == 0:
        raise ValueError(f"curve_fit: ydata must not be empty, got shape {y.shape}")
    batched = y.ndim == 2
    y2 = y if batched else y[None]
    B, m = y2.shape
    y2 = y2.astype(float)
    x = _float_array(xdata, "xdata", check_finite).astype(float)
    x_per_fit = batched and x.ndim >= 2 and x.shape[0] == B
    if x.ndim == 1 and x.shape[0] != m:
        raise ValueError(f"curve_fit: xdata has length {x.shape[0]} but ydata has {m} points per fit")
    if x_per_fit and x.ndim == 2 and x.shape[1] != m:
        raise ValueError(f"curve_fit: xdata has shape {x.shape} but ydata has shape {y.shape}")
    if x.ndim == 0:
        raise ValueError("curve_fit: xdata must be an array, got a scalar")
    w = None
    if sigma is not None:
        s = _float_array(sigma, "sigma", False)
        if s.ndim == 2 and s.shape == (m, m) and not batched:
            raise ValueError("curve_fit: 2-D sigma (a covariance matrix) is not supported; "
                             f"pass 1-D sigma of shape ({m},)")
        if not (s.ndim == 0 or s.shape == (m,) or (batched and s.shape == (B, m))):
            want = f"(), ({m},) or ({B}, {m})" if batched else f"() or ({m},)"
            raise ValueError(f"curve_fit: sigma has shape {s.shape}, expected {want}")
        if not np.all(np.isfinite(s) & (s > 0)):
            raise ValueError("curve_fit: sigma must be finite and > 0")
        w = 1.0 / (np.full((m,), s) if s.ndim == 0 else s)
    mask = None
    if nan_policy == "raise":
        _float_array(y, "ydata", True)
        _float_array(x, "xdata", True)
    elif nan_policy == "omit":
        mask = np.broadcast_to(_nan_mask(x, y2, x_per_fit), y2.shape).copy()
        y2 = np.where(mask, y2, 0.0)
        x = np.where(np.isfinite(x), x, 0.0)  # only masked points had non-finite x
    return x, y2, w, mask, x_per_fit, batched


def curve_fit(f, xdata, ydata, p0=None, sigma=None, absolute_sigma=False, check_finite=None,
              bounds=(-np.inf, np.inf), method=None, jac=None, *, full_output=False, nan_policy=None,
              max_nfev=None, maxfev=None, ftol=None, xtol=None, gtol=None, dtype=None, config=None,
              loss="linear", f_scale=1.0, statistic="chi2", **kwargs):
    """Fit ``f(xdata, *params)`` to ``ydata``: scipy.optimize.curve_fit, batched.

    The arguments and results are scipy's. ``ydata`` of shape (N, m) runs N
    independent fits in one call; then ``xdata`` is shared, or per fit when
    its leading axis has length N (``(N, m)`` or ``(N, k, m)``; a shared
    ``(k, m)`` with k == N would read as per fit: pass it broadcast to
    ``(N, k, m)``), ``p0`` and each bound are (n,) or (N, n), and ``sigma``
    is (m,) or (N, m).

    Differences from scipy: ``f`` is traced by JAX (use ``jnp`` inside); the
    Jacobian comes from autodiff (``jac`` must be None); bounds are handled
    by Levenberg-Marquardt with lmfit's bound transforms (``method`` is
    ``None``/``"lm"`` or ``"gauss_newton"``; ``"trf"``/``"dogbox"`` are
    refused); ``sigma`` cannot be a covariance matrix. For a single fit, a
    failed fit raises RuntimeError as in scipy; a batch never raises, it
    warns (:class:`OptimizeWarning`) with the number of failed fits, whose
    status is in ``ier`` with ``full_output=True``.

    Args:
      f: model ``f(x, p1, ..., pn)``; parameter names come from its
        signature (``p0``, ``p1``... where they cannot be used).
      xdata: independent variable, passed to ``f`` as given (any shape).
      ydata: (m,) for one fit, (N, m) for N fits.
      p0: starting values, (n,) or (N, n); default 1 (or a feasible point
        inside the bounds, as scipy), with n from the signature of ``f``.
      sigma: standard deviations of ``ydata``: weights are ``1/sigma``.
      absolute_sigma: if False, ``pcov`` is scaled by the reduced chi-square.
      check_finite: raise for NaN/inf inputs (default True unless
        ``nan_policy`` is given).
      bounds: ``(lb, ub)``, each a scalar, (n,) or (N, n); or a
        ``scipy.optimize.Bounds``.
      full_output: also return ``infodict``, ``mesg`` and ``ier``.
      nan_policy: ``None``, ``"raise"`` or ``"omit"`` (mask points where
        ``ydata`` or ``xdata`` is NaN).
      max_nfev, maxfev, ftol, xtol, gtol, dtype, config: solver options as
        in :func:`batchfit.minimize`.
      loss, f_scale: a robust loss as scipy's (``"linear"``, ``"soft_l1"``,
        ``"huber"``, ``"cauchy"``, ``"arctan"``); with one, ``pcov`` is
        scipy's too: the inverse of ``Jᵀ diag(rho' + 2 z rho'') J`` scaled
        by ``2 cost / (m - n)`` (unless ``absolute_sigma``).
      statistic: ``"chi2"`` (default) or ``"cstat"`` (Poisson counts, no
        ``sigma``; ``pcov`` is the inverse Fisher information).
      **kwargs: scipy's leastsq keywords: ``epsfcn``, ``factor``, ``diag``
        and ``col_deriv`` are accepted and unused (Jacobians are exact).

    Returns:
      ``popt`` (n,) or (N, n) and ``pcov`` (n, n) or (N, n, n), ``inf``
      where the covariance cannot be estimated. With ``full_output``, also
      ``infodict`` as scipy's (``nfev``, ``fvec`` = weighted residual
      ``(f - y)/sigma``, ``fjac``, ``ipvt``, ``qtf`` of the QR factorisation
      of the weighted Jacobian at the solution, unpivoted: ``ipvt`` is
      ``0..n-1``), plus ``status`` (:class:`~batchfit.RESULTS` codes) and
      ``result`` (the :class:`~batchfit.FitResult`); ``mesg`` (the status
      message) and ``ier`` in scipy's (MINPACK's) codes: 1 to 4 success,
      5 ``maxfev`` reached, 6 no further reduction possible, 0 for outcomes
      MINPACK does not have (see ``status``). A batch gives a leading axis N
      to each, and ``mesg`` as a list.

    Example:
      >>> import jax.numpy as jnp, numpy as np
      >>> from batchfit import curve_fit
      >>> x = np.linspace(0, 1, 20)
      >>> y = np.stack([2.0 * np.exp(-3.0 * x), 1.0 * np.exp(-0.5 * x)])   # two fits
      >>> popt, pcov = curve_fit(lambda x, a, k: a * jnp.exp(-k * x), x, y)
      >>> popt.shape, pcov.shape, np.round(popt, 6).tolist()
      ((2, 2), (2, 2, 2), [[2.0, 3.0], [1.0, 0.5]])
    """
    if not callable(f):
        raise TypeError("curve_fit: f must be callable")
    if jac is not None:
        raise TypeError("curve_fit: jac must be None; batchfit differentiates f with JAX autodiff")
    if method in ("trf", "dogbox"):
        raise ValueError(f"curve_fit: method {method!r} is not available; batchfit handles bounds "
                         "inside Levenberg-Marquardt: use method=None or 'lm'")
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"curve_fit: nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
    if max_nfev is not None and maxfev is not None:
        raise TypeError("curve_fit: give max_nfev or maxfev, not both")
    opts = solver_options(kwargs, "curve_fit")
    explicit = {"max_nfev": max_nfev if maxfev is None else maxfev, "ftol": ftol, "xtol": xtol, "gtol": gtol}
    opts.update({k: v for k, v in explicit.items() if v is not None})
    cfg = make_config(method or "lm", config, **opts)
    if check_finite is None:
        check_finite = nan_policy is None
    x, y, w, mask, x_per_fit, batched = _prepare_data(xdata, ydata, sigma, nan_policy, check_finite)
    est = make_estimator(statistic, loss, f_scale, weights=sigma, label="curve_fit")
    if est.statistic == "cstat":
        check_counts(y if mask is None else np.where(mask, y, 0.0), "curve_fit: ydata")
        absolute_sigma = True  # the inverse Fisher information, unscaled
    B, m = y.shape
    start = None if p0 is None else _float_array(p0, "p0", True)
    n = None if start is None else (1 if start.ndim == 0 else start.shape[-1])
    xname, names = _names_from_signature(f, n)
    n = len(names)
    lb, ub = _bounds(bounds, n, B, batched)
    start = _feasible_start(lb, ub) if start is None else _per_fit_shape(start, "p0", n, B, batched)
    params = Parameters()
    for j, nm in enumerate(names):
        # a start outside its bounds (min > max is reported when the parameter is made, below)
        out = ((start[:, j] < lb[:, j]) | (start[:, j] > ub[:, j])) & (lb[:, j] <= ub[:, j])
        if np.any(out):  # scipy: "x0 is infeasible"; never clipped silently
            i = int(np.argmax(out))
            raise ValueError(f"curve_fit: parameter {nm!r}: start value {start[i, j]:g} is outside its bounds "
                             f"[{lb[i, j]:g}, {ub[i, j]:g}]" + (f" (fit {i})" if batched else ""))
        col = [float(a[0, j]) if np.all(a[:, j] == a[0, j]) else a[:, j] for a in (start, lb, ub)]
        params.add(nm, value=col[0], min=col[1], max=col[2])
    dt = resolve_dtype(dtype, np.asarray(ydata), np.asarray(xdata))
    warn_if_unresolved("ydata", y, dt, "curve_fit", mask, stacklevel=2)
    warn_if_unresolved("xdata", x, dt, "curve_fit", stacklevel=2)
    spec = make_spec(params)
    packed = pack(params, spec, B)
    func = _wrapped(f, xname, names)
    resid = model_residual(func, spec, names, (xname,), est=est)
    resid_ext = model_residual(func, spec, names, (xname,), True, est=est, stats=not est.plain)
    data = {"y": y} | ({"mask": mask} if mask is not None else {})
    wd = {"weights": w} if w is not None else {}
    per_w = w is not None and w.ndim == 2
    ndata = mask.sum(axis=1) if mask is not None else np.full(B, m)
    label = f"curve_fit: f {getattr(f, '__name__', repr(f))!r} (xdata shape {np.shape(x)}, ydata shape {np.shape(ydata)})"
    with x64_context(dt):
        per_fit = packed_args(packed, dt)
        per_fit["data"] = host_arrays(data | (wd if per_w else {}), dt)
        per_fit["indep"] = host_arrays({xname: x} if x_per_fit else {}, dt)
        shared = jax.tree_util.tree_map(jnp.asarray, {
            "data": host_arrays({} if per_w else wd, dt),
            "indep": host_arrays({} if x_per_fit else {xname: x}, dt)})
        result = run(resid, resid_ext, spec, params, packed, per_fit, shared,
                     ndata if mask is not None else None, B, batched, cfg, dt, method or "lm",
                     not absolute_sigma, label, m_expected=m)
        attach_model_data(result, func, xname, x, x_per_fit, y, w, mask, B)
        if not est.plain:
            vals = {n: result._a["values_all"][:, j] for j, n in enumerate(names)}
            _estimated.finish(result, est, func, vals, {xname: x} if x_per_fit else {},
                              {} if x_per_fit else {xname: x}, y, mask, dt, len(names))

        def info_fn(popt):
            return minpack_info(resid_ext, np.asarray(popt, dtype=dt), per_fit, shared)

        return outputs(result, absolute_sigma, full_output, info_fn)
