"""Global fits of groups with many datasets by the block-arrow solver.

Each dataset is an ordinary fit of the model with the model's own
parameter structure; the shared free parameters are one vector per group,
the per-dataset free parameters one row per dataset. The solver
(``solver/_arrow.py``) eliminates the per-dataset blocks, so the cost is
linear in the number of datasets.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..engine._run import check_residual
from ..params._bounds import to_external
from ..problem._estimator import CHI2
from ..problem._pack import (
    device_args,
    make_spec,
    pack,
    values_from_external,
)
from ..problem._residual import model_residual
from ..solver import RESULTS, bucket_size
from ..solver._arrow import arrow_solve_one, blocks, covariance_blocks
from ..solver._batch import cpu_layout
from ..solver._results import success_codes
from ..solver._threads import map_parts, on_cpu
from ..solver._xla import jit as xla_jit
from ..stats import _compute as _stats
from ..stats import _precision
from ._expand import expand_params, frozen_mask, pin_frozen
from ._layout import GroupLayout, local_name, split_groups
from ._result import FULL_COVAR_MAX, GroupFitResult, fit_extras


def _join(n, js, jl, vs, vl):
    """The full free-parameter vector (n,) from its shared and local parts."""
    return jnp.zeros((n,), vs.dtype).at[js].set(vs).at[jl].set(vl)


@functools.lru_cache(maxsize=256)
def split_residual(resid_ext, n: int, idx_s: tuple, idx_l: tuple, internal: bool):
    """The external-parameter residual ``resid_ext(v, p, sh)`` of one
    dataset as ``resid_d(ts, tl, p, (sh, grp))``. With ``internal`` the
    bounds transforms are applied first: the shared ones with the group's
    bounds ``grp`` (not per dataset, so work on shared values is not
    repeated for every dataset), the local ones with the dataset's.
    Datasets that freeze a per-dataset parameter (``vary`` an array) pin
    it (:func:`pin_frozen`): its column of the Jacobian is zero there."""
    js, jl = np.asarray(idx_s, dtype=np.int32), np.asarray(idx_l, dtype=np.int32)

    def resid_d(ts, tl, p, shared):
        sh, grp = shared
        if internal:
            ts = to_external(ts, grp["lo"], grp["hi"])
            tl = to_external(tl, p["lo"][jl], p["hi"][jl])
        return resid_ext(_join(n, js, jl, ts, pin_frozen(tl, p)), p, sh)

    return resid_d


def _solve_all(resid_d, cfg, ts0, tl0, args, grp, sh):
    out = jax.vmap(lambda ts, tl, a, gr: arrow_solve_one(resid_d, cfg, ts, tl, a, (sh, gr)))(
        ts0, tl0, args, grp)
    return out.ts, out.tl, out.nfev, out.status


_solve = xla_jit(_solve_all, static_argnums=(0, 1))


@functools.partial(xla_jit, static_argnums=(0, 1, 2))
def _solve_chunks(resid_d, cfg, chunk, ts0, tl0, args, grp, sh):
    """:func:`_solve` in chunks of ``chunk`` groups (CPU): each chunk's loop
    ends with its own slowest group, not the whole batch's."""
    n = ts0.shape[0] // chunk
    resh = functools.partial(jax.tree_util.tree_map, lambda a: a.reshape((n, chunk) + a.shape[1:]))
    out = jax.lax.map(lambda c: _solve_all(resid_d, cfg, *c, sh), resh((ts0, tl0, args, grp)))
    return jax.tree_util.tree_map(lambda a: a.reshape((n * chunk,) + a.shape[2:]), out)


def _on_cpu() -> bool:
    return on_cpu()


def _solve_groups(resid_d, cfg, ts0, tl0, args, grp, sh, parts):
    """Solve every group: on the CPU in chunks, ``parts`` equal parts of the
    (host) arrays stepped by as many threads; elsewhere in one vmap."""
    if parts is None:
        dev = jax.tree_util.tree_map(jnp.asarray, (ts0, tl0, args, grp))
        return tuple(np.asarray(a) for a in _solve(resid_d, cfg, *dev, sh))
    chunk, k = parts
    return map_parts(lambda p, sub: _solve_chunks(resid_d, cfg, chunk, *sub, sh),
                     (ts0, tl0, args, grp), k, ts0.dtype)


@functools.partial(xla_jit, static_argnums=(0, 1, 2))
def _statistics(resid_ext_d, all_values, idx_l, ts, tl, args, grp, sh):
    """Per group: covariance blocks, residuals; per dataset: every
    parameter's value and its Jacobian with respect to (shared, local)."""
    g, jl = ts.shape[-1], np.asarray(idx_l, dtype=np.int32)
    vs = to_external(ts, grp["lo"], grp["hi"])
    vl = to_external(tl, args["lo"][..., jl], args["hi"][..., jl])

    def group(vs_g, vl_g, a_g, grp_g):
        blk = blocks(resid_ext_d, vs_g, vl_g, a_g, (sh, grp_g))
        if "lfree" in a_g:  # a frozen copy: a unit pivot in place of its zero column
            blk = blk._replace(V=blk.V + jax.vmap(jnp.diag)((~a_g["lfree"]).astype(blk.V.dtype)))
        Css, Csl, Cll, ok = covariance_blocks(blk)
        r = jax.vmap(lambda tl, a: resid_ext_d(vs_g, tl, a, (sh, grp_g)))(vl_g, a_g)

        def dataset(tl, a):
            f = lambda t: all_values(t[:g], pin_frozen(t[g:], a), a)
            return jax.jacfwd(lambda t: (f(t),) * 2, has_aux=True)(jnp.concatenate([vs_g, tl]))

        Gm, vals = jax.vmap(dataset)(vl_g, a_g)
        return Css, Csl, Cll, ok, r, Gm, vals, (blk.U, blk.W, blk.V)

    return jax.vmap(group)(vs, vl, args, grp), (vs, pin_frozen(vl, args))


@functools.partial(xla_jit, static_argnums=(0,))
def _rounding_norm(resid_ext_d, vs, vl, args, grp, sh, r):
    """Per group, |r - r64| over its datasets (stats/_precision, for groups)."""
    vs, vl, args, grp, sh, r = _precision.widen((vs, vl, args, grp, sh, r))

    def group(vs_g, vl_g, a_g, grp_g, r_g):
        r64 = jax.vmap(lambda tl, a: resid_ext_d(vs_g, tl, a, (sh, grp_g)))(vl_g, a_g)
        return jnp.linalg.norm(r64 - r_g)

    return jax.vmap(group)(vs, vl, args, grp, r)


@functools.lru_cache(maxsize=256)
def _all_values(spec, n, idx_s, idx_l):
    js, jl = np.asarray(idx_s, dtype=np.int32), np.asarray(idx_l, dtype=np.int32)

    def allvals(vs, vl, p):
        d = values_from_external(spec, _join(n, js, jl, vs, vl), p["fixed"], p["tied_lo"], p["tied_hi"])
        return jnp.stack([jnp.asarray(d[k], vs.dtype) for k in spec.names])

    return allvals


def full_covariance(U, W, V):
    """``(JᵀJ)⁻¹`` of small groups from the arrow blocks (host, float64), in
    the order shared, then each local parameter over the datasets.
    U (G, g, g), W (G, K, g, l), V (G, K, l, l)."""
    G, K, g, l = W.shape
    n = g + K * l
    H = np.zeros((G, n, n))
    H[:, :g, :g] = U
    for j in range(l):
        cols = g + j * K + np.arange(K)
        H[:, :g, cols] = np.swapaxes(W[:, :, :, j], 1, 2)
        H[:, cols, :g] = W[:, :, :, j]
        for i in range(l):
            H[:, cols, g + i * K + np.arange(K)] = V[:, :, j, i]
    d = np.sqrt(np.abs(np.diagonal(H, axis1=1, axis2=2)))
    d = np.where(d > 0, d, 1.0)
    with np.errstate(all="ignore"):
        Hs = H / (d[:, :, None] * d[:, None, :])
        out = np.full_like(H, np.nan)
        for k in range(G):
            if np.all(np.isfinite(Hs[k])) and np.linalg.cond(Hs[k]) < 1e14:
                out[k] = np.linalg.inv(Hs[k])
    return out / (d[:, :, None] * d[:, None, :])


def fit_schur(model, params, lay: GroupLayout, md, *, cfg, dtype, scale_covar, method, label, est=CHI2):
    from ..problem._compat import x64_context

    if cfg.method != "lm":
        raise ValueError("group_solver='schur' supports method='leastsq' (LM) only")
    G, K, m = lay.G, lay.K, md.m  # m: checked against the model's output
    pe = expand_params(params, lay)
    spec = make_spec(pe)
    idx_s = tuple(spec.free.index(n) for n in lay.shared if n in spec.free)
    idx_l = tuple(spec.free.index(n) for n in lay.local if n in spec.free)
    if not idx_s:
        raise ValueError(f"{label}: no shared parameter varies; fit the datasets independently "
                         "(without shared=) instead")
    if not idx_l:
        raise ValueError(f"{label}: no per-dataset parameter varies; use group_solver='dense'")
    n, g, l = spec.nfree, len(idx_s), len(idx_l)
    lfree = frozen_mask(params, lay, [spec.free[i] for i in idx_l])
    nvarys = g + K * l if lfree is None else g + lfree.reshape(G, K * l).sum(axis=1)
    if lfree is not None and np.all(nvarys == nvarys[0]):
        nvarys = int(nvarys[0])
    ndata = md.ndata.reshape(G, K).sum(axis=1)
    if np.all(ndata < nvarys):  # nvarys: per group when groups freeze differently
        raise ValueError(f"{label}: {np.min(nvarys)} free parameters but at most {int(ndata.max())} valid data points")
    packed = pack(pe, spec, G * K)
    names, indep = tuple(model.param_names), tuple(model.independent_vars)
    resid_ext = model_residual(model.eval_fn, spec, names, indep, True, est=est, stats=not est.plain)
    resid_d = split_residual(model_residual(model.eval_fn, spec, names, indep, True, est=est),
                             n, idx_s, idx_l, True)
    resid_ext_d = split_residual(resid_ext, n, idx_s, idx_l, False)
    cfg = cfg.resolved(dtype, g + l)

    def grouped(a):
        return split_groups(a, G, K)

    # pad the groups to the batch's bucket (copies of the last group): one
    # compiled shape per bucket, as for independent fits; on CPU also to
    # whole chunks per thread
    parts = None
    size = bucket_size(G)
    if _on_cpu():
        chunk, k, size = cpu_layout(G, cfg.threads)
        parts = (chunk, k)
    pad = np.minimum(np.arange(size), G - 1)
    js, jl = list(idx_s), list(idx_l)
    with x64_context(dtype):
        args, sh = device_args(packed, md, dtype)
        theta0 = np.asarray(packed.theta0, dtype=dtype)
        if lfree is not None:
            args["lfree"] = lfree
            args["lfix"] = np.asarray(packed.init[:, jl], dtype=dtype)
            theta0 = theta0.copy()
            theta0[:, jl] = np.where(lfree, theta0[:, jl], 0.0)  # pinned: no part in the step norms
        check_residual(resid_ext, np.asarray(packed.init, dtype=dtype), args, sh, m, label)
        args = jax.tree_util.tree_map(lambda a: grouped(a)[pad], args)
        theta0 = grouped(theta0)[pad]
        grp = {"lo": args["lo"][:, 0, js], "hi": args["hi"][:, 0, js]}
        ts0, tl0 = theta0[:, 0, js], theta0[:, :, jl]
        ts, tl, nfev, status = _solve_groups(resid_d, cfg, ts0, tl0, args, grp, sh, parts)
        ts, tl, args, grp = jax.device_put((ts, tl, args, grp))
        out, ext = _statistics(resid_ext_d, _all_values(spec, n, idx_s, idx_l), idx_l, ts, tl, args, grp, sh)
        rounding = None
        if np.dtype(dtype) == np.float32:  # float32 never lies: its rounding against float64
            with x64_context(np.float64):
                rounding = np.asarray(_rounding_norm(resid_ext_d, *ext, args, grp, sh, out[4]))[:G]
        out = jax.tree_util.tree_map(lambda a: np.asarray(a)[:G], (out, nfev, status))
    (Css, Csl, Cll, ok, r, Gm, vals, UWV), nfev, status = out
    status = status.copy()
    status[ndata == 0] = RESULTS.NO_DATA
    status[(ndata > 0) & (ndata < nvarys)] = RESULTS.TOO_FEW_POINTS
    chisqr = np.sum(r.astype(np.float64) ** 2, axis=(1, 2))
    redchi, aic, bic = _stats.info_criteria(chisqr, ndata, nvarys)
    scale = (chisqr / np.maximum(ndata - nvarys, 1)) if scale_covar else np.ones(G)
    # per-dataset covariance over (shared, local) free values
    C = np.zeros((G, K, g + l, g + l))
    C[:, :, :g, :g] = Css[:, None]
    C[:, :, :g, g:] = Csl
    C[:, :, g:, :g] = np.swapaxes(Csl, -1, -2)
    C[:, :, g:, g:] = Cll
    with np.errstate(over="ignore", invalid="ignore"):
        var = np.einsum("gkij,gkjl,gkil->gki", Gm, C, Gm) * scale[:, None, None]
        err = np.sqrt(np.maximum(var, 0.0))
    if rounding is not None:
        free = [spec.names.index(nm) for nm in spec.free]
        err_r = err if lfree is None else np.where(err == 0, np.inf, err)  # frozen copies: exact
        ratio = np.maximum(_precision.repr_ratio(vals, err_r, free, dtype),
                           _precision.rounding_ratio(chisqr, ndata - nvarys, rounding))
        status[np.isin(status, success_codes()) & (ratio > _precision.LIMIT)] = RESULTS.PRECISION_LIMITED
    success = np.isin(status, success_codes())
    err = np.where(ok[:, None, None], err, np.nan)
    if lfree is not None:  # a frozen copy is exact
        for j, i in enumerate(idx_l):
            c = spec.names.index(spec.free[i])
            err[:, :, c] = np.where(grouped(lfree)[:, :, j], err[:, :, c], 0.0)
    for j, nm in enumerate(spec.names):
        if nm in spec.fixed:
            err[:, :, j] = 0.0
    covar = var_names = None
    if np.max(nvarys) <= FULL_COVAR_MAX:
        with np.errstate(over="ignore", invalid="ignore"):
            covar = full_covariance(*UWV) * scale[:, None, None]
        covar[~ok] = np.nan
        var_names = [spec.free[i] for i in idx_s] + [
            local_name(spec.free[i], k) for i in idx_l for k in range(K)]
        if lfree is not None:  # the frozen copies leave the covariance
            keep = np.concatenate([np.ones(g, bool), grouped(lfree).transpose(0, 2, 1).reshape(G, K * l)[0]])
            same = np.all(grouped(lfree) == grouped(lfree)[:1])
            covar = covar[:, keep][:, :, keep] if same else None
            var_names = [v for v, k in zip(var_names, keep) if k] if same else None
    init_ext = grouped(np.asarray(packed.init))
    values, stderr, init = {}, {}, {}
    for j, nm in enumerate(spec.names):
        local = nm in lay.local
        values[nm] = vals[:, :, j] if local else vals[:, 0, j]
        stderr[nm] = err[:, :, j] if local else err[:, 0, j]
        if nm in spec.free:
            k = spec.free.index(nm)
            init[nm] = init_ext[:, :, k] if local else init_ext[:, 0, k]
        else:
            init[nm] = values[nm] * np.nan
    with np.errstate(over="ignore", invalid="ignore"):  # a failed group may overflow
        covar_shared = Css * scale[:, None, None]
    return GroupFitResult(
        layout=lay, template=params, method=method,
        stats=dict(status=status, nfev=nfev, ndata=ndata, nfree=ndata - nvarys, chisqr=chisqr,
                   redchi=redchi, aic=aic, bic=bic, errorbars=ok & success),
        values=values, stderr=stderr, init=init, nvarys=nvarys,
        covar_shared=covar_shared, covar=covar, var_names=var_names, solver="schur",
        extras=fit_extras(md, G, K, r, model))
