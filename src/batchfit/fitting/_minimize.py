"""minimize(): lmfit's front door for an objective that returns residuals."""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..engine import _chunked
from ..params._traced import lmfit_calling
from ..problem._compat import resolve_dtype, warn_if_unresolved, x64_context
from ..problem._data import per_fit_arrays
from ..problem._estimator import make_estimator
from ..problem._pack import batch_size_of, host_arrays, make_spec, pack, packed_args
from ..problem._residual import objective_residual
from ..solver import LMConfig
from ._methods import METHOD_ALIASES, canonical_method
from ._scalar import SCALAR_METHODS, reduce_function, scalar_config, scalar_fit


NAN_POLICIES = ("raise", "propagate", "omit")
# lmfit's / scipy.optimize.leastsq's solver keywords -> LMConfig fields
FIT_KWS = {"maxfev": "max_nfev", "max_nfev": "max_nfev", "xtol": "xtol", "ftol": "ftol", "gtol": "gtol",
           "tau": "tau", "linear_solver": "linear_solver", "threads": "threads", "devices": "devices",
           "round_steps": "round_steps"}
IGNORED_FIT_KWS = ("epsfcn", "Dfun", "col_deriv", "factor", "diag", "jac")  # exact Jacobians: no meaning here


def solver_options(fit_kws, who) -> dict:
    """lmfit's ``fit_kws`` (``maxfev``, ``xtol``, ``ftol``, ``gtol``, ...) as
    :class:`LMConfig` fields; ``epsfcn`` (the finite-difference step) and the
    other MINPACK Jacobian options (and least_squares' ``jac``) are accepted
    and unused, as Jacobians are exact (autodiff). An unknown keyword is a TypeError naming it."""
    if fit_kws is None:
        return {}
    if not isinstance(fit_kws, dict):
        raise TypeError(f"{who}: fit_kws must be a dict, got {type(fit_kws).__name__}")
    out = {}
    for k, v in fit_kws.items():
        if k in IGNORED_FIT_KWS:
            continue
        if k not in FIT_KWS:
            raise TypeError(f"{who}: unknown solver option {k!r} in fit_kws; known: "
                            f"{sorted(set(FIT_KWS) | set(IGNORED_FIT_KWS))}")
        if FIT_KWS[k] in out and out[FIT_KWS[k]] != v:
            raise TypeError(f"{who}: fit_kws gives {FIT_KWS[k]} twice (as {k!r})")
        out[FIT_KWS[k]] = v
    return out


def make_config(method, config, **kw) -> LMConfig:
    method = canonical_method(method)
    if method in SCALAR_METHODS:
        raise ValueError(f"method={method!r} (a scalar method) is for minimize(); this fit takes "
                         f"one of {sorted(METHOD_ALIASES)}")
    if method not in METHOD_ALIASES:
        raise ValueError(f"method must be one of {sorted(METHOD_ALIASES)}, or for minimize() a scalar "
                         f"method {sorted(SCALAR_METHODS)}; got {method!r}")
    opts = {k: v for k, v in kw.items() if v is not None}
    base = config if config is not None else LMConfig()
    return dataclasses.replace(base, method=METHOD_ALIASES[method], **opts)


def _shared_tree(args, kws, dtype):
    def conv(path, a):
        arr = np.asarray(a)
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"minimize: argument {jax.tree_util.keystr(path)} has dtype {arr.dtype}; "
                "only numeric arrays can be passed (bind other values with functools.partial)"
            )
        return jnp.asarray(arr, dtype=dtype if arr.dtype.kind == "f" else None)

    tree = (tuple(args), dict(kws or {}))
    for path, a in jax.tree_util.tree_flatten_with_path(tree)[0]:
        warn_if_unresolved(f"argument {jax.tree_util.keystr(path)}", np.asarray(a), dtype, "minimize")
    return jax.tree_util.tree_map_with_path(conv, tree)


def _check_finite_args(args, kws):
    """nan_policy='raise': a NaN or inf in an argument is an error naming it."""
    tree = (tuple(args), dict(kws or {}))
    for path, a in jax.tree_util.tree_flatten_with_path(tree)[0]:
        arr = np.asarray(a)
        if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            first = np.argwhere(~np.isfinite(arr))[0] if arr.ndim else ()
            where = f" (first at index {tuple(int(i) for i in first)})" if arr.ndim else ""
            name = ("args" if path[0].idx == 0 else "kws") + jax.tree_util.keystr(path[1:])
            raise ValueError(f"minimize: argument {name} contains NaN or inf{where}; "
                             "pass nan_policy='omit' to drop the non-finite residuals or 'propagate' "
                             "to let the fit fail")


@functools.lru_cache(maxsize=256)
def _omitting(fcn):
    """``fcn`` with its non-finite residuals replaced by 0 (nan_policy='omit')."""

    def omit(params, *args, **kws):
        r = jnp.ravel(fcn(params, *args, **kws))
        return jnp.where(jnp.isfinite(r), r, jnp.zeros((), r.dtype))

    omit.__name__ = getattr(fcn, "__name__", "objective")
    return omit


def _finite_count(fcn, spec, theta0, per_fit, shared):
    """Finite residuals of each fit at its start (nan_policy='omit'), or None
    when the objective fails (the engine's check then names the error)."""
    resid = objective_residual(fcn, spec)
    try:
        r = jax.vmap(resid, in_axes=(0, 0, None))(jnp.asarray(theta0), per_fit, shared)
    except Exception:  # noqa: BLE001 (the engine's residual check reports it)
        return None
    return np.asarray(jnp.isfinite(r).sum(axis=1))


def minimize(fcn, params, args=(), kws=None, method="leastsq", *, scale_covar=True,
             nan_policy="raise", max_nfev=None, ftol=None, xtol=None, gtol=None, dtype=None, config=None,
             chunk_size=None, checkpoint=None, progress=None, n_starts=1, seed=None, loss="linear",
             f_scale=1.0, per_fit_args=None, reduce_fcn=None, learning_rate=None, **fit_kws):
    """Minimise the sum of squares of ``fcn(params, *args, **kws)``.

    lmfit-compatible: ``fcn`` receives a mapping from parameter name to a JAX
    scalar and returns the residual array (any shape; it is flattened).
    Parameter values given as arrays of shape (N,) fit N problems at once,
    one per start (or per bound set), sharing ``args``.

    Args:
      fcn: objective, traceable by JAX (use ``jnp`` inside).
      params: :class:`~batchfit.Parameters`.
      args, kws: extra arguments for ``fcn`` (numeric arrays), common to every fit.
      method: ``"leastsq"``/``"lm"`` (Levenberg-Marquardt; lmfit's
        ``"least_squares"`` runs the same solver) or ``"gauss_newton"``;
        case-insensitive, as lmfit's;
        or a scalar method run through optax: ``"lbfgs"`` (alias
        ``"lbfgsb"``), ``"adam"``, ``"adamw"``, ``"nadam"``, ``"adabelief"``,
        ``"rmsprop"``, ``"sgd"``. A scalar method minimises ``fcn``'s value
        when it is a scalar, else ``reduce_fcn`` of it (the sum of squares
        by default), as lmfit's scalar methods do.
      scale_covar: scale the covariance by the reduced chi-square.
      nan_policy: as lmfit's: ``"raise"`` (default): a NaN or inf in
        ``args``/``kws`` raises ValueError naming the argument, before
        anything compiles (a residual that becomes non-finite during the fit
        gives that fit a status: NONFINITE_START or DIVERGED);
        ``"propagate"``: no check, such fits fail with a status;
        ``"omit"``: non-finite residuals are dropped (set to 0 and not
        counted in ``ndata``, which counts the finite residuals at the start).
      max_nfev, ftol, xtol, gtol: solver tolerances (see :class:`LMConfig`).
      max_nfev, ftol, xtol, gtol: solver tolerances (see :class:`LMConfig`);
        for a scalar method ``max_nfev`` is the iteration limit (default
        10000), ``gtol`` the relative gradient tolerance (default 1e-9) and
        ``ftol`` the relative tolerance on the objective's change (default
        1e-15); ``xtol`` does not apply.
      per_fit_args: a tuple of arrays with a leading axis N: fit ``i`` calls
        ``fcn(params, *args, *(a[i] for a in per_fit_args), **kws)``, so one
        objective fits N datasets at once (parameter arrays, if any, must
        have length N; scalar ones start every fit).
      reduce_fcn: for scalar methods, lmfit's ``reduce_fcn``: ``None`` (sum
        of squares), ``"negentropy"``, ``"neglogcauchy"`` or a callable.
      learning_rate: step size of the first-order scalar methods (default 1e-2).
      dtype: ``"float32"`` or ``"float64"``; by default float64 unless every
        floating input array is float32.
      config: an :class:`LMConfig` for further options.
      chunk_size: fit a batch (parameter arrays of shape (N,)) in chunks of
        this many problems; the result equals the unchunked fit's. ``None``
        (default): in one piece unless that would not fit in the devices'
        memory, then streamed in the largest chunks that do.
      checkpoint: a directory where each finished chunk is saved; a rerun
        with the same inputs loads those chunks instead of refitting them.
      progress: ``None`` (a tqdm bar when there is more than one chunk and
        tqdm is installed), ``True``, ``False``, or ``progress(done, total)``
        called after each chunk.
      n_starts: starts per fit (default 1): the given one and
        ``n_starts - 1`` drawn with ``seed``, all fitted in one batch; each
        fit keeps its best (see :mod:`batchfit.inference`).
      seed: seed of the drawn starts (default 0).
      **fit_kws: lmfit's solver keywords: ``maxfev``, ``xtol``, ``ftol``,
        ``gtol`` (and :class:`LMConfig` fields); ``epsfcn``, ``Dfun``,
        ``col_deriv`` and ``jac`` are accepted and unused (Jacobians are exact).
      loss, f_scale: minimise scipy.optimize.least_squares' robust cost
        ``0.5 f_scale^2 sum rho((f/f_scale)^2)`` instead (``"linear"``,
        ``"soft_l1"``, ``"huber"``, ``"cauchy"``, ``"arctan"``);
        ``chisqr`` is then twice that cost and the covariance scipy's
        curve_fit's under a loss (``problem/_estimator``).

    Returns:
      :class:`~batchfit.FitResult`.

    Example:
      >>> import jax.numpy as jnp, numpy as np
      >>> from batchfit import Parameters, minimize
      >>> x = np.linspace(0, 1, 11); y = 2.0 * x + 1.0
      >>> p = Parameters(); p.add("a", 1.0); p.add("b", 0.0)
      >>> res = minimize(lambda p, x, y: p["a"] * x + p["b"] - y, p, args=(x, y))
      >>> round(float(res.params["a"].value), 6), bool(res.success)
      (2.0, True)
    """
    if not callable(fcn):
        raise TypeError("fcn must be callable")
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"minimize: nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
    method = canonical_method(method)
    opts = solver_options(fit_kws, "minimize")
    for k, v in {"max_nfev": max_nfev, "ftol": ftol, "xtol": xtol, "gtol": gtol}.items():
        if v is not None:
            opts[k] = v
    scalar = method in SCALAR_METHODS
    if scalar:
        if loss != "linear":
            raise ValueError(f"loss={loss!r} is for the least-squares methods, not method={method!r} "
                             "(give the scalar objective itself, or a reduce_fcn)")
        scfg = scalar_config(method, config, opts.get("max_nfev"), opts.get("ftol"), opts.get("xtol"),
                             opts.get("gtol"), learning_rate, chunk_size, checkpoint)
        red = reduce_function(reduce_fcn)
    else:
        if reduce_fcn is not None or learning_rate is not None:
            raise ValueError(f"reduce_fcn and learning_rate are for the scalar methods "
                             f"{sorted(SCALAR_METHODS)}, not method={method!r}")
        cfg = make_config(method, config, **opts)
        est = make_estimator("chi2", loss, f_scale, label="minimize")
    if not (type(n_starts) is int and n_starts == 1) or seed is not None:
        from ..inference._multistart_fit import minimize_multistart

        return minimize_multistart(minimize, fcn, params, n_starts, seed, {
            "args": args, "kws": kws, "method": method, "nan_policy": nan_policy,
            "scale_covar": scale_covar, "max_nfev": max_nfev, "ftol": ftol, "xtol": xtol, "gtol": gtol,
            "dtype": dtype, "config": config, "chunk_size": chunk_size, "checkpoint": checkpoint,
            "progress": progress, "loss": loss, "f_scale": f_scale, "per_fit_args": per_fit_args,
            "reduce_fcn": reduce_fcn, "learning_rate": learning_rate, **fit_kws})
    fcn = lmfit_calling(fcn)  # receives Parameters, as in lmfit
    objective = _omitting(fcn) if nan_policy == "omit" else fcn
    spec = make_spec(params)
    pfa, Na = per_fit_arrays(per_fit_args)
    if nan_policy == "raise":
        _check_finite_args(args, kws)
        for i, a in enumerate(pfa):
            if not np.all(np.isfinite(a)):
                raise ValueError(f"minimize: per_fit_args[{i}] contains NaN or inf; pass nan_policy='omit' "
                                 "to drop the non-finite residuals or 'propagate' to let those fits fail")
    Bp = batch_size_of(params)
    if Na is not None and Bp is not None and Na != Bp:
        raise ValueError(f"minimize: per_fit_args hold {Na} fits but the parameter arrays have length {Bp}")
    B = Na or Bp or 1
    leaves = jax.tree_util.tree_leaves((tuple(args), dict(kws or {}), pfa))
    dt = resolve_dtype(dtype, *leaves)
    if scalar and np.dtype(dt) == np.float32:
        if dtype is not None:
            raise ValueError(f"minimize: method={method!r} runs in float64 only (its stopping rules "
                             "and Hessian are not checked against float32 rounding); pass dtype=None")
        dt = np.float64  # float32 inputs are widened
    packed = pack(params, spec, B)
    with x64_context(dt):
        shared = _shared_tree(args, kws, dt)
        per_fit = packed_args(packed, dt)
        for i, a in enumerate(pfa):
            warn_if_unresolved(f"per_fit_args[{i}]", a, dt, "minimize")
        if pfa:
            per_fit["args"] = tuple(host_arrays({i: a for i, a in enumerate(pfa)}, dt).values())
        label = f"objective {getattr(fcn, '__name__', repr(fcn))!r}"
        if scalar:
            result = scalar_fit(objective, spec, params.copy(), packed, per_fit, shared, B,
                                (Bp or Na) is not None, scfg, red, dt, scale_covar, label)
            result.extras.update(nan_policy=nan_policy, scale_covar=bool(scale_covar), max_nfev=scfg.max_iter)
            return result
        ndata = _finite_count(fcn, spec, packed.theta0.astype(dt), per_fit, shared) if nan_policy == "omit" else None
        result = _chunked.run(objective_residual(objective, spec, est=est),
                              objective_residual(objective, spec, True, est=est, stats=not est.plain), spec,
                              params.copy(), packed, per_fit, shared, ndata, B, (Bp or Na) is not None, cfg,
                              dt, method, scale_covar, label, chunk_size=chunk_size,
                              checkpoint=checkpoint, progress=progress)
    result.extras.update(nan_policy=nan_policy, scale_covar=bool(scale_covar),
                         max_nfev=cfg.resolved(dt, spec.nfree).max_nfev)
    if not est.plain:
        result.extras.update(statistic=est.statistic, loss=est.loss, f_scale=est.f_scale)
    return result
