"""Prediction bands of shared-parameter group fits (lmfit's
``ModelResult.eval_uncertainty`` on the group written as one flat fit), batched.

Each group is one fit of its flat parameter vector (``_groups.FlatView``):
``dely = t_ppf((prob + 1) / 2, nfree) * sqrt(diag(J C Jᵀ))`` over the
group's K datasets, with ``C`` the group's full covariance and ``J`` the
exact Jacobian of every dataset's model curve with respect to all free
parameters of the group (shared and per-dataset, ties followed).
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
from ._groups import FlatView
from ._uncertainty import checked_model


@functools.lru_cache(maxsize=128)
def _variance_fn(fn, spec, arg_names, shared, K, indep_axes):
    """Jitted ``df2`` (G, K, m) of the flat groups, vmapped over groups."""

    def one(v, fixed, tlo, thi, cov, ind):
        def curves(t):
            vals = values_from_external(spec, t, fixed, tlo, thi)
            cols = {a: (jnp.broadcast_to(vals[a], (K,)) if a in shared else
                        jnp.stack([vals[f"{a}_{k}"] for k in range(K)])) for a in arg_names}
            axes = {n: ax for n, ax in indep_axes}
            out = jax.vmap(lambda c, i: jnp.asarray(fn(**c, **i)), in_axes=(0, axes))(cols, ind)
            return out.reshape(K, -1)

        J = jax.jacfwd(curves)(v)  # (K, m, n)
        return jnp.einsum("kmi,ij,kmj->km", J, cov, J)

    g_axes = {n: (0 if ax is not None else None) for n, ax in indep_axes}
    return xla_jit(jax.vmap(one, in_axes=(0, 0, 0, 0, 0, g_axes)))


def _indep(a, name, G, K, dt):
    """An independent variable and its axes: leading (G, K) per dataset of
    each group, leading (K,) per dataset (the same in every group), else
    common to all."""
    a = np.asarray(a, dtype=dt)
    if a.ndim >= 3 and a.shape[:2] == (G, K):
        return a, 0
    if a.ndim >= 2 and a.shape[0] == K:
        return np.broadcast_to(a, (G,) + a.shape), 0
    return a, None


def group_eval_uncertainty(result, sigma=1, **kwargs):
    """See :meth:`batchfit.groups.GroupFitResult.eval_uncertainty`."""
    model = checked_model(result, sigma, "eval_uncertainty needs the Model of the group fit; this result "
                          "has none (loaded from a file)")
    unknown = sorted(set(kwargs) - set(model.independent_vars))
    if unknown:
        raise TypeError(f"eval_uncertainty: unexpected keyword(s) {unknown}; independent variables are "
                        f"{model.independent_vars}")
    view = FlatView(result, "eval_uncertainty")
    refit, rows = view.extras["refit"].refit, view.extras["refit"].index
    spec, lay = view._spec, result._lay
    G, K = len(result), lay.K
    dt = np.result_type(refit.dtype, np.float32)
    fit_indep = result.extras.get("indep") or {}
    ind, axes = {}, []
    for name in model.independent_vars:
        a = kwargs.get(name, fit_indep.get(name))
        if a is None:
            raise ValueError(f"eval_uncertainty: independent variable {name!r} not given")
        ind[name], ax = _indep(a, name, G, K, dt)
        axes.append((name, ax))
    col = [spec.names.index(n) for n in spec.free]
    v = view._a["values_all"][:, col].astype(dt)
    per = refit.per_fit
    fixed, tlo, thi = (np.asarray(per[k][rows], dtype=dt) for k in ("fixed", "tied_lo", "tied_hi"))
    cov = view._a["covar"].astype(dt)
    fn = _variance_fn(model.eval_fn, spec, tuple(model.param_names), tuple(lay.shared), K, tuple(axes))
    with x64_context(dt):
        df2 = np.asarray(fn(v, fixed, tlo, thi, cov, ind), dtype=float)
    prob = sigma_to_prob(sigma)
    nfree = np.maximum(np.asarray(view._a["ndata"]) - np.asarray(result.nvarys), 1)
    scale = t_ppf((prob + 1.0) / 2.0, nfree)[:, None, None]
    redchi = np.asarray(view._a["redchi"], dtype=float)[:, None, None]
    dely = scale * np.sqrt(df2)
    pred = scale * np.sqrt(df2 + redchi)
    one = (lambda a: a) if result.batched else (lambda a: a[0])
    result.extras["dely"] = dely
    result.extras["dely_predicted"] = pred
    return one(dely)
