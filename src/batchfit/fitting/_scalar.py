"""minimize() with a scalar method (optax): objective, solve, statistics, FitResult.

The objective is ``fcn(params, *args, *per_fit_args_i, **kws)``. A scalar
return value is minimised as it is; an array is reduced to a scalar by
``reduce_fcn`` (lmfit's: the sum of squares by default, ``"negentropy"``,
``"neglogcauchy"`` or a callable ``r -> scalar`` written with ``jnp``).

Statistics follow lmfit's scalar methods: for an array objective
``chisqr = sum(r**2)``, ``ndata = r.size`` and the covariance is
``2 * inv(H)`` (H the Hessian of the reduced objective in the external
parameters, by autodiff), scaled by ``redchi`` unless
``scale_covar=False``. For a scalar objective lmfit sets ``chisqr`` to the
objective's value, ``ndata = nfree = 1``; it reports no covariance, and
batchfit reads the objective as a negative log-likelihood: covariance
``inv(H)``, never scaled.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..params._bounds import to_external
from ..problem._pack import values_from_external, values_from_internal
from ..results._result import FitResult
from ..solver._optax import OPTIMIZERS, ScalarConfig, solve_scalar
from ..solver._results import RESULTS, success_codes
from ..solver._xla import jit as xla_jit
from ..stats import _compute as _stats

#: scalar methods, run through optax (solver/_optax.py)
SCALAR_METHODS = {**{k: k for k in OPTIMIZERS}, "lbfgsb": "lbfgs", "l-bfgsb": "lbfgs", "l-bfgs-b": "lbfgs"}

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def reduce_chisquare(r):
    return jnp.sum(r * r)


def reduce_negentropy(r):
    """lmfit's ``(norm.pdf(r) * norm.logpdf(r)).sum()``."""
    logpdf = -0.5 * r * r - _LOG_SQRT_2PI
    return jnp.sum(jnp.exp(logpdf) * logpdf)


def reduce_cauchylogpdf(r):
    """lmfit's ``-cauchy.logpdf(r).sum()``."""
    return jnp.sum(jnp.log(jnp.pi * (1.0 + r * r)))


def reduce_function(reduce_fcn):
    """lmfit's choice: a callable, a name starting ``neglogc`` or ``negent``, or None."""
    if reduce_fcn is None:
        return reduce_chisquare
    if callable(reduce_fcn):
        return reduce_fcn
    if isinstance(reduce_fcn, str):
        if reduce_fcn.lower().startswith("neglogc"):
            return reduce_cauchylogpdf
        if reduce_fcn.lower().startswith("negent"):
            return reduce_negentropy
    raise ValueError(f"reduce_fcn must be None, 'negentropy', 'neglogcauchy' or a callable, got {reduce_fcn!r}")


@functools.lru_cache(maxsize=256)
def _raw(fcn, spec, external: bool):
    """``fcn``'s output (unreduced) at internal or external free values."""

    def out(theta, p, shared):
        if external:
            values = values_from_external(spec, theta, p["fixed"], p["tied_lo"], p["tied_hi"])
        else:
            values = values_from_internal(spec, theta, p)
        args, kws = shared
        return jnp.asarray(fcn(values, *args, *p.get("args", ()), **kws))

    return out


@functools.lru_cache(maxsize=256)
def objective(fcn, spec, reduce, external: bool = False):
    """The scalar objective the optimiser minimises."""
    raw = _raw(fcn, spec, external)

    def f(theta, p, shared):
        r = raw(theta, p, shared)
        return r.reshape(()) if r.size == 1 else jnp.sum(reduce(jnp.ravel(r)))

    return f


@functools.partial(xla_jit, static_argnums=(0, 1, 2))
def _at_solution(f_ext, raw_ext, spec, theta, per_fit, shared):
    """Per fit: Hessian of the objective in the external free values, the
    raw output, every parameter's value and its Jacobian."""

    def one(t, p):
        v = to_external(t, p["lo"], p["hi"])
        H = jax.hessian(lambda u: f_ext(u, p, shared))(v)
        r = jnp.ravel(raw_ext(v, p, shared))

        def allv(u):
            d = values_from_external(spec, u, p["fixed"], p["tied_lo"], p["tied_hi"])
            return jnp.stack([jnp.asarray(d[k], v.dtype) for k in spec.names])

        return H, r, allv(v), jax.jacfwd(allv)(v)

    return jax.vmap(one)(theta, per_fit)


def _inverse(H):
    """inv(H) per fit where H is symmetric positive definite, else NaN."""
    out = np.full_like(H, np.nan)
    for i, h in enumerate(H):
        d = np.sqrt(np.abs(np.diag(h)))
        if not (np.all(np.isfinite(h)) and np.all(d > 0)):
            continue
        hs = h / np.outer(d, d)
        try:
            L = np.linalg.cholesky(0.5 * (hs + hs.T))
        except np.linalg.LinAlgError:
            continue
        Li = np.linalg.inv(L)
        out[i] = (Li.T @ Li) / np.outer(d, d)
    return out


def scalar_fit(fcn, spec, template, packed, per_fit, shared, B, batched, cfg, reduce, dtype,
               scale_covar, label):
    """Solve with :func:`~batchfit.solver._optax.solve_scalar` and build the
    :class:`FitResult` (inside the x64 context of ``dtype``)."""
    from ..engine._run import check_residual

    raw = _raw(fcn, spec, False)
    theta0 = np.asarray(packed.theta0, dtype=dtype)
    m = check_residual(lambda t, p, s: jnp.ravel(raw(t, p, s)), theta0, per_fit, shared, None, label)
    scalar = m == 1
    f = objective(fcn, spec, reduce)
    f_ext = objective(fcn, spec, reduce, True)
    dev = jax.device_put((theta0, per_fit))
    theta, fval, nit, status = (np.asarray(a) for a in solve_scalar(f, cfg, *dev, shared))
    H, r, vals, Gm = (np.asarray(a) for a in _at_solution(f_ext, _raw(fcn, spec, True), spec,
                                                           jax.device_put(theta), dev[1], shared))
    n = spec.nfree
    if scalar:  # lmfit's statistics of a scalar objective
        chisqr = fval.astype(np.float64)
        ndata = np.ones(B, dtype=np.int64)
        nfree = np.ones(B, dtype=np.int64)
        redchi = chisqr.copy()
        _, aic, bic = _stats.info_criteria(chisqr, ndata, n)
    else:
        chisqr = np.sum(r.astype(np.float64) ** 2, axis=1)
        ndata = np.full(B, m)
        nfree = ndata - n
        redchi, aic, bic = _stats.info_criteria(chisqr, ndata, n)
    with np.errstate(all="ignore"):
        C = _inverse(H.astype(np.float64))
        if not scalar:
            C = 2.0 * C * (redchi[:, None, None] if scale_covar else 1.0)
        var = np.einsum("bij,bjk,bik->bi", Gm, C, Gm)
    ok = np.all(np.isfinite(C), axis=(1, 2)) & np.all(np.diagonal(C, axis1=1, axis2=2) > 0, axis=1)
    if not scalar:
        status = np.where((nfree < 0) & np.isin(status, success_codes()), RESULTS.TOO_FEW_POINTS, status)
    stderr = np.where(ok[:, None], np.sqrt(np.maximum(var, 0.0)), np.nan)
    for j, nm in enumerate(spec.names):
        if nm in spec.fixed:
            stderr[:, j] = 0.0
    return FitResult(
        spec=spec, template=template, method=cfg.method, batched=batched,
        status=status.astype(np.int32), nfev=nit, ndata=ndata, nfree=nfree, chisqr=chisqr,
        redchi=redchi, aic=aic, bic=bic, covar=C, init_vals=packed.init,
        errorbars=ok & np.isin(status, success_codes()), residual=r, values_all=vals, stderr_all=stderr,
        extras={"fun": fval.astype(np.float64)})  # the objective's final value (scipy's OptimizeResult.fun)


def scalar_config(method, config, max_nfev, ftol, xtol, gtol, learning_rate, chunk_size, checkpoint):
    if config is not None and not isinstance(config, ScalarConfig):
        raise TypeError(f"method={method!r} takes a ScalarConfig as config, got {type(config).__name__}")
    if xtol is not None:
        raise ValueError(f"xtol does not apply to method={method!r} (it stops on gtol or ftol)")
    if chunk_size is not None or checkpoint is not None:
        raise ValueError(f"chunk_size and checkpoint are not supported with method={method!r}")
    kw = {"max_iter": max_nfev, "ftol": ftol, "gtol": gtol, "learning_rate": learning_rate}
    for k, v in kw.items():
        if v is not None and not (isinstance(v, (int, float, np.number)) and v >= 0):
            raise ValueError(f"{'max_nfev' if k == 'max_iter' else k} must be a number >= 0, got {v!r}")
    base = config if config is not None else ScalarConfig()
    return dataclasses.replace(base, method=SCALAR_METHODS[method],
                               **{k: v for k, v in kw.items() if v is not None})
