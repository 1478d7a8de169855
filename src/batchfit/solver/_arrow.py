"""Levenberg-Marquardt for block-arrow problems: K datasets share g
parameters and each keeps l of its own. Arrays only.

``resid_d(ts, tl, args_d, shared) -> r_d`` is the residual of ONE dataset
for the shared parameters ``ts`` (g,) and that dataset's own ``tl`` (l,).
The Jacobian of the whole problem is block-arrow shaped; it is never
formed. Per dataset (vmapped) we keep only

    U_d = A_dᵀA_d (g, g) summed over d,  W_d = A_dᵀB_d (g, l),
    V_d = B_dᵀB_d (l, l),  a = Σ A_dᵀr_d,  b_d = B_dᵀr_d,

with ``A_d = ∂r_d/∂ts`` and ``B_d = ∂r_d/∂tl_d``. A damped step eliminates
the local blocks (Schur complement ``S = U - Σ W_d V_d⁻¹ W_dᵀ``, g x g),
solves for the shared step and back-substitutes the local ones. Cost and
memory are linear in K. Every step here is for ONE problem; G problems
(groups) are vmapped by the caller.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from ._arrow_fold import fold_curvature
from ._config import LMConfig
from ._fold import FOLD
from ._lm import _ACCEPT, _COLLAPSE, DSCALE_FLOOR
from ._restart import SUSPECT, after_step, with_restart
from ._results import RESULTS
from ._smallla import cholesky_apply, cholesky_factor


class Blocks(NamedTuple):
    U: jax.Array  # (g, g)
    W: jax.Array  # (K, g, l)
    V: jax.Array  # (K, l, l)
    a: jax.Array  # (g,)
    b: jax.Array  # (K, l)
    chi2: jax.Array  # ()


class ArrowState(NamedTuple):
    ts: jax.Array  # (g,) shared (internal) parameters
    tl: jax.Array  # (K, l) per-dataset parameters
    blk: Blocks  # linear model at (ts, tl)
    Ds: jax.Array  # (g,) running max of the shared columns' norms
    Dl: jax.Array  # (K, l) running max of the local columns' norms
    lam: jax.Array
    nu: jax.Array
    nfev: jax.Array
    status: jax.Array
    restart: Any = None  # _restart.Restart (see _lm.py)
    Cs: Any = None  # (g,) fold curvature of the shared coordinates (_arrow_fold.py)
    Cl: Any = None  # (K, l) fold curvature of the local ones


def _chunk_size():
    """Datasets per pass of :func:`blocks`: cache-sized on CPU, large on
    accelerators (where it only bounds the transient memory)."""
    return 2048 if jax.default_backend() == "cpu" else 65536


def blocks(resid_d, ts, tl, args, shared) -> Blocks:
    """The reduced linear model at (ts, tl), over the datasets in chunks
    (``lax.map``), so the transient (chunk, m) arrays stay small."""
    K, chunk = tl.shape[0], _chunk_size()
    nc, rem = divmod(K, chunk)
    if nc <= 1:
        return _blocks(resid_d, ts, tl, args, shared)

    def part(a, lo, hi):
        return jax.tree_util.tree_map(lambda x: x[lo:hi], a)

    tree = jax.tree_util.tree_map(lambda a: a[:nc * chunk].reshape((nc, chunk) + a.shape[1:]), (tl, args))
    out = jax.lax.map(lambda c: _blocks(resid_d, ts, c[0], c[1], shared), tree)
    flat = (lambda a: a.reshape((nc * chunk,) + a.shape[2:]))
    parts = [Blocks(out.U.sum(0), flat(out.W), flat(out.V), out.a.sum(0), flat(out.b), out.chi2.sum())]
    if rem:
        parts.append(_blocks(resid_d, ts, tl[nc * chunk:], part(args, nc * chunk, K), shared))
    if len(parts) == 1:
        return parts[0]
    p, q = parts
    return Blocks(p.U + q.U, jnp.concatenate([p.W, q.W]), jnp.concatenate([p.V, q.V]), p.a + q.a,
                  jnp.concatenate([p.b, q.b]), p.chi2 + q.chi2)


def _blocks(resid_d, ts, tl, args, shared) -> Blocks:
    """The reduced linear model at (ts, tl) for a set of datasets.

    Each Jacobian column is one forward-mode pass over every dataset,
    held as a (K, m) array: tangents of the shared parameters are not
    batched, so work that depends on them alone (e.g. ``exp(-t/tau)``) is
    done once, not once per dataset. The reductions are row-wise dot
    products, which fuse into a few passes over the data.
    """
    g, l = ts.shape[0], tl.shape[-1]

    def all_r(s, u):
        return jax.vmap(lambda tl_d, a: resid_d(s, tl_d, a, shared))(u, args)

    r = all_r(ts, tl)
    cs = [jax.jvp(lambda s: all_r(s, tl), (ts,), (jnp.zeros_like(ts).at[i].set(1.0),))[1]
          for i in range(g)]
    cl = [jax.jvp(lambda u: all_r(ts, u), (tl,), (jnp.zeros_like(tl).at[:, j].set(1.0),))[1]
          for j in range(l)]

    def dot(x, y):
        return jnp.sum(x * y, axis=-1)

    def table(xs, ys):
        return jnp.stack([jnp.stack([dot(x, y) for y in ys], -1) for x in xs], -2)

    return Blocks(table(cs, cs).sum(0), table(cs, cl), table(cl, cl),
                  jnp.stack([dot(c, r) for c in cs], -1).sum(0), jnp.stack([dot(c, r) for c in cl], -1),
                  jnp.sum(r * r))


def _diag(M):
    return jnp.diagonal(M, axis1=-2, axis2=-1)


def _colnorms(blk):
    return jnp.sqrt(jnp.abs(_diag(blk.U))), jnp.sqrt(jnp.abs(_diag(blk.V)))


def _scaled(blk, Ds, Dl):
    """The blocks in variables scaled by the column scales (Ds, Dl)."""
    return Blocks(blk.U / (Ds[:, None] * Ds[None, :]),
                  blk.W / (Ds[None, :, None] * Dl[:, None, :]),
                  blk.V / (Dl[:, :, None] * Dl[:, None, :]),
                  blk.a / Ds, blk.b / Dl, blk.chi2)


def schur_solve(blk: Blocks, lam):
    """Minimiser of ``||J p + r||² + lam ||p||²`` (scaled variables) by
    eliminating the local blocks. Returns ``(ps, pl)``; NaN where a
    factorisation fails (the caller rejects such a step)."""
    g, l = blk.U.shape[0], blk.V.shape[-1]
    Ls = jax.vmap(cholesky_factor)(blk.V + lam * jnp.eye(l, dtype=blk.V.dtype))
    solve_d = jax.vmap(cholesky_apply)
    # WVi[d] = W_d V_d⁻¹ (g, l): solve V_d x = W_d[i, :] for every row i
    WVi = jax.vmap(lambda L, Wd: jax.vmap(lambda w: cholesky_apply(L, w))(Wd))(Ls, blk.W)
    S = blk.U + lam * jnp.eye(g, dtype=blk.U.dtype) - jnp.einsum("kgl,khl->gh", WVi, blk.W)
    rhs = -blk.a + jnp.einsum("kgl,kl->g", WVi, blk.b)
    ps = cholesky_apply(cholesky_factor(S), rhs)
    pl = -solve_d(Ls, blk.b + jnp.einsum("kgl,g->kl", blk.W, ps))
    return ps, pl


def quad(blk: Blocks, ps, pl):
    """``||J p||²`` from the blocks."""
    return (ps @ blk.U @ ps + 2.0 * jnp.einsum("g,kgl,kl->", ps, blk.W, pl)
            + jnp.einsum("kl,klm,km->", pl, blk.V, pl))


def _finite(*xs):
    ok = jnp.bool_(True)
    for x in jax.tree_util.tree_leaves(xs):
        ok = ok & jnp.all(jnp.isfinite(x))
    return ok


def arrow_init(resid_d, cfg: LMConfig, ts, tl, args, shared) -> ArrowState:
    blk = blocks(resid_d, ts, tl, args, shared)
    cs, cl = _colnorms(blk)
    status = jnp.where(_finite(blk), jnp.where(blk.chi2 == 0, RESULTS.ZERO_RESIDUAL, RESULTS.RUNNING),
                       RESULTS.NONFINITE_START).astype(jnp.int32)
    one = jnp.ones((), ts.dtype)
    s = ArrowState(ts, tl, blk, jnp.where(cs > 0, cs, 1.0), jnp.where(cl > 0, cl, 1.0),
                   cfg.tau * one, 2.0 * one, jnp.int32(1), status,
                   Cs=jnp.zeros_like(ts), Cl=jnp.zeros_like(tl))
    return with_restart(s) if cfg.restart else s


def _step_for(blk, Ds, Dl, lam, Cs, Cl):
    """The damped step with scales ``(Ds, Dl)`` and the fold curvatures
    ``(Cs, Cl)`` added to the model, and its predicted reduction
    ``||J p||² + 2 lam ||D p||² + C p²`` (as ``_lm.lm_step``)."""
    Es, El = jnp.sqrt(Ds * Ds + Cs / lam), jnp.sqrt(Dl * Dl + Cl / lam)
    sb = _scaled(blk, Es, El)
    ps, pl = schur_solve(sb, lam)
    pred = quad(sb, ps, pl) + 2.0 * lam * (ps @ ps + jnp.sum(pl * pl))
    ps, pl = ps / Es, pl / El
    return ps, pl, pred - jnp.sum(Cs * ps * ps) - jnp.sum(Cl * pl * pl)


def arrow_step(resid_d, cfg: LMConfig, s: ArrowState, args, shared) -> ArrowState:
    """One trial step (one evaluation of every dataset's residual and
    Jacobian). The logic mirrors :func:`~batchfit.solver._lm.lm_step`:
    Marquardt scaling floored at a fraction of its running maximum, Nielsen
    damping, convergence judged on the Gauss-Newton step, which is taken
    once it predicts no significant reduction."""
    dtype = s.ts.dtype
    eps = jnp.finfo(dtype).eps
    running = s.status == RESULTS.RUNNING
    blk = s.blk
    chi2_safe = jnp.where(blk.chi2 > 0, blk.chi2, 1.0)
    cs, cl = _colnorms(blk)
    Dcs = jnp.where(cs > 0, cs, s.Ds)
    Dcl = jnp.where(cl > 0, cl, s.Dl)
    Ds = jnp.maximum(Dcs, DSCALE_FLOOR * s.Ds)
    Dl = jnp.maximum(Dcl, DSCALE_FLOOR * s.Dl)
    xnorm = jnp.sqrt(jnp.sum((Dcs * s.ts) ** 2) + jnp.sum((Dcl * s.tl) ** 2))
    lam0 = 16.0 * eps * (s.ts.shape[0] + s.tl.shape[-1])
    Cs = jnp.where(cs < FOLD * s.Ds, s.Cs, 0.0)  # a fold's curvature while its column stays collapsed
    Cl = jnp.where(cl < FOLD * s.Dl, s.Cl, 0.0)
    p0s, p0l, pred0 = _step_for(blk, Dcs, Dcl, lam0, Cs, Cl)
    near_raw = _finite(p0s, p0l, pred0) & (pred0 <= cfg.ftol * chi2_safe)
    near = near_raw & (s.nu <= 2.0)
    pds, pdl, predd = _step_for(blk, Ds, Dl, s.lam, Cs, Cl)
    ps, pl, pred = (jnp.where(near, u, v) for u, v in ((p0s, pds), (p0l, pdl), (pred0, predd)))
    p_ok = _finite(ps, pl)
    ps, pl = jnp.where(p_ok, ps, 0.0), jnp.where(p_ok, pl, 0.0)
    dxnorm = jnp.sqrt(jnp.sum((Dcs * ps) ** 2) + jnp.sum((Dcl * pl) ** 2))
    x_conv = p_ok & near & (dxnorm <= cfg.xtol * xnorm)

    new_blk = blocks(resid_d, s.ts + ps, s.tl + pl, args, shared)
    ok = p_ok & _finite(new_blk)
    ncs0, ncl0 = _colnorms(new_blk)  # a column that vanishes in one step: over a fold, rejected
    ok = ok & ~jnp.any((cs > 0) & (ncs0 < _COLLAPSE * cs)) & ~jnp.any((cl > 0) & (ncl0 < _COLLAPSE * cl))
    actual = blk.chi2 - new_blk.chi2
    rho = jnp.where(pred > 0, actual / jnp.where(pred > 0, pred, 1.0), jnp.where(actual > 0, 1.0, 0.0))
    small_f = jnp.abs(actual) <= cfg.ftol * chi2_safe
    settled = (dxnorm <= cfg.xtol * xnorm) | (jnp.abs(actual) <= 8.0 * eps * chi2_safe)
    band = 0.1 * cfg.ftol * chi2_safe
    accept = ok & ((rho > _ACCEPT) | (x_conv & (new_blk.chi2 <= blk.chi2 + band)))
    f_conv = ok & near & small_f & settled & (actual <= 2.0 * pred + band)
    shrink = jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
    lam_new = jnp.maximum(jnp.where(accept, s.lam * shrink, s.lam * s.nu), jnp.finfo(dtype).tiny)
    nu_new = jnp.where(accept, 2.0, 2.0 * s.nu)
    fail = ~jnp.isfinite(lam_new) | (lam_new > 1e30) | ~jnp.isfinite(nu_new)
    fail_code = jnp.where(near_raw, RESULTS.FTOL, RESULTS.STALLED)
    nfev = s.nfev + 1
    status = jnp.select(
        [accept & (new_blk.chi2 == 0), f_conv & x_conv, f_conv, x_conv, fail, nfev >= cfg.max_nfev],
        [RESULTS.ZERO_RESIDUAL, RESULTS.FTOL_XTOL, RESULTS.FTOL, RESULTS.XTOL, fail_code,
         RESULTS.MAX_NFEV],
        RESULTS.RUNNING,
    ).astype(jnp.int32)
    Cs_new, Cl_new = fold_curvature(blk, new_blk, s.ts + ps - s.ts, s.tl + pl - s.tl, ok, Cs, Cl, s.Ds, s.Dl)
    keep = jax.tree_util.tree_map(lambda n, o: jnp.where(accept, n, o), new_blk, blk)
    ncs, ncl = _colnorms(keep)
    new = ArrowState(
        ts=jnp.where(accept, s.ts + ps, s.ts), tl=jnp.where(accept, s.tl + pl, s.tl), blk=keep,
        Ds=jnp.where(accept, jnp.maximum(s.Ds, ncs), s.Ds),
        Dl=jnp.where(accept, jnp.maximum(s.Dl, ncl), s.Dl),
        lam=lam_new.astype(dtype), nu=nu_new.astype(dtype), nfev=nfev, status=status,
        restart=s.restart, Cs=Cs_new.astype(dtype), Cl=Cl_new.astype(dtype))
    if cfg.restart:
        collapsed = jnp.any(ncs < SUSPECT * new.Ds) | jnp.any(ncl < SUSPECT * new.Dl)
        new = after_step(new, running, collapsed, lambda t: t.blk.chi2, cfg.ftol)
    return jax.tree_util.tree_map(lambda a, b: jnp.where(running, a, b), new, s)


def arrow_solve_one(resid_d, cfg: LMConfig, ts, tl, args, shared) -> ArrowState:
    """Run one block-arrow problem to termination."""
    s = arrow_init(resid_d, cfg, ts, tl, args, shared)
    return jax.lax.while_loop(lambda s: s.status == RESULTS.RUNNING,
                              lambda s: arrow_step(resid_d, cfg, s, args, shared), s)


def covariance_blocks(blk: Blocks):
    """Blocks of ``(JᵀJ)⁻¹`` by the Schur complement: shared-shared (g, g),
    shared-local (K, g, l) and local-local (K, l, l). Computed in variables
    scaled by the column norms; NaN when JᵀJ is singular."""
    cs, cl = _colnorms(blk)
    Ds, Dl = jnp.where(cs > 0, cs, 1.0), jnp.where(cl > 0, cl, 1.0)
    sb = _scaled(blk, Ds, Dl)
    g, l = sb.U.shape[0], sb.V.shape[-1]
    Ls = jax.vmap(cholesky_factor)(sb.V)
    WVi = jax.vmap(lambda L, Wd: jax.vmap(lambda w: cholesky_apply(L, w))(Wd))(Ls, sb.W)
    S = sb.U - jnp.einsum("kgl,khl->gh", WVi, sb.W)
    Lsh = cholesky_factor(S)
    Css = jax.vmap(lambda e: cholesky_apply(Lsh, e))(jnp.eye(g, dtype=S.dtype))
    Csl = -jnp.einsum("gh,khl->kgl", Css, WVi)
    Vi = jax.vmap(lambda L: jax.vmap(lambda e: cholesky_apply(L, e))(jnp.eye(l, dtype=S.dtype)))(Ls)
    Cll = Vi + jnp.einsum("kgl,gh,khm->klm", WVi, Css, WVi)
    rcond = 100.0 * jnp.finfo(S.dtype).eps * (g + l)
    ok = jnp.all(cs > 0) & jnp.all(cl > 0) & _finite(Css, Cll) & (
        jnp.min(_diag(Lsh)) ** 2 > rcond * jnp.max(jnp.abs(_diag(S))))
    Css = Css / (Ds[:, None] * Ds[None, :])
    Csl = Csl / (Ds[None, :, None] * Dl[:, None, :])
    Cll = Cll / (Dl[:, :, None] * Dl[:, None, :])
    return Css, Csl, Cll, ok
