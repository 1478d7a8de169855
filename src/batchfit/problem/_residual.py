"""Residual functions ``resid(theta, per_fit, shared) -> r`` for the solver.

Factories are cached, so the same model and parameter structure give the
same function object, and the solver's compiled code is reused.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp

from ._estimator import CHI2, Estimator, transform
from ._pack import ParamSpec, values_from_external, values_from_internal


class ResidualTypeError(TypeError):
    """A model returned values of a non-floating dtype."""


class ResidualShapeError(ValueError):
    """A model returned an array whose shape is not that of one dataset."""


def _check_precision(out, dtype, what):
    """A model computing in a narrower float than the fit (float32 inside a
    float64 fit) would silently give float32 answers: refuse it."""
    if jnp.issubdtype(out.dtype, jnp.floating) and jnp.finfo(out.dtype).bits < jnp.finfo(dtype).bits:
        raise ResidualTypeError(
            f"{what} returned {out.dtype} values in a {jnp.dtype(dtype).name} fit, so the fit would run at "
            f"{out.dtype} precision: make it compute in {jnp.dtype(dtype).name} (look for float32 arrays or "
            f"astype inside it), or fit with dtype='{out.dtype}'")


def _external_values(spec, v_free, p):
    return values_from_external(spec, v_free, p["fixed"], p["tied_lo"], p["tied_hi"])


@functools.lru_cache(maxsize=512)
def objective_residual(fcn, spec: ParamSpec, external: bool = False, est: Estimator = CHI2,
                       stats: bool = False):
    """For ``minimize``: ``fcn(params, *args, **kws)`` returns residuals.

    ``shared`` is ``(args, kws)``; ``p["args"]`` (when present) holds the
    fit's own ``per_fit_args``, passed after ``args``. With ``external=True``
    theta holds the external free values (used for statistics); otherwise
    internal ones.
    ``est`` a robust loss (``problem/_estimator``); ``stats``: its
    statistics form (the curvature for the covariance).
    """

    def resid(theta, p, shared):
        values = _external_values(spec, theta, p) if external else values_from_internal(spec, theta, p)
        args, kws = shared
        out = jnp.ravel(fcn(values, *args, *p.get("args", ()), **kws))
        _check_precision(out, theta.dtype, f"objective {getattr(fcn, '__name__', repr(fcn))!r}")
        return out if est.plain else transform(est, out, stats=stats)

    return resid


@functools.lru_cache(maxsize=512)
def model_residual(func, spec: ParamSpec, arg_names: tuple, indep: tuple, external: bool = False,
                   est: Estimator = CHI2, stats: bool = False):
    """For ``Model.fit``: ``(func(**indep, **params) - y) * weights``, masked.

    ``est`` another statistic (cstat: deviance residuals of the model and
    counts) or a robust loss, see ``problem/_estimator``; ``stats``: its
    statistics form, whose ``JᵀJ`` gives the covariance.

    ``p["data"]`` holds the per-fit ``y`` (and ``mask``, ``weights``),
    ``p["indep"]`` the per-fit independent variables; ``shared`` holds the
    same two groups for arrays common to every fit.
    """

    def resid(theta, p, shared):
        values = _external_values(spec, theta, p) if external else values_from_internal(spec, theta, p)
        kwargs = {a: values[a] for a in arg_names}
        for name in indep:
            kwargs[name] = p["indep"][name] if name in p["indep"] else shared["indep"][name]
        out = jnp.asarray(func(**kwargs))
        if not jnp.issubdtype(out.dtype, jnp.floating):
            name = getattr(func, "__name__", "model")
            raise ResidualTypeError(f"Model {name!r} must return real floating values, got dtype {out.dtype}")
        d = p["data"]
        _check_precision(out, d["y"].dtype, f"Model {getattr(func, '__name__', 'model')!r}")
        if out.shape not in ((), (1,), d["y"].shape):  # a scalar broadcasts
            raise ResidualShapeError(f"returned shape {out.shape}, but a dataset has shape {d['y'].shape}")
        return finish_residual(est, stats, jnp.ravel(out), d, shared["data"])

    return resid


def finish_residual(est: Estimator, stats: bool, model, d, shared_data):
    """The residual of ``model`` against ``d["y"]`` (weighted, masked) in
    the estimator's form; ``shared_data`` may hold weights common to every fit."""
    y = d["y"]
    if est.statistic == "cstat":
        m = jnp.broadcast_to(model, y.shape)
        if "mask" in d:  # masked points: model = data (residual 0), whatever they hold
            m = jnp.where(d["mask"], m, jnp.where(y > 0, y, 1.0))
            y = jnp.where(d["mask"], y, jnp.where(y > 0, y, 1.0))
        r = transform(est, None, m, y, stats)
    else:
        r = model - y
        w = d.get("weights", shared_data.get("weights"))
        if w is not None:
            r = r * w
        white = d.get("whiten", shared_data.get("whiten"))
        if white is not None:  # L⁻¹ of a covariance C = L Lᵀ (curve_fit's 2-D sigma): r -> L⁻¹ r
            r = white @ (jnp.where(d["mask"], r, 0.0) if "mask" in d else r)
        if not est.plain:
            r = transform(est, r, stats=stats)
    if "mask" in d:
        r = jnp.where(d["mask"], r, 0.0)
    return r
