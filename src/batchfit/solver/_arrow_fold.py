"""Fold curvature for the block-arrow solver (``_arrow.py``), arrays only.

The block-arrow counterpart of :func:`batchfit.solver._fold.fold_curvature`:
a bounded parameter on its bound folds its internal coordinate, its
Jacobian column collapses while its direction does not change, and the
Gauss-Newton model misses the curvature that holds it there. Without it
every step across the bound overshoots, the damping grows to stop that
one coordinate and every other parameter of the group stalls (the Schur
solver ran to ``MAX_NFEV`` with a dataset's background on its bound).
The tests are the dense solver's, written on the blocks: a collapsed
column (below ``FOLD`` of its running maximum) whose cosines with the
other columns flip sign with it and whose gradient keeps its cosine with
the residual; its secant curvature ``(g_new - g - JᵀJ dθ)_j / dθ_j`` is
kept while positive and the column stays collapsed. The local-local
cosines across datasets are zero, so only the blocks are compared.
"""

from __future__ import annotations

import jax.numpy as jnp

from ._fold import FOLD, FOLD_SLOPE, FOLD_TOL


def _cosines(blk):
    """Column norms and cosines: shared-shared (g, g), shared-local
    (K, g, l), local-local (K, l, l) (diagonals zero), and each column's
    cosine with the residual ((g,), (K, l))."""
    cs = jnp.sqrt(jnp.abs(jnp.diagonal(blk.U)))
    cl = jnp.sqrt(jnp.abs(jnp.diagonal(blk.V, axis1=-2, axis2=-1)))
    iS, iL = 1.0 / jnp.where(cs > 0, cs, 1.0), 1.0 / jnp.where(cl > 0, cl, 1.0)
    Kss = blk.U * iS[:, None] * iS[None, :]
    Kss = jnp.where(jnp.eye(Kss.shape[-1], dtype=bool), 0.0, Kss)
    Ksl = blk.W * iS[None, :, None] * iL[:, None, :]
    Kll = blk.V * iL[:, :, None] * iL[:, None, :]
    Kll = jnp.where(jnp.eye(Kll.shape[-1], dtype=bool), 0.0, Kll)
    rn = jnp.sqrt(jnp.where(blk.chi2 > 0, blk.chi2, 1.0))
    return (cs, cl), (Kss, Ksl, Kll), (blk.a * iS / rn, blk.b * iL / rn)


def _hvp(blk, ps, pl):
    """``JᵀJ p`` on the blocks: shared (g,), local (K, l)."""
    return (blk.U @ ps + jnp.einsum("kgl,kl->g", blk.W, pl),
            jnp.einsum("kgl,g->kl", blk.W, ps) + jnp.einsum("klm,km->kl", blk.V, pl))


def fold_curvature(blk, new_blk, ps, pl, ok, Cs, Cl, Ds_max, Dl_max):
    """The updated fold curvatures ``(Cs (g,), Cl (K, l))`` after the trial
    step ``(ps, pl)`` from ``blk`` to ``new_blk``."""
    (cs0, cl0), (Kss0, Ksl0, Kll0), (gs0, gl0) = _cosines(blk)
    (cs1, cl1), (Kss1, Ksl1, Kll1), (gs1, gl1) = _cosines(new_blk)
    xs, xl = gs0 * gs1 < 0, gl0 * gl1 < 0
    fs, fl = jnp.where(xs, -1.0, 1.0), jnp.where(xl, -1.0, 1.0)
    dss = jnp.abs(Kss1 - fs[:, None] * fs[None, :] * Kss0)  # (g, g)
    dsl = jnp.abs(Ksl1 - fs[None, :, None] * fl[:, None, :] * Ksl0)  # (K, g, l)
    dll = jnp.abs(Kll1 - fl[:, :, None] * fl[:, None, :] * Kll0)  # (K, l, l)
    kept_s = jnp.maximum(jnp.max(dss, axis=1, initial=0.0), jnp.max(dsl, axis=(0, 2), initial=0.0)) <= FOLD_TOL
    kept_l = jnp.maximum(jnp.max(dsl, axis=1, initial=0.0), jnp.max(dll, axis=2, initial=0.0)) <= FOLD_TOL

    def one(kept, g0, g1, cn0, cn1, crossed, flip, d, y, C, Dmax):
        a0, a1 = jnp.abs(g0), jnp.abs(g1)
        kept = kept & (jnp.abs(a1 - a0) <= FOLD_TOL * jnp.maximum(a0, a1))
        moved = ok & (d != 0) & (cn0 > 0) & (cn1 > 0)
        ratio = flip * cn1 / jnp.where(cn0 > 0, cn0, 1.0)
        informative = moved & kept & (jnp.abs(ratio - 1.0) >= 0.1)
        c = y / jnp.where(moved, d, 1.0)
        collapsed = cn1 < FOLD * Dmax
        steep = cn0 + cn1 >= FOLD_SLOPE * jnp.abs(d) * Dmax
        seen = informative & (c > 0) & jnp.isfinite(c) & ((crossed & steep) | (C > 0))
        return jnp.where(collapsed, jnp.where(seen, c, jnp.where(informative & (c <= 0), 0.0, C)), 0.0)

    hs, hl = _hvp(blk, ps, pl)
    ys, yl = new_blk.a - blk.a - hs, new_blk.b - blk.b - hl
    return (one(kept_s, gs0, gs1, cs0, cs1, xs, fs, ps, ys, Cs, Ds_max),
            one(kept_l, gl0, gl1, cl0, cl1, xl, fl, pl, yl, Cl, Dl_max))
