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
from ..problem._pack import (
    host_arrays,
    make_spec,
    pack,
    packed_args,
    values_from_external,
    values_from_internal,
)
from ..problem._residual import ResidualShapeError, ResidualTypeError
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
from ._result import GroupFitResult, fit_extras

GROUP_SOLVERS = ("auto", "dense", "schur")


@functools.lru_cache(maxsize=256)
def group_residual(func, spec, arg_names: tuple, indep: tuple, shared: tuple, K: int,
                   external: bool = False):
    """Residual of one group for the flat parameter vector: the model is
    evaluated on each of the K datasets (vmapped) and the (K, m) residuals
    are flattened."""

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
        r = jnp.broadcast_to(out.reshape(out.shape[:1] + (-1,)), d["y"].shape) - d["y"]
        w = d.get("weights", sh["data"].get("weights"))
        if w is not None:
            r = r * w
        if "mask" in d:
            r = jnp.where(d["mask"], r, 0.0)
        return jnp.ravel(r)

    return resid


def fit_groups(model, data, params, indep, weights, shared, *, method, nan_policy, cfg, dtype,
               scale_covar, group_solver="auto"):
    """Fit G groups of K datasets with parameters in ``shared`` common to a
    group; see :meth:`Model.fit`."""
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
    label = f"Model {model.name!r}"
    warn_unresolved_data(md, dtype, label)
    try:
        return _fit(model, params, lay, md, solver, cfg=cfg, dtype=dtype, scale_covar=scale_covar,
                    method=method, label=label)
    except ResidualShapeError as err:  # name the independent variables of unusual shapes
        raise ResidualShapeError(f"{err}{shape_hint(md)}") from None


def _fit(model, params, lay, md, solver, *, cfg, dtype, scale_covar, method, label):
    from ..problem._compat import x64_context

    G, K, grouped = lay.G, lay.K, lay.grouped
    if solver == "schur":
        from ._schur import fit_schur

        return fit_schur(model, params, lay, md, cfg=cfg, dtype=dtype, scale_covar=scale_covar,
                         method=method, label=label)
    fp = flat_params(params, lay)
    spec = make_spec(fp)
    m = md.m
    ndata = md.ndata.reshape(G, K).sum(axis=1)
    packed = pack(fp, spec, G)
    resid = group_residual(model.eval_fn, spec, tuple(model.param_names), tuple(model.independent_vars),
                           lay.shared, K)
    resid_ext = group_residual(model.eval_fn, spec, tuple(model.param_names),
                               tuple(model.independent_vars), lay.shared, K, True)
    with x64_context(dtype):
        per_fit = packed_args(packed, dtype)
        per_fit["data"] = {k: split_groups(v, G, K) for k, v in host_arrays(md.per_fit, dtype).items()}
        per_fit["indep"] = {k: split_groups(v, G, K) for k, v in host_arrays(md.indep_fit, dtype).items()}
        sh = jax.tree_util.tree_map(jnp.asarray, {
            "data": host_arrays(md.shared, dtype), "indep": host_arrays(md.indep_shared, dtype)})
        flat = run(resid, resid_ext, spec, fp, packed, per_fit, sh, ndata, G, grouped, cfg, dtype,
                   method, scale_covar, label, m_expected=K * m)
    return GroupFitResult.from_flat(flat, params, lay, extras=fit_extras(
        md, G, K, flat._a["residual"], model))
