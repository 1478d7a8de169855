"""Shared-parameter groups: ``Model.fit(data, params, shared=[...])``.

Data of shape (K, m) is one group of K datasets, (G, K, m) is G groups.
Groups with both shared and per-dataset free parameters are solved by the
block-arrow (Schur complement) LM in ``solver/_arrow.py``, which never
forms the dense Jacobian: linear in K, and several times faster than the
dense solve even for K = 4. The dense solve (each group one fit of the
flat parameter vector: shared, then per-dataset copies, batched over
groups with the usual vmapped LM) covers the rest (Gauss-Newton, no
shared or no per-dataset free parameter) and can be asked for.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..engine._run import run
from ..problem._compat import warn_unresolved_data
from ..problem._data import prepare, shape_hint
from ..problem._estimator import CHI2, check_counts
from ..problem._pack import (
    host_arrays,
    make_spec,
    pack,
    packed_args,
    values_from_external,
    values_from_internal,
)
from ..problem._residual import ResidualShapeError, ResidualTypeError, finish_residual
from ..stats import _estimated
from ._layout import (
    check_ties,
    flat_params,
    flatten_array,
    local_name,
    make_layout,
    parse_data,
    split_groups,
    vary_table,
)
from ._lazy import lazy_rows
from ._result import GroupFitResult, fit_extras

GROUP_SOLVERS = ("auto", "dense", "schur")


@functools.lru_cache(maxsize=256)
def group_residual(func, spec, arg_names: tuple, indep: tuple, shared: tuple, K: int,
                   external: bool = False, est=CHI2, stats: bool = False):
    """Residual of one group for the flat parameter vector: the model is
    evaluated on each of the K datasets (vmapped) and the (K, m) residuals
    are flattened. ``est``, ``stats``: as for ``problem._residual.model_residual``."""

    def resid(theta, p, sh):
        if external:
            values = values_from_external(spec, theta, p["fixed"], p["tied_lo"], p["tied_hi"])
        else:
            values = values_from_internal(spec, theta, p)
        cols = {}
        for a in arg_names:
            if a in shared:
                cols[a] = jnp.broadcast_to(values[a], (K,))
            else:
                cols[a] = jnp.stack([values[local_name(a, k)] for k in range(K)])
        ind = {v: p["indep"][v] if v in p["indep"] else sh["indep"][v] for v in indep}
        axes = {v: (0 if v in p["indep"] else None) for v in indep}  # shared ones whole
        out = jax.vmap(lambda c, i: jnp.asarray(func(**c, **i)), in_axes=(0, axes))(cols, ind)
        if not jnp.issubdtype(out.dtype, jnp.floating):
            name = getattr(func, "__name__", "model")
            raise ResidualTypeError(f"Model {name!r} must return real floating values, got dtype {out.dtype}")
        d = p["data"]
        if out.shape[1:] not in ((), (1,), d["y"].shape[1:]):  # a scalar broadcasts
            raise ResidualShapeError(f"returned shape {out.shape[1:]}, but a dataset has shape "
                                     f"{d['y'].shape[1:]}")
        out = jnp.broadcast_to(out.reshape(out.shape[:1] + (-1,)), d["y"].shape)
        return jnp.ravel(finish_residual(est, stats, out, d, sh["data"]))

    return resid


def fit_groups(model, data, params, indep, weights, shared, *, method, nan_policy, cfg, dtype,
               scale_covar, group_solver="auto", est=CHI2):
    """Fit G groups of K datasets with parameters in ``shared`` common to a
    group; see :meth:`Model.fit` (``est``: the statistic and loss)."""
    if group_solver not in GROUP_SOLVERS:
        raise ValueError(f"group_solver must be one of {GROUP_SOLVERS}, got {group_solver!r}")
    flat_data, G, K, grouped = parse_data(data)
    ragged = isinstance(flat_data, list)
    lay = make_layout(model.param_names, shared, G, K, grouped, params)
    check_ties(params, lay)
    solver = group_solver
    if solver == "auto":  # the block solver whenever there are blocks to eliminate
        vary = vary_table(params, lay)
        free = [n for n in lay.shared + lay.local if np.any(vary[n]) and params[n].expr is None]
        blocky = any(n in lay.shared for n in free) and any(n in lay.local for n in free)
        solver = "schur" if (blocky and cfg.method == "lm") else "dense"
    findep = {v: flatten_array(v, a, G, K, grouped, ragged) for v, a in indep.items()}
    fw = flatten_array("weights", weights, G, K, grouped, ragged)
    md = prepare(flat_data, findep, fw, nan_policy, dtype)
    label = f"Model {model._name!r}"
    warn_unresolved_data(md, dtype, label)
    if est.statistic == "cstat":
        check_counts(md.per_fit["y"], f"{label}.fit")
    try:
        return _fit(model, params, lay, md, solver, cfg=cfg, dtype=dtype, scale_covar=scale_covar,
                    method=method, label=label, est=est)
    except ResidualShapeError as err:  # name the independent variables of unusual shapes
        raise ResidualShapeError(f"{err}{shape_hint(md)}") from None


def _fit(model, params, lay, md, solver, *, cfg, dtype, scale_covar, method, label, est):
    from ..problem._compat import x64_context

    G, K, grouped = lay.G, lay.K, lay.grouped
    if solver == "schur":
        from ._schur import fit_schur

        res = fit_schur(model, params, lay, md, cfg=cfg, dtype=dtype, scale_covar=scale_covar,
                        method=method, label=label, est=est)
        frozen = params.copy()  # the problem as fitted, whatever the caller does to params later
        res.extras["refit"] = lazy_rows(G, lambda: _dense_refit(model, frozen, lay, md, cfg, dtype,
                                                                  scale_covar, est))
        return res if est.plain else _estimated_groups(res, est, model, md, lay, dtype)
    fp, spec, packed, resid, resid_ext, per_fit, sh, ndata = dense_problem(model, params, lay, md, dtype, est)
    with x64_context(dtype):
        flat = run(resid, resid_ext, spec, fp, packed, per_fit, sh, ndata, G, grouped, cfg, dtype,
                   method, scale_covar, label, m_expected=K * md.m)
    res = GroupFitResult.from_flat(flat, params, lay, extras=fit_extras(
        md, G, K, flat._a["residual"], model))
    res.extras["refit"] = flat.extras["refit"]  # the flat problem, for conf_interval
    return res if est.plain else _estimated_groups(res, est, model, md, lay, dtype)


def dense_problem(model, params, lay, md, dtype, est):
    """The dense solve's problem: each group one fit of the flat parameter
    vector (``flat_params``). Returns the flat Parameters, their spec, the
    packed starts, the internal and external residuals, the per-group and
    shared arrays and the valid points per group."""
    from ..problem._compat import x64_context

    G, K = lay.G, lay.K
    fp = flat_params(params, lay)
    spec = make_spec(fp)
    ndata = md.ndata.reshape(G, K).sum(axis=1)
    packed = pack(fp, spec, G)
    names, indep = tuple(model.param_names), tuple(model.independent_vars)
    resid = group_residual(model.eval_fn, spec, names, indep, lay.shared, K, est=est)
    resid_ext = group_residual(model.eval_fn, spec, names, indep, lay.shared, K, True, est=est, stats=True)
    with x64_context(dtype):
        per_fit = packed_args(packed, dtype)
        per_fit["data"] = {k: split_groups(v, G, K) for k, v in host_arrays(md.per_fit, dtype).items()}
        per_fit["indep"] = {k: split_groups(v, G, K) for k, v in host_arrays(md.indep_fit, dtype).items()}
        sh = jax.tree_util.tree_map(jnp.asarray, {
            "data": host_arrays(md.shared, dtype), "indep": host_arrays(md.indep_shared, dtype)})
    return fp, spec, packed, resid, resid_ext, per_fit, sh, ndata


def _dense_refit(model, params, lay, md, cfg, dtype, scale_covar, est):
    """The :class:`~batchfit.engine._refit.Refit` of a Schur fit's groups as
    dense problems (built when an interval tool first asks for it)."""
    from ..engine._refit import Refit

    _, spec, _, resid, resid_ext, per_fit, sh, _ = dense_problem(model, params, lay, md, dtype, est)
    return Refit(resid, resid_ext, spec, per_fit, sh, cfg, dtype, scale_covar)


def _estimated_groups(res, est, model, md, lay, dtype):
    """Groups under cstat or a loss (``stats/_estimated``): the model at the
    solution as ``best_fit``; for cstat the likelihood's aic/bic,
    ``MODEL_NONPOSITIVE`` and ``cstat`` (per group), in place."""
    from ..problem._compat import x64_context

    G, K = lay.G, lay.K
    vals = {}
    for n in model.param_names:
        v = np.asarray(res._values[n])
        vals[n] = (v if v.ndim == 2 else np.repeat(v[:, None], K, axis=1)).reshape(G * K)
    mask = md.per_fit.get("mask")
    y = md.per_fit["y"]
    with x64_context(dtype):
        best = _estimated.model_at(model.eval_fn, vals, md.indep_fit, md.indep_shared, y.shape, dtype, mask)
    res.extras.update(best_fit=best.reshape((G, K) + y.shape[1:]), statistic=est.statistic,
                      loss=est.loss, f_scale=est.f_scale)
    if est.statistic == "cstat":
        st = res._stats
        ndata = st["ndata"]
        st["aic"], st["bic"] = _estimated.cstat_criteria(
            st["chisqr"], y.reshape(G, -1), None if mask is None else mask.reshape(G, -1), ndata, res.nvarys)
        st["status"], st["errorbars"] = st["status"].copy(), st["errorbars"].copy()
        bad = _estimated.nonpositive(best, y, mask).reshape(G, K).any(axis=1)
        _estimated.mark_nonpositive(st["status"], st["errorbars"], bad)
        res.extras["cstat"] = st["chisqr"]
    return res
