"""``Model.fit(method=<scalar method>)``: a Model fitted through optax, as
``minimize`` does (``_scalar.py``), batched.

The objective is the weighted residual ``(model(x) - data) * weights`` of
each fit, reduced to a scalar by ``reduce_fcn`` (lmfit's: the sum of
squares by default); its statistics are ``minimize``'s for an array
objective (lmfit's scalar methods: ``chisqr = sum(r**2)``, covariance
``2 inv(H)`` scaled by ``redchi`` unless ``scale_covar=False``). Data of
shape (m,) is one fit, (N, m) N fits in one call; weights and
independent variables of shape (N, m) are per fit.
"""

from __future__ import annotations

import numpy as np


def fit_scalar(model, data, params, indep, weights, method, *, nan_policy, scale_covar, max_nfev, ftol,
               gtol, dtype, fit_kws, refused=(None, "chi2", "linear", 1), reduce_fcn=None,
               learning_rate=None):
    from ._minimize import minimize

    label = f"Model {model._name!r}.fit"
    shared, statistic, loss, n_starts = refused
    if shared is not None or statistic != "chi2" or loss != "linear" or n_starts != 1:
        raise ValueError(f"{label}: method={method!r} (a scalar method) takes no shared=, statistic, loss "
                         "or n_starts; use method='leastsq'")
    try:
        y = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{label}: method={method!r} takes data of shape (m,) or (N, m) "
                         "(not ragged lists)") from None
    if y.ndim not in (1, 2) or y.shape[-1] == 0:
        raise ValueError(f"{label}: method={method!r} takes data of shape (m,) or (N, m), got {y.shape}")
    batched = y.ndim == 2
    N, m = (y.shape if batched else (1, y.shape[0]))
    w = None if weights is None else np.asarray(weights, dtype=float)
    if w is not None and w.shape not in ((), (m,), (N, m)) and not (batched and w.shape == y.shape):
        raise ValueError(f"{label}: weights of shape {w.shape} do not match data of shape {y.shape}")
    names = ["data"] + ([] if w is None else ["weights"]) + list(indep)
    arrays = [y] + ([] if w is None else [w]) + [np.asarray(indep[v]) for v in indep]
    per = [batched and a.ndim == 2 and a.shape[0] == N for a in arrays]
    per[0] = batched
    if w is not None and batched and w.shape == (N, m):
        per[1] = True
    shared_idx = [i for i, p in enumerate(per) if not p]
    pf_idx = [i for i, p in enumerate(per) if p]
    order = shared_idx + pf_idx
    fn = model.eval_fn
    indep_names = list(indep)

    def objective(p, *a):
        got = dict(zip([names[i] for i in order], a))
        vals = {n: p[n] for n in model.param_names}
        out = fn(**vals, **{v: got[v] for v in indep_names})
        r = out - got["data"]
        return r * got["weights"] if "weights" in got else r

    objective.__name__ = model._name
    kw = dict(fit_kws or {})
    res = minimize(objective, params, args=tuple(arrays[i] for i in shared_idx),
                   per_fit_args=tuple(arrays[i] for i in pf_idx) or None, method=method,
                   nan_policy=nan_policy, scale_covar=True if scale_covar is None else scale_covar,
                   max_nfev=max_nfev, ftol=ftol, gtol=gtol, dtype=dtype, reduce_fcn=reduce_fcn,
                   learning_rate=learning_rate, **kw)
    if not batched and res.batched:
        res = res[0]
    best = _model_at(model, res, indep, per, names, arrays, N, m)
    # per-fit extras keep their leading axis (a single fit's accessors take row 0)
    res.extras.update(model=model, indep=dict(indep), best_fit=best, data=y.reshape(N, m),
                      weights=None if w is None else np.broadcast_to(w, (N, m)))
    return res


def _model_at(model, res, indep, per, names, arrays, N, m):
    """The model at the solution, (N, m) (vmapped over the fits)."""
    import jax
    import jax.numpy as jnp

    from ..problem._compat import x64_context

    col = {n: res._spec.names.index(n) for n in model.param_names}
    vals = {n: np.asarray(res._a["values_all"][:, j], dtype=float) for n, j in col.items()}
    ind = {v: np.asarray(indep[v], dtype=float) for v in indep}
    axes = {v: (0 if per[names.index(v)] else None) for v in indep}
    with x64_context(np.float64):
        out = jax.vmap(lambda p, i: jnp.ravel(jnp.broadcast_to(model.eval_fn(**p, **i), (m,))),
                       in_axes=(0, axes))(vals, ind)
    return np.asarray(out, dtype=float).reshape(N, m)
