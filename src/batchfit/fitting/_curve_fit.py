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
from ._curve_fit_cov import covariance_best_fit
from ._curve_fit_input import (bounds_arrays, check_options, feasible_start, float_array, per_fit_shape,
                               prepare_data)
from ._curve_fit_out import attach_model_data, minpack_info, outputs
from ._minimize import make_config, solver_options


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


def _wrap(f, xname, names, x_none=False):
    """``f(x, *params)`` as a function of keywords with signature (x, p...);
    ``x_none``: scipy's ``xdata=None``, passed to ``f`` as None."""

    def model(**kw):
        return f(None if x_none else kw[xname], *[kw[n] for n in names])

    kinds = inspect.Parameter.POSITIONAL_OR_KEYWORD
    model.__signature__ = inspect.Signature([inspect.Parameter(a, kinds) for a in (xname, *names)])
    model.__name__ = getattr(f, "__name__", "f")
    return model


_wrap_cached = functools.lru_cache(maxsize=256)(_wrap)


def _wrapped(f, xname, names, x_none=False):
    try:  # the same f gives the same function: compiled code is reused
        return _wrap_cached(f, xname, names, x_none)
    except TypeError:  # unhashable callable
        return _wrap(f, xname, names, x_none)


def _broadcast_y(f, x_raw, y, start):
    """scipy's ``f(x, *p) - ydata`` broadcasts a one-value ``ydata`` against
    the model's output: ``ydata`` takes the output's shape."""
    x = None if x_raw is None else np.asarray(x_raw, dtype=float)
    with x64_context(np.dtype(np.float64)):
        xs = None if x is None else jax.ShapeDtypeStruct(x.shape, jnp.float64)
        try:
            out = jax.eval_shape(lambda xx, *p: jnp.asarray(f(xx, *p)), xs,
                                 *[jax.ShapeDtypeStruct((), jnp.float64)] * start.shape[-1])
        except Exception:  # noqa: BLE001 - the fit itself reports what f does wrong
            return y
    return np.broadcast_to(y.reshape(()), out.shape) if len(out.shape) == 1 else y


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
    is (m,) or (N, m), or a covariance matrix (m, m) or (N, m, m).

    Differences from scipy: ``f`` is traced by JAX (use ``jnp`` inside); the
    Jacobian comes from autodiff (``jac``, a callable or ``"2-point"``,
    ``"3-point"``, ``"cs"``, is accepted and unused); every ``method``
    (``None``, ``"lm"``, ``"trf"``, ``"dogbox"``, or ``"gauss_newton"``) runs
    batchfit's Levenberg-Marquardt, bounds by lmfit's transforms, so with
    ``"trf"``/``"dogbox"`` the minimum is scipy's, the iterations are not
    (``method="lm"`` with bounds is refused, as scipy). Inputs are fitted in
    float64 whatever their dtype, as scipy (``dtype="float32"`` asks for a
    float32 fit). For a single fit, a
    failed fit raises RuntimeError as in scipy; a batch never raises, it
    warns (:class:`OptimizeWarning`) with the number of failed fits, whose
    status is in ``ier`` with ``full_output=True``.

    Args:
      f: model ``f(x, p1, ..., pn)``; parameter names come from its
        signature (``p0``, ``p1``... where they cannot be used).
      xdata: independent variable, passed to ``f`` as given (any shape), a
        numeric array; ``None`` is passed to ``f`` as None.
      ydata: (m,) for one fit, (N, m) for N fits; one value broadcasts
        to the shape ``f`` returns.
      p0: starting values, (n,) or (N, n); default 1 (or a feasible point
        inside the bounds, as scipy), with n from the signature of ``f``.
      sigma: standard deviations of ``ydata`` (weights ``1/sigma``), or
        their covariance matrix ``C``: the residual is whitened by
        ``L⁻¹`` with ``C = L Lᵀ``, ``chi² = rᵀ C⁻¹ r``.
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
      **kwargs: scipy's leastsq keywords ``epsfcn``, ``factor``, ``diag``,
        ``col_deriv`` and least_squares keywords ``x_scale``, ``diff_step``,
        ``tr_solver``, ``tr_options``, ``jac_sparsity``, ``verbose`` are
        accepted and unused (Jacobians are exact); ``args`` is a ValueError.

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
    solver_method = check_options(method, jac, nan_policy, kwargs)
    if max_nfev is not None and maxfev is not None:
        raise TypeError("curve_fit: give max_nfev or maxfev, not both")
    opts = solver_options(kwargs, "curve_fit")
    explicit = {"max_nfev": max_nfev if maxfev is None else maxfev, "ftol": ftol, "xtol": xtol, "gtol": gtol}
    opts.update({k: v for k, v in explicit.items() if v is not None})
    cfg = make_config(solver_method, config, **opts)
    if check_finite is None:
        check_finite = nan_policy is None
    y_raw = float_array(ydata, "ydata", check_finite)
    start = None if p0 is None else float_array(p0, "p0", True)
    n = None if start is None else (1 if start.ndim == 0 else start.shape[-1])
    xname, names = _names_from_signature(f, n)
    n = len(names)
    if y_raw.size == 1 and y_raw.ndim <= 1:
        y_raw = _broadcast_y(f, xdata, y_raw, np.zeros(n))
    x, y, w, cov, mask, x_per_fit, batched, x_none = prepare_data(xdata, y_raw, sigma, nan_policy,
                                                                   check_finite)
    est = make_estimator(statistic, loss, f_scale, weights=sigma, label="curve_fit")
    if est.statistic == "cstat":
        check_counts(y if mask is None else np.where(mask, y, 0.0), "curve_fit: ydata")
        absolute_sigma = True  # the inverse Fisher information, unscaled
    B, m = y.shape
    lb, ub = bounds_arrays(bounds, n, B, batched)
    bounded = bool(np.any(np.isfinite(lb) | np.isfinite(ub)))
    if method == "lm" and bounded:
        raise ValueError("curve_fit: Method 'lm' only works for unconstrained problems (as scipy's). "
                         "Use method=None, 'trf' or 'dogbox' (batchfit's bounded Levenberg-Marquardt) instead.")
    npts = int(mask.sum()) if mask is not None else m
    lm_like = method == "lm" or (method is None and not bounded)  # scipy's leastsq path checks this
    if not batched and lm_like and y_raw.size != 1 and n > npts:  # a batch never raises
        raise TypeError(f"curve_fit: The number of func parameters={n} must not exceed the number of "
                        f"data points={npts}")
    start = feasible_start(lb, ub) if start is None else per_fit_shape(start, "p0", n, B, batched)
    params = Parameters()
    for j, nm in enumerate(names):
        # a start outside its bounds (min > max is reported when the parameter is made, below)
        out = ((start[:, j] < lb[:, j]) | (start[:, j] > ub[:, j])) & (lb[:, j] <= ub[:, j])
        if np.any(out):  # scipy: "Initial guess is outside of provided bounds"; never clipped silently
            i = int(np.argmax(out))
            raise ValueError(f"curve_fit: Initial guess is outside of provided bounds: parameter {nm!r}: "
                             f"start value {start[i, j]:g} is outside [{lb[i, j]:g}, {ub[i, j]:g}]"
                             + (f" (fit {i})" if batched else ""))
        col = [float(a[0, j]) if np.all(a[:, j] == a[0, j]) else a[:, j] for a in (start, lb, ub)]
        params.add(nm, value=col[0], min=col[1], max=col[2])
    dt = np.dtype(np.float64) if dtype is None else resolve_dtype(dtype)  # scipy widens float32 inputs
    warn_if_unresolved("ydata", y, dt, "curve_fit", mask, stacklevel=2)
    warn_if_unresolved("xdata", x, dt, "curve_fit", stacklevel=2)
    spec = make_spec(params)
    packed = pack(params, spec, B)
    func = _wrapped(f, xname, names, x_none)
    resid = model_residual(func, spec, names, (xname,), est=est)
    resid_ext = model_residual(func, spec, names, (xname,), True, est=est, stats=not est.plain)
    data = {"y": y} | ({"mask": mask} if mask is not None else {})
    wd = {} if w is None else {"weights" if cov is None else "whiten": w}
    per_w = w is not None and w.ndim == (2 if cov is None else 3)  # per fit: (B, m) or (B, m, m)
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
                     ndata if mask is not None else None, B, batched, cfg, dt, solver_method,
                     not absolute_sigma, label, m_expected=m)
        attach_model_data(result, func, xname, x, x_per_fit, y, w if cov is None else None, mask, B)
        if cov is not None:  # the model from the whitened residual; error bars from the variances
            result.extras.update(best_fit=covariance_best_fit(result.residual.reshape(B, m), y, cov, mask),
                                 weights=1.0 / np.sqrt(np.diagonal(cov, axis1=1, axis2=2)))
        if not est.plain:
            vals = {n: result._a["values_all"][:, j] for j, n in enumerate(names)}
            _estimated.finish(result, est, func, vals, {xname: x} if x_per_fit else {},
                              {} if x_per_fit else {xname: x}, y, mask, dt, len(names))

        def info_fn(popt):
            return minpack_info(resid_ext, np.asarray(popt, dtype=dt), per_fit, shared)

        return outputs(result, absolute_sigma, full_output, info_fn)
