"""Prediction bands of a Model fit (lmfit's ``ModelResult.eval_uncertainty``), batched.

``dely = t_ppf((prob + 1) / 2, nfree) * sqrt(diag(J C Jᵀ))`` with ``C`` the
result's covariance of the free parameters and ``J`` the model's Jacobian
with respect to them (exact, by autodiff, where lmfit uses central
differences of step ``0.01 stderr``); tied parameters follow their
expressions. ``dely_predicted`` adds ``redchi`` under the square root and
``dely_comps`` holds each component's band, as lmfit.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..problem._compat import x64_context
from ..problem._pack import values_from_external
from ..solver._xla import jit as xla_jit
from ._distributions import sigma_to_prob, t_ppf


def _components(model):
    """lmfit's labels and callables of a model's components (``prefix`` when
    longer than one character, else the model's name)."""
    leaves = model.components if hasattr(model, "components") else [model]
    return tuple((m.prefix if len(m.prefix) > 1 else m._name, m.eval_fn) for m in leaves)


@functools.lru_cache(maxsize=128)
def _variance_fn(fn, comps, spec, indep_axes):
    """Jitted, vmapped ``(df2, {label: df2})`` per fit."""

    def one(v, fixed, tlo, thi, cov, ind):
        def curves(t):
            vals = values_from_external(spec, t, fixed, tlo, thi)
            out = {"0": jnp.ravel(jnp.asarray(fn(**vals, **ind)))}
            if len(comps) > 1:
                for label, f in comps:
                    out[label] = jnp.ravel(jnp.broadcast_to(jnp.asarray(f(**vals, **ind)), out["0"].shape))
            return out

        J = jax.jacfwd(curves)(v)
        return {k: jnp.einsum("mi,ij,mj->m", a, cov, a) for k, a in J.items()}

    return xla_jit(jax.vmap(one, in_axes=(0, 0, 0, 0, 0, dict(indep_axes))))


def _column(params, names, attr, B, dtype):
    cols = [np.broadcast_to(np.asarray(getattr(params[n], attr), dtype=dtype), (B,)) for n in names]
    return np.stack(cols, axis=1) if cols else np.zeros((B, 0), dtype=dtype)


def checked_model(result, sigma, no_model):
    """The Model behind ``result`` (``no_model``: the message when there is
    none), with ``sigma`` checked positive."""
    model = result.extras.get("model")
    if model is None:
        raise ValueError(no_model)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"eval_uncertainty: sigma must be positive, got {sigma!r}")
    return model


def eval_uncertainty(result, params=None, sigma=1, **kwargs):
    """See :meth:`batchfit.FitResult.eval_uncertainty`."""
    model = checked_model(result, sigma, "eval_uncertainty needs the result of Model.fit (it evaluates "
                          "the model); this result has no model")
    spec = result._spec
    B = len(result)
    params = result.params if params is None else params
    missing = [n for n in spec.names if n not in params]
    if missing:
        raise ValueError(f"eval_uncertainty: params lacks {missing}")
    unknown = sorted(set(kwargs) - set(model.independent_vars))
    if unknown:
        raise TypeError(f"eval_uncertainty: unexpected keyword(s) {unknown}; independent variables are "
                        f"{model.independent_vars}")
    dt = np.result_type(result._a["values_all"].dtype, np.float32)
    fit_indep = result.extras.get("indep") or {}
    ind, axes = {}, {}
    for name in model.independent_vars:
        a = kwargs.get(name, fit_indep.get(name))
        if a is None:
            raise ValueError(f"eval_uncertainty: independent variable {name!r} not given")
        a = np.asarray(a, dtype=dt)
        per_fit = result.batched and a.ndim >= 2 and a.shape[0] == B
        if not result.batched and a.ndim >= 2 and a.shape[0] == 1 and name not in kwargs:
            per_fit = True  # a single fit's own (1, m) row
        ind[name], axes[name] = a, (0 if per_fit else None)
    v = _column(params, spec.free, "value", B, dt)
    fixed = _column(params, spec.fixed, "value", B, dt)
    tnames = [n for n, _ in spec.tied]
    tlo, thi = _column(params, tnames, "min", B, dt), _column(params, tnames, "max", B, dt)
    cov = np.asarray(result._a["covar"], dtype=dt)
    comps = _components(model)
    fn = _variance_fn(model.eval_fn, comps, spec, tuple(sorted(axes.items())))
    with x64_context(dt):
        df2 = {k: np.asarray(a, dtype=float) for k, a in fn(v, fixed, tlo, thi, cov, ind).items()}
    prob = sigma_to_prob(sigma)
    nfree = np.maximum(np.asarray(result._a["ndata"]) - result.nvarys, 1)
    scale = t_ppf((prob + 1.0) / 2.0, nfree)[:, None]
    total = df2.pop("0")
    redchi = np.asarray(result._a["redchi"], dtype=float)[:, None]
    dely = scale * np.sqrt(total)
    result.extras["dely"] = dely
    result.extras["dely_predicted"] = scale * np.sqrt(total + redchi)
    comp = {k: scale * np.sqrt(a) for k, a in df2.items()} or {comps[0][0]: dely}
    result.extras["dely_comps"] = comp if result.batched else {k: a[0] for k, a in comp.items()}
    return dely if result.batched else dely[0]
